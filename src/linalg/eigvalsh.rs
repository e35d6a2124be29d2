//! Values-only symmetric eigenvalues, the split LAPACK's `dsyevd` makes without vectors: a
//! reduction to tridiagonal form in the matrix's precision, then the root-free QL/QR iteration
//! ([`super::tridiag_eig`]) in f64 — so the eigenvalues of the tridiagonal matrix come out in f64
//! even for f32 input.
//!
//! The reduction is two-stage from order [`TWO_STAGE_MIN`] (2048) on: dense → band by GEMM-rich blocked
//! panels ([`super::band_reduce`]), band → tridiagonal by bulge chasing in f64
//! ([`super::bulge_chase`]). One-stage Householder tridiagonalization (faer's) spends half its
//! flops in matrix–vector products that stream the trailing matrix from memory; the two-stage
//! scheme moves all of those into GEMMs and leaves an O(n²·b) band step that stays in cache.
//! Below that order faer's one-stage reduction is used.

use alloc::vec::Vec;

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
use faer::linalg::qr::no_pivoting::factor::recommended_block_size;
use faer::{MatMut, MatRef};

use super::band_reduce::{band_reduce, band_reduce_scratch_len};
use super::bulge_chase::{band_ld, bulge_chase, bulge_chase_scratch_len};
use super::tridiag_eig::tridiag_eigenvalues;
use crate::base::{exponent, mul_pow2};
use crate::{Error, Par, Real, Result, Shape};

/// Smallest order reduced in two stages: below it faer's one-stage reduction was faster on the
/// 2-core AVX2 host (f64: 106 vs 141 ms at 1024, 770 vs 724 ms at 2048; f32 about even at 2048).
pub(crate) const TWO_STAGE_MIN: usize = 2048;

/// Half-bandwidth of the intermediate band matrix.
pub(crate) const BAND: usize = 32;

/// Rows of faer's block Householder coefficients for order `k`.
fn block<U: Real>(k: usize) -> usize {
    recommended_block_size::<U>(k, k).max(1)
}

/// Scratch of the two-stage reduction of order `k` through a band of half-bandwidth `b`.
fn two_stage_scratch<U: Real>(k: usize, b: usize) -> StackReq {
    StackReq::all_of(&[
        StackReq::new::<U>(band_reduce_scratch_len(k, b)),
        StackReq::new::<f64>(band_ld(b).saturating_mul(k)),
        StackReq::new::<f64>(bulge_chase_scratch_len(b)),
    ])
}

/// Scratch of [`eigvalsh_into`] for order `k`.
pub(crate) fn eigvalsh_scratch<U: Real>(k: usize, par: Par) -> StackReq {
    let reduce = if k >= TWO_STAGE_MIN {
        two_stage_scratch::<U>(k, BAND)
    } else {
        StackReq::all_of(&[
            StackReq::new::<U>(block::<U>(k).saturating_mul(k.saturating_sub(1))),
            tridiag_in_place_scratch::<U>(k, par.faer(), Default::default()),
        ])
    };
    StackReq::all_of(&[
        StackReq::new::<U>(k.saturating_mul(k)),
        StackReq::new::<f64>(k.saturating_mul(2)),
        reduce,
    ])
}

/// Tridiagonal `(d, e)` of the symmetric `t` (order `k`, column-major, lower triangle read;
/// destroyed) by the two stages through a band of half-bandwidth `b ≥ 1`.
fn two_stage<U: Real>(
    t: &mut [U],
    k: usize,
    b: usize,
    par: Par,
    stack: &mut MemStack,
    d: &mut [f64],
    e: &mut [f64],
) -> Result<()> {
    let (mut work, stack) = stack.make_with::<U>(band_reduce_scratch_len(k, b), |_| U::zero());
    band_reduce(t, k, b, par, &mut work)?;
    let ld = band_ld(b);
    let (mut ab, stack) = stack.make_with::<f64>(ld * k, |_| 0.0);
    for c in 0..k {
        for r in c..k.min(c + b + 1) {
            ab[(r - c) + c * ld] = t[r + c * k].as_f64();
        }
    }
    let (mut w, _) = stack.make_with::<f64>(bulge_chase_scratch_len(b), |_| 0.0);
    bulge_chase(&mut ab, k, b, d, e, &mut w);
    Ok(())
}

/// Tile edge of [`copy_lower`].
const TILE: usize = 64;

/// The lower triangle of `g` into the column-major `t` (order k), tile by tile, so neither a
/// row-major nor a column-major `g` is read or written with a long stride across the matrix.
fn copy_lower<U: Real>(t: &mut [U], g: MatRef<'_, U>) {
    let k = g.nrows();
    let by_rows = g.col_stride().unsigned_abs() <= g.row_stride().unsigned_abs();
    for jb in (0..k).step_by(TILE) {
        for ib in (jb..k).step_by(TILE) {
            let (i1, j1) = ((ib + TILE).min(k), (jb + TILE).min(k));
            if by_rows {
                for i in ib..i1 {
                    for j in jb..j1.min(i + 1) {
                        t[i + j * k] = g[(i, j)];
                    }
                }
            } else {
                for j in jb..j1 {
                    for i in ib.max(j)..i1 {
                        t[i + j * k] = g[(i, j)];
                    }
                }
            }
        }
    }
}

/// The eigenvalues of the symmetric `g` (its lower triangle is read), ascending, into `out`
/// (length `k`), using only `stack` ([`eigvalsh_scratch`] bytes). The caller checks that `g`
/// is finite and suitably scaled.
pub(crate) fn eigvalsh_into<U: Real>(
    out: &mut [f64],
    g: MatRef<'_, U>,
    par: Par,
    stack: &mut MemStack,
) -> Result<()> {
    let k = g.nrows();
    if k == 0 {
        return Ok(());
    }
    let (mut t, stack) = stack.make_with::<U>(k * k, |_| U::zero());
    let (mut e, stack) = stack.make_with::<f64>(k, |_| 0.0);
    copy_lower(&mut t, g);
    if k >= TWO_STAGE_MIN {
        two_stage(&mut t, k, BAND, par, stack, out, &mut e)?;
    } else {
        let mut t = MatMut::from_column_major_slice_mut(&mut t, k, k);
        let bs = block::<U>(k);
        let (mut h, stack) = stack.make_with::<U>(bs * (k - 1), |_| U::zero());
        let h = MatMut::from_column_major_slice_mut(&mut h, bs, k - 1);
        tridiag_in_place(t.as_mut(), h, par.faer(), stack, Default::default());
        for i in 0..k {
            out[i] = t[(i, i)].as_f64();
            if i + 1 < k {
                e[i] = t[(i + 1, i)].as_f64();
            }
        }
    }
    tridiag_eigenvalues(out, &mut e)
}

/// Eigenvalues of the symmetric matrix `a` (only its lower triangle is read, as NumPy's
/// `eigvalsh` and LAPACK's `UPLO = 'L'`), ascending, in f64 — values only, like `dsyevd`
/// without vectors.
///
/// From order 2048 on the reduction is two-stage (GEMM-rich blocked panels to a band of width
/// 32, then bulge chasing in f64); below, faer's one-stage tridiagonalization. Either way the
/// tridiagonal eigenvalues come from the root-free QL/QR iteration in f64. The reduction runs in
/// `T`: f64 eigenvalues are within a small multiple of `n·ε·‖A‖₂` of the exact ones, f32 within
/// the same multiple of `ε₃₂·‖A‖₂` (LAPACK's class). Matrices whose entries lie far from 1
/// (beyond 2^±500 in f64, 2^±60 in f32) are reduced on a copy scaled by an exact power of two.
/// `par` threads the GEMMs; on the two-stage path threads take whole 256-row blocks, so its
/// values are the same, bit for bit, for every `par`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for a non-square `a`; [`Error::NonFinite`] for NaN or ±Inf in the
/// lower triangle (flat row-major index, as everywhere in the crate); [`Error::OutOfMemory`]
/// when the `n² + O(n·32)` workspace cannot be allocated; [`Error::NoConvergence`] if the tridiagonal iteration does
/// not converge (not observed on finite input).
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{eigvalsh, view, Layout};
/// // [[2, 1], [1, 2]]: eigenvalues 1 and 3.
/// let a = [2.0f64, 1.0, 1.0, 2.0];
/// let w = eigvalsh(view(&a, 2, 2, Layout::ColMajor)?, Par::Seq)?;
/// assert!((w[0] - 1.0).abs() < 1e-15 && (w[1] - 3.0).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn eigvalsh<T: Real>(a: MatRef<'_, T>, par: Par) -> Result<Vec<f64>> {
    const WHAT: &str = "eigvalsh: a";
    let (n, cols) = (a.nrows(), a.ncols());
    if n != cols {
        return Err(Error::ShapeMismatch {
            what: WHAT,
            expected: Shape::d2(n, n),
            found: Shape::d2(n, cols),
        });
    }
    let mut top = 0.0f64;
    let mut bad = None;
    let mut visit = |i: usize, j: usize| {
        let x = a[(i, j)].as_f64();
        if x.is_finite() {
            top = top.max(x.abs());
        } else {
            bad = Some(bad.map_or(i * n + j, |b: usize| b.min(i * n + j)));
        }
    };
    // In the input's memory order.
    if a.col_stride().unsigned_abs() <= a.row_stride().unsigned_abs() {
        (0..n).for_each(|i| (0..=i).for_each(|j| visit(i, j)));
    } else {
        (0..n).for_each(|j| (j..n).for_each(|i| visit(i, j)));
    }
    if let Some(index) = bad {
        return Err(Error::NonFinite { what: WHAT, index });
    }
    let mut out = crate::base::zeros::<f64>(n, WHAT)?;
    if n == 0 {
        return Ok(out);
    }
    // An exact power-of-two rescaling when the entries are far from 1.
    let e = if top > 0.0 { exponent(top) } else { 0 };
    let limit = if T::MANTISSA_DIGITS < 53 { 60 } else { 500 };
    let req = eigvalsh_scratch::<T>(n, par);
    let mut mem = MemBuffer::try_new(req).map_err(|_| Error::OutOfMemory {
        name: WHAT,
        bytes: req.unaligned_bytes_required(),
    })?;
    if (-limit..=limit).contains(&e) {
        eigvalsh_into(&mut out, a, par, MemStack::new(&mut mem))?;
    } else {
        let mut c = super::try_zeros_mat::<T>(n, n, WHAT)?;
        for j in 0..n {
            for i in j..n {
                c[(i, j)] = T::from_f64(mul_pow2(a[(i, j)].as_f64(), -e));
            }
        }
        eigvalsh_into(&mut out, c.as_ref(), par, MemStack::new(&mut mem))?;
        out.iter_mut().for_each(|x| *x = mul_pow2(*x, e));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use faer::Mat;
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};

    use super::{BAND, eigvalsh_into, eigvalsh_scratch, two_stage, two_stage_scratch};
    use crate::linalg::tridiag_eig::tridiag_eigenvalues;
    use crate::{Par, Real};

    fn random_sym<U: Real>(n: usize, seed: u64) -> Mat<U> {
        let mut s = seed | 1;
        let mut a = Mat::<U>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let v = U::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
                a[(i, j)] = v;
                a[(j, i)] = v;
            }
        }
        a
    }

    fn ours<U: Real>(a: &Mat<U>, par: Par) -> Vec<f64> {
        let n = a.nrows();
        let mut mem = MemBuffer::new(eigvalsh_scratch::<U>(n, par));
        let mut out = vec![0.0; n];
        eigvalsh_into(&mut out, a.as_ref(), par, MemStack::new(&mut mem)).unwrap();
        out
    }

    /// The f64 reference: faer's dense symmetric eigensolver on the same matrix (cast to f64).
    fn reference<U: Real>(a: &Mat<U>) -> Vec<f64> {
        let n = a.nrows();
        let a64 = Mat::<f64>::from_fn(n, n, |i, j| a[(i, j)].as_f64());
        let mut s = Mat::<f64>::zeros(n, 1);
        let req = self_adjoint_evd_scratch::<f64>(
            n,
            ComputeEigenvectors::No,
            faer::Par::Seq,
            Default::default(),
        );
        let mut mem = MemBuffer::new(req);
        self_adjoint_evd(
            a64.as_ref(),
            s.as_mut().col_mut(0).as_diagonal_mut(),
            None,
            faer::Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        )
        .unwrap();
        let mut v: Vec<f64> = (0..n).map(|i| s[(i, 0)]).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Random symmetric matrices of orders 1…300: f64 within 20·n·ε·‖A‖ of the f64 reference
    /// (both backward stable: Weyl), f32 within 20·n·ε₃₂·‖A‖.
    #[test]
    fn matches_the_dense_reference() {
        for (k, n) in [1usize, 2, 3, 7, 31, 64, 65, 130, 255, 256, 257, 300, 600]
            .into_iter()
            .enumerate()
        {
            let a = random_sym::<f64>(n, 11 + k as u64);
            let want = reference(&a);
            let norm = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
            for par in [Par::Seq, Par::threads(2)] {
                // The public path and, at every order, the two-stage path.
                for got in [ours(&a, par), run(&a, BAND, par)] {
                    let err = got
                        .iter()
                        .zip(&want)
                        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                    assert!(
                        err <= 20.0 * n as f64 * f64::EPSILON * norm,
                        "f64 n {n}: {err:e}"
                    );
                }
            }
            // Threads take whole row blocks of sequential GEMMs: the same bits for any count.
            assert_eq!(
                run(&a, BAND, Par::Seq),
                run(&a, BAND, Par::threads(3)),
                "n {n}"
            );
            let a32 = random_sym::<f32>(n, 11 + k as u64);
            let want = reference(&a32);
            for got in [ours(&a32, Par::Seq), run(&a32, BAND, Par::Seq)] {
                let err = got
                    .iter()
                    .zip(&want)
                    .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    err <= 20.0 * n as f64 * f64::from(f32::EPSILON) * norm,
                    "f32 n {n}: {err:e}"
                );
            }
        }
    }

    /// Diagonal, zero, graded (eigenvalues 10⁻ᵏ) and repeated spectra.
    #[test]
    fn structured_spectra() {
        let n = 40;
        let diag = Mat::<f64>::from_fn(
            n,
            n,
            |i, j| if i == j { (n - i) as f64 - 20.5 } else { 0.0 },
        );
        let got = ours(&diag, Par::Seq);
        for (i, v) in got.iter().enumerate() {
            assert_eq!(*v, i as f64 + 1.0 - 20.5);
        }
        assert_eq!(ours(&Mat::<f64>::zeros(n, n), Par::Seq), vec![0.0; n]);
        // Q·diag(10⁻ᵏ)·Qᵀ with a Householder Q: eigenvalues 1 … 1e-15 to ≈ ε absolute.
        let v: Vec<f64> = (0..n).map(|i| ((i * 7 % 11) as f64) - 5.0).collect();
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let q = Mat::<f64>::from_fn(n, n, |i, j| {
            f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / vv
        });
        let lam: Vec<f64> = (0..n).map(|k| 10f64.powi(-((k % 16) as i32))).collect();
        let a = Mat::<f64>::from_fn(n, n, |i, j| {
            (0..n).map(|k| q[(i, k)] * lam[k] * q[(j, k)]).sum()
        });
        let got = ours(&a, Par::Seq);
        let mut want = lam.clone();
        want.sort_by(f64::total_cmp);
        for (x, y) in got.iter().zip(&want) {
            assert!((x - y).abs() < 50.0 * f64::EPSILON, "{x:e} vs {y:e}");
        }
    }

    /// The two-stage path at any order and band width (the public path takes it from
    /// `TWO_STAGE_MIN`), with garbage above the diagonal: only the lower triangle may be read.
    fn run<U: Real>(a: &Mat<U>, b: usize, par: Par) -> Vec<f64> {
        let n = a.nrows();
        let mut t: Vec<U> = (0..n * n)
            .map(|i| {
                if i % n >= i / n {
                    a[(i % n, i / n)]
                } else {
                    U::from_f64(1e3)
                }
            })
            .collect();
        let mut mem = MemBuffer::new(two_stage_scratch::<U>(n, b));
        let (mut d, mut e) = (vec![0.0; n], vec![0.0; n]);
        two_stage(&mut t, n, b, par, MemStack::new(&mut mem), &mut d, &mut e).unwrap();
        tridiag_eigenvalues(&mut d, &mut e).unwrap();
        d
    }

    /// The two stages alone at small orders and every band width (1 = already tridiagonal after
    /// stage 1, widths past the order, odd orders not a multiple of the band or SIMD width):
    /// eigenvalues within 20·n·ε·‖A‖ of the reference, f64 and f32, sequential and threaded.
    #[test]
    fn two_stage_every_band_width() {
        for n in [1usize, 2, 3, 5, 9, 33, 64, 100] {
            let a = random_sym::<f64>(n, 7 + n as u64);
            let want = reference(&a);
            let norm = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let a32 = random_sym::<f32>(n, 7 + n as u64);
            let want32 = reference(&a32);
            for b in [1usize, 2, 3, 4, 7, 8, 32, 128] {
                for par in [Par::Seq, Par::threads(2)] {
                    let err = max_diff(&run(&a, b, par), &want);
                    assert!(
                        err <= 20.0 * n as f64 * f64::EPSILON * norm,
                        "f64 n {n} b {b}: {err:e}"
                    );
                }
                let err = max_diff(&run(&a32, b, Par::Seq), &want32);
                let tol = 20.0 * n as f64 * f64::from(f32::EPSILON) * norm;
                assert!(err <= tol, "f32 n {n} b {b}: {err:e}");
            }
        }
    }

    fn max_diff(x: &[f64], y: &[f64]) -> f64 {
        x.iter()
            .zip(y)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
    }

    /// Two-stage orders (≥ 256): clustered and repeated eigenvalues (Q·diag·Qᵀ with a product of
    /// two Householder matrices), graded 1 … 1e-15, and scales 2^±400, each against the known
    /// spectrum: |error| ≤ 100·n·ε·λ_max.
    #[test]
    fn two_stage_known_spectra() {
        let n = 300;
        let house = |seed: usize| -> Vec<f64> {
            (0..n)
                .map(|i| (((i * 7 + seed) % 13) as f64) - 6.0)
                .collect()
        };
        let (u, w) = (house(1), house(5));
        let (uu, ww): (f64, f64) = (u.iter().map(|x| x * x).sum(), w.iter().map(|x| x * x).sum());
        // Q = (I − 2uuᵀ/uᵀu)(I − 2wwᵀ/wᵀw), applied as Q·diag(λ)·Qᵀ.
        let build = |lam: &[f64], scale: f64| -> Mat<f64> {
            let h = |v: &[f64], vv: f64, m: &Mat<f64>| -> Mat<f64> {
                // (I − 2vvᵀ/vᵀv)·M·(I − 2vvᵀ/vᵀv)
                let mv: Vec<f64> = (0..n)
                    .map(|i| (0..n).map(|j| m[(i, j)] * v[j]).sum())
                    .collect();
                let vmv: f64 = v.iter().zip(&mv).map(|(a, b)| a * b).sum();
                Mat::from_fn(n, n, |i, j| {
                    m[(i, j)] - 2.0 * (v[i] * mv[j] + mv[i] * v[j]) / vv
                        + 4.0 * v[i] * v[j] * vmv / (vv * vv)
                })
            };
            let d = Mat::<f64>::from_fn(n, n, |i, j| if i == j { lam[i] * scale } else { 0.0 });
            h(&u, uu, &h(&w, ww, &d))
        };
        let clustered: Vec<f64> = (0..n)
            .map(|i| {
                if i < n / 2 {
                    1.0
                } else {
                    1.0 + 1e-9 * i as f64
                }
            })
            .collect();
        let repeated: Vec<f64> = (0..n).map(|i| ((i % 3) as f64) - 1.0).collect();
        let graded: Vec<f64> = (0..n).map(|i| 10f64.powi(-((i % 16) as i32))).collect();
        for (name, lam) in [
            ("clustered", &clustered),
            ("repeated", &repeated),
            ("graded", &graded),
        ] {
            for scale in [1.0, 2f64.powi(400), 2f64.powi(-400)] {
                let a = build(lam, scale);
                let got = run(&a, BAND, Par::threads(2));
                let mut want: Vec<f64> = lam.iter().map(|x| x * scale).collect();
                want.sort_by(f64::total_cmp);
                let top = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let err = max_diff(&got, &want);
                assert!(
                    err <= 100.0 * n as f64 * f64::EPSILON * top,
                    "{name} ×{scale:e}: {err:e}"
                );
            }
        }
        // Zero and diagonal at a two-stage order.
        assert_eq!(run(&Mat::<f64>::zeros(n, n), BAND, Par::Seq), vec![0.0; n]);
        let diag = Mat::<f64>::from_fn(n, n, |i, j| if i == j { (n - i) as f64 } else { 0.0 });
        let got = run(&diag, BAND, Par::Seq);
        for (i, v) in got.iter().enumerate() {
            assert_eq!(*v, i as f64 + 1.0);
        }
    }
}
