//! GEMM entry: shape checks, then faer's GEMM or the portable blocked kernel.

use faer::{Accum, MatMut, MatRef};

use super::portable;
use crate::Par;
use crate::jobs::row_tiles;
use crate::simd::Isa;
use crate::{Error, Real, Result, Shape};

/// Which GEMM implementation runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GemmBackend {
    /// faer's GEMM when this build has `std` (runtime-dispatched AVX2/AVX-512 kernels), the
    /// [portable](GemmBackend::Portable) kernel otherwise.
    #[default]
    Auto,
    /// faer's `matmul`. Without `std` it runs scalar/baseline kernels (upstream gemm issue #44).
    Faer,
    /// mlkern's blocked GEMM: packed panels and a register-blocked pulp micro-kernel dispatched
    /// at run time (AVX-512, AVX2+FMA, or scalar) in every build, `no_std` included.
    /// Single-threaded: `par` is ignored.
    Portable,
}

impl GemmBackend {
    pub(crate) fn resolve(self) -> GemmBackend {
        match self {
            GemmBackend::Auto if cfg!(feature = "std") => GemmBackend::Faer,
            GemmBackend::Auto => GemmBackend::Portable,
            other => other,
        }
    }
}

pub(crate) fn check_product_shapes<T>(
    what: &'static str,
    dst: (usize, usize),
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) -> Result<()> {
    if lhs.ncols() != rhs.nrows() {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d2(lhs.ncols(), rhs.ncols()),
            found: Shape::d2(rhs.nrows(), rhs.ncols()),
        });
    }
    if dst != (lhs.nrows(), rhs.ncols()) {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d2(lhs.nrows(), rhs.ncols()),
            found: Shape::d2(dst.0, dst.1),
        });
    }
    Ok(())
}

/// `C ← α·A·B` ([`Accum::Replace`]) or `C ← C + α·A·B` ([`Accum::Add`]) with the default backend.
///
/// Cost `2·m·n·k` flops. With `Accum::Replace` the old contents of `C` are never read (NaN in `C`
/// does not leak). Values follow IEEE arithmetic: NaN/Inf inputs propagate, they are not checked here.
/// Parallelism is the caller's choice ([`Par::Seq`], or [`Par::threads`]`(n)`: faer's threads come from rayon, so without the `rayon` feature a threaded request runs sequentially).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `A` is m×k, `B` is k'×n with k' ≠ k, or `C` is not m×n.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{matmul, view, view_mut, Accum, Layout};
/// let a = [1.0f32, 2.0, 3.0]; // 1×3
/// let b = [1.0f32, 1.0, 1.0]; // 3×1
/// let mut c = [10.0f32];
/// matmul(view_mut(&mut c, 1, 1, Layout::RowMajor)?, Accum::Add,
///        view(&a, 1, 3, Layout::RowMajor)?, view(&b, 3, 1, Layout::RowMajor)?, 1.0, Par::Seq)?;
/// assert_eq!(c[0], 16.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn matmul<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    matmul_with(GemmBackend::Auto, dst, accum, lhs, rhs, alpha, par)
}

/// [`matmul`] with an explicit [`GemmBackend`] (for benchmarks, tests, and `no_std` tuning).
///
/// # Errors
/// As [`matmul`].
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{matmul_with, view, view_mut, Accum, GemmBackend, Layout};
/// let a = [1.0f64, 2.0, 3.0, 4.0];
/// let mut c = [0.0f64; 4];
/// matmul_with(GemmBackend::Portable, view_mut(&mut c, 2, 2, Layout::RowMajor)?, Accum::Replace,
///             view(&a, 2, 2, Layout::RowMajor)?, view(&a, 2, 2, Layout::RowMajor)?, 1.0, Par::Seq)?;
/// assert_eq!(c, [7.0, 10.0, 15.0, 22.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn matmul_with<T: Real>(
    backend: GemmBackend,
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    if backend.resolve() == GemmBackend::Portable {
        return matmul_portable(Isa::detect(), dst, accum, lhs, rhs, alpha);
    }
    check_product_shapes("matmul", (dst.nrows(), dst.ncols()), lhs, rhs)?;
    if dst.nrows() == 0 || dst.ncols() == 0 {
        // An empty product, whatever the other dimensions (which need no data when one is 0).
        return Ok(());
    }
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, par.faer());
    Ok(())
}

/// Rows per block of [`matmul_tiled`].
const TILE: usize = 256;

/// [`matmul`] as one sequential GEMM per 256-row block of `dst`, blocks dealt to threads: for
/// tall, skinny products (where one GEMM's own threading splits poorly) and wherever the result
/// must not depend on the thread count, bit for bit.
pub(crate) fn matmul_tiled<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) -> Result<()> {
    check_product_shapes("matmul", (dst.nrows(), dst.ncols()), lhs, rhs)?;
    row_tiles(dst, TILE, &mut [(); 0], 0, par, |r0, block, _| {
        let lhs = lhs.subrows(r0, block.nrows());
        matmul_with(GemmBackend::Auto, block, accum, lhs, rhs, alpha, Par::Seq)
    })
}

/// The portable blocked GEMM pinned to one instruction set — for testing every ISA level and for
/// `no_std` deployments that must not depend on run-time detection. Same contract as [`matmul`];
/// single-threaded.
///
/// # Errors
/// As [`matmul`].
///
/// ```
/// use mlkern::linalg::{matmul_portable, view, view_mut, Accum, Layout};
/// use mlkern::simd::Isa;
/// let a = [1.0f32, 2.0, 3.0, 4.0];
/// for isa in Isa::supported() {
///     let mut c = [0.0f32; 4];
///     matmul_portable(isa, view_mut(&mut c, 2, 2, Layout::RowMajor)?, Accum::Replace,
///                     view(&a, 2, 2, Layout::RowMajor)?, view(&a, 2, 2, Layout::RowMajor)?, 1.0)?;
///     assert_eq!(c, [7.0, 10.0, 15.0, 22.0]);
/// }
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn matmul_portable<T: Real>(
    isa: Isa,
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
) -> Result<()> {
    check_product_shapes("matmul", (dst.nrows(), dst.ncols()), lhs, rhs)?;
    portable::gemm(isa, dst, accum, lhs, rhs, alpha, false);
    Ok(())
}
