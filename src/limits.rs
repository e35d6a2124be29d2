//! The documented limits on what a caller controls, and the policy behind them.
//!
//! mlkern never aborts and never hangs on its input. Three rules make that true:
//!
//! 1. **Bounded work.** An iteration count or size that the caller picks freely, and whose only
//!    effect past some value is to make a call run for hours, has a limit here, chosen far above
//!    any real use. A larger value is rejected with [`Error::TooLarge`]
//!    before any work starts.
//! 2. **Sizes not backed by data.** A size that does not come from the data passed in (an FFT
//!    length, an output length, a table size declared by a parameter) is checked against the data
//!    it will be used with where that bounds it, and otherwise against a limit here. Rejected
//!    before anything is allocated.
//! 3. **Everything else is fallible.** Every buffer whose size follows from the arguments is
//!    sized with checked arithmetic and reserved with `try_reserve_exact`: a size the address
//!    space or the allocator cannot give is [`Error::OutOfMemory`]
//!    naming the argument, never an abort.
//!
//! The `battery` integration test calls every public constructor and entry point with absurd
//! sizes under an allocator that refuses any request above 256 MiB, and the fuzz targets draw
//! these parameters from the whole `usize` range under the same allocator.

use crate::{Error, Result};

/// `Ok` when `value ≤ limit`, else [`Error::TooLarge`] naming `name`.
#[allow(dead_code)]
pub(crate) fn check(value: usize, limit: usize, name: &'static str) -> Result<()> {
    if value > limit {
        Err(Error::TooLarge { name, value, limit })
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// ortho (Newton–Schulz, Muon)
// ---------------------------------------------------------------------------------------------

/// Largest number of Newton–Schulz steps accepted anywhere a step count enters: a schedule's
/// `steps` (checked by `ortho::Schedule::validate`, hence by every Newton–Schulz, batch, GPU and
/// Muon entry point before any allocation or work; a custom coefficient list is run step by step,
/// so it is bounded too), and the length of a generated `ortho::polar_express_schedule`.
///
/// Why 100: every published schedule runs 5–10 steps (Keller Jordan 5, Polar Express 8,
/// DeepSeek-V4 10), and `torch.optim.Muon` refuses `ns_steps >= 100`; the iteration has
/// converged to working precision long before 100 steps, so a larger count only means "run for
/// hours" (`--steps 1000000000000` on an 8×16 matrix used to run for minutes).
pub const MAX_NS_STEPS: usize = 100;

// ---------------------------------------------------------------------------------------------
// stft (FFT, STFT/ISTFT, TiARA)
// ---------------------------------------------------------------------------------------------

/// Largest FFT length: `n` of [`Fft`](crate::stft::Fft) and [`RealFft`](crate::stft::RealFft),
/// `n_fft` and `win_length` of [`Stft`](crate::stft::Stft): 2²⁸ points.
///
/// A plan of `n` points holds about `n` complex twiddles (rustfft: up to ~`9n` for lengths with
/// a large prime factor, which it runs by Bluestein's algorithm) and a frame needs `n` more, so
/// 2²⁸ already means gigabytes per plan. Real use stays far below: audio STFTs use
/// `n_fft` ≤ 2¹⁶, and one-shot FFTs of whole signals of 2²⁸ samples are beyond what this crate
/// is for. Beyond the limit the length is rejected before planning (rustfft plans infallibly:
/// within the limit a fallible probe reservation of the bytes the plan will take comes first,
/// so a machine without the memory gets [`Error::OutOfMemory`]).
pub const MAX_FFT_LEN: usize = 1 << 28;

/// How far `torch.istft`'s `length` may reach: at most this many times the overlap-add span
/// `n_fft + hop·(frames − 1)` of the spectrum's frames.
///
/// torch pads the output with zeros past the span. Every signal the frames came from is shorter
/// than the span plus one hop (≤ 2 spans, since the inverse needs `hop ≤ win_length ≤ n_fft`),
/// so twice the span restores any analysed length with room for a zero tail as long as the
/// frames' own reach; a larger `length` is zeros that no spectrum backs (an ISTFT of a few
/// frames asked for 2⁴⁰ samples) and is rejected with
/// [`Error::TooLarge`] before anything is allocated.
pub const ISTFT_LENGTH_SPANS: usize = 2;

/// Largest TiARA matrix size `N` (frames attending to frames; `window_len ≤ N`): 2¹⁶.
///
/// Temporal attention in video models spans tens to hundreds of frames; one 2¹⁶ × 2¹⁶ matrix is
/// already 16 GiB of `f32`, and the ρ table alone is `window_len·(1 + 2φ2)` ≈ `N²` values. The
/// limit also keeps `N²` (the matrix size every length check uses) far from overflowing.
pub const MAX_TIARA_N: usize = 1 << 16;

// ---------------------------------------------------------------------------------------------
// spec (speculative-decoding acceptance)
// ---------------------------------------------------------------------------------------------

/// Most draft nodes `N` of one [`verify_tree`](crate::spec::verify_tree) call (`2¹⁶ = 65536`).
///
/// The tree's checks (depth by walking to the root, distinct siblings) and its verification
/// walk cost `O(N²)` without allocating, so with a tiny vocabulary a long token array alone
/// could keep a call busy for hours. Real draft trees have 10²–10³ nodes (EAGLE-2: 60,
/// Sequoia: up to 768, SpecExec: a few thousand); at the limit the quadratic part is a few
/// seconds. The other sizes in `spec` are backed by the caller's data (the vocabulary by the
/// target rows of a non-empty batch, the neighbour table by the codebook) and the one quadratic
/// output (`nearest_neighbors`' `vocab·k` table) is reserved fallibly.
pub const MAX_TREE_NODES: usize = 1 << 16;

// ---------------------------------------------------------------------------------------------
// spectrum (spectral diagnostics)
// ---------------------------------------------------------------------------------------------

/// Largest sample dimension `dim` of a `spectrum::CovAccumulator` (alloc tier;
/// `2¹⁷ = 131072`).
///
/// `dim` is a bare parameter (no data backs it when the accumulator is made) and the
/// accumulator holds a `dim × dim` f64 matrix: at the limit that is 128 GiB, beyond any machine
/// the crate targets, while the widest hidden states measured in practice are 8192–32768 wide
/// (2–8 GiB). Dimensions below the limit that do not fit in memory are
/// [`Error::OutOfMemory`].
pub const MAX_COV_DIM: usize = 1 << 17;

/// Most Rademacher samples of one
/// [`nds_within_estimate`](crate::spectrum::nds_within_estimate) call (`2²⁰ = 1048576`).
///
/// Each sample is one Hessian-vector product (a double backward pass in real use), so the
/// count is the call's running time; the standard error falls as `1/√samples`, and real
/// estimates use 1–100 samples (Hutchinson-style estimators rarely go past 10³). A million
/// samples is a 10⁻³ relative error; a larger count only means "hang".
pub const MAX_NDS_SAMPLES: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// tree (Chow–Liu, latent trees)
// ---------------------------------------------------------------------------------------------

/// Most indicator columns of a [`tree::PairCounts`](crate::tree::PairCounts) (and so of
/// `chow_liu_discrete` and the discrete `Learner`): `Σ(K_v − 1)` over the declared state
/// counts (one per binary variable). The popcount Gram holds `c²` `u32` counts for the `c ≤ Σ`
/// states that actually occur, 4 GiB at this limit. Real Chow–Liu problems stay far below
/// (10 000 binary variables is a 400 MB Gram); the limit was already enforced (as
/// `InvalidParameter`) in 0.2.0.
pub const MAX_INDICATOR_COLUMNS: usize = 1 << 15;

// ---------------------------------------------------------------------------------------------
// io (npy, csv)
// ---------------------------------------------------------------------------------------------

/// The most threads a [`Par`](crate::Par) asks for: [`Par::threads`](crate::Par::threads)`(n)`
/// clamps `n` to this, and a `Par::Threads(n)` built directly is run with at most this many (the
/// job count, faer's parallelism and every per-thread scratch are sized from the clamped count).
///
/// Why: a request for 2⁴⁰ or `usize::MAX` threads only means "as many as you can"; taken
/// literally it sizes per-thread scratch (one block per job) beyond any address space and, with
/// `std` without `rayon`, starts one OS thread per job. 1024 is above every machine mlkern runs
/// on today (the largest two-socket servers have 768 hardware threads) and keeps the worst case
/// small: 1024 scoped threads, 1024 scratch blocks. The CLI's `--threads` rejects larger values.
pub const MAX_THREADS: usize = 1024;

// ---------------------------------------------------------------------------------------------
// end
// ---------------------------------------------------------------------------------------------
