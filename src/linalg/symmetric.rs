//! The symmetric product `C = α·A·Aᵀ + β·C`: one triangle computed, then mirrored.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, MatRef};

use super::matmul::{GemmBackend, check_product_shapes};
use super::portable;
use crate::Par;
use crate::{Real, Result};

/// `C = α·A·Aᵀ + β·C` for `A` m×k and `C` m×m, with the default backend.
///
/// Only the lower triangle (diagonal included) is computed — about `m²·k` flops instead of
/// `2·m²·k` — and then copied to the upper triangle, so `C` is exactly symmetric. With `β = 0` the
/// old `C` is not read; with `β ≠ 0` only its lower triangle is read. For `AᵀA` pass
/// `a.transpose()` (a free view).
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `C` is not `A.nrows()` square.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{sym_product, view, view_mut, Layout};
/// let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2×3
/// let mut c = [1.0f64; 4];
/// sym_product(view_mut(&mut c, 2, 2, Layout::RowMajor)?, 0.5, view(&a, 2, 3, Layout::RowMajor)?, 1.0, Par::Seq)?;
/// assert_eq!(c, [14.5, 32.5, 32.5, 77.5]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn sym_product<T: Real>(
    dst: MatMut<'_, T>,
    beta: T,
    a: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    sym_product_with(GemmBackend::Auto, dst, beta, a, alpha, par)
}

/// [`sym_product`] with an explicit [`GemmBackend`].
///
/// # Errors
/// As [`sym_product`].
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{sym_product_with, view, view_mut, GemmBackend, Layout};
/// let a = [1.0f32, 2.0];
/// let mut c = [0.0f32];
/// sym_product_with(GemmBackend::Portable, view_mut(&mut c, 1, 1, Layout::RowMajor)?, 0.0,
///                  view(&a, 1, 2, Layout::RowMajor)?, 2.0, Par::Seq)?;
/// assert_eq!(c[0], 10.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn sym_product_with<T: Real>(
    backend: GemmBackend,
    dst: MatMut<'_, T>,
    beta: T,
    a: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    symmetric_result_with(backend, dst, beta, a, a.transpose(), alpha, par)
}

/// `C = α·L·R + β·C` for a product that is symmetric in exact arithmetic (`A·Aᵀ`, or products of
/// commuting symmetric matrices such as polynomials in one Gram matrix): only the lower triangle
/// is computed and then mirrored, so `C` is exactly symmetric and costs half a GEMM.
pub(crate) fn symmetric_result_with<T: Real>(
    backend: GemmBackend,
    mut dst: MatMut<'_, T>,
    beta: T,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    lower_result_with(backend, dst.rb_mut(), beta, lhs, rhs, alpha, par)?;
    mirror_lower(dst);
    Ok(())
}

/// [`symmetric_result_with`] without the final mirror: only the lower triangle (diagonal
/// included) of `dst` is written, and only it is read when `β ≠ 0`. For accumulating several
/// products (e.g. a Gram over blocks of samples) and mirroring once.
pub(crate) fn lower_result_with<T: Real>(
    backend: GemmBackend,
    mut dst: MatMut<'_, T>,
    beta: T,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    check_product_shapes("sym_product", (dst.nrows(), dst.ncols()), lhs, rhs)?;
    let m = dst.nrows();
    let accum = if beta == T::zero() {
        Accum::Replace
    } else {
        if beta != T::one() {
            for j in 0..m {
                for i in j..m {
                    dst[(i, j)] = beta * dst[(i, j)];
                }
            }
        }
        Accum::Add
    };
    match backend.resolve() {
        GemmBackend::Portable => portable::gemm(
            crate::simd::Isa::detect(),
            dst.rb_mut(),
            accum,
            lhs,
            rhs,
            alpha,
            true,
        ),
        _ => lower_blocked(dst.rb_mut(), accum, lhs, rhs, alpha, par),
    }
    Ok(())
}

/// Height of a block row for orders ≥ 16·`SYM_BLOCK`; smaller orders use `SYM_BLOCK / 2` = 48 so
/// that two threads can split the rows evenly (both are multiples of the 16 f32 lanes of
/// AVX-512; measured at order 1024 with 2 threads, 48-row blocks ran faster than 64-row ones).
/// The lower triangle is covered by block rows `i`, each one GEMM against columns
/// `0..(i+1)·block`; the diagonal block is computed in full and its upper half later overwritten
/// by the mirror, ≈ `block/order` of extra flops.
const SYM_BLOCK: usize = 96;

/// Lower triangle of `α·L·R` (+ `dst`) as a staircase of block-row GEMMs. With several threads
/// the block rows are split into two contiguous groups of equal flops, each run on its own
/// threads. faer's own triangular product (`BlockStructure::TriangularLower`) halves the flops
/// too, but in our measurements it does not speed up with a second thread, which wiped out the
/// gain; the staircase keeps ≈ 95 % of the flop saving at order 1024 at the full GEMM rate.
fn lower_blocked<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) {
    let n = dst.nrows();
    if n <= 32 {
        triangular::matmul(
            dst,
            BlockStructure::TriangularLower,
            accum,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            alpha,
            par.faer(),
        );
        return;
    }
    // Finer block rows for small orders, so that two threads can split the work evenly.
    let block = if n >= 16 * SYM_BLOCK {
        SYM_BLOCK
    } else {
        SYM_BLOCK / 2
    };
    let threads = par.faer().degree();
    if threads >= 2 && n > 2 * block {
        // Block row i costs ∝ its end column (i + 1)·block: split at the block boundary that
        // best halves the total.
        let blocks = n.div_ceil(block);
        let cost = |b: usize| (b * (b + 1) / 2) as f64; // cost of the first b block rows
        let half = cost(blocks) / 2.0;
        let b = (1..blocks)
            .min_by(|&x, &y| (cost(x) - half).abs().total_cmp(&(cost(y) - half).abs()))
            .unwrap_or(1);
        let split = b * block;
        let (top, bottom) = dst.split_at_row_mut(split);
        let (l_top, l_bottom) = lhs.split_at_row(split);
        let (p1, p2) = (
            Par::threads(threads / 2),
            Par::threads(threads - threads / 2),
        );
        join(
            || staircase(top, 0, block, accum, l_top, rhs, alpha, p1),
            || staircase(bottom, split, block, accum, l_bottom, rhs, alpha, p2),
        );
    } else {
        staircase(dst, 0, block, accum, lhs, rhs, alpha, par);
    }
}

/// Block rows of the lower triangle for the rows `first..first + dst.nrows()` of the product.
#[allow(clippy::too_many_arguments)]
fn staircase<T: Real>(
    mut dst: MatMut<'_, T>,
    first: usize,
    block: usize,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) {
    let rows = dst.nrows();
    let mut r0 = 0;
    while r0 < rows {
        let h = block.min(rows - r0);
        let end = first + r0 + h;
        faer::linalg::matmul::matmul(
            dst.rb_mut().submatrix_mut(r0, 0, h, end),
            accum,
            lhs.submatrix(r0, 0, h, lhs.ncols()),
            rhs.submatrix(0, 0, rhs.nrows(), end),
            alpha,
            par.faer(),
        );
        r0 += h;
    }
}

#[cfg(feature = "rayon")]
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    rayon::join(a, b);
}

#[cfg(not(feature = "rayon"))]
fn join(a: impl FnOnce(), b: impl FnOnce()) {
    a();
    b();
}

/// Copies the strict lower triangle of a square matrix onto its upper triangle, by recursive
/// 2×2 blocking: the off-diagonal block is one transposing copy (cache-blocked), the
/// diagonal blocks recurse down to small tiles copied element by element.
pub(crate) fn mirror_lower<T: Copy>(dst: MatMut<'_, T>) {
    let m = dst.nrows();
    if m <= 32 {
        let mut dst = dst;
        for j in 1..m {
            for i in 0..j {
                dst[(i, j)] = dst[(j, i)];
            }
        }
        return;
    }
    let h = m / 2;
    let (d11, d12, d21, d22) = dst.split_at_mut(h, h);
    super::zip_map(d12, d21.rb().transpose(), |_, x| x);
    mirror_lower(d11);
    mirror_lower(d22);
}
