//! The shared numeric base of every family (crate-private): exact power-of-two scaling,
//! finiteness scans of matrices, and fallible allocation. Families import these from here and
//! never from each other.
//!
//! One shape for every finiteness check: data first, then the `what` that names it in the error
//! (as [`simd::check_finite`](crate::simd::check_finite)).

#[cfg(feature = "alloc")]
mod finite;
#[cfg(feature = "alloc")]
mod pow2;
#[cfg(feature = "alloc")]
mod reserve;

#[cfg(feature = "alloc")]
pub(crate) use finite::{check_finite_mat, max_abs_exponent, norm_exponent};
#[cfg(feature = "alloc")]
pub(crate) use pow2::{apply_parts, exponent, mul_pow2, pow2, pow2_parts};
#[cfg(feature = "alloc")]
pub(crate) use reserve::{checked_len, collect, filled, from_fn, oom, reserve, try_vec, zeros};
