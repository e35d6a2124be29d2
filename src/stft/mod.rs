//! Short-time Fourier transforms and TiARA temporal-attention reweighting.
//!
//! | item | computes | tier |
//! |---|---|---|
//! | [`Fft`], [`RealFft`] | complex and real-input FFTs of any length ≥ 1: rustfft with `std`, the in-crate mixed-radix/Bluestein transform ([`FftBackend::Builtin`]) without it | alloc |
//! | [`window`] | Hann, Hamming, Blackman, rectangular; periodic or symmetric | core |
//! | [`Stft`], [`Spectrogram`] | `torch.stft` / `torch.istft` semantics: `n_fft`, hop, `win_length` (zero-padded to the centre), `center` with reflect/constant/replicate/circular padding, one- or two-sided, `normalized`, batches `[B, L] → [B, F, T]`, the NOLA check, `length`; owned [`Spectrogram`] results or caller buffers with a scratch query; threads through [`Par`](crate::Par) (std) | alloc |
//! | [`tiara_into`], [`tiara`] | TiARA on `[..., N, N]` attention matrices, probabilities or logits in, probabilities out; the fixed-α variant; the optional far-frame bias; threads through [`Par`](crate::Par) (std) | core (`tiara_into`, `tiara_in_place`), alloc (`tiara`) |
//!
//! # STFT conventions
//!
//! `X[b, f, t] = s·Σ_{j<n_fft} w[j]·x̃_b[t·hop + j]·e^(−2πi·fj/n_fft)` where `x̃` is the signal
//! padded by `n_fft/2` on both sides when `center` is set, `w` the window zero-padded to
//! `n_fft` (with `(n_fft − win_length)/2` zeros on the left) and `s = n_fft^(−1/2)` when
//! `normalized`, else 1. There are `1 + ⌊(len + 2·pad − n_fft)/hop⌋` frames. These are torch's
//! definitions, and the tests compare against `torch.stft`/`torch.istft` fixtures
//! (`tests/fixtures/stft/make_stft_fixtures.py`). Only the default window differs: periodic
//! Hann instead of rectangular (see [`StftConfig::new`]).
//!
//! # TiARA: what is reconstructed and what is assumed
//!
//! TiARA (Li, Zhang, Pan, Hou, Tan, Yang, arXiv 2412.17254) lowers the diagonal of each
//! temporal-attention matrix, less so for rows whose short-time spectrum shows fast motion.
//! The paper's full text and code were not available; the formulas come from a secondary
//! summary (reference note `tiara_stft.md`). Every gap is filled by a flagged assumption:
//!
//! - **A1** ρ is computed from the post-softmax probabilities of the unedited matrix.
//! - **A2** the bias is added to the scaled logits before the softmax; on probabilities this
//!   is the closed form `p′ᵢᵢ = pᵢᵢe^λ/(pᵢᵢe^λ + 1 − pᵢᵢ)`, `p′ᵢⱼ = pᵢⱼ/(pᵢᵢe^λ + 1 − pᵢᵢ)`.
//! - **A3** tap `r < L` reads frame `(i − ⌊L/2⌋ + r) mod N` (periodic padding; for even L the
//!   peak sits at `r = L/2`, torch's centring).
//! - **A4** the Blackman window is symmetric by default ("support L"); periodic on request.
//! - **A5** the DFT length is N.
//! - **A6** φ1, φ2 are bins of the N-point DFT with `0 ≤ φ1 < φ2 ≤ N/2 + 1`, or normalized
//!   frequencies rounded with `φ = ⌊f·N + ½⌋`. The paper gives no values.
//! - **A7** ρ = 0 (full suppression) when the window sees no mass.
//! - **A8** every (batch, head, location) matrix is independent.
//! - **A9** the "corner" reweighting is modelled as an optional bias `−β` on frames at least
//!   `distance` apart; off by default.
//! - **A10** no schedule: the caller decides on which layers and steps to apply it.
//!
//! ```
//! use mlkern::Par;
//! use mlkern::stft::{Stft, StftConfig, WindowKind, Window};
//! let cfg = StftConfig::new(16)
//!     .with_window(Window::Kind(WindowKind::Blackman))
//!     .with_hop(4);
//! let plan = Stft::<f32>::new(&cfg)?;
//! let x = vec![1.0f32; 2 * 64]; // two constant signals
//! let spec = plan.stft(&x, 2, Par::Seq)?;   // [2, 9, 17]
//! assert_eq!(spec.shape(), (2, 9, 17));
//! # Ok::<(), mlkern::Error>(())
//! ```

#[cfg(feature = "alloc")]
mod builtin;
#[cfg(feature = "alloc")]
mod fft;
#[cfg(feature = "alloc")]
mod istft;
#[cfg(feature = "alloc")]
mod real_fft;
#[cfg(feature = "std")]
pub(crate) mod rust_backend;
#[cfg(feature = "alloc")]
mod spectrogram;
#[cfg(feature = "alloc")]
#[allow(clippy::module_inception)]
mod stft;
mod tiara;
mod tiara_edit;
mod tiara_rho;
mod window;

pub use num_complex::Complex;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use fft::{Direction, Fft, FftBackend};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use istft::NOLA_THRESHOLD;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use real_fft::RealFft;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use spectrogram::Spectrogram;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use stft::{PadMode, Stft, StftConfig, Window};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use tiara::tiara;
pub use tiara::{
    Band, FarBias, TiaraConfig, TiaraInput, TiaraWindow, motion_intensity, tiara_in_place,
    tiara_into, tiara_scratch_len,
};
pub use window::{WindowKind, window};
