//! The cuBLAS backend: device context, buffers and host↔device copies. The kernels live in
//! [`blas`] (thin checked wrappers over the cuBLAS calls), [`ns`] and [`spectrum`].

mod blas;
mod ns;
mod spectrum;

use alloc::string::String;
use alloc::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr, DriverError,
    ValidAsZeroBits,
};

use super::{DeviceInfo, GpuScalar};
use crate::{Error, Result, Shape};

pub(crate) use ns::orthogonalize;
pub(crate) use spectrum::gram_singular_values;

/// Storage bound of [`GpuScalar`]: a type the driver can copy and zero.
pub trait Storage: DeviceRepr + ValidAsZeroBits {}
impl Storage for f32 {}
impl Storage for half::bf16 {}

const BACKEND: &str = "cublas";

/// An open device: context, its default stream, a cuBLAS handle bound to that stream.
pub(crate) struct Context {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    blas: cudarc::cublas::CudaBlas,
    info: DeviceInfo,
}

impl Drop for Context {
    fn drop(&mut self) {
        // cuBLAS's handle is destroyed next (a field drop); it needs the context current on
        // whatever thread drops the `Cuda`.
        let _ = self.ctx.bind_to_thread();
    }
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cuda").field("info", &self.info).finish()
    }
}

/// A device allocation and its logical length (the allocation has at least one element: the
/// driver rejects empty allocations).
#[derive(Debug)]
pub(crate) struct Buffer<T> {
    slice: CudaSlice<T>,
    len: usize,
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        // The free that follows (a field drop) needs the context current on this thread.
        let _ = self.slice.context().bind_to_thread();
    }
}

/// Scratch of one element type; see [`ns`].
#[derive(Debug)]
pub(crate) struct Scratch<T: GpuScalar> {
    ctx: Arc<CudaContext>,
    /// The second k×N iterate of every matrix (exactly b·k·N elements).
    pub(super) iterate: Option<Buffer<T>>,
    /// Square k×k matrices, `SQUARES` per batch element, each `k² + k` apart.
    pub(super) squares: Option<Buffer<T>>,
    /// `1` repeated, for the `a·I` term (`b·k` elements).
    pub(super) ones: Option<Buffer<T>>,
    /// One squared norm per matrix (f32).
    pub(super) norms: Option<Buffer<f32>>,
    pub(super) symmetric: bool,
}

pub(crate) fn driver_error(call: &'static str, e: DriverError) -> Error {
    Error::Backend {
        backend: BACKEND,
        call,
        code: e.0 as i32,
    }
}

fn unavailable(reason: &'static str) -> Error {
    Error::BackendUnavailable {
        backend: BACKEND,
        reason,
    }
}

pub(crate) fn open(ordinal: usize) -> Result<Context> {
    // SAFETY: both probes only try to load the shared libraries; no CUDA call is made.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(unavailable(
            "the CUDA driver library (libcuda.so) could not be loaded",
        ));
    }
    if !unsafe { cudarc::cublas::sys::is_culib_present() } {
        return Err(unavailable(
            "the cuBLAS library (libcublas.so.13 or .12) could not be loaded",
        ));
    }
    // SAFETY: plain driver calls with valid out-pointers.
    let init = unsafe { cudarc::driver::sys::cuInit(0) };
    if init != cudarc::driver::sys::CUresult::CUDA_SUCCESS {
        return Err(unavailable(
            "cuInit failed: no usable NVIDIA GPU or driver on this machine",
        ));
    }
    let count = CudaContext::device_count().map_err(|e| driver_error("cuDeviceGetCount", e))?;
    if count <= 0 {
        return Err(unavailable("the CUDA driver reports no device"));
    }
    if ordinal >= count as usize {
        return Err(unavailable("no CUDA device with this ordinal"));
    }
    let ctx = CudaContext::new(ordinal).map_err(|e| driver_error("cuCtxCreate", e))?;
    // One stream and no cross-stream use: the driver's ordering is all the tracking needed.
    // SAFETY: called before any buffer of this context exists.
    unsafe { ctx.disable_event_tracking() };
    let stream = ctx.default_stream();
    let blas = cudarc::cublas::CudaBlas::new(stream.clone()).map_err(|e| Error::Backend {
        backend: BACKEND,
        call: "cublasCreate",
        code: e.0 as i32,
    })?;
    let mut driver_version = 0i32;
    // SAFETY: valid out-pointer.
    unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut driver_version) };
    let mut cublas_version = 0i32;
    // SAFETY: valid handle and out-pointer.
    blas::status("cublasGetVersion", unsafe {
        cudarc::cublas::sys::cublasGetVersion_v2(*blas.handle(), &mut cublas_version)
    })?;
    blas::set_default_math(&blas)?;
    let info = DeviceInfo {
        ordinal,
        name: ctx
            .name()
            .unwrap_or_else(|_| String::from("unknown NVIDIA GPU")),
        compute_capability: ctx.compute_capability().unwrap_or((0, 0)),
        driver_version,
        cublas_version,
    };
    Ok(Context {
        ctx,
        stream,
        blas,
        info,
    })
}

pub(crate) fn info(c: &Context) -> &DeviceInfo {
    &c.info
}

pub(crate) fn buffer_len<T>(b: &Buffer<T>) -> usize {
    b.len
}

pub(crate) fn set_symmetric<T: GpuScalar>(s: &mut Scratch<T>, on: bool) {
    s.symmetric = on;
}

pub(crate) fn scratch_bytes<T: GpuScalar>(s: &Scratch<T>) -> usize {
    let bytes = |b: &Option<Buffer<T>>| b.as_ref().map_or(0, |b| b.slice.num_bytes());
    bytes(&s.iterate)
        + bytes(&s.squares)
        + bytes(&s.ones)
        + s.norms.as_ref().map_or(0, |b| b.slice.num_bytes())
}

/// Rejects a buffer that another context allocated (its pointers mean nothing here).
pub(crate) fn check_owner(c: &Context, owner: &Arc<CudaContext>, what: &'static str) -> Result<()> {
    if Arc::ptr_eq(&c.ctx, owner) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: what,
            reason: "belongs to another Cuda device handle",
        })
    }
}

pub(crate) fn upload<T: GpuScalar>(c: &Context, host: &[T]) -> Result<Buffer<T>> {
    if host.is_empty() {
        return zeros(c, 0);
    }
    let slice = c
        .stream
        .clone_htod(host)
        .map_err(|e| driver_error("cuMemcpyHtoD", e))?;
    Ok(Buffer {
        slice,
        len: host.len(),
    })
}

pub(crate) fn zeros<T: GpuScalar>(c: &Context, len: usize) -> Result<Buffer<T>> {
    // cudarc multiplies `len` by the element size unchecked: an overflowing byte count must be an
    // error here, before the driver sees a wrapped size.
    if len
        .checked_mul(core::mem::size_of::<T>())
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(crate::base::oom::<T>(len, "len"));
    }
    let slice = c
        .stream
        .alloc_zeros::<T>(len.max(1))
        .map_err(|e| driver_error("cuMemAlloc", e))?;
    Ok(Buffer { slice, len })
}

pub(crate) fn download<T: GpuScalar>(c: &Context, b: &Buffer<T>, host: &mut [T]) -> Result<()> {
    check_owner(c, b.slice.context(), "download: buffer")?;
    if host.len() != b.len {
        return Err(Error::ShapeMismatch {
            what: "gpu download: host slice",
            expected: Shape::d1(b.len),
            found: Shape::d1(host.len()),
        });
    }
    if host.is_empty() {
        return Ok(());
    }
    c.stream
        .memcpy_dtoh(&b.slice.slice(..b.len), host)
        .map_err(|e| driver_error("cuMemcpyDtoH", e))?;
    synchronize(c)
}

pub(crate) fn synchronize(c: &Context) -> Result<()> {
    c.stream
        .synchronize()
        .map_err(|e| driver_error("cuStreamSynchronize", e))
}

pub(crate) fn scratch<T: GpuScalar>(c: &Context) -> Scratch<T> {
    Scratch {
        ctx: c.ctx.clone(),
        iterate: None,
        squares: None,
        ones: None,
        norms: None,
        symmetric: true,
    }
}

/// The raw device address of a buffer (event tracking is off, so no guard is needed).
pub(crate) fn ptr<T>(c: &Context, b: &Buffer<T>) -> u64 {
    b.slice.device_ptr(&c.stream).0
}

/// The raw device address of a buffer that a call will write.
pub(crate) fn ptr_mut<T>(c: &Context, b: &mut Buffer<T>) -> u64 {
    b.slice.device_ptr_mut(&c.stream).0
}

/// Makes `slot` hold exactly `len` elements (reallocating only when the length changes), and
/// zeroes it when `zero` is set.
pub(crate) fn ensure<T: GpuScalar + Storage>(
    c: &Context,
    slot: &mut Option<Buffer<T>>,
    len: usize,
    zero: bool,
) -> Result<()> {
    match slot {
        Some(b) if b.len == len => {
            if zero && len > 0 {
                c.stream
                    .memset_zeros(&mut b.slice)
                    .map_err(|e| driver_error("cuMemsetD8", e))?;
            }
        }
        _ => {
            *slot = None; // free first: the old and new buffers need not coexist
            *slot = Some(zeros(c, len)?);
        }
    }
    Ok(())
}
