//! [`Par`]: how many threads a kernel may use, the one parallelism argument of every family.

use core::num::NonZeroUsize;

use crate::limits::MAX_THREADS;

/// How many threads a kernel may use: the one parallelism argument of every family and tier.
///
/// * [`Par::Seq`] runs on the calling thread and never starts a thread.
/// * [`Par::threads`]`(n)` allows up to `n` threads (`0` = all available cores, `1` = `Seq`),
///   at most [`MAX_THREADS`](crate::limits::MAX_THREADS) (1024): a larger `n`, up to
///   `usize::MAX`, is clamped to it, never an absurd number of threads or per-thread buffers.
///   With the `rayon` feature the work runs on rayon's current pool; with `std` but without
///   `rayon`, on scoped threads (a thread that cannot start leaves its work to the caller, so an
///   OS refusal never panics or loses work); **without `std` a request for threads runs
///   sequentially**, with the same results.
///
/// Every kernel gives bit-identical results for every `Par`: threads split independent work
/// (rows, batch items, requests), never a reduction whose order would change.
///
/// ```
/// use mlkern::Par;
/// assert_eq!(Par::threads(1), Par::Seq);
/// assert_eq!(Par::threads(4).thread_count(), 4);
/// assert_eq!(Par::default(), Par::Seq);
/// // Absurd requests are clamped to the documented limit.
/// assert_eq!(Par::threads(usize::MAX).thread_count(), mlkern::limits::MAX_THREADS);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Par {
    /// One thread: the caller's.
    #[default]
    Seq,
    /// Up to this many threads (at least 2). Built directly with more than
    /// [`MAX_THREADS`](crate::limits::MAX_THREADS), kernels still use at most that many.
    Threads(NonZeroUsize),
}

impl Par {
    /// Up to `n` threads: `0` means all available cores (1 without `std`), `1` is [`Par::Seq`];
    /// `n` (or the core count) is clamped to [`MAX_THREADS`](crate::limits::MAX_THREADS).
    pub fn threads(n: usize) -> Self {
        let n = if n == 0 { available() } else { n }.min(MAX_THREADS);
        match NonZeroUsize::new(n) {
            Some(n) if n.get() > 1 => Par::Threads(n),
            _ => Par::Seq,
        }
    }

    /// All available cores ([`Par::Seq`] without `std` or on a one-core machine).
    pub fn all() -> Self {
        Self::threads(0)
    }

    /// The number of threads this allows (1 for [`Par::Seq`]), at most
    /// [`MAX_THREADS`](crate::limits::MAX_THREADS) even for a `Par::Threads` built directly.
    pub fn thread_count(self) -> usize {
        match self {
            Par::Seq => 1,
            Par::Threads(n) => n.get().min(MAX_THREADS),
        }
    }

    /// The number of threads a kernel actually uses: [`thread_count`](Self::thread_count) with
    /// `std`, always 1 without (documented fallback of the core and alloc tiers).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(crate) fn effective_threads(self) -> usize {
        if cfg!(feature = "std") {
            self.thread_count()
        } else {
            1
        }
    }

    /// faer's parallelism for the same request (sequential without the `rayon` feature: faer's
    /// own threads come from rayon only).
    #[cfg(feature = "alloc")]
    pub(crate) fn faer(self) -> faer::Par {
        match self {
            Par::Seq => faer::Par::Seq,
            #[cfg(feature = "rayon")]
            Par::Threads(n) => faer::Par::Rayon(
                NonZeroUsize::new(n.get().min(MAX_THREADS)).unwrap_or(NonZeroUsize::MIN),
            ),
            #[cfg(not(feature = "rayon"))]
            Par::Threads(_) => faer::Par::Seq,
        }
    }
}

#[cfg(feature = "alloc")]
impl From<Par> for faer::Par {
    fn from(p: Par) -> Self {
        p.faer()
    }
}

#[cfg(feature = "std")]
fn available() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

#[cfg(not(feature = "std"))]
fn available() -> usize {
    1
}
