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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    use crate::tree::gaussian::check_samples;
    use crate::{Error, Real, Result};

    /// The `p×p` robust covariance of variable-major samples:
    /// `Σ̂_ij = ⟨x_i, x_j⟩_{n_trim} / (n − n_trim)` after centring (Zhang & Tan 2021), in f64.
    /// Costs two passes over `n` per pair (`p(p+1)/2` pairs), split over `threads` threads
    /// (`std` feature). With corruptions at different samples in different variables a pair can
    /// see up to twice as many bad products: use `n_trim = 2·n₁` to be safe.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`], [`Error::NonFinite`], [`Error::InvalidParameter`] for
    /// `n_trim ≥ n_samples` or fewer than 2 samples.
    ///
    /// ```
    /// use mlkern::tree::{robust_covariance, Center};
    /// let x = [1.0, -1.0, 2.0, -2.0, 1e9,   1.0, -1.0, 2.0, -2.0, -1e9]; // 2 variables × 5 samples
    /// let c = robust_covariance(&x, 5, 2, 1, Center::None, 1)?;
    /// assert_eq!(c, vec![2.5, 2.5, 2.5, 2.5]); // (1 + 1 + 4 + 4)/4: the 1e18 products dropped
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn robust_covariance<T: Real>(
        x: &[T],
        n_samples: usize,
        n_vars: usize,
        n_trim: usize,
        center: Center,
        threads: usize,
    ) -> Result<Vec<f64>> {
        let (mut out, big) = scaled(x, n_samples, n_vars, n_trim, center, threads)?;
        let p = n_vars;
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] *= big[i] * big[j];
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
    /// As [`robust_covariance`], plus [`Error::Degenerate`] for a variable whose robust variance
    /// is 0.
    pub fn robust_correlation<T: Real>(
        x: &[T],
        n_samples: usize,
        n_vars: usize,
        n_trim: usize,
        center: Center,
        threads: usize,
    ) -> Result<Vec<f64>> {
        let (mut c, _) = scaled(x, n_samples, n_vars, n_trim, center, threads)?;
        let p = n_vars;
        let inv: Vec<f64> = (0..p).map(|i| c[i * p + i]).collect();
        if let Some(i) = inv.iter().position(|&v| v <= 0.0) {
            return Err(Error::Degenerate {
                what: "robust_correlation: a variable has zero robust variance",
                index: i,
            });
        }
        let inv: Vec<f64> = inv.iter().map(|&v| 1.0 / Float::sqrt(v)).collect();
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
        Ok(c)
    }

    /// The robust covariance of the centred variables each divided by its largest magnitude
    /// `bᵥ` (so no product overflows or underflows; trimming is unchanged, since scaling a
    /// variable scales all its products alike), and the `bᵥ` (1 for an all-zero variable).
    fn scaled<T: Real>(
        x: &[T],
        n: usize,
        p: usize,
        n_trim: usize,
        center: Center,
        threads: usize,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_samples(x, n, p, "robust_covariance: x")?;
        if n_trim >= n && p > 0 {
            return Err(Error::InvalidParameter {
                name: "robust_covariance: n_trim",
                reason: "must be below the number of samples",
            });
        }
        let mut z: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
        let mut big = vec![1.0f64; p];
        if p > 0 {
            for (row, b) in z.chunks_mut(n).zip(big.iter_mut()) {
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
                    Center::Median => median(row),
                };
                let mut m = 0.0f64;
                for v in row.iter_mut() {
                    *v -= c;
                    m = m.max(v.abs());
                }
                if m > 0.0 && m.is_finite() {
                    *b = m;
                    crate::simd::scale(1.0 / m, row);
                }
            }
        }
        let mut out = vec![0.0; p * p];
        let scale = 1.0 / (n - n_trim.min(n)) as f64;
        let rows: Vec<(usize, &mut [f64])> = out.chunks_mut(p.max(1)).take(p).enumerate().collect();
        crate::jobs::round_robin(
            rows,
            crate::Par::threads(threads),
            |(i, row): (usize, &mut [f64])| {
                let mut heap = vec![0.0; n_trim.min(n)];
                let zi = &z[i * n..(i + 1) * n];
                for (j, o) in row.iter_mut().enumerate().skip(i) {
                    *o = truncated_dot_unchecked(zi, &z[j * n..(j + 1) * n], n_trim, &mut heap)
                        * scale;
                }
            },
        );
        for i in 0..p {
            for j in 0..i {
                out[i * p + j] = out[j * p + i];
            }
        }
        Ok((out, big))
    }

    fn median(row: &[f64]) -> f64 {
        let mut v = row.to_vec();
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
pub use matrices::{robust_correlation, robust_covariance};
