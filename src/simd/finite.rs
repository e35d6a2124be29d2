//! Screening for NaN and ±Inf.
//!
//! A value is finite iff `|x| < ∞` (false for NaN as well as ±Inf), so one compare per register
//! decides. Blocks of registers are folded into one mask and tested once; the block that fails is
//! then scanned element by element for the exact index.

use pulp::{Simd, WithSimd};

use super::isa::Isa;
use super::lanes::Elem;

/// Registers folded per mask test.
const CHECK_VECS: usize = 8;

/// What to look for.
#[derive(Clone, Copy)]
enum Wanted {
    /// NaN or ±Inf.
    NonFinite,
    /// NaN only.
    Nan,
}

#[inline(always)]
fn scalar_hit<T: Elem>(w: Wanted, e: T) -> bool {
    match w {
        Wanted::NonFinite => !e.is_finite(),
        Wanted::Nan => e.is_nan(),
    }
}

/// Index of the first element that is `wanted`, or `x.len()`.
#[inline(always)]
fn find_simd<S: Simd, T: Elem>(s: S, x: &[T], w: Wanted) -> usize {
    let lanes = T::lanes::<S>();
    let (head, tail) = T::as_simd::<S>(x);
    let inf = T::v_splat(s, T::infinity());
    for (b, block) in head.chunks(CHECK_VECS).enumerate() {
        let mut ok = T::mask_true(s);
        for &v in block {
            let good = match w {
                Wanted::NonFinite => T::v_lt(s, T::v_abs(s, v), inf),
                Wanted::Nan => T::v_eq(s, v, v),
            };
            ok = T::v_and(s, ok, good);
        }
        if !T::all(s, ok) {
            let start = b * CHECK_VECS * lanes;
            let end = start + block.len() * lanes;
            if let Some(i) = x[start..end].iter().position(|&e| scalar_hit(w, e)) {
                return start + i;
            }
        }
    }
    let start = x.len() - tail.len();
    tail.iter()
        .position(|&e| scalar_hit(w, e))
        .map_or(x.len(), |i| start + i)
}

struct FindOp<'a, T> {
    x: &'a [T],
    w: Wanted,
}

impl<T: Elem> WithSimd for FindOp<'_, T> {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> usize {
        find_simd(s, self.x, self.w)
    }
}

/// Index of the first NaN or ±Inf, if any.
#[inline]
pub(crate) fn find_non_finite<T: Elem>(isa: Isa, x: &[T]) -> Option<usize> {
    let i = isa.dispatch(FindOp {
        x,
        w: Wanted::NonFinite,
    });
    (i < x.len()).then_some(i)
}

/// Index of the first NaN, or `x.len()` if there is none.
#[inline]
pub(crate) fn first_nan<T: Elem>(isa: Isa, x: &[T]) -> usize {
    isa.dispatch(FindOp { x, w: Wanted::Nan })
}
