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
