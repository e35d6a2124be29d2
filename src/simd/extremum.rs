//! Maximum and arg-maximum with NaN screening.
//!
//! `max` runs four independent lane-wise maximum chains and, alongside, an `x == x` mask
//! accumulator that turns false at the first NaN; only if it did is the slice scanned again for
//! the index of the first NaN. `argmax` is `max` followed by a search for the first element equal
//! to it (blocks of registers are tested with one mask reduction each; the matching block is then
//! scanned element by element), so ties resolve to the first index and ±0 compare equal.

use pulp::{Simd, WithSimd};

use super::finite::first_nan;
use super::isa::Isa;
use super::lanes::Elem;

/// Registers tested per mask reduction in the search passes.
const SEARCH_VECS: usize = 8;

/// `Ok(max)` or `Err(())` when there is a NaN (the caller locates it). `x` is non-empty.
#[inline(always)]
fn max_simd<S: Simd, T: Elem>(s: S, x: &[T]) -> Result<T, ()> {
    let (head, tail) = T::as_simd::<S>(x);
    let ninf = T::v_splat(s, T::neg_infinity());
    let (mut m0, mut m1, mut m2, mut m3) = (ninf, ninf, ninf, ninf);
    let mut ok = T::mask_true(s);
    let mut quads = head.chunks_exact(4);
    for q in &mut quads {
        let (v0, v1, v2, v3) = (q[0], q[1], q[2], q[3]);
        m0 = T::v_max(s, m0, v0);
        m1 = T::v_max(s, m1, v1);
        m2 = T::v_max(s, m2, v2);
        m3 = T::v_max(s, m3, v3);
        let ok01 = T::v_and(s, T::v_eq(s, v0, v0), T::v_eq(s, v1, v1));
        let ok23 = T::v_and(s, T::v_eq(s, v2, v2), T::v_eq(s, v3, v3));
        ok = T::v_and(s, ok, T::v_and(s, ok01, ok23));
    }
    for &v in quads.remainder() {
        m0 = T::v_max(s, m0, v);
        ok = T::v_and(s, ok, T::v_eq(s, v, v));
    }
    if !tail.is_empty() {
        let v = T::load_padded(s, tail, T::neg_infinity());
        m1 = T::v_max(s, m1, v);
        ok = T::v_and(s, ok, T::v_eq(s, v, v));
    }
    if !T::all(s, ok) {
        return Err(());
    }
    let m = T::v_max(s, T::v_max(s, m0, m1), T::v_max(s, m2, m3));
    Ok(T::reduce_max(s, m))
}

/// Index of the first `xᵢ == target` (`x.len()` if none).
#[inline(always)]
pub(crate) fn position_eq_simd<S: Simd, T: Elem>(s: S, x: &[T], target: T) -> usize {
    let lanes = T::lanes::<S>();
    let (head, tail) = T::as_simd::<S>(x);
    let t = T::v_splat(s, target);
    for (b, block) in head.chunks(SEARCH_VECS).enumerate() {
        let mut hit = T::mask_false(s);
        for &v in block {
            hit = T::v_or(s, hit, T::v_eq(s, v, t));
        }
        if T::any(s, hit) {
            let start = b * SEARCH_VECS * lanes;
            let end = start + block.len() * lanes;
            if let Some(i) = x[start..end].iter().position(|&e| e == target) {
                return start + i;
            }
        }
    }
    let start = x.len() - tail.len();
    tail.iter()
        .position(|&e| e == target)
        .map_or(x.len(), |i| start + i)
}

struct MaxOp<'a, T> {
    x: &'a [T],
}

impl<T: Elem> WithSimd for MaxOp<'_, T> {
    type Output = Result<T, ()>;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> Result<T, ()> {
        max_simd(s, self.x)
    }
}

struct ArgmaxOp<'a, T> {
    x: &'a [T],
}

impl<T: Elem> WithSimd for ArgmaxOp<'_, T> {
    type Output = Result<usize, ()>;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> Result<usize, ()> {
        let m = max_simd(s, self.x)?;
        Ok(position_eq_simd(s, self.x, m))
    }
}

/// The maximum of a non-empty slice, or `Err(index of the first NaN)`.
#[inline]
pub(crate) fn max<T: Elem>(isa: Isa, x: &[T]) -> Result<T, usize> {
    debug_assert!(!x.is_empty());
    isa.dispatch(MaxOp { x }).map_err(|()| first_nan(isa, x))
}

/// `(index, value)` of the first maximum of a non-empty slice, or `Err(index of the first NaN)`.
#[inline]
pub(crate) fn argmax<T: Elem>(isa: Isa, x: &[T]) -> Result<(usize, T), usize> {
    debug_assert!(!x.is_empty());
    match isa.dispatch(ArgmaxOp { x }) {
        Ok(i) => Ok((i, x[i])),
        Err(()) => Err(first_nan(isa, x)),
    }
}
