//! Running independent jobs in parallel: tasks on rayon's current pool with the `rayon`
//! feature, scoped threads without it (a job whose thread cannot start runs on the caller, so
//! an OS refusal never panics or loses work). The first job always runs on the calling thread.

use alloc::vec::Vec;

/// Runs `work` on every job; returns when all are done.
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

/// How many jobs to cut a batch of `items` into for `threads` threads: 1 for one thread (the
/// caller runs everything: no pool, no thread start-up), otherwise `4·threads` with rayon
/// (workers balance uneven jobs; they run on rayon's current pool) and `threads` without;
/// never more than `items`, at least 1.
pub(crate) fn job_count(items: usize, threads: usize) -> usize {
    if threads <= 1 {
        return 1;
    }
    let per_thread = if cfg!(feature = "rayon") { 4 } else { 1 };
    threads.saturating_mul(per_thread).min(items).max(1)
}
