//! Moving tensor data between candle and mlkern's slices: the device policy, the precision a
//! dtype is computed in, reading (one copy) and writing back in the variable's own dtype.

use candle_core::{DType, Device, Storage, Tensor, Var, WithDType};

use crate::error::{Result, kernel, msg};

/// What happens to a tensor that is not on the CPU. mlkern's kernels run on host memory;
/// copying a GPU tensor to the host and back is slow, so it must be asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DevicePolicy {
    /// A tensor on another device is an error that names it (the default).
    #[default]
    CpuOnly,
    /// Copy it to the host, compute there, and copy the result back to its device.
    HostRoundTrip,
}

/// The float types mlkern computes in (`f32` and `f64`); `bf16`/`f16` data are computed in `f32`.
pub trait HostFloat: mlkern::Real + WithDType {}
impl HostFloat for f32 {}
impl HostFloat for f64 {}

/// The precision a variable of `dtype` is computed in, or `None` for a dtype no optimizer
/// touches (integers).
pub(crate) fn precision(dtype: DType) -> Option<DType> {
    match dtype {
        DType::F64 => Some(DType::F64),
        DType::F32 | DType::BF16 | DType::F16 => Some(DType::F32),
        _ => None,
    }
}

/// `t` on the host, per `policy` (`name` labels the error).
pub(crate) fn on_host(t: &Tensor, name: &str, policy: DevicePolicy) -> Result<Tensor> {
    if t.device().is_cpu() {
        return Ok(t.clone());
    }
    match policy {
        DevicePolicy::HostRoundTrip => Ok(t.to_device(&Device::Cpu)?),
        DevicePolicy::CpuOnly => Err(msg(format!(
            "mlkern-candle: '{name}' is on {:?}; mlkern computes on the CPU (move it there, or opt \
             into DevicePolicy::HostRoundTrip to copy it to the host and back each call)",
            t.device().location()
        ))),
    }
}

/// The values of `t` (any shape, any layout) in precision `T`, row-major: one copy.
pub(crate) fn read<T: HostFloat>(t: &Tensor, name: &str, policy: DevicePolicy) -> Result<Vec<T>> {
    let t = on_host(t, name, policy)?;
    t.to_dtype(T::DTYPE)?.flatten_all()?.to_vec1::<T>()
}

/// Runs `f` on the values of `t` in precision `T`, row-major. A contiguous CPU tensor already
/// in `T` is borrowed in place (no copy; its storage stays read-locked while `f` runs, so `f`
/// must not write to `t`); anything else is converted into a new buffer first.
pub(crate) fn with_values<T: HostFloat, R>(
    t: &Tensor,
    name: &str,
    policy: DevicePolicy,
    f: impl FnOnce(&[T]) -> Result<R>,
) -> Result<R> {
    let t = on_host(t, name, policy)?;
    if t.dtype() == T::DTYPE {
        let (storage, layout) = t.storage_and_layout();
        if let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) {
            return f(&T::cpu_storage_as_slice(cpu)?[start..end]);
        }
    }
    let values = read::<T>(&t, name, policy)?;
    f(&values)
}

/// The values of `t`, checked finite (`what` and `name` label the error).
pub(crate) fn read_finite<T: HostFloat>(
    t: &Tensor,
    name: &str,
    what: &'static str,
    policy: DevicePolicy,
) -> Result<Vec<T>> {
    let v = read::<T>(t, name, policy)?;
    mlkern::simd::check_finite(&v, what).map_err(|e| kernel(name, e))?;
    Ok(v)
}

/// A tensor of `shape` holding `values`, converted to `dtype` on `device`.
pub(crate) fn tensor<T: HostFloat>(
    values: Vec<T>,
    shape: &candle_core::Shape,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let t = Tensor::from_vec(values, shape, &Device::Cpu)?.to_dtype(dtype)?;
    Ok(if device.is_cpu() {
        t
    } else {
        t.to_device(device)?
    })
}

/// Writes `values` (row-major, precision `T`) into `var` in its own dtype and on its device.
pub(crate) fn write<T: HostFloat>(var: &Var, values: Vec<T>) -> Result<()> {
    let t = tensor(values, var.shape(), var.dtype(), var.device())?;
    var.set(&t)
}
