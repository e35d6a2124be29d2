//! The symmetric product `C = α·A·Aᵀ + β·C`: one triangle computed, then mirrored.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::ReborrowMut;
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
        _ => triangular::matmul(
            dst.rb_mut(),
            BlockStructure::TriangularLower,
            accum,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            alpha,
            par,
        ),
    }
    mirror_lower(dst);
    Ok(())
}

/// Copies the strict lower triangle of a square matrix onto its upper triangle.
pub(crate) fn mirror_lower<T: Copy>(mut dst: MatMut<'_, T>) {
    let m = dst.nrows();
    for j in 1..m {
        for i in 0..j {
            dst[(i, j)] = dst[(j, i)];
        }
    }
}
