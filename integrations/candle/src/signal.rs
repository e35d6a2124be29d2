//! STFT, ISTFT and TiARA on candle tensors.
//!
//! candle has no complex dtype, so a spectrogram is a real tensor with a trailing dimension of 2
//! holding `(re, im)`: exactly `torch.view_as_real(torch.stft(..., return_complex=True))`.

use candle_core::{DType, Tensor};
use mlkern::Par;
use mlkern::stft::{Complex, Spectrogram, Stft, TiaraConfig};

use crate::error::{Result, kernel, msg};
use crate::host::{self, DevicePolicy, HostFloat};

/// `(batch, length, batched)` of a `[L]` or `[B, L]` signal.
fn signal_shape(x: &Tensor) -> Result<(usize, usize, bool)> {
    match *x.dims() {
        [l] => Ok((1, l, false)),
        [b, l] => Ok((b, l, true)),
        _ => Err(msg(format!(
            "mlkern-candle: stft: expected a [L] or [B, L] signal, found shape {:?}",
            x.dims()
        ))),
    }
}

/// `torch.stft(x, ..., return_complex=True)` viewed as real: `x` is `[L]` or `[B, L]` (any float
/// dtype, converted to `T`); the result is `[F, T, 2]` or `[B, F, T, 2]` in `T`'s dtype on `x`'s
/// device, with every option of the plan (`n_fft`, hop, window and its length, centre and pad
/// mode, one-/two-sided, normalized).
///
/// # Errors
/// A signal of another rank, a device other than the CPU (unless `device` is
/// [`DevicePolicy::HostRoundTrip`]), or mlkern's STFT errors (a signal too short to pad, NaN/±∞).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mlkern::Par;
/// use mlkern::stft::{Stft, StftConfig};
/// use mlkern_candle::{stft, DevicePolicy};
/// let x = Tensor::randn(0f32, 1.0, (2, 1000), &Device::Cpu)?;
/// let plan = Stft::<f32>::new(&StftConfig::new(64).with_hop(16)).unwrap();
/// let s = stft(&x, &plan, Par::Seq, DevicePolicy::CpuOnly)?;
/// assert_eq!(s.dims(), &[2, 33, 63, 2]);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn stft<T: HostFloat>(
    x: &Tensor,
    plan: &Stft<T>,
    par: Par,
    device: DevicePolicy,
) -> Result<Tensor> {
    let (batch, _, batched) = signal_shape(x)?;
    let spec = host::with_values::<T, _>(x, "stft input", device, |data| {
        plan.stft(data, batch, par).map_err(|e| kernel("stft", e))
    })?;
    let (b, f, t) = spec.shape();
    let flat = into_pairs(spec.into_vec());
    let shape: Vec<usize> = if batched {
        vec![b, f, t, 2]
    } else {
        vec![f, t, 2]
    };
    host::tensor(flat, &shape.into(), T::DTYPE, x.device())
}

/// The spectrogram's buffer as `(re, im)` pairs, without a copy: copying the 2·B·F·T values
/// (and faulting in a second buffer of that size) tripled the time of [`stft`] on the 64×16 000
/// workload.
fn into_pairs<T>(v: Vec<Complex<T>>) -> Vec<T> {
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: `Complex<T>` is `#[repr(C)] { re: T, im: T }` (num-complex documents it as
    // layout-compatible with `[T; 2]`), so its alignment is `T`'s and `cap` complex values are
    // exactly `2·cap` values of `T`: the pointer, length and capacity describe the same
    // allocation with the same size and alignment, and `v` is never used or dropped again.
    unsafe { Vec::from_raw_parts(ptr.cast::<T>(), 2 * len, 2 * cap) }
}

/// `torch.istft(torch.view_as_complex(spec), ..., length=length)`: `spec` is `[F, T, 2]` or
/// `[B, F, T, 2]` as [`stft`] returns it; the result is `[L]` or `[B, L]` in `T`'s dtype.
/// `length` restores a signal length that the frames do not determine.
///
/// # Errors
/// A spectrogram of another shape, a bin count that is not the plan's, a window that fails
/// torch's NOLA check, a device other than the CPU (unless opted in), NaN/±∞.
pub fn istft<T: HostFloat>(
    spec: &Tensor,
    plan: &Stft<T>,
    length: Option<usize>,
    par: Par,
    device: DevicePolicy,
) -> Result<Tensor> {
    let (b, f, t, batched) = match *spec.dims() {
        [f, t, 2] => (1, f, t, false),
        [b, f, t, 2] => (b, f, t, true),
        _ => {
            return Err(msg(format!(
                "mlkern-candle: istft: expected [F, T, 2] or [B, F, T, 2] (real and imaginary \
                 parts last), found shape {:?}",
                spec.dims()
            )));
        }
    };
    let flat = host::read::<T>(spec, "istft input", device)?;
    let data: Vec<Complex<T>> = flat
        .chunks_exact(2)
        .map(|c| Complex::new(c[0], c[1]))
        .collect();
    let spec_in = Spectrogram::new(data, b, f, t)
        .map_err(|e| kernel("istft", e))?
        .with_length(length);
    let y = plan.istft(&spec_in, par).map_err(|e| kernel("istft", e))?;
    let len = y.len() / b.max(1);
    let shape: Vec<usize> = if batched { vec![b, len] } else { vec![len] };
    host::tensor(y, &shape.into(), T::DTYPE, spec.device())
}

/// TiARA (arXiv 2412.17254) on attention probabilities (or logits, per `cfg`) `[..., N, N]`:
/// the reweighted probabilities, same shape, dtype and device (computed in `f64` for `f64` input
/// and in `f32` otherwise).
///
/// # Errors
/// A tensor whose last two dimensions are not equal, a device other than the CPU (unless opted
/// in), or mlkern's TiARA errors (rows that are not distributions, a bad band or window).
///
/// ```
/// use candle_core::{Device, Tensor, D};
/// use candle_nn::ops::softmax;
/// use mlkern::Par;
/// use mlkern::stft::{Band, TiaraConfig};
/// use mlkern_candle::{tiara, DevicePolicy};
/// let p = softmax(&Tensor::randn(0f32, 1.0, (2, 4, 16, 16), &Device::Cpu)?, D::Minus1)?;
/// let cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 4 });
/// let q = tiara(&p, &cfg, Par::Seq, DevicePolicy::CpuOnly)?;
/// assert_eq!(q.dims(), p.dims());
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn tiara(x: &Tensor, cfg: &TiaraConfig, par: Par, device: DevicePolicy) -> Result<Tensor> {
    let dims = x.dims();
    let n = match dims {
        [.., a, b] if a == b => *a,
        _ => {
            return Err(msg(format!(
                "mlkern-candle: tiara: expected [..., N, N] attention matrices, found shape {dims:?}"
            )));
        }
    };
    if x.dtype() == DType::F64 {
        tiara_in::<f64>(x, n, cfg, par, device)
    } else {
        tiara_in::<f32>(x, n, cfg, par, device)
    }
}

fn tiara_in<T: HostFloat>(
    x: &Tensor,
    n: usize,
    cfg: &TiaraConfig,
    par: Par,
    device: DevicePolicy,
) -> Result<Tensor> {
    let out = host::with_values::<T, _>(x, "tiara input", device, |p| {
        mlkern::stft::tiara(p, n, cfg, par).map_err(|e| kernel("tiara", e))
    })?;
    host::tensor(out, x.shape(), x.dtype(), x.device())
}
