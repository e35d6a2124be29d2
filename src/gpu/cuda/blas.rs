//! Checked wrappers over the cuBLAS and driver calls the kernels use, on raw device addresses.
//!
//! Every function is `unsafe`: the caller guarantees that each address points into a live
//! allocation of the context the handle belongs to, large enough for the dimensions, strides and
//! leading dimensions passed. All calls are asynchronous on the handle's stream; scalars
//! (`alpha`, `beta`) are read from the host at call time, f32 whatever the storage type.

use core::ffi::c_void;

use cudarc::cublas::sys::{
    self as cb, cublasComputeType_t, cublasFillMode_t, cublasGemmAlgo_t, cublasHandle_t,
    cublasOperation_t, cublasSideMode_t, cublasStatus_t, cudaDataType,
};
use cudarc::driver::sys::CUstream;

use super::super::Dtype;
use super::{BACKEND, driver_error};
use crate::{Error, Result};

/// Maps a cuBLAS status to `Ok` or [`Error::Backend`].
pub(crate) fn status(call: &'static str, s: cublasStatus_t) -> Result<()> {
    if s == cublasStatus_t::CUBLAS_STATUS_SUCCESS {
        Ok(())
    } else {
        Err(Error::Backend {
            backend: BACKEND,
            call,
            code: s as i32,
        })
    }
}

/// Default math (tensor cores for bf16 inputs, plain FP32 — no TF32 — for f32 inputs) with
/// reduced-precision split-K reductions disallowed, so every product accumulates in f32.
pub(crate) fn set_default_math(blas: &cudarc::cublas::CudaBlas) -> Result<()> {
    let mode = cb::cublasMath_t::CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    // SAFETY: a live handle.
    status("cublasSetMathMode", unsafe {
        cb::cublasSetMathMode(*blas.handle(), mode)
    })
}

pub(crate) fn data_type(d: Dtype) -> cudaDataType {
    match d {
        Dtype::F32 => cudaDataType::CUDA_R_32F,
        Dtype::Bf16 => cudaDataType::CUDA_R_16BF,
    }
}

fn op(transposed: bool) -> cublasOperation_t {
    if transposed {
        cublasOperation_t::CUBLAS_OP_T
    } else {
        cublasOperation_t::CUBLAS_OP_N
    }
}

fn dev(p: u64) -> *const c_void {
    p as usize as *const c_void
}

fn dev_mut(p: u64) -> *mut c_void {
    p as usize as *mut c_void
}

/// A column-major operand: address, leading dimension, distance between batch elements
/// (elements), and whether the product uses its transpose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operand {
    pub ptr: u64,
    pub ld: i32,
    pub stride: i64,
    pub trans: bool,
}

impl Operand {
    pub(crate) fn new(ptr: u64, ld: i32, stride: usize) -> Self {
        Operand {
            ptr,
            ld,
            stride: stride as i64,
            trans: false,
        }
    }

    pub(crate) fn t(mut self) -> Self {
        self.trans = true;
        self
    }
}

/// `C = alpha·op(A)·op(B) + beta·C` for `batch` matrices: C is m×n, the inner dimension k.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gemm {
    pub m: i32,
    pub n: i32,
    pub k: i32,
    pub batch: i32,
    pub alpha: f32,
    pub beta: f32,
}

/// [`Gemm`] with f32 accumulation (`CUBLAS_COMPUTE_32F`), inputs and output in the storage type:
/// `cublasGemmEx` for one matrix, `cublasGemmStridedBatchedEx` for a batch.
pub(crate) unsafe fn gemm(
    h: cublasHandle_t,
    d: Dtype,
    g: Gemm,
    a: Operand,
    b: Operand,
    c: Operand,
) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe { gemm_typed(h, data_type(d), data_type(d), g, [a, b, c]) }
}

/// [`gemm`] with an f32 output `C` (inputs in the storage type).
pub(crate) unsafe fn gemm_to_f32(
    h: cublasHandle_t,
    d: Dtype,
    g: Gemm,
    a: Operand,
    b: Operand,
    c: Operand,
) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe { gemm_typed(h, data_type(d), cudaDataType::CUDA_R_32F, g, [a, b, c]) }
}

unsafe fn gemm_typed(
    h: cublasHandle_t,
    t: cudaDataType,
    tc: cudaDataType,
    g: Gemm,
    [a, b, c]: [Operand; 3],
) -> Result<()> {
    let (alpha, beta) = (
        &g.alpha as *const f32 as *const c_void,
        &g.beta as *const f32 as *const c_void,
    );
    let compute = cublasComputeType_t::CUBLAS_COMPUTE_32F;
    let algo = cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT;
    let (ta, tb) = (op(a.trans), op(b.trans));
    // SAFETY: the caller's contract (module docs).
    unsafe {
        if g.batch == 1 {
            status(
                "cublasGemmEx",
                cb::cublasGemmEx(
                    h,
                    ta,
                    tb,
                    g.m,
                    g.n,
                    g.k,
                    alpha,
                    dev(a.ptr),
                    t,
                    a.ld,
                    dev(b.ptr),
                    t,
                    b.ld,
                    beta,
                    dev_mut(c.ptr),
                    tc,
                    c.ld,
                    compute,
                    algo,
                ),
            )
        } else {
            status(
                "cublasGemmStridedBatchedEx",
                cb::cublasGemmStridedBatchedEx(
                    h,
                    ta,
                    tb,
                    g.m,
                    g.n,
                    g.k,
                    alpha,
                    dev(a.ptr),
                    t,
                    a.ld,
                    a.stride,
                    dev(b.ptr),
                    t,
                    b.ld,
                    b.stride,
                    beta,
                    dev_mut(c.ptr),
                    tc,
                    c.ld,
                    c.stride,
                    g.batch,
                    compute,
                    algo,
                ),
            )
        }
    }
}

/// `y[i·incy] += alpha·x[i·incx]` for `i < n` (f32 arithmetic).
pub(crate) unsafe fn axpy(
    h: cublasHandle_t,
    d: Dtype,
    n: usize,
    alpha: f32,
    x: (u64, i32),
    y: (u64, i32),
) -> Result<()> {
    let t = data_type(d);
    let f = cudaDataType::CUDA_R_32F;
    // SAFETY: the caller's contract.
    status("cublasAxpyEx", unsafe {
        cb::cublasAxpyEx(
            h,
            len(n)?,
            &alpha as *const f32 as *const c_void,
            f,
            dev(x.0),
            t,
            x.1,
            dev_mut(y.0),
            t,
            y.1,
            f,
        )
    })
}

/// `x *= alpha` over `n` contiguous elements (f32 arithmetic).
pub(crate) unsafe fn scal(h: cublasHandle_t, d: Dtype, n: usize, alpha: f32, x: u64) -> Result<()> {
    let f = cudaDataType::CUDA_R_32F;
    // SAFETY: the caller's contract.
    status("cublasScalEx", unsafe {
        cb::cublasScalEx(
            h,
            len(n)?,
            &alpha as *const f32 as *const c_void,
            f,
            dev_mut(x),
            data_type(d),
            1,
            f,
        )
    })
}

/// f32 `C = alpha·op(A)·op(A)ᵀ + beta·C`, lower triangle only (`trans`: `AᵀA` from an k×n `A`).
pub(crate) unsafe fn syrk(
    h: cublasHandle_t,
    n: i32,
    k: i32,
    alpha: f32,
    a: Operand,
    beta: f32,
    c: Operand,
) -> Result<()> {
    // SAFETY: the caller's contract.
    status("cublasSsyrk", unsafe {
        cb::cublasSsyrk_v2(
            h,
            cublasFillMode_t::CUBLAS_FILL_MODE_LOWER,
            op(a.trans),
            n,
            k,
            &alpha,
            a.ptr as usize as *const f32,
            a.ld,
            &beta,
            c.ptr as usize as *mut f32,
            c.ld,
        )
    })
}

/// f32 `C = A + Aᵀ` for square n×n `A` (both in the same buffer, `C` elsewhere).
pub(crate) unsafe fn add_transpose(
    h: cublasHandle_t,
    n: i32,
    a: Operand,
    c: Operand,
) -> Result<()> {
    let one = 1.0f32;
    let ap = a.ptr as usize as *const f32;
    // SAFETY: the caller's contract.
    status("cublasSgeam", unsafe {
        cb::cublasSgeam(
            h,
            cublasOperation_t::CUBLAS_OP_N,
            cublasOperation_t::CUBLAS_OP_T,
            n,
            n,
            &one,
            ap,
            a.ld,
            &one,
            ap,
            a.ld,
            c.ptr as usize as *mut f32,
            c.ld,
        )
    })
}

/// f32 `C = S·B` (`left`) or `C = B·S` with `S` symmetric, read from its lower triangle; C is m×n.
pub(crate) unsafe fn symm(
    h: cublasHandle_t,
    left: bool,
    (m, n): (i32, i32),
    s: Operand,
    b: Operand,
    c: Operand,
) -> Result<()> {
    let (one, zero) = (1.0f32, 0.0f32);
    let side = if left {
        cublasSideMode_t::CUBLAS_SIDE_LEFT
    } else {
        cublasSideMode_t::CUBLAS_SIDE_RIGHT
    };
    // SAFETY: the caller's contract.
    status("cublasSsymm", unsafe {
        cb::cublasSsymm_v2(
            h,
            side,
            cublasFillMode_t::CUBLAS_FILL_MODE_LOWER,
            m,
            n,
            &one,
            s.ptr as usize as *const f32,
            s.ld,
            b.ptr as usize as *const f32,
            b.ld,
            &zero,
            c.ptr as usize as *mut f32,
            c.ld,
        )
    })
}

/// f32 `y = alpha·op(A)·x` for a column-major m×n `A`.
pub(crate) unsafe fn gemv(
    h: cublasHandle_t,
    (m, n): (i32, i32),
    alpha: f32,
    a: Operand,
    x: u64,
    y: u64,
) -> Result<()> {
    let zero = 0.0f32;
    // SAFETY: the caller's contract.
    status("cublasSgemv", unsafe {
        cb::cublasSgemv_v2(
            h,
            op(a.trans),
            m,
            n,
            &alpha,
            a.ptr as usize as *const f32,
            a.ld,
            x as usize as *const f32,
            1,
            &zero,
            y as usize as *mut f32,
            1,
        )
    })
}

/// f32 rank-1 update `A += alpha·x·yᵀ` of a column-major m×n `A`.
pub(crate) unsafe fn ger(
    h: cublasHandle_t,
    (m, n): (i32, i32),
    alpha: f32,
    x: u64,
    y: u64,
    a: Operand,
) -> Result<()> {
    // SAFETY: the caller's contract.
    status("cublasSger", unsafe {
        cb::cublasSger_v2(
            h,
            m,
            n,
            &alpha,
            x as usize as *const f32,
            1,
            y as usize as *const f32,
            1,
            a.ptr as usize as *mut f32,
            a.ld,
        )
    })
}

/// Asynchronous device-to-device copy of `bytes` bytes.
pub(crate) unsafe fn copy(stream: CUstream, dst: u64, src: u64, bytes: usize) -> Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    // SAFETY: the caller's contract.
    unsafe { cudarc::driver::result::memcpy_dtod_async(dst, src, bytes, stream) }
        .map_err(|e| driver_error("cuMemcpyDtoDAsync", e))
}

/// Asynchronous zeroing of `bytes` bytes.
pub(crate) unsafe fn zero(stream: CUstream, dst: u64, bytes: usize) -> Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    // SAFETY: the caller's contract.
    unsafe { cudarc::driver::result::memset_d8_async(dst, 0, bytes, stream) }
        .map_err(|e| driver_error("cuMemsetD8Async", e))
}

/// A length as cuBLAS's `int`.
pub(crate) fn len(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::InvalidParameter {
        name: "gpu: dimension",
        reason: "cuBLAS takes dimensions and lengths below 2³¹",
    })
}
