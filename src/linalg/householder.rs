//! The elementary Householder reflector of both reduction stages (LAPACK `dlarfg`'s definition)
//! and its application from the left.

use num_traits::Float;

/// Builds `H = I − τ·v·vᵀ` (`v[0] = 1`) with `H·x = β·e₁`: on return `x[0]` holds `β`,
/// `x[1..]` is zero and `v[1..]` the reflector's tail; returns `τ`, 0 (identity) when `x[1..]`
/// is already zero. The tail's norm is computed scaled by its largest entry, so no finite input
/// overflows or underflows. `v.len() ≥ x.len()`.
#[inline(always)]
pub(crate) fn reflector<T: Float>(x: &mut [T], v: &mut [T]) -> T {
    let n = x.len();
    v[0] = T::one();
    if n <= 1 {
        return T::zero();
    }
    let scale = x[1..].iter().fold(T::zero(), |m, t| m.max(t.abs()));
    if scale == T::zero() {
        v[1..n].iter_mut().for_each(|t| *t = T::zero());
        return T::zero();
    }
    let inv = T::one() / scale;
    let ss = x[1..]
        .iter()
        .fold(T::zero(), |acc, &t| acc + (t * inv) * (t * inv));
    let xnorm = scale * ss.sqrt();
    let alpha = x[0];
    let beta = -alpha.hypot(xnorm).copysign(alpha);
    let tau = (beta - alpha) / beta;
    let f = T::one() / (alpha - beta);
    for (vi, xi) in v[1..n].iter_mut().zip(x[1..].iter_mut()) {
        *vi = *xi * f;
        *xi = T::zero();
    }
    x[0] = beta;
    tau
}

/// `x ← (I − τ·v·vᵀ)·x` for one column `x` (`x.len() == v.len()`): `x −= τ·(vᵀx)·v`.
#[inline(always)]
pub(crate) fn apply_left<T: Float>(x: &mut [T], v: &[T], tau: T) {
    let dot = x.iter().zip(v).fold(T::zero(), |acc, (a, b)| acc + *a * *b);
    let f = tau * dot;
    x.iter_mut().zip(v).for_each(|(a, b)| *a = *a - f * *b);
}
