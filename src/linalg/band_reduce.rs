//! Stage 1 of the two-stage symmetric eigenvalue reduction: dense symmetric → band of
//! half-bandwidth `b` by blocked Householder panels, with every update a GEMM.
//!
//! For each panel `P = A[i+b.., i..i+b]` (m × b, `m = n − i − b`) the algebra of LAPACK's
//! `dsytrd_sy2sb` (lower), restated: `P = Q·R` with `Q = I − V·T·Vᵀ` (V unit lower trapezoidal,
//! T upper triangular, the `dlarft` forward/columnwise convention); `R` is the band block;
//! the trailing matrix `A₂₂ = A[i+b.., i+b..]` becomes `QᵀA₂₂Q = A₂₂ − V·Wᵀ − W·Vᵀ` with
//! `W₀ = V·T`, `Y = A₂₂·W₀`, `W = Y − ½·V·(W₀ᵀ·Y)` (exact, because `W₀ᵀ·Y` is symmetric).
//! Only the lower triangle of `A₂₂` is stored and updated: `Y` is a symmetric product assembled
//! per row block from three GEMMs, and the update `[V W]·[W V]ᵀ` (one GEMM with `k = 2b` per
//! row block) touches only the blocks on and below the diagonal — 4n³/3 flops in all, every one
//! in the crate's GEMM (faer's runtime-dispatched kernels with `std`, the portable blocked
//! kernel without). Threads take whole 256-row blocks, each a set of sequential GEMMs (one
//! threaded GEMM with 32 output columns splits poorly), so the band is the same, bit for bit,
//! for every thread count.

use faer::{Accum, MatMut, MatRef};

use super::householder::{apply_left, reflector};
use super::matmul::{GemmBackend, matmul_tiled, matmul_with};
use crate::jobs::row_tiles;
use crate::{Par, Real, Result};

/// Values of `U` [`band_reduce`] needs for order `n` and half-bandwidth `b`.
pub(crate) fn band_reduce_scratch_len(n: usize, b: usize) -> usize {
    6 * n * b + 2 * b * b + n.div_ceil(ROWS).max(1) * ROWS * ROWS
}

/// One sequential GEMM (threads split the work by row blocks around it).
fn gemm<U: Real>(
    dst: MatMut<'_, U>,
    accum: Accum,
    lhs: MatRef<'_, U>,
    rhs: MatRef<'_, U>,
    alpha: U,
) -> Result<()> {
    matmul_with(GemmBackend::Auto, dst, accum, lhs, rhs, alpha, Par::Seq)
}

/// Reduces the symmetric `a` (order `n`, column-major, lower triangle read) to a band
/// matrix with the same eigenvalues, held on return in the lower band of `a` (entries `(r, c)`
/// with `0 ≤ r − c ≤ b`; everything else is left unspecified). `work` holds
/// [`band_reduce_scratch_len`] values.
pub(crate) fn band_reduce<U: Real>(
    a: &mut [U],
    n: usize,
    b: usize,
    par: Par,
    work: &mut [U],
) -> Result<()> {
    let (pan, rest) = work.split_at_mut(n * b);
    let (lw, rest) = rest.split_at_mut(2 * n * b);
    let (rw, rest) = rest.split_at_mut(2 * n * b);
    let (w0, rest) = rest.split_at_mut(n * b);
    let (t, rest) = rest.split_at_mut(b * b);
    let (s, diag) = rest.split_at_mut(b * b);
    let mut i = 0;
    // Panels while at least two rows lie below the band (one row needs no reflector).
    while i + b + 1 < n {
        let m = n - i - b;
        let pk = m.min(b);
        let pan = &mut pan[..m * b];
        for c in 0..b {
            let o = (i + c) * n + i + b;
            pan[c * m..(c + 1) * m].copy_from_slice(&a[o..o + m]);
        }
        // Unblocked Householder QR of the panel; V's columns go to the left half of lw.
        let (v, wy) = lw[..2 * m * pk].split_at_mut(m * pk);
        let t = &mut t[..pk * pk];
        t.iter_mut().for_each(|x| *x = U::zero());
        for j in 0..pk {
            let (left, right) = pan.split_at_mut((j + 1) * m);
            let vcol = &mut v[j * m..(j + 1) * m];
            vcol[..j].iter_mut().for_each(|x| *x = U::zero());
            let tau = reflector(&mut left[j * m + j..(j + 1) * m], &mut vcol[j..]);
            t[j * pk + j] = tau;
            if tau != U::zero() {
                for x in right.chunks_exact_mut(m) {
                    apply_left(&mut x[j..], &vcol[j..], tau);
                }
            }
        }
        // R (upper trapezoidal) is the band block of columns i .. i + b.
        for c in 0..b {
            let o = (i + c) * n + i + b;
            let dst = &mut a[o..o + m];
            for (r, x) in dst.iter_mut().enumerate() {
                *x = if r <= c { pan[c * m + r] } else { U::zero() };
            }
        }
        let vm = MatRef::from_column_major_slice(&*v, m, pk);
        // T by the dlarft recurrence, with the Gram matrix VᵀV from one GEMM:
        // T[0..j, j] = −τⱼ·T[0..j, 0..j]·(V[:, 0..j]ᵀ·vⱼ).
        let s = &mut s[..pk * pk];
        gemm(
            MatMut::from_column_major_slice_mut(s, pk, pk),
            Accum::Replace,
            vm.transpose(),
            vm,
            U::one(),
        )?;
        for j in 1..pk {
            let tau = t[j * pk + j];
            for r in 0..j {
                let mut acc = U::zero();
                for k in r..j {
                    acc += t[k * pk + r] * s[j * pk + k];
                }
                t[j * pk + r] = -tau * acc;
            }
        }
        let tm = MatRef::from_column_major_slice(&*t, pk, pk);
        let w0 = &mut w0[..m * pk];
        matmul_tiled(
            MatMut::from_column_major_slice_mut(w0, m, pk),
            Accum::Replace,
            vm,
            tm,
            U::one(),
            par,
        )?;
        let w0m = MatRef::from_column_major_slice(&*w0, m, pk);
        let off = (i + b) * n + i + b;
        // Y = A₂₂·W₀ into the right half of lw; S = W₀ᵀ·Y; W = Y − ½·V·S.
        symm_lower(&a[off..], n, m, w0m, wy, diag, par)?;
        gemm(
            MatMut::from_column_major_slice_mut(s, pk, pk),
            Accum::Replace,
            w0m.transpose(),
            MatRef::from_column_major_slice(&*wy, m, pk),
            U::one(),
        )?;
        matmul_tiled(
            MatMut::from_column_major_slice_mut(wy, m, pk),
            Accum::Add,
            vm,
            MatRef::from_column_major_slice(&*s, pk, pk),
            U::from_f64(-0.5),
            par,
        )?;
        // A₂₂ −= [V W]·[W V]ᵀ (k = 2·pk) on the lower triangle.
        let rw = &mut rw[..2 * m * pk];
        rw[..m * pk].copy_from_slice(wy);
        rw[m * pk..].copy_from_slice(v);
        let lm = MatRef::from_column_major_slice(&lw[..2 * m * pk], m, 2 * pk);
        let rm = MatRef::from_column_major_slice(&*rw, m, 2 * pk);
        syr2k_lower(&mut a[off..], n, m, lm, rm, par)?;
        i += b;
    }
    Ok(())
}

/// Row-block height of the symmetric products on the lower triangle: the unit of work dealt to
/// threads (each block one set of sequential GEMMs), fixed so that the result does not depend on
/// the thread count.
const ROWS: usize = 256;

/// `Y = A·W` for the symmetric `A` (order m, lower triangle stored at `a` with column stride
/// `lda`): per row block I, `Y[I] = A[I, <I]·W[<I] + sym(A[I, I])·W[I] + A[>I, I]ᵀ·W[>I]`,
/// the diagonal block mirrored into the block's ROWS² values of `diag`.
#[allow(clippy::too_many_arguments)]
fn symm_lower<U: Real>(
    a: &[U],
    lda: usize,
    m: usize,
    w: MatRef<'_, U>,
    y: &mut [U],
    diag: &mut [U],
    par: Par,
) -> Result<()> {
    let pk = w.ncols();
    let at = |r: usize, c: usize, rows: usize, cols: usize| {
        MatRef::from_column_major_slice_with_stride(&a[r + c * lda..], rows, cols, lda)
    };
    let y = MatMut::from_column_major_slice_mut(&mut y[..m * pk], m, pk);
    row_tiles(y, ROWS, diag, ROWS * ROWS, par, |r0, mut yi, d| {
        let h = yi.nrows();
        let r1 = r0 + h;
        let d = &mut d[..h * h];
        for c in 0..h {
            for r in c..h {
                let x = a[(r0 + r) + (r0 + c) * lda];
                d[r + c * h] = x;
                d[c + r * h] = x;
            }
        }
        let dm = MatRef::from_column_major_slice(&*d, h, h);
        gemm(yi.as_mut(), Accum::Replace, dm, w.subrows(r0, h), U::one())?;
        if r0 > 0 {
            gemm(
                yi.as_mut(),
                Accum::Add,
                at(r0, 0, h, r0),
                w.subrows(0, r0),
                U::one(),
            )?;
        }
        if r1 < m {
            let below = at(r1, r0, m - r1, h).transpose();
            gemm(yi, Accum::Add, below, w.subrows(r1, m - r1), U::one())?;
        }
        Ok(())
    })
}

/// `A −= L·Rᵀ` on the lower triangle (and the full diagonal blocks) of the order-m `A` at `a`
/// (column stride `lda`): one sequential GEMM per row block, blocks dealt to threads.
fn syr2k_lower<U: Real>(
    a: &mut [U],
    lda: usize,
    m: usize,
    l: MatRef<'_, U>,
    r: MatRef<'_, U>,
    par: Par,
) -> Result<()> {
    let dst = MatMut::from_column_major_slice_with_stride_mut(a, m, m, lda);
    row_tiles(dst, ROWS, &mut [(); 0], 0, par, |r0, block, _| {
        let (h, r1) = (block.nrows(), r0 + block.nrows());
        let lhs = l.subrows(r0, h);
        gemm(
            block.subcols_mut(0, r1),
            Accum::Add,
            lhs,
            r.subrows(0, r1).transpose(),
            -U::one(),
        )
    })
}
