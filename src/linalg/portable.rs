//! mlkern's portable blocked GEMM: the `no_std` fast path.
//!
//! Classic three-level blocking (Goto/BLIS): `B` is packed into `kc × nc` panels of `NR`-column
//! slivers, `A` into `mc × kc` blocks of `MR`-row slivers, and a register-blocked micro-kernel
//! accumulates an `MR × NR` tile over `kc` with fused multiply–adds, `MR = 2` SIMD vectors.
//! The ISA is chosen at run time by pulp (AVX-512: `NR = 12`; AVX2+FMA: `NR = 6`; scalar
//! otherwise), in `std` and `no_std` builds alike. Packing pads with zeros, so edges need no
//! special kernel; tiles are written back through the strided destination view.

use alloc::vec;

use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef};
use pulp::{Simd, WithSimd};

use crate::Real;
use crate::simd::Isa;

/// Depth of a packed panel (`kc`): a `MR × kc` sliver of A and a `kc × NR` sliver of B stay in L1.
const KC: usize = 256;
/// Rows of a packed block of A (`mc`, rounded down to a multiple of `MR`): ≈ L2-sized.
const MC: usize = 192;
/// Columns of a packed panel of B (`nc`, rounded down to a multiple of `NR`): ≈ L3-sized.
const NC: usize = 3072;
/// SIMD vectors per micro-tile column.
const MV: usize = 2;
/// Largest tile (`MR·NR` elements) any ISA uses: 2 vectors × 16 lanes × 12 columns.
const MAX_TILE: usize = 2 * 16 * 12;

/// `dst ← α·lhs·rhs` or `dst += α·lhs·rhs`. With `lower_only`, tiles strictly above the diagonal
/// are skipped (the caller mirrors); entries above the diagonal are then unspecified.
/// Shapes must already be checked.
pub(crate) fn gemm<T: Real>(
    isa: Isa,
    mut dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    lower_only: bool,
) {
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if accum == Accum::Replace {
            dst.fill(T::zero());
        }
        return;
    }
    isa.dispatch(Gemm {
        dst,
        accum,
        lhs,
        rhs,
        alpha,
        lower_only,
    });
}

struct Gemm<'a, T> {
    dst: MatMut<'a, T>,
    accum: Accum,
    lhs: MatRef<'a, T>,
    rhs: MatRef<'a, T>,
    alpha: T,
    lower_only: bool,
}

impl<T: Real> WithSimd for Gemm<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        if S::REGISTER_COUNT >= 32 {
            run::<S, T, 12>(s, self)
        } else if S::IS_SCALAR {
            run::<S, T, 4>(s, self)
        } else {
            run::<S, T, 6>(s, self)
        }
    }
}

#[inline(always)]
fn run<S: Simd, T: Real, const NR: usize>(s: S, op: Gemm<'_, T>) {
    let Gemm {
        mut dst,
        accum,
        lhs,
        rhs,
        alpha,
        lower_only,
    } = op;
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    let lanes = T::lanes::<S>();
    let mr = MV * lanes;
    let mc = (MC / mr).max(1) * mr;
    let nc = (NC / NR).max(1) * NR;
    let kc_max = KC.min(k);

    let mut a_pack = vec![T::zero(); mc.min(m.div_ceil(mr) * mr) * kc_max];
    let mut b_pack = vec![T::zero(); nc.min(n.div_ceil(NR) * NR) * kc_max];
    let mut tile = [T::zero(); MAX_TILE];

    for jc in (0..n).step_by(nc) {
        let nb = nc.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kb = KC.min(k - pc);
            // Only the first depth panel may overwrite C; later panels accumulate.
            let replace = pc == 0 && accum == Accum::Replace;
            pack(&mut b_pack, rhs.transpose(), (jc, nb), (pc, kb), NR);
            for ic in (0..m).step_by(mc) {
                let mb = mc.min(m - ic);
                if lower_only && ic + mb <= jc {
                    continue;
                }
                pack(&mut a_pack, lhs, (ic, mb), (pc, kb), mr);
                for (js, b_sliver) in b_pack
                    .chunks_exact(kb * NR)
                    .take(nb.div_ceil(NR))
                    .enumerate()
                {
                    let j0 = js * NR;
                    for (is, a_sliver) in a_pack
                        .chunks_exact(kb * mr)
                        .take(mb.div_ceil(mr))
                        .enumerate()
                    {
                        let i0 = is * mr;
                        if lower_only && ic + i0 + mr <= jc + j0 {
                            continue;
                        }
                        micro::<S, T, NR>(
                            s,
                            T::as_simd::<S>(a_sliver).0,
                            b_sliver,
                            &mut tile[..mr * NR],
                        );
                        let rows = mr.min(mb - i0);
                        let cols = NR.min(nb - j0);
                        let mut c = dst.rb_mut().submatrix_mut(ic + i0, jc + j0, rows, cols);
                        for j in 0..cols {
                            let t = &tile[j * mr..j * mr + rows];
                            for (i, &v) in t.iter().enumerate() {
                                let c_ij = &mut c[(i, j)];
                                *c_ij = if replace {
                                    alpha * v
                                } else {
                                    *c_ij + alpha * v
                                };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `MR × NR` register tile: `tile[j·MR + i] = Σ_p a[p][i]·b[p][j]` over the packed slivers.
#[inline(always)]
fn micro<S: Simd, T: Real, const NR: usize>(s: S, a: &[T::V<S>], b: &[T], tile: &mut [T]) {
    let zero = T::v_splat(s, T::zero());
    let mut acc = [[zero; MV]; NR];
    for (a, b) in a.chunks_exact(MV).zip(b.chunks_exact(NR)) {
        let (Ok(a), Ok(b)) = (<&[T::V<S>; MV]>::try_from(a), <&[T; NR]>::try_from(b)) else {
            continue;
        };
        for j in 0..NR {
            let bj = T::v_splat(s, b[j]);
            for v in 0..MV {
                acc[j][v] = T::v_fma_fast(s, a[v], bj, acc[j][v]);
            }
        }
    }
    let out = T::as_mut_simd::<S>(tile).0;
    for (dst, src) in out.chunks_exact_mut(MV).zip(acc.iter()) {
        dst.copy_from_slice(src);
    }
}

/// Packs `mat[r0..r0+rows, c0..c0+depth]` into slivers of `width` rows: each sliver holds `depth`
/// groups of `width` contiguous values (one column of the sliver each), zero-padded below `rows`.
/// A's block packs as is; B's block packs as its transpose (`NR`-column slivers of B are
/// `NR`-row slivers of Bᵀ).
fn pack<T: Real>(
    buf: &mut [T],
    mat: MatRef<'_, T>,
    (r0, rows): (usize, usize),
    (c0, depth): (usize, usize),
    width: usize,
) {
    let block = mat.submatrix(r0, c0, rows, depth);
    for (s, sliver) in buf
        .chunks_exact_mut(depth * width)
        .take(rows.div_ceil(width))
        .enumerate()
    {
        let i0 = s * width;
        let live = width.min(rows - i0);
        for (p, group) in sliver.chunks_exact_mut(width).enumerate() {
            for (i, x) in group.iter_mut().enumerate() {
                *x = if i < live {
                    block[(i0 + i, p)]
                } else {
                    T::zero()
                };
            }
        }
    }
}
