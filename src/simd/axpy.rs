//! `x ← α·x` and `y ← α·x + y`.
//!
//! Both are element-wise with one rounding per element (`axpy` uses a fused multiply-add on every
//! level, in software on the scalar level), so the results are bit-identical across levels.

use pulp::{Simd, WithSimd};

use super::isa::Isa;
use super::lanes::Elem;

struct ScaleOp<'a, T> {
    alpha: T,
    x: &'a mut [T],
}

impl<T: Elem> WithSimd for ScaleOp<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let a = T::v_splat(s, self.alpha);
        let (head, tail) = T::as_mut_simd::<S>(self.x);
        for v in head {
            *v = T::v_mul(s, *v, a);
        }
        if !tail.is_empty() {
            let v = T::v_mul(s, T::partial_load(s, tail), a);
            T::partial_store(s, tail, v);
        }
    }
}

struct AxpyOp<'a, T> {
    alpha: T,
    x: &'a [T],
    y: &'a mut [T],
}

impl<T: Elem> WithSimd for AxpyOp<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let a = T::v_splat(s, self.alpha);
        let (xh, xt) = T::as_simd::<S>(self.x);
        let (yh, yt) = T::as_mut_simd::<S>(self.y);
        for (yv, &xv) in yh.iter_mut().zip(xh) {
            *yv = T::v_fma(s, a, xv, *yv);
        }
        if !yt.is_empty() {
            let v = T::v_fma(s, a, T::partial_load(s, xt), T::partial_load(s, yt));
            T::partial_store(s, yt, v);
        }
    }
}

/// `x ← α·x` at level `isa`.
#[inline]
pub(crate) fn scale<T: Elem>(isa: Isa, alpha: T, x: &mut [T]) {
    isa.dispatch(ScaleOp { alpha, x })
}

/// `y ← α·x + y` at level `isa`; the caller has checked `x.len() == y.len()`.
#[inline]
pub(crate) fn axpy<T: Elem>(isa: Isa, alpha: T, x: &[T], y: &mut [T]) {
    debug_assert_eq!(x.len(), y.len());
    isa.dispatch(AxpyOp { alpha, x, y })
}
