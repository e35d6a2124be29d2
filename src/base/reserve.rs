//! Fallible allocation (alloc tier): a buffer whose size comes from the caller is reserved with
//! `try_reserve_exact`, so a size the allocator refuses is an [`Error`], never an abort.

use alloc::vec::Vec;

use crate::{Error, Result};

/// The error for `len` elements of `T` that cannot be reserved: [`Error::OutOfMemory`] with the
/// byte count (`usize::MAX` when it overflows).
pub(crate) fn oom<T>(len: usize, name: &'static str) -> Error {
    Error::OutOfMemory {
        name,
        bytes: len.saturating_mul(core::mem::size_of::<T>()),
    }
}

/// An empty vector with room for exactly `len` elements, or [`Error::OutOfMemory`] naming
/// `name` when the allocator refuses (or the byte size overflows).
pub(crate) fn try_vec<T>(len: usize, name: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    reserve(&mut v, len, name)?;
    Ok(v)
}

/// Room in `v` for `additional` more elements, or [`Error::OutOfMemory`] naming `name`.
pub(crate) fn reserve<T>(v: &mut Vec<T>, additional: usize, name: &'static str) -> Result<()> {
    v.try_reserve_exact(additional)
        .map_err(|_| oom::<T>(v.len().saturating_add(additional), name))
}

/// The product of `dims`, or [`Error::OutOfMemory`] naming `name` (bytes `usize::MAX`) when it
/// overflows `usize`.
pub(crate) fn checked_len(dims: &[usize], name: &'static str) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(Error::OutOfMemory {
            name,
            bytes: usize::MAX,
        })
}

/// `len` elements `f(0), f(1), …`, fallibly reserved (see [`try_vec`]).
pub(crate) fn from_fn<T>(
    len: usize,
    name: &'static str,
    f: impl FnMut(usize) -> T,
) -> Result<Vec<T>> {
    let mut v = try_vec(len, name)?;
    v.extend((0..len).map(f));
    Ok(v)
}

/// The items of an exact-size iterator, fallibly reserved (see [`try_vec`]).
pub(crate) fn collect<T>(
    items: impl ExactSizeIterator<Item = T>,
    name: &'static str,
) -> Result<Vec<T>> {
    let mut v = try_vec(items.len(), name)?;
    v.extend(items);
    Ok(v)
}

/// `len` copies of `value`, or [`Error::OutOfMemory`] naming `name` when they cannot be
/// allocated.
pub(crate) fn filled<T: Clone>(len: usize, value: T, name: &'static str) -> Result<Vec<T>> {
    let mut v = try_vec(len, name)?;
    v.resize(len, value);
    Ok(v)
}

/// `len` zeros of `T`, or [`Error::OutOfMemory`] naming `name` when they cannot be allocated.
pub(crate) fn zeros<T: num_traits::Zero + Clone>(len: usize, name: &'static str) -> Result<Vec<T>> {
    filled(len, T::zero(), name)
}
