//! Gaussian statistics: the Pearson correlation matrix of [`Samples`] through one
//! symmetric product (half a GEMM), and its Gaussian MI and information-distance matrices
//! (alloc tier).

use alloc::vec::Vec;

use num_traits::Float;

use super::Samples;
use super::info::{gaussian_distance, gaussian_mi};
use crate::Par;
use crate::base::zeros;
use crate::linalg::{GemmBackend, Layout, lower_result_with, view, view_mut};
use crate::{Error, Real, Result, Shape};

/// Checks the finiteness of `x` (flat index in [`Samples::data`]) and that correlations are
/// defined (at least 2 samples when there are variables).
pub(crate) fn check_samples<T: Real>(x: &Samples<'_, T>, what: &'static str) -> Result<()> {
    crate::simd::check_finite(x.data(), what)?;
    if x.n_samples() < 2 && x.n_vars() > 0 {
        return Err(Error::InvalidParameter {
            name: what,
            reason: "at least 2 samples are needed for correlations",
        });
    }
    Ok(())
}

/// One job of the statistics pass: its index, then its variables' means, scales and accumulators.
type StatsJob<'a> = (usize, (&'a mut [f64], &'a mut [f64], &'a mut [f64]));

/// Samples per standardized block of the symmetric product (`n_vars > 0`).
pub(crate) fn block_width(n_samples: usize, n_vars: usize) -> usize {
    (4usize << 20)
        .div_ceil(n_vars)
        .clamp(64, 1024)
        .min(n_samples)
}

/// Scratch entries (`f64`) that [`correlation_matrix_into`] needs for `n_samples` samples of
/// `n_vars` variables: two per variable for the means and scales, plus one reused block of
/// standardized samples (at most 1024 per variable).
///
/// # Errors
/// [`Error::OutOfMemory`] when the size overflows `usize`.
///
/// ```
/// let len = mlkern::tree::correlation_scratch_len(4, 3)?;
/// assert!(len >= 3 * 4);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn correlation_scratch_len(n_samples: usize, n_vars: usize) -> Result<usize> {
    if n_vars == 0 {
        return Ok(0);
    }
    let w = block_width(n_samples, n_vars).max(ROW_STATS);
    n_vars.checked_mul(2 + w).ok_or(Error::OutOfMemory {
        name: "correlation_scratch_len: n_vars",
        bytes: usize::MAX,
    })
}

/// Accumulators per variable of the row-major statistics pass (8 lanes, a tail, the largest
/// centred magnitude and one result).
pub(crate) const ROW_STATS: usize = 11;

/// The `p×p` Pearson correlation matrix of `x` (either [`Samples`] layout, bit-identical
/// results), accumulated in f64 whatever `T` is: each variable is centred and scaled to unit
/// norm, then one symmetric product `Z·Zᵀ` over blocks of samples (faer's GEMM, with the
/// threads of `par` under the `rayon` feature). The diagonal is exactly 1 and entries are clamped
/// to `[−1, 1]`. The same for every [`Par`].
///
/// # Errors
/// [`Error::NonFinite`] (NaN/Inf in `x`, flat index in [`Samples::data`]),
/// [`Error::InvalidParameter`] for fewer than 2 samples, [`Error::OutOfMemory`] for a size that cannot be allocated,
/// [`Error::Degenerate`] for a constant variable (its index), whose correlations are undefined.
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{correlation_matrix, Samples};
/// let x = [1.0f64, 2.0, 3.0, 4.0,   2.0, 4.0, 6.0, 8.5,   4.0, 3.0, 2.0, 1.0];
/// let r = correlation_matrix(Samples::variable_major(&x, 3, 4)?, Par::Seq)?;
/// assert_eq!(r[0], 1.0);
/// assert!((r[2] + 1.0).abs() < 1e-15); // x2 = 5 − x0
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn correlation_matrix<T: Real>(x: Samples<'_, T>, par: Par) -> Result<Vec<f64>> {
    check_samples(&x, "correlation_matrix: x")?;
    let p = x.n_vars();
    let mut out = zeros(
        square(p, "correlation_matrix: n_vars")?,
        "correlation_matrix: out",
    )?;
    let mut scratch = zeros(
        correlation_scratch_len(x.n_samples(), p)?,
        "correlation_matrix: scratch",
    )?;
    correlation_matrix_into(&mut out, x, &mut scratch, par)?;
    Ok(out)
}

/// [`correlation_matrix`] into a caller buffer `out` of `n_vars²` entries, with a caller
/// `scratch` of at least [`correlation_scratch_len`] entries. Allocates nothing itself with
/// [`Par::Seq`] (a threaded call allocates its small job list; faer's GEMM manages its own
/// workspace).
///
/// # Errors
/// As [`correlation_matrix`], plus [`Error::ShapeMismatch`] for `out` or a short `scratch`.
/// Nothing is written to `out` on an argument error.
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{correlation_matrix_into, correlation_scratch_len, Samples};
/// let rows = [1.0f32, 2.0,   2.0, 4.5,   3.0, 5.5]; // 3 samples × 2 variables
/// let mut scratch = vec![0.0; correlation_scratch_len(3, 2)?];
/// let mut r = [0.0; 4];
/// correlation_matrix_into(&mut r, Samples::row_major(&rows, 3, 2)?, &mut scratch, Par::Seq)?;
/// assert!((r[1] - 3.5 / 13f64.sqrt()).abs() < 1e-12); // 3.5/√(2·6.5)
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn correlation_matrix_into<T: Real>(
    out: &mut [f64],
    x: Samples<'_, T>,
    scratch: &mut [f64],
    par: Par,
) -> Result<()> {
    check_samples(&x, "correlation_matrix: x")?;
    let (n, n_vars) = (x.n_samples(), x.n_vars());
    if out.len() != square(n_vars, "correlation_matrix: n_vars")? {
        return Err(Error::ShapeMismatch {
            what: "correlation_matrix: out",
            expected: Shape::d2(n_vars, n_vars),
            found: Shape::d1(out.len()),
        });
    }
    let need = correlation_scratch_len(n, n_vars)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "correlation_matrix: scratch",
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    if n_vars == 0 {
        return Ok(());
    }
    let (mus, rest) = scratch.split_at_mut(n_vars);
    let (scales, buf) = rest.split_at_mut(n_vars);
    column_stats(&x, mus, scales, buf, par)?;
    correlations_from_stats(out, &x, mus, scales, buf, par)
}

/// The correlation matrix (all `n_vars²` entries of `out`) from [`column_stats`]' means and
/// scales: [`standardized_gram`] in f64, then the mirror, a unit diagonal and a clamp to
/// `[−1, 1]`.
pub(crate) fn correlations_from_stats<T: Real>(
    out: &mut [f64],
    x: &Samples<'_, T>,
    mus: &[f64],
    scales: &[f64],
    buf: &mut [f64],
    par: Par,
) -> Result<()> {
    let n_vars = x.n_vars();
    standardized_gram(out, x, mus, scales, buf, par)?;
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

/// Pass 1 of the correlations: each variable's mean into `mus` and `1/‖x − μ‖` into `scales`
/// (variables split over the threads); `buf` holds at least `n_vars · ROW_STATS` values.
///
/// # Errors
/// [`Error::Degenerate`] for a constant variable.
pub(crate) fn column_stats<T: Real>(
    x: &Samples<'_, T>,
    mus: &mut [f64],
    scales: &mut [f64],
    buf: &mut [f64],
    par: Par,
) -> Result<()> {
    let n_vars = x.n_vars();
    // A variable whose scale is NaN is constant.
    let rows_per = n_vars.div_ceil(crate::jobs::job_count(n_vars, par));
    let pass1 = |(j, (m, s, acc)): StatsJob<'_>| {
        let v0 = j * rows_per;
        match x.is_row_major() {
            false => {
                for (k, (mk, sk)) in m.iter_mut().zip(s.iter_mut()).enumerate() {
                    let col = x.contiguous(v0 + k).unwrap_or_default();
                    (*mk, *sk) = center_scale(col).unwrap_or((0.0, f64::NAN));
                }
            }
            true => center_scale_rows(x, v0, m, s, acc),
        }
    };
    let jobs = mus
        .chunks_mut(rows_per)
        .zip(scales.chunks_mut(rows_per))
        .zip(buf.chunks_mut(rows_per * ROW_STATS))
        .map(|((m, s), acc)| (m, s, acc))
        .enumerate();
    if rows_per >= n_vars {
        jobs.for_each(pass1);
    } else {
        crate::jobs::run_jobs(jobs.collect(), pass1);
    }
    if let Some(v) = scales.iter().position(|s| s.is_nan()) {
        return Err(Error::Degenerate {
            what: "correlation_matrix: a variable is constant (its correlations are undefined)",
            index: v,
        });
    }
    Ok(())
}

/// Pass 2 of the correlations: the lower triangle of `Z·Zᵀ` into `out` (`n_vars²`, row-major)
/// for the standardized `z = (x − μ)·scale` rounded to `U` (f64 for the correlations; f32 for
/// the certified first pass of the Gaussian Chow–Liu tree): one symmetric rank-w update per
/// block of samples (rows split over the threads inside each update); `buf` holds
/// `n_vars · block_width` values.
pub(crate) fn standardized_gram<T: Real, U: Real>(
    out: &mut [U],
    x: &Samples<'_, T>,
    mus: &[f64],
    scales: &[f64],
    buf: &mut [U],
    par: Par,
) -> Result<()> {
    let n_vars = x.n_vars();
    standardized_blocks(x, mus, scales, buf, par, |k0, w, block| {
        let a = view(block, n_vars, w, Layout::RowMajor)?;
        let dst = view_mut(out, n_vars, n_vars, Layout::RowMajor)?;
        let beta = if k0 == 0 { U::zero() } else { U::one() };
        lower_result_with(
            GemmBackend::Auto,
            dst,
            beta,
            a,
            a.transpose(),
            U::one(),
            par,
        )
    })
}

/// Calls `f(k0, w, block)` for consecutive blocks of up to [`block_width`] samples `k0..k0 + w`,
/// `block` holding the standardized `z = (x − μ)·scale` (rounded to `U`) of every variable as a
/// row of `w` values (`n_vars × w`, row-major, at most ~32 MB: no `8·n·p`-byte copy, no page
/// faults); the rows are filled by the threads of `par`. `buf` holds `n_vars · block_width`.
pub(crate) fn standardized_blocks<T: Real, U: Real>(
    x: &Samples<'_, T>,
    mus: &[f64],
    scales: &[f64],
    buf: &mut [U],
    par: Par,
    mut f: impl FnMut(usize, usize, &[U]) -> Result<()>,
) -> Result<()> {
    let (n, n_vars) = (x.n_samples(), x.n_vars());
    let rows_per = n_vars.div_ceil(crate::jobs::job_count(n_vars, par));
    let w_max = block_width(n, n_vars);
    let mut k0 = 0;
    while k0 < n {
        let w = w_max.min(n - k0);
        let fill = |(j, rows): (usize, &mut [U])| {
            for (k, row) in rows.chunks_mut(w).enumerate() {
                let v = j * rows_per + k;
                let (mu, s) = (mus[v], scales[v]);
                match x.contiguous(v) {
                    Some(col) => {
                        for (o, &xi) in row.iter_mut().zip(&col[k0..k0 + w]) {
                            *o = U::from_f64((xi.as_f64() - mu) * s);
                        }
                    }
                    None => {
                        for (o, xi) in row.iter_mut().zip(x.column(v, k0)) {
                            *o = U::from_f64((xi.as_f64() - mu) * s);
                        }
                    }
                }
            }
        };
        let jobs = buf[..n_vars * w].chunks_mut(rows_per * w).enumerate();
        if rows_per >= n_vars {
            jobs.for_each(fill);
        } else {
            crate::jobs::run_jobs(jobs.collect(), fill);
        }
        f(k0, w, &buf[..n_vars * w])?;
        k0 += w;
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

/// [`center_scale`] of the row-major variables `v0..v0 + mu.len()` at once, bit-identical to it
/// (the same eight lanes and tail per variable), sweeping whole rows: the means and scales go to
/// `mu` and `scale` (scale NaN for a constant variable); `acc` holds [`ROW_STATS`] entries per
/// variable.
fn center_scale_rows<T: Real>(
    x: &Samples<'_, T>,
    v0: usize,
    mu: &mut [f64],
    scale: &mut [f64],
    acc: &mut [f64],
) {
    let m = mu.len();
    let n = x.n_samples() as f64;
    let (lanes, rest) = acc.split_at_mut(8 * m);
    let (tail, rest) = rest.split_at_mut(m);
    let (big, rest) = rest.split_at_mut(m);
    let tmp = &mut rest[..m];
    // Sums; a variable whose sum overflows gets the mean of v/n instead.
    fold8_rows(x, v0, lanes, tail, mu, |_, a, v| a + v);
    if mu.iter().any(|s| !s.is_finite()) {
        fold8_rows(x, v0, lanes, tail, tmp, |_, a, v| a + v / n);
        for (s, &alt) in mu.iter_mut().zip(tmp.iter()) {
            *s = if s.is_finite() { *s / n } else { alt };
        }
    } else {
        mu.iter_mut().for_each(|s| *s /= n);
    }
    let mean = &*mu;
    fold8_rows(x, v0, lanes, tail, scale, |k, a, v| {
        a + (v - mean[k]) * (v - mean[k])
    });
    big.fill(0.0);
    for row in x.data().chunks_exact(x.n_vars()) {
        for (k, (b, &v)) in big.iter_mut().zip(&row[v0..v0 + m]).enumerate() {
            *b = b.max((v.as_f64() - mean[k]).abs());
        }
    }
    let big = &*big;
    if scale.iter().any(|&ss| !(ss.is_finite() && ss > 1e-280)) {
        fold8_rows(x, v0, lanes, tail, tmp, |k, a, v| {
            a + ((v - mean[k]) / big[k]) * ((v - mean[k]) / big[k])
        });
    }
    for k in 0..m {
        let ss = scale[k];
        scale[k] = if big[k] == 0.0 || !big[k].is_finite() {
            f64::NAN
        } else if !(ss.is_finite() && ss > 1e-280) {
            1.0 / big[k] / Float::sqrt(tmp[k])
        } else {
            1.0 / Float::sqrt(ss)
        };
    }
    // A constant variable's mean is reported as 0, as center_scale's None.
    for (mk, &sk) in mu.iter_mut().zip(scale.iter()) {
        if sk.is_nan() {
            *mk = 0.0;
        }
    }
}

/// [`fold8`] of each row-major variable `v0 + k` (`k < out.len()`) into `out[k]`, in one sweep
/// over the rows: sample `t` of a full group of eight goes to lane `t mod 8` (lanes stored
/// `lanes[l·m + k]`), the rest to the tail, then `Σ lanes + tail` as [`fold8`] does.
fn fold8_rows<T: Real>(
    x: &Samples<'_, T>,
    v0: usize,
    lanes: &mut [f64],
    tail: &mut [f64],
    out: &mut [f64],
    f: impl Fn(usize, f64, f64) -> f64,
) {
    let m = out.len();
    let n = x.n_samples();
    let full = n - n % 8;
    lanes[..8 * m].fill(0.0);
    tail[..m].fill(0.0);
    for (t, row) in x.data().chunks_exact(x.n_vars()).enumerate() {
        let row = &row[v0..v0 + m];
        let acc = if t < full {
            &mut lanes[(t & 7) * m..(t & 7) * m + m]
        } else {
            &mut tail[..m]
        };
        for (k, (a, &v)) in acc.iter_mut().zip(row).enumerate() {
            *a = f(k, *a, v.as_f64());
        }
    }
    for (k, o) in out.iter_mut().enumerate() {
        let l: [f64; 8] = core::array::from_fn(|i| lanes[i * m + k]);
        *o = l.iter().sum::<f64>() + tail[k];
    }
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

/// Elementwise [`gaussian_mi`] `−½ ln(1 − ρ²)` of a `p×p` correlation matrix (diagonal 0).
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::NonFinite`], [`Error::InvalidParameter`] when the matrix
/// cannot be allocated.
///
/// ```
/// let mi = mlkern::tree::gaussian_mi_matrix(&[1.0, 0.6, 0.6, 1.0], 2)?;
/// assert_eq!(mi[0], 0.0);
/// assert!((mi[1] + 0.5 * (1.0f64 - 0.36).ln()).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn gaussian_mi_matrix(corr: &[f64], p: usize) -> Result<Vec<f64>> {
    map_offdiag(corr, p, "gaussian_mi_matrix: corr", gaussian_mi)
}

/// Elementwise [`gaussian_distance`] `−ln|ρ|` of a correlation matrix (diagonal 0).
///
/// # Errors
/// As [`gaussian_mi_matrix`].
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
    let mut out = zeros(p * p, what)?;
    for (k, o) in out.iter_mut().enumerate() {
        if k / p != k % p {
            *o = f(corr[k]);
        }
    }
    Ok(out)
}
