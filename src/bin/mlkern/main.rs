//! The `mlkern` command-line tool: mlkern's kernels on `.npy`/`.csv` files.
//!
//! Every subcommand prints a one-line error on stderr and exits with code 2 on bad input.

/// `println!` that ends the process quietly (exit 0) when stdout is closed (`mlkern … | head`),
/// instead of panicking on the broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod accept;
mod amuse;
mod backend;
mod cli_error;
mod demo;
mod eigvalsh;
mod files;
mod matmul;
#[cfg(feature = "mpi")]
mod mpi_cli;
mod muon;
mod ortho;
mod spectrum;
mod spectrum_estimate;
mod spectrum_plot;
mod stft;
mod tiara;
mod timing;
mod tree;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use cli_error::CliError;

/// Fast, verified numerical kernels for machine learning.
#[derive(Parser, Debug)]
#[command(name = "mlkern", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every kernel on generated data and print a table of results and timings.
    Demo(demo::Args),
    /// C = A·B for two 2-D .npy matrices (f32 or f64), written as .npy.
    Matmul(matmul::Args),
    /// Eigenvalues of a symmetric matrix (lower triangle read), ascending, as NumPy's eigvalsh.
    Eigvalsh(eigvalsh::Args),
    /// Newton–Schulz orthogonalization of an m×n matrix or a b×m×n batch (.npy in, .npy out).
    Ortho(ortho::Args),
    /// One Muon optimizer step on (param, grad, momentum) .npy files.
    Muon(muon::Args),
    /// One AMUSE step (Muon + Schedule-Free averaging) on (param, grad, z, x, momentum) .npy files.
    Amuse(amuse::Args),
    /// Spectral metrics (effective ranks, stable rank, …) of a matrix or of each layer of a 3-D array.
    Spectrum(spectrum::Args),
    /// Speculative-decoding verification of a batch (exact, greedy, LANTERN, LANTERN++, COOL-SD,
    /// mixture, typical): tokens, or the exact first-token law (--analytic), or simulated trials.
    Accept(accept::Args),
    /// Short-time Fourier transform of [B, L] or [L] signals, as torch.stft (complex .npy out).
    Stft(stft::StftArgs),
    /// Inverse STFT of [B, F, T] or [F, T] complex spectra, as torch.istft.
    Istft(stft::IstftArgs),
    /// TiARA temporal-attention reweighting of [..., N, N] matrices (probabilities out).
    Tiara(tiara::Args),
    /// Chow–Liu and latent trees (RG, CLRG, NJ, spectral NJ) from samples or distances.
    Tree(tree::Args),
}

/// Options every timed subcommand shares.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Run the kernel R times and report the median and minimum time (kernel only, no IO);
    /// 1 ≤ R ≤ 100000.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=MAX_REPEAT))]
    pub repeat: u32,
    /// Worker threads for parallel kernels (default: all available cores); 1 ≤ N ≤ 1024.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS))]
    pub threads: Option<u32>,
}

/// The most `--repeat` runs: a timing needs tens to thousands of runs; more only means a run
/// that does not end (and `R` run times to keep).
pub const MAX_REPEAT: i64 = 100_000;

/// The most `--threads`: the library's [`mlkern::limits::MAX_THREADS`] (larger requests are
/// rejected here rather than silently clamped).
const MAX_THREADS: i64 = mlkern::limits::MAX_THREADS as i64;

impl Common {
    /// The faer parallelism these options ask for.
    pub fn par(&self) -> mlkern::Par {
        let n = self.threads.map(|t| t as usize).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        if n <= 1 {
            mlkern::Par::Seq
        } else {
            mlkern::Par::threads(n)
        }
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("mlkern: internal error (please report): {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // Clap's usage errors span several lines; the contract is one line on stderr.
            let text = e.render().to_string();
            // One line: clap's first line, joined with the next one when it ends in ':'
            // (e.g. "required arguments were not provided:" + the arguments).
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let mut line = lines.next().unwrap_or("invalid arguments").to_string();
            if line.ends_with(':')
                && let Some(next) = lines.next()
            {
                line = format!("{line} {next}");
            }
            #[cfg(feature = "mpi")]
            if mpi_cli::launched() && !mpi_cli::is_rank_zero() {
                return ExitCode::from(2); // one line for the whole job, from rank 0
            }
            eprintln!("mlkern: {line}");
            return ExitCode::from(2);
        }
    };
    #[cfg(feature = "mpi")]
    if mpi_cli::launched() {
        return mpi_cli::run(cli.command);
    }
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Matmul(args) => matmul::run(args),
        Command::Eigvalsh(args) => eigvalsh::run(args),
        Command::Ortho(args) => ortho::run(args),
        Command::Muon(args) => muon::run(args),
        Command::Amuse(args) => amuse::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Accept(args) => accept::run(args),
        Command::Stft(args) => stft::run_stft(args),
        Command::Istft(args) => stft::run_istft(args),
        Command::Tiara(args) => tiara::run(args),
        Command::Tree(args) => tree::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mlkern: error: {e}");
            ExitCode::from(2)
        }
    }
}
