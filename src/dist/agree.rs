//! All-or-nothing outcomes across ranks: a local result becomes a group result.

use super::comm::{Buf, Comm};
use crate::base::zeros;
use crate::{Error, Result};

/// All or nothing across ranks, in one exchange of status words: `Ok` on every rank only when
/// every rank's `local` is `Ok`; otherwise a failed rank keeps its own error and the others get
/// [`Error::PeerFailed`] naming the lowest failed rank. Every distributed kernel uses it before
/// it commits anything; use it the same way around a rank's own work (reading its shard,
/// checking its inputs) so that no rank goes on alone. (Re-exported as `dist::agree`.)
///
/// # Errors
/// As described; [`Error::Communication`] from the exchange itself.
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::dist::{agree, Comm, Local};
/// use mlkern::Error;
/// let r = Local::run(3, |comm| {
///     let local = if comm.rank() == 1 { Err(Error::Empty { what: "x" }) } else { Ok(7u32) };
///     Ok(agree(comm, "demo", local))
/// })?;
/// assert_eq!(r[0], Err(Error::PeerFailed { what: "demo", rank: 1 }));
/// assert_eq!(r[1], Err(Error::Empty { what: "x" }));
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn all<T, C: Comm + ?Sized>(comm: &C, what: &'static str, local: Result<T>) -> Result<T> {
    let mut flags = zeros::<u64>(comm.size(), "dist: status")?;
    flags[comm.rank()] = u64::from(local.is_err());
    comm.all_reduce_sum(Buf::U64(&mut flags))?;
    settle(what, local, &flags)
}

/// The outcome of `local` given every rank's failure flag (already exchanged).
pub(crate) fn settle<T>(what: &'static str, local: Result<T>, flags: &[u64]) -> Result<T> {
    let value = local?;
    match flags.iter().position(|&f| f != 0) {
        Some(rank) => Err(Error::PeerFailed { what, rank }),
        None => Ok(value),
    }
}
