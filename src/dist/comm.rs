//! The communicator trait (core tier): what the distributed kernels need from a process group.

use crate::{Error, Result};

/// A mutable buffer of one of the element types a [`Comm`] reduces: `f32`, `f64` or `u64`.
///
/// The trait object form of a typed slice, so that [`Comm`] stays object-safe (`&dyn Comm`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Buf<'a> {
    /// `f32` elements.
    F32(&'a mut [f32]),
    /// `f64` elements.
    F64(&'a mut [f64]),
    /// `u64` elements (exact sums; an overflowing sum is an error).
    U64(&'a mut [u64]),
}

impl Buf<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Buf::F32(x) => x.len(),
            Buf::F64(x) => x.len(),
            Buf::U64(x) => x.len(),
        }
    }

    /// Whether the buffer has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A small code for the element type (`0` f32, `1` f64, `2` u64): implementations exchange
    /// it with the length to check that every rank called the same collective.
    pub fn kind(&self) -> u64 {
        match self {
            Buf::F32(_) => 0,
            Buf::F64(_) => 1,
            Buf::U64(_) => KIND_U64,
        }
    }
}

/// [`Buf::kind`] of a `u64` buffer.
pub(crate) const KIND_U64: u64 = 2;

/// An element type a [`Comm`] can reduce: `f32`, `f64` or `u64` (sealed).
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The typed slice as a [`Buf`].
    fn buf(x: &mut [Self]) -> Buf<'_>;
    /// `a + b`, `None` where an integer sum overflows.
    fn add(a: Self, b: Self) -> Option<Self>;
}

impl Element for f32 {
    fn buf(x: &mut [Self]) -> Buf<'_> {
        Buf::F32(x)
    }
    fn add(a: Self, b: Self) -> Option<Self> {
        Some(a + b)
    }
}

impl Element for f64 {
    fn buf(x: &mut [Self]) -> Buf<'_> {
        Buf::F64(x)
    }
    fn add(a: Self, b: Self) -> Option<Self> {
        Some(a + b)
    }
}

impl Element for u64 {
    fn buf(x: &mut [Self]) -> Buf<'_> {
        Buf::U64(x)
    }
    fn add(a: Self, b: Self) -> Option<Self> {
        a.checked_add(b)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for u64 {}
}

/// A group of `size` processes (or threads) that run the same program, each knowing its `rank`:
/// the one thing the distributed kernels of [`dist`](crate::dist) need, so that they depend on no
/// particular engine. mlkern implements it for MPI (`Mpi`, feature `mpi`)
/// and for threads of one process ([`Local`](crate::dist::Local), feature `std`); a GPU
/// collective library (NCCL) or a framework's process group plugs in the same way.
///
/// **Contract.** Every rank calls the same collectives in the same order with buffers of the same
/// type and length. [`all_reduce_sum`](Self::all_reduce_sum) must be *deterministic*: every rank
/// receives `((b₀ + b₁) + b₂) + … + b_{R−1}`, summed in rank order starting from rank 0's value,
/// bit for bit — so a distributed result does not depend on message timing, on the engine's
/// choice of reduction tree, or on the run (MPI's own `MPI_Allreduce` fixes none of this). The
/// buffers the kernels reduce are small (k×k or p×p), so the fixed order costs little; see
/// `benches/reports/distributed.md`.
///
/// **Errors.** An implementation returns [`Error::Communication`] when the group is broken (a rank
/// is gone, or the ranks' buffers differ in type or length) and, for `u64`, when a sum overflows;
/// every rank must see the same outcome of a collective.
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::dist::{Comm, Local};
/// // Three threads as three ranks: each contributes rank + 0.5.
/// let sums = Local::run(3, |comm| {
///     let mut x = [comm.rank() as f64 + 0.5];
///     comm.sum(&mut x)?;
///     Ok(x[0])
/// })?;
/// assert_eq!(sums, [4.5, 4.5, 4.5]);
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
pub trait Comm {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// The number of ranks (at least 1).
    fn size(&self) -> usize;
    /// Replaces `buf` on every rank by the rank-order sum of every rank's `buf` (see the
    /// contract above).
    ///
    /// # Errors
    /// [`Error::Communication`].
    fn all_reduce_sum(&self, buf: Buf<'_>) -> Result<()>;
    /// Replaces `buf` on every rank by rank `root`'s.
    ///
    /// # Errors
    /// [`Error::Communication`]; [`Error::InvalidParameter`] when `root` is not a rank.
    fn broadcast(&self, buf: Buf<'_>, root: usize) -> Result<()>;

    /// [`all_reduce_sum`](Self::all_reduce_sum) on a typed slice.
    ///
    /// # Errors
    /// As [`all_reduce_sum`](Self::all_reduce_sum).
    fn sum<T: Element>(&self, x: &mut [T]) -> Result<()>
    where
        Self: Sized,
    {
        self.all_reduce_sum(T::buf(x))
    }
}

impl<C: Comm + ?Sized> Comm for &C {
    fn rank(&self) -> usize {
        (**self).rank()
    }
    fn size(&self) -> usize {
        (**self).size()
    }
    fn all_reduce_sum(&self, buf: Buf<'_>) -> Result<()> {
        (**self).all_reduce_sum(buf)
    }
    fn broadcast(&self, buf: Buf<'_>, root: usize) -> Result<()> {
        (**self).broadcast(buf, root)
    }
}

/// The one process of a single-rank group: every collective is the identity. Lets a distributed
/// code path run (and be tested) without any engine.
///
/// ```
/// use mlkern::dist::{Comm, Solo};
/// let mut x = [1.5f32, 2.0];
/// Solo.sum(&mut x)?;
/// assert_eq!((Solo.rank(), Solo.size(), x), (0, 1, [1.5, 2.0]));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Solo;

impl Comm for Solo {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_reduce_sum(&self, _buf: Buf<'_>) -> Result<()> {
        Ok(())
    }
    fn broadcast(&self, _buf: Buf<'_>, root: usize) -> Result<()> {
        check_root(root, 1)
    }
}

/// `root` must be a rank of a group of `size`.
pub(crate) fn check_root(root: usize, size: usize) -> Result<()> {
    if root < size {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "broadcast: root",
            reason: "must be a rank of the group (0..size)",
        })
    }
}

/// `dst ← ((part₀ + part₁) + …)` over the `parts` of equal length, in order: the deterministic
/// fold every implementation uses, so all of them give the same bits.
///
/// # Errors
/// [`Error::Communication`] when a `u64` sum overflows.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) fn fold_in_order<'p, T: Element>(
    dst: &mut [T],
    mut parts: impl Iterator<Item = &'p [T]>,
) -> Result<()> {
    if let Some(first) = parts.next() {
        dst.copy_from_slice(first);
    }
    for part in parts {
        for (d, &x) in dst.iter_mut().zip(part) {
            *d = T::add(*d, x).ok_or(Error::Communication {
                what: "all_reduce_sum",
                reason: "a u64 sum overflows",
            })?;
        }
    }
    Ok(())
}
