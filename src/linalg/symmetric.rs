//! The symmetric product `C = α·A·Aᵀ + β·C`: one triangle computed, then mirrored.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, MatRef, Par};

use super::matmul::{GemmBackend, check_product_shapes};
use super::portable;
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
/// use mlkern::linalg::{sym_product, view, view_mut, Layout, Par};
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
/// use mlkern::linalg::{sym_product_with, view, view_mut, GemmBackend, Layout, Par};
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
    mirror_lower(dst);
    Ok(())
}

/// Diagonal blocks up to this order are computed as full GEMMs (both triangles; the upper one is
/// overwritten by the mirror): below it, faer's triangular kernels and the recursion overhead
/// cost more than the wasted half-block.
const SYM_LEAF: usize = 64;

/// Lower triangle of `α·L·R` (+ `dst`) by recursive 2×2 blocking: the off-diagonal block is one
/// full, well-parallelized GEMM of half the order; diagonal blocks recurse down to [`SYM_LEAF`].
/// faer's own triangular product (`BlockStructure::TriangularLower`) halves the flops too, but in
/// our measurements it does not speed up with more threads (its blocks are small), which wiped out
/// the gain at 2 threads; this recursion keeps ≈ 94 % of the flop saving (leaves of 128 at order
/// 1024) at the full GEMM rate.
fn lower_blocked<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) {
    let n = dst.nrows();
    if n <= SYM_LEAF {
        if n > 32 {
            faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, par);
        } else {
            triangular::matmul(
                dst,
                BlockStructure::TriangularLower,
                accum,
                lhs,
                BlockStructure::Rectangular,
                rhs,
                BlockStructure::Rectangular,
                alpha,
                par,
            );
        }
        return;
    }
    // Split at a multiple of 16 so that the blocks keep SIMD-friendly sizes.
    let h = (n / 2).next_multiple_of(16).min(n - 1);
    let (d11, _, d21, d22) = dst.split_at_mut(h, h);
    let (l1, l2) = lhs.split_at_row(h);
    let (r1, r2) = rhs.split_at_col(h);
    // The two diagonal halves are independent: with several threads each gets half of them
    // (their small leaf GEMMs do not parallelize well), then the big off-diagonal GEMM gets all.
    let threads = par.degree();
    if threads >= 2 {
        // Two halves of the work, each on its own threads: a diagonal block plus half of the
        // off-diagonal block (split by columns), so both sides carry the same flops.
        let (p1, p2) = (split_par(threads / 2), split_par(threads - threads / 2));
        let (d21a, d21b) = d21.split_at_col_mut(h / 2);
        let (r1a, r1b) = r1.split_at_col(h / 2);
        join(
            || {
                lower_blocked(d11, accum, l1, r1, alpha, p1);
                faer::linalg::matmul::matmul(d21a, accum, l2, r1a, alpha, p1);
            },
            || {
                lower_blocked(d22, accum, l2, r2, alpha, p2);
                faer::linalg::matmul::matmul(d21b, accum, l2, r1b, alpha, p2);
            },
        );
    } else {
        lower_blocked(d11, accum, l1, r1, alpha, par);
        lower_blocked(d22, accum, l2, r2, alpha, par);
        faer::linalg::matmul::matmul(d21, accum, l2, r1, alpha, par);
    }
}

#[cfg(feature = "rayon")]
fn split_par(threads: usize) -> Par {
    if threads >= 2 {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

#[cfg(not(feature = "rayon"))]
fn split_par(_threads: usize) -> Par {
    Par::Seq
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
/// 2×2 blocking: the off-diagonal block is one transposed block copy (faer's `copy_from`), the
/// diagonal blocks recurse down to small tiles copied element by element.
pub(crate) fn mirror_lower<T: Real>(dst: MatMut<'_, T>) {
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
    let (d11, mut d12, d21, d22) = dst.split_at_mut(h, h);
    d12.copy_from(d21.rb().transpose());
    mirror_lower(d11);
    mirror_lower(d22);
}
