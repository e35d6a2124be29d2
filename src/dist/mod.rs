//! Kernels across processes: Newton–Schulz, Muon, covariance spectra and Chow–Liu statistics
//! over a process group ([`Comm`] core tier, the kernels alloc, [`Local`] std, `Mpi` the `mpi`
//! feature).
//!
//! * [`Comm`] (core tier) is the whole interface to the group: rank, size, a **deterministic**
//!   all-reduce-sum of `f32`/`f64`/`u64` slices (every rank gets the rank-order sum, bit for
//!   bit, on every run) and a broadcast. The kernels depend on nothing else.
//! * Implementations: `Mpi` (rsmpi over the system MPI, MPICH on Debian; feature `mpi`),
//!   [`Local`] (threads of one process, for tests and experiments; feature `std`) and [`Solo`]
//!   (one rank).
//! * **Sharded Newton–Schulz, Muon and AMUSE** ([`orthogonalize_shard_into`],
//!   [`muon_step_shard`], [`amuse_step_shard`]): a matrix split along its long side; one k×k
//!   all-reduce per step (standard) or per restart (Gram).
//! * **Data-parallel statistics** ([`reduce_cov`], [`reduce_correlation`], [`reduce_pair_counts`]):
//!   the covariance accumulator, Gaussian correlation sums and discrete pair counts of sample
//!   shards, reduced so that every rank holds those of the concatenated samples — the spectrum,
//!   the effective rank and the Chow–Liu tree then follow as in one process.
//!
//! Every distributed entry point is **all or nothing**: a rank whose input is rejected returns
//! its error, every other rank gets [`Error::PeerFailed`](crate::Error::PeerFailed), and no
//! rank's buffers change. `comm` comes just before `par` in every signature.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use mlkern::dist::{Comm, Local};
//! let r = Local::run(4, |comm| {
//!     let mut x = [1u64 << comm.rank()];
//!     comm.sum(&mut x)?;
//!     Ok(x[0])
//! })?;
//! assert_eq!(r, [15; 4]);
//! # }
//! # Ok::<(), mlkern::Error>(())
//! ```

#[cfg(feature = "alloc")]
pub(crate) mod agree;
mod comm;
#[cfg(feature = "std")]
mod local;
#[cfg(feature = "mpi")]
mod mpi;
#[cfg(feature = "alloc")]
mod spectrum;
#[cfg(feature = "alloc")]
mod tree;

#[cfg(feature = "alloc")]
pub use crate::ortho::sharded::{
    Split, muon_shard_scratch_len, muon_step_shard, orthogonalize_shard_into,
    orthogonalize_shard_scratch_len,
};
#[cfg(feature = "alloc")]
pub use crate::ortho::sharded_amuse::{amuse_shard_scratch_len, amuse_step_shard};
/// The rsmpi crate mlkern's [`Mpi`] is built on, for naming its types (`Universe`, communicators)
/// without a second dependency that could differ in version.
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub use ::mpi as rsmpi;
#[cfg(feature = "alloc")]
pub use agree::all as agree;
pub use comm::{Buf, Comm, Element, Solo};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use local::Local;
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub use mpi::Mpi;
#[cfg(feature = "alloc")]
pub use spectrum::reduce_cov;
#[cfg(feature = "alloc")]
pub use tree::{chow_liu_discrete, chow_liu_gaussian, reduce_correlation, reduce_pair_counts};
