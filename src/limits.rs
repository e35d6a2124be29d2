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

// ---------------------------------------------------------------------------------------------
// spec (speculative-decoding acceptance)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// spectrum (spectral diagnostics)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// end
// ---------------------------------------------------------------------------------------------
