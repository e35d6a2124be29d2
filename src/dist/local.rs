//! [`Local`]: a group of threads in one process, for tests and for trying the distributed
//! kernels without MPI (std tier).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::vec::Vec;

use super::comm::{Buf, Comm, Element, check_root, fold_in_order};
use crate::{Error, Result};

/// One rank's contribution to the collective in flight.
#[derive(Default)]
struct Slot {
    kind: u64,
    f32s: Vec<f32>,
    f64s: Vec<f64>,
    u64s: Vec<u64>,
}

impl Slot {
    fn len(&self) -> usize {
        match self.kind {
            0 => self.f32s.len(),
            1 => self.f64s.len(),
            _ => self.u64s.len(),
        }
    }
}

struct State {
    slots: Vec<Slot>,
    /// Ranks waiting at the barrier of the current generation.
    arrived: usize,
    generation: u64,
    /// Ranks whose closure has returned (or panicked): a barrier they would have to reach can
    /// never complete, so waiting for it is an error instead of a hang.
    departed: usize,
}

struct Shared {
    size: usize,
    state: Mutex<State>,
    cv: Condvar,
}

const BROKEN: Error = Error::Communication {
    what: "Local group",
    reason: "another rank returned or panicked before joining this collective",
};

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until every rank has arrived; an error once a rank has left for good.
    fn barrier(&self) -> Result<()> {
        let mut st = self.lock();
        let generation = st.generation;
        st.arrived += 1;
        if st.arrived == self.size {
            st.arrived = 0;
            st.generation += 1;
            self.cv.notify_all();
            return Ok(());
        }
        loop {
            if st.generation != generation {
                return Ok(());
            }
            if st.departed > 0 {
                return Err(BROKEN);
            }
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn depart(&self) {
        self.lock().departed += 1;
        self.cv.notify_all();
    }
}

/// Marks the rank departed when its closure returns or unwinds.
struct Departure<'a>(&'a Shared);

impl Drop for Departure<'_> {
    fn drop(&mut self) {
        self.0.depart();
    }
}

/// A [`Comm`] whose ranks are threads of one process: [`Local::run`] starts them. Collectives
/// exchange copies through shared memory and fold them in rank order, so results are the same
/// bits as over MPI. A rank that returns (or panics) while others wait in a collective makes
/// their collective return [`Error::Communication`] rather than hang.
pub struct Local<'a> {
    rank: usize,
    shared: &'a Shared,
}

impl Local<'_> {
    /// Runs `f` on `size` threads, one per rank, and returns each rank's result in rank order
    /// (the first error, by rank, if any rank failed). A panic in a rank is resumed in the caller
    /// after every thread has finished.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `size == 0` or more than
    /// [`MAX_THREADS`](crate::limits::MAX_THREADS); otherwise the first rank's error.
    ///
    /// ```
    /// use mlkern::dist::{Comm, Local};
    /// let ranks = Local::run(2, |comm| Ok((comm.rank(), comm.size())))?;
    /// assert_eq!(ranks, [(0, 2), (1, 2)]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn run<R, F>(size: usize, f: F) -> Result<Vec<R>>
    where
        R: Send,
        F: Fn(&Local<'_>) -> Result<R> + Sync,
    {
        if size == 0 || size > crate::limits::MAX_THREADS {
            return Err(Error::InvalidParameter {
                name: "Local::run: size",
                reason: "must be in 1..=MAX_THREADS",
            });
        }
        let shared = Shared {
            size,
            state: Mutex::new(State {
                slots: (0..size).map(|_| Slot::default()).collect(),
                arrived: 0,
                generation: 0,
                departed: 0,
            }),
            cv: Condvar::new(),
        };
        let outcomes: Vec<Option<std::thread::Result<Result<R>>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..size)
                .map(|rank| {
                    let (shared, f) = (&shared, &f);
                    let started = std::thread::Builder::new().spawn_scoped(s, move || {
                        let _leave = Departure(shared);
                        f(&Local { rank, shared })
                    });
                    // A rank whose thread cannot start has left for good: the others'
                    // collectives then fail instead of waiting for it.
                    started.map_err(|_| shared.depart()).ok()
                })
                .collect();
            handles.into_iter().map(|h| h.map(|h| h.join())).collect()
        });
        let mut results = Vec::with_capacity(size);
        for outcome in outcomes {
            match outcome {
                Some(Ok(r)) => results.push(r),
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => results.push(Err(Error::Communication {
                    what: "Local::run",
                    reason: "the OS refused to start a rank's thread",
                })),
            }
        }
        results.into_iter().collect()
    }

    /// Publishes this rank's buffer, waits for all, and hands every slot to `read`.
    fn exchange(
        &self,
        buf: &mut Buf<'_>,
        read: impl FnOnce(&[Slot], &mut Buf<'_>) -> Result<()>,
    ) -> Result<()> {
        {
            let mut st = self.shared.lock();
            let slot = &mut st.slots[self.rank];
            slot.kind = buf.kind();
            slot.f32s.clear();
            slot.f64s.clear();
            slot.u64s.clear();
            match &*buf {
                Buf::F32(x) => slot.f32s.extend_from_slice(x),
                Buf::F64(x) => slot.f64s.extend_from_slice(x),
                Buf::U64(x) => slot.u64s.extend_from_slice(x),
            }
        }
        self.shared.barrier()?;
        let outcome = {
            let st = self.shared.lock();
            let same = st
                .slots
                .iter()
                .all(|s| s.kind == buf.kind() && s.len() == buf.len());
            if same {
                read(&st.slots, buf)
            } else {
                Err(Error::Communication {
                    what: "Local group",
                    reason: "the ranks called a collective with buffers of different types or lengths",
                })
            }
        };
        // Nobody may overwrite a slot before everyone has read it.
        self.shared.barrier()?;
        outcome
    }
}

fn fold<T: Element>(dst: &mut [T], slots: &[Slot], pick: impl Fn(&Slot) -> &[T]) -> Result<()> {
    fold_in_order(dst, slots.iter().map(pick))
}

impl Comm for Local<'_> {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.shared.size
    }

    fn all_reduce_sum(&self, mut buf: Buf<'_>) -> Result<()> {
        self.exchange(&mut buf, |slots, out| match out {
            Buf::F32(x) => fold(x, slots, |s| &s.f32s),
            Buf::F64(x) => fold(x, slots, |s| &s.f64s),
            Buf::U64(x) => fold(x, slots, |s| &s.u64s),
        })
    }

    fn broadcast(&self, mut buf: Buf<'_>, root: usize) -> Result<()> {
        check_root(root, self.shared.size)?;
        self.exchange(&mut buf, |slots, out| {
            let src = &slots[root];
            match out {
                Buf::F32(x) => x.copy_from_slice(&src.f32s),
                Buf::F64(x) => x.copy_from_slice(&src.f64s),
                Buf::U64(x) => x.copy_from_slice(&src.u64s),
            }
            Ok(())
        })
    }
}
