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
