//! Gaussian statistics: the Pearson correlation matrix of variable-major samples through one
//! symmetric product (half a GEMM), and its Gaussian MI and information-distance matrices
//! (alloc tier).

use alloc::vec;
use alloc::vec::Vec;

use num_traits::Float;

use super::info::{gaussian_distance, gaussian_mi};
use crate::Par;
use crate::linalg::{GemmBackend, Layout, lower_result_with, view, view_mut};
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
    check_samples(x, n_samples, n_vars, "correlation_matrix: x")?;
    let mut out = vec![0.0; square(n_vars, "correlation_matrix: n_vars")?];
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
    if out.len() != square(n_vars, "correlation_matrix: n_vars")? {
        return Err(Error::ShapeMismatch {
            what: "correlation_matrix: out",
            expected: Shape::d2(n_vars, n_vars),
            found: Shape::d1(out.len()),
        });
    }
    if n_vars == 0 {
        return Ok(());
    }
    // Pass 1: each variable's mean and 1/‖x − μ‖ (rows split over the threads).
    let n = n_samples;
    let mut stats = vec![(0.0f64, 0.0f64); n_vars];
    let rows_per = n_vars.div_ceil(crate::jobs::job_count(n_vars, Par::threads(threads)));
    crate::jobs::run_jobs(
        stats.chunks_mut(rows_per).enumerate().collect(),
        |(j, slot)| {
            for (k, st) in slot.iter_mut().enumerate() {
                let v = j * rows_per + k;
                *st = center_scale(&x[v * n..(v + 1) * n]).unwrap_or((0.0, f64::NAN));
            }
        },
    );
    if let Some(v) = stats.iter().position(|s| s.1.is_nan()) {
        return Err(Error::Degenerate {
            what: "correlation_matrix: a variable is constant (its correlations are undefined)",
            index: v,
        });
    }
    // Pass 2: standardized blocks of up to 1024 samples (a reused buffer of at most ~32 MB: no
    // 8·n·p-byte copy, no page faults), each a symmetric rank-w update of the Gram's lower
    // triangle (rows split over the threads inside each update); one mirror at the end.
    let w_max = (4usize << 20).div_ceil(n_vars).clamp(64, 1024).min(n);
    let mut buf = vec![0.0f64; n_vars * w_max];
    let mut k0 = 0;
    while k0 < n {
        let w = w_max.min(n - k0);
        let jobs: Vec<(usize, &mut [f64])> = buf[..n_vars * w]
            .chunks_mut(rows_per * w)
            .enumerate()
            .collect();
        crate::jobs::run_jobs(jobs, |(j, rows)| {
            for (k, row) in rows.chunks_mut(w).enumerate() {
                let v = j * rows_per + k;
                let (mu, s) = stats[v];
                for (o, &xi) in row.iter_mut().zip(&x[v * n + k0..v * n + k0 + w]) {
                    *o = (xi.as_f64() - mu) * s;
                }
            }
        });
        let a = view(&buf[..n_vars * w], n_vars, w, Layout::RowMajor)?;
        let dst = view_mut(out, n_vars, n_vars, Layout::RowMajor)?;
        let beta = if k0 == 0 { 0.0 } else { 1.0 };
        lower_result_with(
            GemmBackend::Auto,
            dst,
            beta,
            a,
            a.transpose(),
            1.0,
            Par::threads(threads),
        )?;
        k0 += w;
    }
    // Mirror the lower triangle, unit diagonal, clamp to [−1, 1].
    for i in 0..n_vars {
        out[i * n_vars + i] = 1.0;
        for j in 0..i {
            let r = out[i * n_vars + j].clamp(-1.0, 1.0);
            out[i * n_vars + j] = r;
            out[j * n_vars + i] = r;
        }
    }
    Ok(())
}

/// The mean `μ` of `src` and `1/‖src − μ‖₂`; `None` when `src` is constant. Huge and tiny
/// scales neither overflow nor underflow (the norm is taken of `(x − μ)/max|x − μ|` when the
/// plain sum of squares would).
pub(crate) fn center_scale<T: Real>(src: &[T]) -> Option<(f64, f64)> {
    let n = src.len() as f64;
    let sum = fold8(src, |acc, v| acc + v);
    let mean = if sum.is_finite() {
        sum / n
    } else {
        fold8(src, |acc, v| acc + v / n)
    };
    let ss = fold8(src, |acc, v| acc + (v - mean) * (v - mean));
    let big = src
        .iter()
        .fold(0.0f64, |b, &v| b.max((v.as_f64() - mean).abs()));
    if big == 0.0 || !big.is_finite() {
        return None;
    }
    if !(ss.is_finite() && ss > 1e-280) {
        let s2 = fold8(src, |acc, v| acc + ((v - mean) / big) * ((v - mean) / big));
        return Some((mean, 1.0 / big / Float::sqrt(s2)));
    }
    Some((mean, 1.0 / Float::sqrt(ss)))
}

/// `Σ f` over `src` in f64 with eight independent accumulators (breaks the add latency chain;
/// LLVM vectorizes the lanes).
fn fold8<T: Real>(src: &[T], f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = src.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = f(*a, v.as_f64());
        }
    }
    let mut tail = 0.0;
    for &v in chunks.remainder() {
        tail = f(tail, v.as_f64());
    }
    acc.iter().sum::<f64>() + tail
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

/// `p·p`, or an error naming `what` when it overflows.
pub(crate) fn square(p: usize, what: &'static str) -> Result<usize> {
    p.checked_mul(p).ok_or(Error::InvalidParameter {
        name: what,
        reason: "p·p overflows usize",
    })
}

fn map_offdiag(corr: &[f64], p: usize, what: &'static str, f: fn(f64) -> f64) -> Result<Vec<f64>> {
    if corr.len() != square(p, what)? {
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
