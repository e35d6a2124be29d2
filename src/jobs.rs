//! Running independent jobs for a [`Par`] request (alloc tier): tasks on rayon's current pool
//! with the `rayon` feature, scoped threads with `std` alone (a job whose thread cannot start runs
//! on the caller, so an OS refusal never panics or loses work), in sequence without `std`. The
//! first job always runs on the calling thread.

use alloc::vec::Vec;

use faer::MatMut;

use crate::{Par, Result};

/// Runs `work` on every job; returns when all are done (in sequence without `std`).
#[cfg(not(feature = "std"))]
pub(crate) fn run_jobs<J: Send, F: Fn(J) + Sync>(jobs: Vec<J>, work: F) {
    jobs.into_iter().for_each(work);
}

/// Runs `work` on every job; returns when all are done.
#[cfg(feature = "std")]
pub(crate) fn run_jobs<J: Send, F: Fn(J) + Sync>(jobs: Vec<J>, work: F) {
    let mut jobs = jobs.into_iter();
    let Some(first) = jobs.next() else {
        return;
    };
    if jobs.len() == 0 {
        work(first);
        return;
    }
    let work = &work;
    #[cfg(feature = "rayon")]
    rayon::scope(|s| {
        for job in jobs {
            s.spawn(move |_| work(job));
        }
        work(first);
    });
    #[cfg(not(feature = "rayon"))]
    std::thread::scope(|s| {
        use std::sync::{Arc, Mutex};
        for job in jobs {
            let slot = Arc::new(Mutex::new(Some(job)));
            let theirs = Arc::clone(&slot);
            let started = std::thread::Builder::new().spawn_scoped(s, move || {
                if let Some(job) = theirs.lock().ok().and_then(|mut j| j.take()) {
                    work(job);
                }
            });
            if started.is_err()
                && let Some(job) = slot.lock().ok().and_then(|mut j| j.take())
            {
                work(job);
            }
        }
        work(first);
    });
}

/// How many jobs to cut a batch of `items` into for `par`: 1 for one thread or without `std`
/// (the caller runs everything: no pool, no thread start-up), otherwise `4·threads` with rayon
/// (workers balance uneven jobs; they run on rayon's current pool) and `threads` without;
/// never more than `items`, at least 1. The thread count is [`Par`]'s, clamped to
/// [`MAX_THREADS`](crate::limits::MAX_THREADS), so a `Par::Threads(usize::MAX)` gives at most
/// `4 · MAX_THREADS` jobs (and per-job scratch blocks), never an absurd number.
pub(crate) fn job_count(items: usize, par: Par) -> usize {
    let threads = par.effective_threads();
    if threads <= 1 {
        return 1;
    }
    let per_thread = if cfg!(feature = "rayon") { 4 } else { 1 };
    threads.saturating_mul(per_thread).min(items).max(1)
}

/// Deals `rows` round-robin to [`job_count`] jobs (so the uneven rows of a triangle balance) and
/// runs `work` on every row; on the caller for [`Par::Seq`] or without `std`.
pub(crate) fn round_robin<R: Send>(rows: Vec<R>, par: Par, work: impl Fn(R) + Sync) {
    let jobs = job_count(rows.len(), par);
    let mut buckets: Vec<Vec<R>> = (0..jobs).map(|_| Vec::new()).collect();
    for (k, row) in rows.into_iter().enumerate() {
        buckets[k % jobs].push(row);
    }
    run_jobs(buckets, |bucket| bucket.into_iter().for_each(&work));
}

/// Cuts `dst` into blocks of `tile` rows (the last one shorter) and runs
/// `work(first_row, block, scratch)` on each: in order on the caller for one job (no allocation),
/// otherwise dealt round-robin to threads with each block's own `per_tile` values of `scratch`
/// (which holds `per_tile · ⌈rows / tile⌉` of them; one job uses only the first `per_tile`). A fixed
/// tile keeps every block's arithmetic the same for every thread count. Returns the first error.
pub(crate) fn row_tiles<T: Send, S: Send>(
    dst: MatMut<'_, T>,
    tile: usize,
    scratch: &mut [S],
    per_tile: usize,
    par: Par,
    work: impl Fn(usize, MatMut<'_, T>, &mut [S]) -> Result<()> + Sync,
) -> Result<()> {
    let rows = dst.nrows();
    let tile = tile.max(1);
    let tiles = rows.div_ceil(tile);
    let mut rest = dst;
    let mut first = 0;
    if job_count(tiles, par) == 1 {
        let s = &mut scratch[..per_tile];
        while first < rows {
            let (top, bottom) = rest.split_at_row_mut(tile.min(rows - first));
            work(first, top, s)?;
            first += tile;
            rest = bottom;
        }
        return Ok(());
    }
    let mut results: Vec<Result<()>> = (0..tiles).map(|_| Ok(())).collect();
    let mut jobs = Vec::with_capacity(tiles);
    let mut chunks = scratch[..per_tile * tiles].chunks_mut(per_tile.max(1));
    for res in results.iter_mut() {
        let (top, bottom) = rest.split_at_row_mut(tile.min(rows - first));
        jobs.push((first, top, chunks.next().unwrap_or_default(), res));
        first += tile;
        rest = bottom;
    }
    round_robin(jobs, par, |(r0, block, s, res)| *res = work(r0, block, s));
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use core::num::NonZeroUsize;

    use super::job_count;
    use crate::Par;
    use crate::limits::MAX_THREADS;

    #[test]
    fn absurd_thread_requests_give_a_bounded_job_count() {
        for par in [Par::threads(usize::MAX), Par::Threads(NonZeroUsize::MAX)] {
            let jobs = job_count(usize::MAX, par);
            assert!((1..=4 * MAX_THREADS).contains(&jobs), "{jobs}");
            assert_eq!(job_count(3, par), if cfg!(feature = "std") { 3 } else { 1 });
        }
        assert_eq!(job_count(usize::MAX, Par::Seq), 1);
    }
}
