//! [`Mpi`]: the [`Comm`] of an MPI communicator, through rsmpi (feature `mpi`).

use mpi::collective::CommunicatorCollectives;
use mpi::datatype::Equivalence;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::Root;

use num_traits::Zero;

use super::comm::{Buf, Comm, Element, KIND_U64, check_root, fold_in_order};
use crate::base::zeros;
use crate::{Error, Result};

/// An MPI communicator as a [`Comm`] (feature `mpi`; built against the system's MPI through
/// rsmpi — on Debian, `apt-get install mpich libmpich-dev libclang-dev`).
///
/// [`all_reduce_sum`](Comm::all_reduce_sum) is **not** `MPI_Allreduce`, whose association order
/// MPI leaves to the implementation (MPICH's differs with message size, rank count and version,
/// and in some versions between ranks). It is a reduce-scatter and an all-gather whose order is
/// fixed: rank `j` receives chunk `j` of every rank's buffer (`MPI_Alltoall`), sums the chunks in
/// rank order, and the sums are all-gathered (`MPI_Allgather`). Every element is summed as
/// `((b₀ + b₁) + b₂) + …`, so all ranks get identical bits, equal to the serial rank-order sum,
/// on every run — at the bandwidth of a ring all-reduce: `2(R−1)/R·len` elements received per
/// rank. Before the data, a 3-word header (type, length, whether the buffers could be reserved)
/// is all-gathered, so ranks that disagree get [`Error::Communication`] on every rank instead of
/// undefined behaviour.
///
/// MPI's own failures follow the communicator's error handler (by default `MPI_ERRORS_ARE_FATAL`:
/// the job aborts, as with any MPI program).
///
/// ```no_run
/// use mlkern::dist::{Comm, Mpi};
/// let (_universe, comm) = Mpi::init()?; // keep the universe alive: dropping it finalizes MPI
/// let mut x = [comm.rank() as f64];
/// comm.sum(&mut x)?;
/// assert_eq!(x[0], (0..comm.size()).map(|r| r as f64).sum::<f64>());
/// # Ok::<(), mlkern::Error>(())
/// ```
pub struct Mpi {
    comm: SimpleCommunicator,
    rank: usize,
    size: usize,
}

impl Mpi {
    /// Initializes MPI with `MPI_THREAD_FUNNELED` (kernels may use threads; only the calling
    /// thread talks to MPI) and returns the universe with its world communicator. Keep the
    /// [`Universe`] alive for as long as MPI is used: dropping it calls `MPI_Finalize`.
    ///
    /// # Errors
    /// [`Error::Communication`] when MPI was already initialized in this process.
    pub fn init() -> Result<(Universe, Mpi)> {
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled).ok_or(
            Error::Communication {
                what: "Mpi::init",
                reason: "MPI is already initialized in this process",
            },
        )?;
        let comm = Mpi::new(universe.world());
        Ok((universe, comm))
    }

    /// Wraps an existing communicator (the world, or a split of it).
    pub fn new(comm: SimpleCommunicator) -> Mpi {
        let rank = usize::try_from(comm.rank()).unwrap_or(0);
        let size = usize::try_from(comm.size()).unwrap_or(1).max(1);
        Mpi { comm, rank, size }
    }

    /// The wrapped communicator.
    pub fn communicator(&self) -> &SimpleCommunicator {
        &self.comm
    }

    /// All-gathers `[kind, len, ok]` and checks that every rank agrees and is ready.
    fn agree(&self, kind: u64, len: usize, ok: bool) -> Result<()> {
        let mine = [kind, len as u64, u64::from(ok)];
        let mut all = zeros::<u64>(3 * self.size, "Mpi: collective header")?;
        self.comm.all_gather_into(&mine[..], &mut all[..]);
        let mismatch = all
            .chunks_exact(3)
            .any(|h| h[0] != mine[0] || h[1] != mine[1]);
        if mismatch {
            return Err(Error::Communication {
                what: "Mpi",
                reason: "the ranks called a collective with buffers of different types or lengths",
            });
        }
        if all.chunks_exact(3).any(|h| h[2] == 0) {
            return Err(RESERVE);
        }
        Ok(())
    }

    /// The deterministic all-reduce as a reduce-scatter and an all-gather: rank `j` receives
    /// chunk `j` of every rank's (zero-padded) buffer (`MPI_Alltoall`), folds those chunks in rank
    /// order, and the folded chunks are all-gathered. Each element is summed exactly as the
    /// serial rank-order fold sums it, and each rank receives `2(R−1)/R·len` elements, as a ring
    /// all-reduce would.
    fn reduce_in_rank_order<T: Element + Equivalence + Zero>(
        &self,
        kind: u64,
        x: &mut [T],
    ) -> Result<()> {
        let size = self.size;
        if size == 1 {
            return Ok(()); // the sum of one buffer: nothing to exchange
        }
        let chunk = x.len().div_ceil(size);
        let buffers = chunk.checked_mul(size).and_then(|padded| {
            Some((
                zeros::<T>(padded, NAME).ok()?,
                zeros::<T>(padded, NAME).ok()?,
            ))
        });
        self.agree(kind, x.len(), buffers.is_some())?;
        let (mut send, mut recv) = buffers.ok_or(RESERVE)?;
        if x.is_empty() {
            return Ok(());
        }
        send[..x.len()].copy_from_slice(x);
        self.comm.all_to_all_into(&send[..], &mut recv[..]);
        let mine = &mut send[..chunk];
        let overflow = fold_in_order(mine, recv.chunks_exact(chunk)).is_err();
        if kind == KIND_U64 {
            // Only the owner of a chunk sees its overflow: agree before anyone returns.
            self.agree(kind, 0, !overflow)
                .map_err(|_| Error::Communication {
                    what: "all_reduce_sum",
                    reason: "a u64 sum overflows",
                })?;
        }
        // The received chunks are folded: reuse `recv` as the send side of the gather.
        recv[..chunk].copy_from_slice(&send[..chunk]);
        self.comm.all_gather_into(&recv[..chunk], &mut send[..]);
        x.copy_from_slice(&send[..x.len()]);
        Ok(())
    }

    fn bcast<T: Equivalence>(&self, kind: u64, x: &mut [T], root: usize) -> Result<()> {
        self.agree(kind, x.len(), true)?;
        if !x.is_empty() {
            let root = i32::try_from(root).unwrap_or(0);
            self.comm.process_at_rank(root).broadcast_into(x);
        }
        Ok(())
    }
}

const RESERVE: Error = Error::Communication {
    what: "Mpi",
    reason: "a rank could not reserve the collective's buffers",
};

/// What the all-reduce's buffers are reserved as.
const NAME: &str = "Mpi: all-reduce buffers";

impl Comm for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_reduce_sum(&self, buf: Buf<'_>) -> Result<()> {
        let kind = buf.kind();
        match buf {
            Buf::F32(x) => self.reduce_in_rank_order(kind, x),
            Buf::F64(x) => self.reduce_in_rank_order(kind, x),
            Buf::U64(x) => self.reduce_in_rank_order(kind, x),
        }
    }

    fn broadcast(&self, buf: Buf<'_>, root: usize) -> Result<()> {
        check_root(root, self.size)?;
        let kind = buf.kind();
        match buf {
            Buf::F32(x) => self.bcast(kind, x, root),
            Buf::F64(x) => self.bcast(kind, x, root),
            Buf::U64(x) => self.bcast(kind, x, root),
        }
    }
}
