//! The one backend argument of the CLI: `matmul --backend`, `ortho --backend`,
//! `spectrum --backend` and `stft`/`istft --fft` all parse into [`Backend`]. Each flag accepts
//! only its own values (listed in [`GEMM`], [`DEVICE`] and [`FFT`]), spelled and reported by clap
//! exactly as a per-subcommand `ValueEnum` would be.

use clap::ValueEnum;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use mlkern::linalg::GemmBackend;
use mlkern::stft::FftBackend;

// No doc comments on the variants: clap would show them in `--help` next to the values.
/// Where, or with which implementation, a subcommand's kernel runs.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    // GEMM and FFT: the library's choice.
    Auto,
    // GEMM: faer.
    Faer,
    // GEMM: the in-crate portable kernel.
    Portable,
    // FFT: the in-crate (no_std) transform.
    Builtin,
    // ortho, spectrum: on the host.
    Cpu,
    // ortho, spectrum: on the GPU (feature `cublas`).
    Cublas,
}

/// The values of `matmul --backend` (GEMM implementations).
pub const GEMM: &[Backend] = &[Backend::Auto, Backend::Faer, Backend::Portable];
/// The values of `ortho --backend` and `spectrum --backend` (where the products run).
pub const DEVICE: &[Backend] = &[Backend::Cpu, Backend::Cublas];
/// The values of `stft --fft` and `istft --fft` (FFT implementations).
pub const FFT: &[Backend] = &[Backend::Auto, Backend::Builtin];

impl Backend {
    /// A clap value parser that accepts the names of `allowed` only; other names are clap's
    /// usual "invalid value … [possible values: …]" error.
    pub fn parser(allowed: &'static [Backend]) -> impl TypedValueParser<Value = Backend> {
        PossibleValuesParser::new(allowed.iter().filter_map(Backend::to_possible_value))
            .try_map(|name| <Backend as ValueEnum>::from_str(&name, false))
    }

    /// The name the flag accepts for this backend (`"cpu"`, `"cublas"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Faer => "faer",
            Backend::Portable => "portable",
            Backend::Builtin => "builtin",
            Backend::Cpu => "cpu",
            Backend::Cublas => "cublas",
        }
    }

    /// The GEMM implementation (`matmul`); values outside [`GEMM`] mean the library's choice.
    pub fn gemm(self) -> GemmBackend {
        match self {
            Backend::Faer => GemmBackend::Faer,
            Backend::Portable => GemmBackend::Portable,
            _ => GemmBackend::Auto,
        }
    }

    /// The FFT implementation (`stft`, `istft`); values outside [`FFT`] mean the library's
    /// choice.
    pub fn fft(self) -> FftBackend {
        match self {
            Backend::Builtin => FftBackend::Builtin,
            _ => FftBackend::Auto,
        }
    }
}
