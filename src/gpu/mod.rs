//! The GPU backend (feature `cublas`): Newton–Schulz and Gram spectra on an NVIDIA GPU through
//! cuBLAS.
//!
//! The CUDA driver and cuBLAS are loaded at run time (`cudarc` with dynamic loading), so the
//! feature builds on machines without a CUDA toolkit; the bindings are CUDA 13's and also find a
//! CUDA 12 cuBLAS. [`Cuda::try_new`] probes for the driver, the library and a device first and
//! returns [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) with the reason — never a panic — where one is missing.
//! Without the `cublas` feature this module keeps the same API and every constructor returns
//! that error, so user code can probe for a GPU without any `cfg`.
//!
//! What runs on the device:
//! * [`Cuda::orthogonalize`]: Newton–Schulz over a b×m×n batch in f32 or bf16 storage (f32
//!   accumulation in every product, no TF32), any [`ortho`](crate::ortho) schedule, standard or
//!   Gram iteration, with the per-matrix normalization on the device (squared norms from one
//!   batched GEMM with f32 output, so NaN/∞ are caught). Batches use strided-batched GEMMs; the
//!   step matrix `a·I + b·A + c·A²` takes `b·A` from the GEMM's β and `a·I` from one strided
//!   `axpy` over the diagonals of the whole batch, never a pass over the k×N iterate. The
//!   standard iteration of a single f32 matrix computes the symmetric products with `SYRK` (one
//!   triangle) and applies them with `SYMM`. Reported flops are the flops executed (full GEMMs;
//!   the CPU reports count a symmetric product as half). Reductions never drop below f32
//!   (`CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION`; PyTorch allows bf16 split-K reductions).
//! * [`Cuda::gram_singular_values`]: the f32 Gram matrix of a tall hidden-state matrix (optionally
//!   column-centered on the device) followed by the small symmetric eigenproblem on the host in
//!   f64 — the spectrum the effective-rank metrics need.
//!
//! ```
//! use mlkern::gpu::Cuda;
//! use mlkern::ortho::NsConfig;
//!
//! match Cuda::try_new() {
//!     Ok(gpu) => {
//!         let g: Vec<f32> = (0..12).map(|i| ((i * 7 % 5) as f32) - 2.0).collect();
//!         let mut x = gpu.upload(&g)?;
//!         let mut ws = gpu.workspace::<f32>();
//!         let reports = gpu.orthogonalize(&mut x, 1, 3, 4, &NsConfig::default(), &mut ws)?;
//!         let mut out = vec![0.0f32; 12];
//!         gpu.download(&x, &mut out)?;
//!         assert_eq!(reports.len(), 1);
//!     }
//!     // No GPU, no driver or no `cublas` feature: a reason, not a panic.
//!     Err(e) => println!("no GPU: {e}"),
//! }
//! # Ok::<(), mlkern::Error>(())
//! ```

mod scalar;

// The only unsafe code in the crate: FFI calls into the CUDA driver and cuBLAS on raw device
// addresses. Each call states what it relies on; buffer sizes are checked before any call.
#[cfg(feature = "cublas")]
#[allow(unsafe_code)]
mod cuda;
#[cfg(feature = "cublas")]
use cuda as imp;

#[cfg(not(feature = "cublas"))]
mod stub;
#[cfg(not(feature = "cublas"))]
use stub as imp;

pub use half::bf16;
pub use scalar::{Dtype, GpuScalar};

use alloc::string::String;
use alloc::vec::Vec;

use crate::Result;
use crate::ortho::{NsConfig, NsReport};

/// A GPU with a cuBLAS handle on one stream. Every call on it is ordered on that stream; calls
/// that return host data ([`download`](Self::download), [`orthogonalize`](Self::orthogonalize)'s
/// reports, [`gram_singular_values`](Self::gram_singular_values)) wait for the work they need.
#[derive(Debug)]
pub struct Cuda {
    inner: imp::Context,
}

/// What [`Cuda::info`] reports about the device and the libraries in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device ordinal.
    pub ordinal: usize,
    /// Device name as the driver reports it.
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Driver API version, e.g. 13000 for CUDA 13.0.
    pub driver_version: i32,
    /// cuBLAS version, e.g. 130100 for 13.1.0.
    pub cublas_version: i32,
}

/// A buffer of `T` in device memory, owned by the [`Cuda`] that made it.
#[derive(Debug)]
pub struct DeviceBuffer<T: GpuScalar> {
    inner: imp::Buffer<T>,
}

impl<T: GpuScalar> DeviceBuffer<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        imp::buffer_len(&self.inner)
    }

    /// Whether the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Device scratch for [`Cuda::orthogonalize`]: the second iterate, the k×k matrices, the norms.
/// It grows to the largest call it has seen and is reused; keep one per element type and shape
/// family to avoid reallocations in a training loop.
#[derive(Debug)]
pub struct Workspace<T: GpuScalar> {
    inner: imp::Scratch<T>,
}

impl<T: GpuScalar> Workspace<T> {
    /// f32 only: compute the symmetric products of single (unbatched) matrices with `SYRK`/`SYMM`
    /// (`true`, the default) or with general GEMMs (`false`). No effect on bf16, which cuBLAS has
    /// no symmetric kernels for, or on batches.
    pub fn set_symmetric_kernels(&mut self, on: bool) {
        imp::set_symmetric(&mut self.inner, on);
    }

    /// Device bytes currently held.
    pub fn bytes(&self) -> usize {
        imp::scratch_bytes(&self.inner)
    }
}

impl Cuda {
    /// Opens GPU 0.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`](crate::Error::BackendUnavailable) when this build has no
    /// `cublas` feature, when the CUDA driver or cuBLAS library cannot be loaded, or when no
    /// device is present; [`Error::Backend`](crate::Error::Backend) when the driver fails.
    pub fn try_new() -> Result<Cuda> {
        Cuda::try_new_on(0)
    }

    /// Opens GPU `ordinal`.
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new); also when `ordinal` is not below the device count.
    pub fn try_new_on(ordinal: usize) -> Result<Cuda> {
        Ok(Cuda {
            inner: imp::open(ordinal)?,
        })
    }

    /// The device, driver and cuBLAS versions.
    pub fn info(&self) -> &DeviceInfo {
        imp::info(&self.inner)
    }

    /// Copies `host` into a new device buffer.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) when the allocation or copy fails.
    pub fn upload<T: GpuScalar>(&self, host: &[T]) -> Result<DeviceBuffer<T>> {
        Ok(DeviceBuffer {
            inner: imp::upload(&self.inner, host)?,
        })
    }

    /// A new device buffer of `len` zeros.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `len` when the byte size
    /// overflows; [`Error::Backend`](crate::Error::Backend) when the device allocation fails.
    pub fn zeros<T: GpuScalar>(&self, len: usize) -> Result<DeviceBuffer<T>> {
        Ok(DeviceBuffer {
            inner: imp::zeros(&self.inner, len)?,
        })
    }

    /// Copies `buf` into `host` (waits for the work queued before).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the lengths differ,
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) when `buf` belongs to another
    /// [`Cuda`], [`Error::Backend`](crate::Error::Backend) when the copy fails.
    pub fn download<T: GpuScalar>(&self, buf: &DeviceBuffer<T>, host: &mut [T]) -> Result<()> {
        imp::download(&self.inner, &buf.inner, host)
    }

    /// Waits until every call queued on this device has finished.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) when queued work failed.
    pub fn synchronize(&self) -> Result<()> {
        imp::synchronize(&self.inner)
    }

    /// An empty scratch space for [`orthogonalize`](Self::orthogonalize) on this device.
    pub fn workspace<T: GpuScalar>(&self) -> Workspace<T> {
        Workspace {
            inner: imp::scratch(&self.inner),
        }
    }

    /// Newton–Schulz in place on `x`, a C-order b×m×n batch: each m×n matrix is replaced by its
    /// orthogonalized counterpart, with one [`NsReport`] per matrix (the input norm as the
    /// device computed it, in `T`).
    ///
    /// The same semantics as [`ortho::orthogonalize_batch_into`](crate::ortho::orthogonalize_batch_into):
    /// the schedule's normalization, coefficients and step count, [`Algo`](crate::ortho::Algo)
    /// (`Auto` = Gram at aspect ≥ 2), tall matrices iterated on their transposes, a zero matrix
    /// maps to zero with `zero_input` set. `cfg.backend` (a CPU GEMM choice) is ignored. The
    /// result may end in memory that came from the workspace: `x` then owns it and `ws` keeps
    /// `x`'s old allocation (no copy is made).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `x.len() ≠ b·m·n`;
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for an invalid schedule, a
    /// matrix above 2³¹−1 elements, or a buffer or workspace of another [`Cuda`];
    /// [`Error::TooLarge`](crate::Error::TooLarge) for more than
    /// [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) steps (checked before any work);
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) when the `b` host reports cannot be
    /// allocated (a huge batch of empty matrices);
    /// [`Error::NonFinite`](crate::Error::NonFinite) when a matrix holds NaN/±∞ (or its norm
    /// overflows `T`; `index` is the first non-finite element in C order, or the matrix's first
    /// element when every element is finite); [`Error::Backend`](crate::Error::Backend) when
    /// cuBLAS or the driver fails. On an error `x` may hold partial results.
    pub fn orthogonalize<T: GpuScalar>(
        &self,
        x: &mut DeviceBuffer<T>,
        b: usize,
        m: usize,
        n: usize,
        cfg: &NsConfig<'_>,
        ws: &mut Workspace<T>,
    ) -> Result<Vec<NsReport>> {
        imp::orthogonalize(&self.inner, &mut x.inner, (b, m, n), cfg, &mut ws.inner)
    }

    /// Singular values (descending, length `min(rows, cols)`) of the C-order rows×cols matrix in
    /// `h`, from its f32 Gram matrix on the device — `HᵀH` for tall `H`, `HHᵀ` for wide — and the
    /// symmetric eigenvalues of that small matrix in f64 on the host. With `center`, each column
    /// of `H` first has its mean removed (on a device copy; `h` is not modified).
    ///
    /// Accuracy: the Gram matrix is accumulated in f32 without TF32, so each eigenvalue `σ²`
    /// carries an absolute error of order `ε₃₂·σ₁²` — singular values below about
    /// `3e-4·σ₁` are not resolved. Use the CPU SVD for those.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `h.len() ≠ rows·cols`;
    /// [`Error::Empty`](crate::Error::Empty) when either dimension is 0;
    /// [`Error::NonFinite`](crate::Error::NonFinite) when the Gram matrix is not finite;
    /// [`Error::Backend`](crate::Error::Backend) when cuBLAS or the driver fails.
    pub fn gram_singular_values(
        &self,
        h: &DeviceBuffer<f32>,
        rows: usize,
        cols: usize,
        center: bool,
    ) -> Result<Vec<f64>> {
        imp::gram_singular_values(&self.inner, &h.inner, rows, cols, center)
    }
}
