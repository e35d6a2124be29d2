//! Values-only symmetric eigenvalues: faer's Householder tridiagonalization in the matrix's
//! precision, then the root-free QL/QR iteration ([`super::tridiag_eig`]) in f64 — the split
//! LAPACK's `dsyevd` makes without vectors. Against faer's own values-only path (implicit QR
//! and an O(n²) sort after the same tridiagonalization) this saves most of the time after the
//! reduction; the eigenvalues of the tridiagonal matrix come out in f64 even for f32 input.

use faer::dyn_stack::{MemStack, StackReq};
use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
use faer::linalg::qr::no_pivoting::factor::recommended_block_size;
use faer::{MatMut, MatRef};

use super::tridiag_eig::tridiag_eigenvalues;
use crate::{Par, Real, Result};

/// Rows of faer's block Householder coefficients for order `k`.
fn block<U: Real>(k: usize) -> usize {
    recommended_block_size::<U>(k, k).max(1)
}

/// Scratch of [`eigvalsh_into`] for order `k`.
pub(crate) fn eigvalsh_scratch<U: Real>(k: usize, par: Par) -> StackReq {
    StackReq::all_of(&[
        StackReq::new::<U>(k.saturating_mul(k)),
        StackReq::new::<U>(block::<U>(k).saturating_mul(k.saturating_sub(1))),
        StackReq::new::<f64>(k.saturating_mul(2)),
        tridiag_in_place_scratch::<U>(k, par.faer(), Default::default()),
    ])
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
    let mut t = MatMut::from_column_major_slice_mut(&mut t, k, k);
    for j in 0..k {
        for i in j..k {
            t[(i, j)] = g[(i, j)];
        }
    }
    let bs = block::<U>(k);
    let (mut h, stack) = stack.make_with::<U>(bs * (k - 1), |_| U::zero());
    let h = MatMut::from_column_major_slice_mut(&mut h, bs, k - 1);
    let (mut e, stack) = stack.make_with::<f64>(k, |_| 0.0);
    tridiag_in_place(t.as_mut(), h, par.faer(), stack, Default::default());
    for i in 0..k {
        out[i] = t[(i, i)].as_f64();
        if i + 1 < k {
            e[i] = t[(i + 1, i)].as_f64();
        }
    }
    tridiag_eigenvalues(out, &mut e)
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use faer::Mat;
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};

    use super::{eigvalsh_into, eigvalsh_scratch};
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
        for (k, n) in [1usize, 2, 3, 7, 31, 64, 65, 130, 300]
            .into_iter()
            .enumerate()
        {
            let a = random_sym::<f64>(n, 11 + k as u64);
            let want = reference(&a);
            let norm = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
            for par in [Par::Seq, Par::threads(2)] {
                let got = ours(&a, par);
                let err = got
                    .iter()
                    .zip(&want)
                    .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    err <= 20.0 * n as f64 * f64::EPSILON * norm,
                    "f64 n {n}: {err:e}"
                );
            }
            let a32 = random_sym::<f32>(n, 11 + k as u64);
            let want = reference(&a32);
            let got = ours(&a32, Par::Seq);
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
}
