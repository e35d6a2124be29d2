//! Gaussian statistics: the Pearson correlation matrix of variable-major samples through one
//! symmetric product (half a GEMM), and its Gaussian MI and information-distance matrices
//! (alloc tier).

use alloc::vec;
use alloc::vec::Vec;

use num_traits::Float;

use super::info::{gaussian_distance, gaussian_mi};
use crate::linalg::{Layout, Par, sym_product, view, view_mut};
use crate::{Error, Real, Result, Shape};

/// Checks the shape of variable-major samples `x` (`n_vars × n_samples`) and their finiteness.
pub(crate) fn check_samples<T: Real>(
    x: &[T],
    n_samples: usize,
    n_vars: usize,
    what: &'static str,
) -> Result<()> {
    let want = n_samples
        .checked_mul(n_vars)
        .ok_or(Error::InvalidParameter {
            name: what,
            reason: "n_samples·n_vars overflows usize",
        })?;
    if x.len() != want {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d2(n_vars, n_samples),
            found: Shape::d1(x.len()),
        });
    }
    crate::simd::check_finite(x, what)?;
    if n_samples < 2 && n_vars > 0 {
        return Err(Error::InvalidParameter {
            name: what,
            reason: "at least 2 samples are needed for correlations",
        });
    }
    Ok(())
}

/// The `p×p` Pearson correlation matrix of variable-major samples (`x[v·n_samples + t]`),
/// accumulated in f64 whatever `T` is: each variable is centred and scaled to unit norm, then
/// one symmetric product `Z·Zᵀ` (faer's GEMM, `threads` threads with the `rayon` feature).
/// The diagonal is exactly 1 and entries are clamped to `[−1, 1]`.
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::NonFinite`] (NaN/Inf in `x`, flat index),
/// [`Error::InvalidParameter`] for fewer than 2 samples, [`Error::Degenerate`] for a constant
/// variable (its index), whose correlations are undefined.
///
/// ```
/// let x = [1.0f64, 2.0, 3.0, 4.0,   2.0, 4.0, 6.0, 8.5,   4.0, 3.0, 2.0, 1.0];
/// let r = mlkern::tree::correlation_matrix(&x, 4, 3, 1)?;
/// assert_eq!(r[0], 1.0);
/// assert!((r[2] + 1.0).abs() < 1e-15); // x2 = 5 − x0
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn correlation_matrix<T: Real>(
    x: &[T],
    n_samples: usize,
    n_vars: usize,
    threads: usize,
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; n_vars * n_vars];
    correlation_matrix_into(x, n_samples, n_vars, threads, &mut out)?;
    Ok(out)
}

/// [`correlation_matrix`] into a caller buffer of `n_vars²` entries (the centred copy of the
/// data is still allocated internally).
///
/// # Errors
/// As [`correlation_matrix`], plus [`Error::ShapeMismatch`] for `out`.
pub fn correlation_matrix_into<T: Real>(
    x: &[T],
    n_samples: usize,
    n_vars: usize,
    threads: usize,
    out: &mut [f64],
) -> Result<()> {
    check_samples(x, n_samples, n_vars, "correlation_matrix: x")?;
    if out.len() != n_vars * n_vars {
        return Err(Error::ShapeMismatch {
            what: "correlation_matrix: out",
            expected: Shape::d2(n_vars, n_vars),
            found: Shape::d1(out.len()),
        });
    }
    if n_vars == 0 {
        return Ok(());
    }
    let mut z: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
    for (v, row) in z.chunks_mut(n_samples).enumerate() {
        standardize(row).ok_or(Error::Degenerate {
            what: "correlation_matrix: a variable is constant (its correlations are undefined)",
            index: v,
        })?;
    }
    let a = view(&z, n_vars, n_samples, Layout::RowMajor)?;
    let dst = view_mut(out, n_vars, n_vars, Layout::RowMajor)?;
    sym_product(dst, 0.0, a, 1.0, par(threads))?;
    for i in 0..n_vars {
        for j in 0..n_vars {
            let r = &mut out[i * n_vars + j];
            *r = if i == j { 1.0 } else { r.clamp(-1.0, 1.0) };
        }
    }
    Ok(())
}

/// Centres `row` and scales it to unit Euclidean norm; `None` when it is constant. The norm is
/// taken after dividing by the largest magnitude, so huge and tiny scales neither overflow nor
/// underflow.
pub(crate) fn standardize(row: &mut [f64]) -> Option<()> {
    let n = row.len() as f64;
    let mean = crate::simd::sum(row) / n;
    let mut big = 0.0f64;
    for v in row.iter_mut() {
        *v -= mean;
        big = big.max(v.abs());
    }
    if big == 0.0 || !big.is_finite() {
        return None;
    }
    let inv_big = 1.0 / big;
    let mut ss = 0.0;
    for v in row.iter_mut() {
        *v *= inv_big;
        ss += *v * *v;
    }
    let inv = 1.0 / Float::sqrt(ss);
    for v in row.iter_mut() {
        *v *= inv;
    }
    Some(())
}

#[cfg(feature = "rayon")]
pub(crate) fn par(threads: usize) -> Par {
    if threads >= 2 {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

#[cfg(not(feature = "rayon"))]
pub(crate) fn par(_threads: usize) -> Par {
    Par::Seq
}

/// Elementwise [`gaussian_mi`] of a correlation matrix (the diagonal is set to 0).
pub fn gaussian_mi_matrix(corr: &[f64], p: usize) -> Result<Vec<f64>> {
    map_offdiag(corr, p, "gaussian_mi_matrix: corr", gaussian_mi)
}

/// Elementwise [`gaussian_distance`] `−ln|ρ|` of a correlation matrix (diagonal 0).
///
/// ```
/// let d = mlkern::tree::gaussian_distance_matrix(&[1.0, 0.5, 0.5, 1.0], 2)?;
/// assert_eq!(d, vec![0.0, 2f64.ln(), 2f64.ln(), 0.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn gaussian_distance_matrix(corr: &[f64], p: usize) -> Result<Vec<f64>> {
    map_offdiag(corr, p, "gaussian_distance_matrix: corr", gaussian_distance)
}

fn map_offdiag(corr: &[f64], p: usize, what: &'static str, f: fn(f64) -> f64) -> Result<Vec<f64>> {
    if corr.len() != p * p {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d2(p, p),
            found: Shape::d1(corr.len()),
        });
    }
    crate::simd::check_finite(corr, what)?;
    Ok((0..p * p)
        .map(|k| if k / p == k % p { 0.0 } else { f(corr[k]) })
        .collect())
}
