//! The sealed [`Kernels`] trait: the SIMD primitives per element type, with argument checking.
//!
//! The trait is `pub` (it is a supertrait of [`crate::Real`]) but lives in a private module, so
//! code outside the crate can neither name nor implement it: users reach the primitives through
//! the free functions of [`crate::simd`] and the methods of [`Isa`].

use crate::error::{Error, Result, Shape};

use super::isa::Isa;
use super::lanes::Elem;
use super::{axpy, exp, extremum, finite, reduce, softmax};

mod sealed {
    /// Prevents implementations outside mlkern.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// SIMD primitives for one element type (`f32` or `f64`), each run at an explicit [`Isa`].
///
/// Implementation detail of [`crate::Real`]; see the free functions in [`crate::simd`] for the
/// semantics of each method.
pub trait Kernels: sealed::Sealed + Copy + Sized {
    /// See [`crate::simd::sum`].
    fn simd_sum(isa: Isa, x: &[Self]) -> Self;
    /// See [`crate::simd::dot`].
    fn simd_dot(isa: Isa, x: &[Self], y: &[Self]) -> Result<Self>;
    /// See [`crate::simd::max`].
    fn simd_max(isa: Isa, x: &[Self]) -> Result<Self>;
    /// See [`crate::simd::argmax`].
    fn simd_argmax(isa: Isa, x: &[Self]) -> Result<(usize, Self)>;
    /// See [`crate::simd::scale`].
    fn simd_scale(isa: Isa, alpha: Self, x: &mut [Self]);
    /// See [`crate::simd::axpy`].
    fn simd_axpy(isa: Isa, alpha: Self, x: &[Self], y: &mut [Self]) -> Result<()>;
    /// See [`crate::simd::exp_in_place`].
    fn simd_exp_in_place(isa: Isa, x: &mut [Self]);
    /// See [`crate::simd::exp_into`].
    fn simd_exp_into(isa: Isa, x: &[Self], out: &mut [Self]) -> Result<()>;
    /// See [`crate::simd::log_sum_exp`].
    fn simd_log_sum_exp(isa: Isa, x: &[Self]) -> Result<Self>;
    /// See [`crate::simd::softmax_in_place`].
    fn simd_softmax_in_place(isa: Isa, x: &mut [Self]) -> Result<()>;
    /// See [`crate::simd::find_non_finite`].
    fn simd_find_non_finite(isa: Isa, x: &[Self]) -> Option<usize>;
}

fn same_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(expected),
            found: Shape::d1(found),
        })
    }
}

fn checked_dot<T: Elem>(isa: Isa, x: &[T], y: &[T]) -> Result<T> {
    same_len("dot: y", x.len(), y.len())?;
    Ok(reduce::dot(isa, x, y))
}

fn checked_max<T: Elem>(isa: Isa, x: &[T]) -> Result<T> {
    const WHAT: &str = "max: x";
    if x.is_empty() {
        return Err(Error::Empty { what: WHAT });
    }
    extremum::max(isa, x).map_err(|index| Error::NonFinite { what: WHAT, index })
}

fn checked_argmax<T: Elem>(isa: Isa, x: &[T]) -> Result<(usize, T)> {
    const WHAT: &str = "argmax: x";
    if x.is_empty() {
        return Err(Error::Empty { what: WHAT });
    }
    extremum::argmax(isa, x).map_err(|index| Error::NonFinite { what: WHAT, index })
}

fn checked_axpy<T: Elem>(isa: Isa, alpha: T, x: &[T], y: &mut [T]) -> Result<()> {
    same_len("axpy: y", x.len(), y.len())?;
    axpy::axpy(isa, alpha, x, y);
    Ok(())
}

fn checked_exp_into<T: Elem>(isa: Isa, x: &[T], out: &mut [T]) -> Result<()> {
    same_len("exp_into: out", x.len(), out.len())?;
    exp::exp_into(isa, x, out);
    Ok(())
}

macro_rules! impl_kernels {
    ($($t:ty),*) => {$(
        impl Kernels for $t {
            #[inline]
            fn simd_sum(isa: Isa, x: &[Self]) -> Self {
                reduce::sum(isa, x)
            }
            #[inline]
            fn simd_dot(isa: Isa, x: &[Self], y: &[Self]) -> Result<Self> {
                checked_dot(isa, x, y)
            }
            #[inline]
            fn simd_max(isa: Isa, x: &[Self]) -> Result<Self> {
                checked_max(isa, x)
            }
            #[inline]
            fn simd_argmax(isa: Isa, x: &[Self]) -> Result<(usize, Self)> {
                checked_argmax(isa, x)
            }
            #[inline]
            fn simd_scale(isa: Isa, alpha: Self, x: &mut [Self]) {
                axpy::scale(isa, alpha, x)
            }
            #[inline]
            fn simd_axpy(isa: Isa, alpha: Self, x: &[Self], y: &mut [Self]) -> Result<()> {
                checked_axpy(isa, alpha, x, y)
            }
            #[inline]
            fn simd_exp_in_place(isa: Isa, x: &mut [Self]) {
                exp::exp_shift_in_place(isa, x, 0.0)
            }
            #[inline]
            fn simd_exp_into(isa: Isa, x: &[Self], out: &mut [Self]) -> Result<()> {
                checked_exp_into(isa, x, out)
            }
            #[inline]
            fn simd_log_sum_exp(isa: Isa, x: &[Self]) -> Result<Self> {
                softmax::log_sum_exp(isa, x)
            }
            #[inline]
            fn simd_softmax_in_place(isa: Isa, x: &mut [Self]) -> Result<()> {
                softmax::softmax_in_place(isa, x)
            }
            #[inline]
            fn simd_find_non_finite(isa: Isa, x: &[Self]) -> Option<usize> {
                finite::find_non_finite(isa, x)
            }
        }
    )*};
}

impl_kernels!(f32, f64);
