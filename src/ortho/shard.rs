//! The three products of a Newton–Schulz step as public building blocks, for callers whose
//! matrix is sharded along its long side (tensor/FSDP parallelism): each rank forms the Gram
//! matrix of its shard, the k×k Grams are summed (all-reduce), every rank builds the same step
//! matrix, and applies it to its own shard. The single-matrix kernels use the same functions.

use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef};

use super::normalize::{self, FroNorm, Normalize};
use super::schedule::Quintic;
use crate::Par;
use crate::linalg::{self, GemmBackend};
use crate::{Error, Real, Result, Shape};

/// `R ← X·Xᵀ` ([`Accum::Replace`]) or `R ← R + X·Xᵀ` ([`Accum::Add`]) for a k×Nₛ shard `X` and a
/// k×k `R`: one triangle computed and mirrored (`k²·Nₛ` flops), so `R` is exactly symmetric.
/// Summing the shards' Grams gives the Gram of the whole k×N matrix.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `R` is not `X.nrows()` square.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Accum, Mat, Layout, GemmBackend};
/// use mlkern::ortho::shard_gram;
/// let x = [1.0f64, 2.0, 3.0, 4.0]; // 2×2
/// let mut r = Mat::<f64>::zeros(2, 2);
/// shard_gram(GemmBackend::Auto, r.as_mut(), Accum::Replace, view(&x, 2, 2, Layout::RowMajor)?, Par::Seq)?;
/// assert_eq!((r[(0, 0)], r[(0, 1)], r[(1, 1)]), (5.0, 11.0, 25.0));
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn shard_gram<T: Real>(
    backend: GemmBackend,
    gram: MatMut<'_, T>,
    accum: Accum,
    x: MatRef<'_, T>,
    par: Par,
) -> Result<()> {
    let beta = match accum {
        Accum::Replace => T::zero(),
        Accum::Add => T::one(),
    };
    linalg::sym_product_with(backend, gram, beta, x, T::one(), par)
}

/// The step matrix `M = a·I + b·R + c·R²` of the polynomial `q` for a symmetric k×k Gram matrix
/// `R` (`M` is exactly symmetric; `R²` is one triangle, `k³` flops; nothing for a cubic step).
/// Entry order: `(b·Rᵢⱼ + c·(R²)ᵢⱼ) + a·δᵢⱼ`.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `R` is not square or `M` differs from `R` in shape.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{Mat, GemmBackend};
/// use mlkern::ortho::{step_matrix, Quintic};
/// let r = Mat::<f64>::from_fn(2, 2, |i, j| if i == j { 0.5 } else { 0.0 });
/// let mut m = Mat::<f64>::zeros(2, 2);
/// step_matrix(GemmBackend::Auto, m.as_mut(), r.as_ref(), Quintic::new(2.0, 1.0, 4.0), Par::Seq)?;
/// assert_eq!(m[(0, 0)], 2.0 + 0.5 + 1.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn step_matrix<T: Real>(
    backend: GemmBackend,
    mut dst: MatMut<'_, T>,
    gram: MatRef<'_, T>,
    q: Quintic,
    par: Par,
) -> Result<()> {
    let k = gram.nrows();
    if gram.ncols() != k || dst.nrows() != k || dst.ncols() != k {
        return Err(Error::ShapeMismatch {
            what: "step_matrix",
            expected: Shape::d2(k, k),
            found: Shape::d2(dst.nrows(), dst.ncols()),
        });
    }
    let (a, b, c) = (T::from_f64(q.a), T::from_f64(q.b), T::from_f64(q.c));
    if q.is_cubic() {
        linalg::zip_map(dst.rb_mut(), gram, |_, r| b * r);
    } else {
        linalg::symmetric_result_with(backend, dst.rb_mut(), T::zero(), gram, gram, T::one(), par)?;
        linalg::zip_map(dst.rb_mut(), gram, |r2, r| b * r + c * r2);
    }
    for i in 0..k {
        let d = dst[(i, i)];
        dst[(i, i)] = d + a;
    }
    Ok(())
}

/// `Y ← M·X` for the k×k step matrix `M` and a k×Nₛ shard `X` (`2k²·Nₛ` flops): the new shard.
///
/// # Errors
/// [`Error::ShapeMismatch`] on inconsistent shapes.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{GemmBackend, Mat};
/// use mlkern::ortho::apply_step;
/// let m = Mat::<f32>::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 0.0 });
/// let x = Mat::<f32>::from_fn(2, 3, |i, j| (i + j) as f32);
/// let mut y = Mat::<f32>::zeros(2, 3);
/// apply_step(GemmBackend::Auto, y.as_mut(), m.as_ref(), x.as_ref(), Par::Seq)?;
/// assert_eq!(y[(1, 2)], 6.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn apply_step<T: Real>(
    backend: GemmBackend,
    dst: MatMut<'_, T>,
    step: MatRef<'_, T>,
    x: MatRef<'_, T>,
    par: Par,
) -> Result<()> {
    linalg::matmul_with(backend, dst, Accum::Replace, step, x, T::one(), par)
}

/// `‖X‖_F` of a shard, overflow- and underflow-free (f64). Combine the shards' norms with
/// [`f64::hypot`] and pass the total to [`normalize_shard`].
///
/// # Errors
/// [`Error::NonFinite`] with the row-major index of the first NaN/±∞.
///
/// ```
/// use mlkern::linalg::{view, Layout};
/// use mlkern::ortho::shard_norm;
/// let (a, b) = ([3.0f64, 0.0], [0.0f64, 4.0]); // two 1×2 shards of [3, 0, 0, 4]
/// let total = shard_norm(view(&a, 1, 2, Layout::RowMajor)?)?
///     .hypot(shard_norm(view(&b, 1, 2, Layout::RowMajor)?)?);
/// assert_eq!(total, 5.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn shard_norm<T: Real>(x: MatRef<'_, T>) -> Result<f64> {
    Ok(normalize::fro_norm("shard", x)?.value())
}

/// `Y ← X / d` with `d` from `normalize` and the norm of the whole (unsharded) matrix.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `Y` and `X` differ in shape; [`Error::InvalidParameter`] for a
/// negative or non-finite `total_norm` or an invalid `normalize`.
///
/// ```
/// use mlkern::linalg::{view, view_mut, Layout};
/// use mlkern::ortho::{normalize_shard, Normalize};
/// let x = [4.0f64, 0.0]; // one shard of a matrix whose whole norm is 8
/// let mut y = [0.0f64; 2];
/// normalize_shard(view_mut(&mut y, 1, 2, Layout::RowMajor)?, view(&x, 1, 2, Layout::RowMajor)?,
///                 8.0, Normalize::plus_eps(1.0, 0.0))?;
/// assert_eq!(y, [0.5, 0.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn normalize_shard<T: Real>(
    dst: MatMut<'_, T>,
    x: MatRef<'_, T>,
    total_norm: f64,
    normalize: Normalize,
) -> Result<()> {
    normalize.validate()?;
    if (dst.nrows(), dst.ncols()) != (x.nrows(), x.ncols()) {
        return Err(Error::ShapeMismatch {
            what: "normalize_shard output",
            expected: Shape::d2(x.nrows(), x.ncols()),
            found: Shape::d2(dst.nrows(), dst.ncols()),
        });
    }
    if !(total_norm.is_finite() && total_norm >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "total_norm",
            reason: "must be finite and >= 0",
        });
    }
    normalize::scale_into(dst, x, FroNorm::from_f64(total_norm), normalize);
    Ok(())
}
