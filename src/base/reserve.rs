//! Fallible allocation (alloc tier): a buffer whose size comes from the caller is reserved with
//! `try_reserve_exact`, so a size the allocator refuses is an [`Error`], never an abort.

use alloc::vec::Vec;

use crate::{Error, Result};

/// An empty vector with room for exactly `len` elements, or [`Error::InvalidParameter`] naming
/// `name` when the allocator refuses.
fn try_vec<T>(len: usize, name: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::InvalidParameter {
            name,
            reason: "the buffer for this size cannot be allocated",
        })?;
    Ok(v)
}

/// `len` copies of `value`, or [`Error::InvalidParameter`] naming `name` when they cannot be
/// allocated.
pub(crate) fn filled<T: Clone>(len: usize, value: T, name: &'static str) -> Result<Vec<T>> {
    let mut v = try_vec(len, name)?;
    v.resize(len, value);
    Ok(v)
}

/// `len` zeros of `T`, or [`Error::InvalidParameter`] naming `name` when they cannot be
/// allocated.
pub(crate) fn zeros<T: num_traits::Zero + Clone>(len: usize, name: &'static str) -> Result<Vec<T>> {
    filled(len, T::zero(), name)
}
