//! Robust statistics (Zhang & Tan 2021): the truncated inner product — drop the `n_trim`
//! largest `|a_t·b_t|`, sum the rest — computed by a fused multiply-and-select pass, and the
//! covariance and correlation matrices built from it.

use num_traits::Float;

use crate::{Error, Result, Shape};

/// `⟨a, b⟩_{n_trim}`: the sum of `a_t·b_t` over all `t` except the `n_trim` largest `|a_t·b_t|`
/// (Chen, Caramanis & Mannor 2013's trimmed inner product). Among products of equal magnitude at
/// the cut, the ones with the smaller index are kept. `n_trim = 0` is the plain dot product,
/// `n_trim ≥ n` gives 0.
///
/// Two passes, no sort: the first multiplies and keeps the `n_trim` largest magnitudes in the
/// caller's `heap` (a bounded min-heap, length ≥ `n_trim`; the common case of a product below
/// the heap's minimum is one compare); the second re-multiplies and sums the products below the
/// cut. The kept products are summed directly (never `total − dropped`), so gross outliers do
/// not cancel catastrophically.
///
/// # Errors
/// [`Error::ShapeMismatch`] for unequal lengths or a short heap; [`Error::NonFinite`] for
/// NaN/Inf inputs; [`Error::InvalidParameter`] when the kept products overflow f64.
///
/// ```
/// use mlkern::tree::truncated_dot;
/// let a = [1.0, 2.0, 1e12, 3.0];
/// let b = [1.0, 1.0, 1.0, -1.0];
/// let mut heap = [0.0; 1];
/// assert_eq!(truncated_dot(&a, &b, 1, &mut heap)?, 0.0); // 1 + 2 − 3, the 1e12 dropped
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn truncated_dot(a: &[f64], b: &[f64], n_trim: usize, heap: &mut [f64]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::ShapeMismatch {
            what: "truncated_dot: b",
            expected: Shape::d1(a.len()),
            found: Shape::d1(b.len()),
        });
    }
    let k = n_trim.min(a.len());
    if heap.len() < k {
        return Err(Error::ShapeMismatch {
            what: "truncated_dot: heap (at least n_trim entries)",
            expected: Shape::d1(k),
            found: Shape::d1(heap.len()),
        });
    }
    crate::simd::check_finite(a, "truncated_dot: a")?;
    crate::simd::check_finite(b, "truncated_dot: b")?;
    let v = truncated_dot_unchecked(a, b, n_trim, heap);
    if !v.is_finite() {
        return Err(Error::InvalidParameter {
            name: "truncated_dot: a, b",
            reason: "a kept product overflows f64",
        });
    }
    Ok(v)
}

/// [`truncated_dot`] without checks (finite inputs, equal lengths, heap ≥ min(n_trim, n)).
pub(crate) fn truncated_dot_unchecked(
    a: &[f64],
    b: &[f64],
    n_trim: usize,
    heap: &mut [f64],
) -> f64 {
    let n = a.len();
    if n_trim == 0 {
        return a.iter().zip(b).map(|(x, y)| x * y).sum();
    }
    if n_trim >= n {
        return 0.0;
    }
    let heap = &mut heap[..n_trim];
    // Pass 1: the n_trim largest magnitudes; heap[0] is their minimum, the cut τ.
    let mut len = 0usize;
    for (x, y) in a.iter().zip(b) {
        let q = Float::abs(x * y);
        if len < n_trim {
            heap[len] = q;
            len += 1;
            sift_up(heap, len - 1);
        } else if q > heap[0] {
            heap[0] = q;
            sift_down(heap, 0);
        }
    }
    let tau = heap[0];
    // Pass 2: sum the products strictly below τ; then keep the earliest products equal to τ
    // until n − n_trim are kept (usually none are needed).
    let (mut sum, mut below) = (0.0f64, 0usize);
    for (x, y) in a.iter().zip(b) {
        let q = x * y;
        if Float::abs(q) < tau {
            sum += q;
            below += 1;
        }
    }
    let mut need = n - n_trim - below;
    if need > 0 {
        for (x, y) in a.iter().zip(b) {
            let q = x * y;
            if Float::abs(q) == tau {
                sum += q;
                need -= 1;
                if need == 0 {
                    break;
                }
            }
        }
    }
    sum
}

fn sift_up(h: &mut [f64], mut i: usize) {
    while i > 0 {
        let p = (i - 1) / 2;
        if h[i] < h[p] {
            h.swap(i, p);
            i = p;
        } else {
            break;
        }
    }
}

fn sift_down(h: &mut [f64], mut i: usize) {
    let n = h.len();
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut m = i;
        if l < n && h[l] < h[m] {
            m = l;
        }
        if r < n && h[r] < h[m] {
            m = r;
        }
        if m == i {
            break;
        }
        h.swap(i, m);
        i = m;
    }
}

/// How variables are centred before robust covariances.
///
/// ```
/// assert_eq!(mlkern::tree::Center::default(), mlkern::tree::Center::Median);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Center {
    /// No centring: the model is zero-mean (Zhang & Tan's setting).
    None,
    /// Subtract each variable's median (robust to the corruptions being trimmed).
    #[default]
    Median,
    /// Subtract each variable's mean (not robust: one gross outlier moves it).
    Mean,
}

#[cfg(feature = "alloc")]
mod matrices {
    use alloc::vec;
    use alloc::vec::Vec;

    use num_traits::Float;

    use super::{Center, truncated_dot_unchecked};
    use crate::base::{apply_parts, exponent, mul_pow2, pow2_parts, zeros};
    use crate::tree::Samples;
    use crate::tree::gaussian::{check_samples, square};
    use crate::{Error, Par, Real, Result};

    /// The `p×p` robust covariance of `x` (either [`Samples`] layout, bit-identical results):
    /// `Σ̂_ij = ⟨x_i, x_j⟩_{n_trim} / (n − n_trim)` after centring (Zhang & Tan 2021), in f64.
    /// Costs two passes over `n` per pair (`p(p+1)/2` pairs), split over the threads of `par`
    /// (`std` feature; the same result for every [`Par`]). With corruptions at different samples
    /// in different variables a pair can see up to twice as many bad products: use
    /// `n_trim = 2·n₁` to be safe.
    ///
    /// # Errors
    /// [`Error::NonFinite`], [`Error::InvalidParameter`] for `n_trim ≥ n_samples`, fewer than 2
    /// samples, a covariance that overflows f64 or a size that cannot be allocated.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{robust_covariance, Center, Samples};
    /// let x = [1.0, -1.0, 2.0, -2.0, 1e9,   1.0, -1.0, 2.0, -2.0, -1e9]; // 2 variables × 5 samples
    /// let c = robust_covariance(Samples::variable_major(&x, 2, 5)?, 1, Center::None, Par::Seq)?;
    /// assert_eq!(c, vec![2.5, 2.5, 2.5, 2.5]); // (1 + 1 + 4 + 4)/4: the 1e18 products dropped
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn robust_covariance<T: Real>(
        x: Samples<'_, T>,
        n_trim: usize,
        center: Center,
        par: Par,
    ) -> Result<Vec<f64>> {
        let (mut out, exps) = scaled(&x, n_trim, center, par)?;
        let p = x.n_vars();
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] = mul_pow2(out[i * p + j], exps[i] + exps[j]);
            }
        }
        if out.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "robust_covariance: x",
                reason: "the covariance overflows f64 (robust_correlation does not)",
            });
        }
        Ok(out)
    }

    /// The robust correlation matrix: [`robust_covariance`] normalised by its diagonal, entries
    /// clamped to `[−1, 1]` (a truncated estimate is not guaranteed to be a valid correlation).
    ///
    /// # Errors
    /// As [`robust_covariance`] (but no overflow: the correlation is scale-free), plus
    /// [`Error::Degenerate`] for a variable whose robust variance is 0.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{robust_correlation, Center, Samples};
    /// // 5 samples × 2 variables (NumPy order); sample 4 is a gross outlier, trimmed.
    /// let rows = [1.0, 1.1,   -1.0, -0.9,   2.0, 2.2,   -2.0, -2.1,   1e9, -1e9];
    /// let r = robust_correlation(Samples::row_major(&rows, 5, 2)?, 1, Center::None, Par::Seq)?;
    /// assert!(r[1] > 0.99);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn robust_correlation<T: Real>(
        x: Samples<'_, T>,
        n_trim: usize,
        center: Center,
        par: Par,
    ) -> Result<Vec<f64>> {
        let (mut c, _) = scaled(&x, n_trim, center, par)?;
        covariance_to_correlation(
            &mut c,
            x.n_vars(),
            "robust_correlation: a variable has zero robust variance",
        )?;
        Ok(c)
    }

    /// A `p×p` covariance (row-major, symmetric) to its correlation, in place: unit diagonal,
    /// `cᵢⱼ/√(cᵢᵢcⱼⱼ)` clamped to `[−1, 1]`.
    ///
    /// # Errors
    /// [`Error::Degenerate`] (`what`, the variable's index) for a variance ≤ 0.
    pub(crate) fn covariance_to_correlation(
        c: &mut [f64],
        p: usize,
        what: &'static str,
    ) -> Result<()> {
        let mut inv = zeros::<f64>(p, "correlation: n_vars")?;
        for (i, v) in inv.iter_mut().enumerate() {
            *v = c[i * p + i];
        }
        if let Some(index) = inv.iter().position(|&v| v <= 0.0) {
            return Err(Error::Degenerate { what, index });
        }
        inv.iter_mut().for_each(|v| *v = 1.0 / Float::sqrt(*v));
        for i in 0..p {
            for j in 0..p {
                let r = &mut c[i * p + j];
                *r = if i == j {
                    1.0
                } else {
                    (*r * inv[i] * inv[j]).clamp(-1.0, 1.0)
                };
            }
        }
        Ok(())
    }

    /// The robust covariance of the centred variables each scaled exactly by `2^−eᵥ`, where
    /// `2^eᵥ ≤ max|x_v − c_v| < 2^(eᵥ+1)` (so no product overflows or underflows; trimming is
    /// unchanged, since scaling a variable by a power of two scales all its products alike and
    /// exactly), and the `eᵥ` (0 for an all-zero variable).
    fn scaled<T: Real>(
        x: &Samples<'_, T>,
        n_trim: usize,
        center: Center,
        par: Par,
    ) -> Result<(Vec<f64>, Vec<i32>)> {
        check_samples(x, "robust_covariance: x")?;
        let (n, p) = (x.n_samples(), x.n_vars());
        if n_trim >= n && p > 0 {
            return Err(Error::InvalidParameter {
                name: "robust_covariance: n_trim",
                reason: "must be below the number of samples",
            });
        }
        // Variable-major f64 copy (a transpose for row-major data).
        let mut z = zeros::<f64>(n * p, "robust_covariance: x")?;
        if x.is_row_major() {
            if p > 0 {
                for (t, row) in x.data().chunks_exact(p).enumerate() {
                    for (v, &xv) in row.iter().enumerate() {
                        z[v * n + t] = xv.as_f64();
                    }
                }
            }
        } else {
            for (o, &xv) in z.iter_mut().zip(x.data()) {
                *o = xv.as_f64();
            }
        }
        let mut exps = zeros::<i32>(p, "robust_covariance: n_vars")?;
        let mut work = zeros::<f64>(
            if center == Center::Median && p > 0 {
                n
            } else {
                0
            },
            "robust_covariance: n_samples",
        )?;
        if p > 0 {
            for (row, e) in z.chunks_mut(n).zip(exps.iter_mut()) {
                let c = match center {
                    Center::None => 0.0,
                    Center::Mean => {
                        let s = crate::simd::sum(row) / n as f64;
                        if s.is_finite() {
                            s
                        } else {
                            row.iter().map(|v| v / n as f64).sum()
                        }
                    }
                    Center::Median => median(row, &mut work),
                };
                let mut m = 0.0f64;
                for v in row.iter_mut() {
                    *v -= c;
                    m = m.max(v.abs());
                }
                if m > 0.0 && m.is_finite() {
                    *e = exponent(m);
                    let parts = pow2_parts(-*e);
                    for v in row.iter_mut() {
                        *v = apply_parts(*v, parts);
                    }
                }
            }
        }
        let mut out = zeros(
            square(p, "robust_covariance: n_vars")?,
            "robust_covariance: out",
        )?;
        let scale = 1.0 / (n - n_trim.min(n)) as f64;
        let rows: Vec<(usize, &mut [f64])> = out.chunks_mut(p.max(1)).take(p).enumerate().collect();
        crate::jobs::round_robin(rows, par, |(i, row): (usize, &mut [f64])| {
            let mut heap = vec![0.0; n_trim.min(n)];
            let zi = &z[i * n..(i + 1) * n];
            for (j, o) in row.iter_mut().enumerate().skip(i) {
                *o = truncated_dot_unchecked(zi, &z[j * n..(j + 1) * n], n_trim, &mut heap) * scale;
            }
        });
        for i in 0..p {
            for j in 0..i {
                out[i * p + j] = out[j * p + i];
            }
        }
        Ok((out, exps))
    }

    fn median(row: &[f64], work: &mut [f64]) -> f64 {
        let v = &mut work[..row.len()];
        v.copy_from_slice(row);
        let n = v.len();
        let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
        let hi = *hi;
        if n % 2 == 1 {
            hi
        } else {
            let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            0.5 * (lo + hi)
        }
    }
}

#[cfg(feature = "alloc")]
pub(crate) use matrices::covariance_to_correlation;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use matrices::{robust_correlation, robust_covariance};
