//! Flop counts of the products, for reports and GFLOP/s figures. A symmetric product (one
//! triangle) counts half of the equivalent GEMM.

/// `A = X·Xᵀ` for a k×N `X` (one triangle).
pub(crate) fn gram(k: usize, n: usize) -> f64 {
    (k * k) as f64 * n as f64
}

/// `Y = M·X` for k×k `M` and k×N `X`.
pub(crate) fn apply(k: usize, n: usize) -> f64 {
    2.0 * (k * k) as f64 * n as f64
}

/// A k×k product with a symmetric result (one triangle).
pub(crate) fn square(k: usize) -> f64 {
    (k * k) as f64 * k as f64
}

/// One standard step: Gram, `A²` unless cubic, apply.
pub(crate) fn standard_step(k: usize, n: usize, cubic: bool) -> f64 {
    gram(k, n) + apply(k, n) + if cubic { 0.0 } else { square(k) }
}
