//! The documented limits on what a caller controls, and the policy behind them.
//!
//! mlkern never aborts and never hangs on its input. Three rules make that true:
//!
//! 1. **Bounded work.** An iteration count or size that the caller picks freely, and whose only
//!    effect past some value is to make a call run for hours, has a limit here, chosen far above
//!    any real use. A larger value is rejected with [`Error::TooLarge`](crate::Error::TooLarge)
//!    before any work starts.
//! 2. **Sizes not backed by data.** A size that does not come from the data passed in (an FFT
//!    length, an output length, a table size declared by a parameter) is checked against the data
//!    it will be used with where that bounds it, and otherwise against a limit here. Rejected
//!    before anything is allocated.
//! 3. **Everything else is fallible.** Every buffer whose size follows from the arguments is
//!    sized with checked arithmetic and reserved with `try_reserve_exact`: a size the address
//!    space or the allocator cannot give is [`Error::OutOfMemory`](crate::Error::OutOfMemory)
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
/// so a machine without the memory gets [`Error::OutOfMemory`](crate::Error::OutOfMemory)).
pub const MAX_FFT_LEN: usize = 1 << 28;

/// How far `torch.istft`'s `length` may reach: at most this many times the overlap-add span
/// `n_fft + hop·(frames − 1)` of the spectrum's frames.
///
/// torch pads the output with zeros past the span. Every signal the frames came from is shorter
/// than the span plus one hop (≤ 2 spans, since the inverse needs `hop ≤ win_length ≤ n_fft`),
/// so twice the span restores any analysed length with room for a zero tail as long as the
/// frames' own reach; a larger `length` is zeros that no spectrum backs (an ISTFT of a few
/// frames asked for 2⁴⁰ samples) and is rejected with
/// [`Error::TooLarge`](crate::Error::TooLarge) before anything is allocated.
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

// ---------------------------------------------------------------------------------------------
// spectrum (spectral diagnostics)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// tree (Chow–Liu, latent trees)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// io (npy, csv)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// end
// ---------------------------------------------------------------------------------------------
