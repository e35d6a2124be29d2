//! The thin layer over [faer](https://docs.rs/faer): views over slices, GEMM with explicit
//! parallelism, and the symmetric product `C = α·A·Aᵀ + β·C` (alloc tier).
//!
//! * [`view`], [`view_mut`] — faer [`MatRef`]/[`MatMut`] views over row-major, column-major or
//!   strided slices, with shape checks that return [`Error`](crate::Error) instead of panicking.
//! * [`matmul`] — `C ← α·A·B` or `C ← C + α·A·B`. With `std` it runs faer's runtime-dispatched
//!   GEMM (AVX2/AVX-512 on x86-64); without `std` faer's GEMM loses its SIMD kernels (upstream
//!   gemm issue #44, 5–13× slower), so [`GemmBackend::Auto`] then picks mlkern's own
//!   [portable blocked GEMM](GemmBackend::Portable), which dispatches through pulp at run time in
//!   every build.
//! * [`sym_product`] — `C = α·A·Aᵀ + β·C` computing one triangle (about half the flops of a full
//!   GEMM) and mirroring it, so the result is exactly symmetric.
//!
//! ```
//! use mlkern::Par;
//! use mlkern::linalg::{self, Accum, Layout};
//! let a = [1.0f64, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]] row-major
//! let b = [1.0f64, 0.0, 0.0, 1.0];
//! let mut c = [0.0f64; 4];
//! let av = linalg::view(&a, 2, 2, Layout::RowMajor)?;
//! let bv = linalg::view(&b, 2, 2, Layout::RowMajor)?;
//! let cv = linalg::view_mut(&mut c, 2, 2, Layout::RowMajor)?;
//! linalg::matmul(cv, Accum::Replace, av, bv, 2.0, Par::Seq)?;
//! assert_eq!(c, [2.0, 4.0, 6.0, 8.0]);
//! # Ok::<(), mlkern::Error>(())
//! ```

mod band_reduce;
mod bulge_chase;
mod eigvalsh;
mod elementwise;
mod householder;
mod matmul;
mod portable;
mod symmetric;
mod tridiag_eig;
mod view;

pub use eigvalsh::eigvalsh;
pub(crate) use eigvalsh::{eigvalsh_into, eigvalsh_scratch};
pub(crate) use elementwise::zip_map;
pub use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
pub use faer::{Accum, Mat, MatMut, MatRef};
pub(crate) use matmul::matmul_tiled;
pub use matmul::{GemmBackend, matmul, matmul_portable, matmul_with};
pub(crate) use symmetric::{lower_result_with, symmetric_result_with};
pub use symmetric::{sym_product, sym_product_with};
pub use view::{Layout, view, view_mut};

/// An `m×n` faer matrix of zeros, reserved fallibly: faer's own `Mat::zeros` aborts when the
/// allocation fails, this returns [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming
/// `name` instead (also when `m·n` overflows). faer pads the row count up to its SIMD alignment,
/// so the reservation is checked against the padded size.
#[allow(unsafe_code)] // one `set_dims` on an empty matrix, see below
pub(crate) fn try_zeros_mat<T: crate::Real>(
    m: usize,
    n: usize,
    name: &'static str,
) -> crate::Result<Mat<T>> {
    let len = crate::base::checked_len(&[m, n], name)?;
    let mut mat = Mat::<T>::new();
    mat.try_reserve(m, n).map_err(|_| {
        if len == 0 {
            // Empty, but faer's padded row capacity times the element size overflows.
            crate::Error::OutOfMemory {
                name,
                bytes: usize::MAX,
            }
        } else {
            crate::base::oom::<T>(len, name)
        }
    })?;
    if len == 0 {
        // No element to initialize; `resize_with` would still walk a 0×2⁴⁰ matrix's 2⁴⁰ empty
        // columns.
        // SAFETY: the capacity covers `m×n` (reserved above) and an empty matrix has no element
        // that could be left uninitialized.
        unsafe { mat.set_dims(m, n) };
        return Ok(mat);
    }
    // Within the reserved capacity: no further allocation.
    mat.resize_with(m, n, |_, _| T::zero());
    Ok(mat)
}
