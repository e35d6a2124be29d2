//! Eigenvalues of a symmetric tridiagonal matrix by the Pal–Walker–Kahan root-free QL/QR
//! iteration — the algorithm of LAPACK's `dsterf` (restated from its documented recurrences,
//! not copied), which is what `dsyevd` runs when no vectors are asked for. Always in f64.

use num_traits::Float;

use crate::{Error, Result};

/// Relative machine precision as LAPACK's `dlamch('E')` (rounding: half an ulp of 1).
const EPS: f64 = f64::EPSILON * 0.5;

/// The eigenvalues `(rt1, rt2)` of `[[a, b], [b, c]]`, `|rt1| ≥ |rt2|`, computed without
/// overflow and with `rt2` from `det/rt1` (accurate when it is small) — LAPACK `dlae2`'s
/// formulas.
fn eig2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let adf = (a - c).abs();
    let ab = (b + b).abs();
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        adf * Float::sqrt(1.0 + (ab / adf) * (ab / adf))
    } else if adf < ab {
        ab * Float::sqrt(1.0 + (adf / ab) * (adf / ab))
    } else {
        ab * core::f64::consts::SQRT_2
    };
    if sm < 0.0 {
        let rt1 = 0.5 * (sm - rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else if sm > 0.0 {
        let rt1 = 0.5 * (sm + rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else {
        (0.5 * rt, -0.5 * rt)
    }
}

/// `|r|` with the sign of `s` (Fortran `SIGN`).
fn sign(r: f64, s: f64) -> f64 {
    if s >= 0.0 { r.abs() } else { -r.abs() }
}

/// The Wilkinson-type shift of the leading 2×2 block `(p, √e, q)`.
fn shift(p: f64, e_sq: f64, q: f64) -> f64 {
    let rte = Float::sqrt(e_sq);
    let sigma = (q - p) / (2.0 * rte);
    let r = Float::hypot(sigma, 1.0);
    p - rte / (sigma + sign(r, sigma))
}

/// Eigenvalues of the symmetric tridiagonal matrix with diagonal `d` (length n) and
/// off-diagonal `e` (length ≥ n − 1; entries past n − 2 are ignored), sorted ascending into
/// `d`; `e` is destroyed. Absolute errors are a small multiple of `n·ε·‖T‖` (backward stable).
///
/// # Errors
/// [`Error::NoConvergence`] when 30·n QL/QR sweeps do not deflate every off-diagonal (not
/// observed on finite input); the caller checks finiteness.
pub(crate) fn tridiag_eigenvalues(d: &mut [f64], e: &mut [f64]) -> Result<()> {
    let n = d.len();
    if n <= 1 {
        return Ok(());
    }
    let e = &mut e[..n - 1];
    let eps2 = EPS * EPS;
    let safmin = f64::MIN_POSITIVE;
    let ssfmax = Float::sqrt(1.0 / safmin) / 3.0;
    let ssfmin = Float::sqrt(safmin) / eps2;
    let nmaxit = 30 * n;
    let mut jtot = 0usize;
    let mut l1 = 0usize;
    while l1 < n {
        if l1 > 0 {
            e[l1 - 1] = 0.0;
        }
        // The next unreduced block l1..=m.
        let mut m = l1;
        while m < n - 1 {
            let tst = e[m].abs();
            if tst == 0.0 {
                break;
            }
            if tst <= Float::sqrt(d[m].abs()) * Float::sqrt(d[m + 1].abs()) * EPS {
                e[m] = 0.0;
                break;
            }
            m += 1;
        }
        let (lsv, lendsv) = (l1, m);
        l1 = m + 1;
        if lendsv == lsv {
            continue;
        }
        // Scale the block into a safe range.
        let anorm = d[lsv..=lendsv]
            .iter()
            .chain(&e[lsv..lendsv])
            .fold(0.0f64, |a, &x| a.max(x.abs()));
        if anorm == 0.0 {
            continue;
        }
        let factor = if anorm > ssfmax {
            ssfmax / anorm
        } else if anorm < ssfmin {
            ssfmin / anorm
        } else {
            1.0
        };
        if factor != 1.0 {
            d[lsv..=lendsv].iter_mut().for_each(|x| *x *= factor);
            e[lsv..lendsv].iter_mut().for_each(|x| *x *= factor);
        }
        e[lsv..lendsv].iter_mut().for_each(|x| *x *= *x);
        // Chase towards the end with the smaller diagonal entry.
        if d[lendsv].abs() < d[lsv].abs() {
            ql_reverse(d, e, lendsv, lsv, eps2, &mut jtot, nmaxit);
        } else {
            ql_forward(d, e, lsv, lendsv, eps2, &mut jtot, nmaxit);
        }
        if factor != 1.0 {
            d[lsv..=lendsv].iter_mut().for_each(|x| *x /= factor);
        }
        if jtot >= nmaxit {
            break;
        }
    }
    if jtot >= nmaxit && e.iter().any(|&x| x != 0.0) {
        return Err(Error::NoConvergence {
            algorithm: "tridiagonal eigenvalues (root-free QL/QR)",
            iterations: jtot,
        });
    }
    d.sort_unstable_by(f64::total_cmp);
    Ok(())
}

/// QL sweeps on the block `l..=lend` (`l < lend`), `e` holding squared off-diagonals.
fn ql_forward(
    d: &mut [f64],
    e: &mut [f64],
    mut l: usize,
    lend: usize,
    eps2: f64,
    jtot: &mut usize,
    nmaxit: usize,
) {
    loop {
        let mut m = l;
        while m < lend {
            if e[m].abs() <= eps2 * (d[m] * d[m + 1]).abs() {
                break;
            }
            m += 1;
        }
        if m < lend {
            e[m] = 0.0;
        }
        let p = d[l];
        if m == l {
            l += 1;
        } else if m == l + 1 {
            let (rt1, rt2) = eig2(d[l], Float::sqrt(e[l]), d[l + 1]);
            d[l] = rt1;
            d[l + 1] = rt2;
            e[l] = 0.0;
            l += 2;
        } else {
            if *jtot == nmaxit {
                return;
            }
            *jtot += 1;
            let sigma = shift(p, e[l], d[l + 1]);
            let (mut c, mut s) = (1.0f64, 0.0f64);
            let mut gamma = d[m] - sigma;
            let mut p = gamma * gamma;
            for i in (l..m).rev() {
                let bb = e[i];
                let r = p + bb;
                if i != m - 1 {
                    e[i + 1] = s * r;
                }
                let oldc = c;
                c = p / r;
                s = bb / r;
                let oldgam = gamma;
                let alpha = d[i];
                gamma = c * (alpha - sigma) - s * oldgam;
                d[i + 1] = oldgam + (alpha - gamma);
                p = if c != 0.0 {
                    gamma * gamma / c
                } else {
                    oldc * bb
                };
            }
            e[l] = s * p;
            d[l] = sigma + gamma;
        }
        if l > lend {
            return;
        }
    }
}

/// QR sweeps on the block `lend..=l` (`lend < l`), chasing from the top: the mirror image of
/// [`ql_forward`].
fn ql_reverse(
    d: &mut [f64],
    e: &mut [f64],
    l: usize,
    lend: usize,
    eps2: f64,
    jtot: &mut usize,
    nmaxit: usize,
) {
    // Signed indices: l moves down past lend.
    let mut l = l as isize;
    let lend = lend as isize;
    loop {
        let lu = l as usize;
        let mut m = lu;
        while m as isize > lend {
            if e[m - 1].abs() <= eps2 * (d[m] * d[m - 1]).abs() {
                break;
            }
            m -= 1;
        }
        if m as isize > lend {
            e[m - 1] = 0.0;
        }
        let p = d[lu];
        if m == lu {
            l -= 1;
        } else if m + 1 == lu {
            let (rt1, rt2) = eig2(d[lu], Float::sqrt(e[lu - 1]), d[lu - 1]);
            d[lu] = rt1;
            d[lu - 1] = rt2;
            e[lu - 1] = 0.0;
            l -= 2;
        } else {
            if *jtot == nmaxit {
                return;
            }
            *jtot += 1;
            let sigma = shift(p, e[lu - 1], d[lu - 1]);
            let (mut c, mut s) = (1.0f64, 0.0f64);
            let mut gamma = d[m] - sigma;
            let mut p = gamma * gamma;
            for i in m..lu {
                let bb = e[i];
                let r = p + bb;
                if i != m {
                    e[i - 1] = s * r;
                }
                let oldc = c;
                c = p / r;
                s = bb / r;
                let oldgam = gamma;
                let alpha = d[i + 1];
                gamma = c * (alpha - sigma) - s * oldgam;
                d[i] = oldgam + (alpha - gamma);
                p = if c != 0.0 {
                    gamma * gamma / c
                } else {
                    oldc * bb
                };
            }
            e[lu - 1] = s * p;
            d[lu] = sigma + gamma;
        }
        if l < lend {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::tridiag_eigenvalues;

    /// The (2, −1) Toeplitz matrix: λ_k = 2 − 2cos(kπ/(n+1)).
    #[test]
    fn toeplitz_closed_form() {
        for n in [1usize, 2, 3, 10, 101, 400] {
            let mut d = vec![2.0; n];
            let mut e = vec![-1.0; n.saturating_sub(1)];
            tridiag_eigenvalues(&mut d, &mut e).unwrap();
            for (k, v) in d.iter().enumerate() {
                let want =
                    2.0 - 2.0 * ((k + 1) as f64 * core::f64::consts::PI / (n + 1) as f64).cos();
                assert!(
                    (v - want).abs() < 4.0 * n as f64 * f64::EPSILON * 4.0,
                    "n {n} k {k}: {v} vs {want}"
                );
            }
        }
    }

    /// Wilkinson's W⁺₂₁ (diagonal |10 − i|, off-diagonal 1): its top pair agrees to 14 digits;
    /// trace and Frobenius norm are invariants.
    #[test]
    fn wilkinson_and_invariants() {
        let mut d: Vec<f64> = (0..21).map(|i| (10i32 - i).abs() as f64).collect();
        let mut e = vec![1.0; 20];
        let (tr, fro) = (
            d.iter().sum::<f64>(),
            d.iter().map(|x| x * x).sum::<f64>() + 2.0 * 20.0,
        );
        tridiag_eigenvalues(&mut d, &mut e).unwrap();
        assert!((d[20] - 10.746_194_182_903_393).abs() < 1e-12, "{}", d[20]);
        assert!((d[20] - d[19]).abs() < 1e-13);
        assert!((d.iter().sum::<f64>() - tr).abs() < 1e-12);
        assert!((d.iter().map(|x| x * x).sum::<f64>() - fro).abs() < 1e-10);
    }

    /// Huge, tiny and split matrices: scaling is exact, zero off-diagonals split blocks.
    #[test]
    fn scales_and_splits() {
        for s in [1e-300, 1e300, 1.0] {
            let mut d = vec![2.0 * s, 2.0 * s, 5.0 * s, s];
            let mut e = vec![-s, 0.0, 0.0];
            tridiag_eigenvalues(&mut d, &mut e).unwrap();
            let want = [1.0, 1.0, 3.0, 5.0];
            for (v, w) in d.iter().zip(want) {
                assert!((v / s - w).abs() < 1e-14, "{s:e}: {d:?}");
            }
        }
        let (mut d, mut e) = (vec![0.0; 5], vec![0.0; 4]);
        tridiag_eigenvalues(&mut d, &mut e).unwrap();
        assert_eq!(d, vec![0.0; 5]);
    }
}
