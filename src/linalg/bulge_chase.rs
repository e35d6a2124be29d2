//! Stage 2 of the two-stage symmetric eigenvalue reduction: a symmetric band matrix (half-bandwidth
//! `b`) to tridiagonal form by Householder bulge chasing, values only, in f64.
//!
//! The task sequence is the one of LAPACK's `dsytrd_sb2st`/`dsb2st_kernels` (Bischof–Lang–Sun
//! successive band reduction), restated from its documentation: sweep `s` annihilates column `s`
//! below the subdiagonal with a reflector `H`, applies `H` from both sides to its diagonal block,
//! then chases the bulge down the band — apply `H` from the right to the block below, annihilate
//! that block's first column with a new reflector `H'`, apply `H'` from the left to the block's
//! other columns and from both sides to the next diagonal block — until the bottom. Only the first
//! column of each bulge is annihilated; the triangle left behind lies in the next sweep's path.
//! Reflectors are used once and dropped (no eigenvectors).
//!
//! Storage: lower band, column-major, `ld = 2b + 1` rows per column (the bulge reaches `2b − 1`
//! below the diagonal), element `(r, c)`, `r ≥ c`, at `ab[(r − c) + c·ld]`. A column's rows are
//! contiguous, so every kernel below runs on contiguous slices and is compiled for the host's
//! SIMD level through pulp (AVX2/FMA or AVX-512 where present).

use super::householder::{apply_left, reflector};

/// Rows per column of the band storage for half-bandwidth `b`.
pub(crate) fn band_ld(b: usize) -> usize {
    2 * b + 1
}

/// Workspace of one bulge-chasing run: two reflector vectors and the symmetric product `w`,
/// `3b` values.
pub(crate) fn bulge_chase_scratch_len(b: usize) -> usize {
    3 * b.max(1)
}

/// Reduces the band matrix in `ab` (order `n`, half-bandwidth `b`, layout above; rows `b + 1 ..
/// 2b` of every column must be zero on entry) to tridiagonal form: `d[i]` receives the diagonal,
/// `e[i]` (i < n − 1) the subdiagonal. `work` holds [`bulge_chase_scratch_len`] values.
pub(crate) fn bulge_chase(
    ab: &mut [f64],
    n: usize,
    b: usize,
    d: &mut [f64],
    e: &mut [f64],
    work: &mut [f64],
) {
    pulp::Arch::new().dispatch(Chase {
        ab,
        n,
        b,
        d,
        e,
        work,
    });
}

struct Chase<'a> {
    ab: &'a mut [f64],
    n: usize,
    b: usize,
    d: &'a mut [f64],
    e: &'a mut [f64],
    work: &'a mut [f64],
}

impl pulp::WithSimd for Chase<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Chase {
            ab,
            n,
            b,
            d,
            e,
            work,
        } = self;
        let ld = band_ld(b);
        let (v, rest) = work.split_at_mut(b.max(1));
        let (v2, w) = rest.split_at_mut(b.max(1));
        if b >= 2 {
            for s in 0..n.saturating_sub(2) {
                // T1: the reflector of column s, rows s + 1 ..= s + len.
                let len = b.min(n - 1 - s);
                let col = &mut ab[s * ld + 1..s * ld + 1 + len];
                let mut tau = reflector(col, &mut v[..len]);
                let (mut st, mut ed) = (s + 1, s + len);
                loop {
                    let l = ed - st + 1;
                    if tau != 0.0 {
                        two_sided(ab, ld, st, l, &v[..l], tau, &mut w[..l]);
                    }
                    // T2: the block below, rows j1 ..= j2 of columns st ..= ed.
                    let j1 = ed + 1;
                    if j1 >= n {
                        break;
                    }
                    let j2 = (ed + b).min(n - 1);
                    let m = j2 - j1 + 1;
                    if tau != 0.0 {
                        right_apply(ab, ld, j1, m, st, &v[..l], tau, &mut w[..m]);
                    }
                    // A new reflector from column st of that block, applied on the left to the
                    // block's other columns.
                    let off = st * ld + (j1 - st);
                    let tau2 = reflector(&mut ab[off..off + m], &mut v2[..m]);
                    if tau2 != 0.0 {
                        for c in st + 1..=ed {
                            let o = c * ld + (j1 - c);
                            apply_left(&mut ab[o..o + m], &v2[..m], tau2);
                        }
                    }
                    v[..m].copy_from_slice(&v2[..m]);
                    tau = tau2;
                    st = j1;
                    ed = j2;
                }
            }
        }
        for i in 0..n {
            d[i] = ab[i * ld];
            if i + 1 < n {
                e[i] = ab[i * ld + 1];
            }
        }
    }
}

/// `A ← H·A·H` on the symmetric diagonal block of order `l` starting at `st` (lower triangle
/// stored), `H = I − τ·v·vᵀ` (LAPACK `dlarfy`): `w = τ·A·v`, `w −= ½τ(wᵀv)·v`,
/// `A −= v·wᵀ + w·vᵀ`.
#[inline(always)]
fn two_sided(ab: &mut [f64], ld: usize, st: usize, l: usize, v: &[f64], tau: f64, w: &mut [f64]) {
    w.iter_mut().for_each(|t| *t = 0.0);
    for c in 0..l {
        let o = (st + c) * ld;
        let col = &ab[o..o + l - c];
        let vc = v[c];
        let mut acc = col[0] * vc;
        for ((a, vr), wr) in col[1..].iter().zip(&v[c + 1..]).zip(&mut w[c + 1..]) {
            acc += a * vr;
            *wr += a * vc;
        }
        w[c] += acc;
    }
    let mut wv = 0.0;
    for (wi, vi) in w.iter_mut().zip(v) {
        *wi *= tau;
        wv += *wi * vi;
    }
    let alpha = -0.5 * tau * wv;
    w.iter_mut().zip(v).for_each(|(wi, vi)| *wi += alpha * vi);
    for c in 0..l {
        let o = (st + c) * ld;
        let col = &mut ab[o..o + l - c];
        let (vc, wc) = (v[c], w[c]);
        for ((a, vr), wr) in col.iter_mut().zip(&v[c..]).zip(&w[c..]) {
            *a -= vr * wc + wr * vc;
        }
    }
}

/// `X ← X·H` for the block `X` = rows `j1 .. j1 + m` of columns `st .. st + v.len()`:
/// `y = X·v`, `X −= τ·y·vᵀ`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn right_apply(
    ab: &mut [f64],
    ld: usize,
    j1: usize,
    m: usize,
    st: usize,
    v: &[f64],
    tau: f64,
    y: &mut [f64],
) {
    y.iter_mut().for_each(|t| *t = 0.0);
    for (k, vk) in v.iter().enumerate() {
        let c = st + k;
        let o = c * ld + (j1 - c);
        ab[o..o + m]
            .iter()
            .zip(y.iter_mut())
            .for_each(|(a, yr)| *yr += a * vk);
    }
    for (k, vk) in v.iter().enumerate() {
        let c = st + k;
        let o = c * ld + (j1 - c);
        let f = tau * vk;
        ab[o..o + m]
            .iter_mut()
            .zip(y.iter())
            .for_each(|(a, yr)| *a -= yr * f);
    }
}
