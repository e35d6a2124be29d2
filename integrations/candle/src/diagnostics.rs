//! Spectral summaries and logit margins of candle tensors.

use candle_core::{DType, Tensor};
use mlkern::Par;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, MarginKind, MatrixSpectrum, Method, SpectrumConfig, margins, singular_values,
};

use crate::error::{Result, kernel, msg};
use crate::host::{self, DevicePolicy, HostFloat};

/// The spectral diagnostics of one matrix (what the Muon papers plot).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectralSummary {
    /// Rows and columns of the matrix view `(d0, ∏rest)`.
    pub shape: (usize, usize),
    /// Energy effective rank `exp H(σ²/Σσ²)` (the Muon papers').
    pub erank_energy: Option<f64>,
    /// Roy–Vetterli effective rank `exp H(σ/Σσ)`.
    pub erank_sigma: Option<f64>,
    /// Stable rank `Σσ²/σ₁²`.
    pub stable_rank: Option<f64>,
    /// RankMe (ε = 1e-7).
    pub rankme: Option<f64>,
    /// WeightWatcher's power-law exponent α of the eigenvalues `σ²` (`None` when the fit has too
    /// few eigenvalues).
    pub alpha: Option<f64>,
    /// Energy entropy over `ln n` (isotropy: 1 for a flat spectrum).
    pub normalized_entropy: Option<f64>,
    /// The top-10 energy fraction (isotropy: small for a flat spectrum).
    pub top10_energy: Option<f64>,
}

/// The spectral summary of `t` (≥ 1-D, any float dtype; 1-D is one row, more dimensions are
/// flattened to `(d0, ∏rest)`), uncentered, from its exact singular values (mlkern's
/// `Method::Auto`: Gram or SVD by shape and precision; `f64` for `f64` tensors, `f32` otherwise).
/// A zero or empty matrix gives `None` metrics.
///
/// # Errors
/// A 0-D tensor, NaN/±∞, a device other than the CPU (unless opted in).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mlkern::Par;
/// use mlkern_candle::{spectral_summary, DevicePolicy};
/// let eye = Tensor::eye(8, candle_core::DType::F32, &Device::Cpu)?;
/// let s = spectral_summary(&eye, Par::Seq, DevicePolicy::CpuOnly)?;
/// assert!((s.erank_energy.unwrap() - 8.0).abs() < 1e-9);
/// assert!((s.stable_rank.unwrap() - 8.0).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn spectral_summary(t: &Tensor, par: Par, device: DevicePolicy) -> Result<SpectralSummary> {
    let (rows, cols) = match t.dims() {
        [] => {
            return Err(msg(
                "mlkern-candle: spectral_summary: a scalar has no spectrum".to_string(),
            ));
        }
        [n] => (1, *n),
        [d0, rest @ ..] => (*d0, rest.iter().product()),
    };
    let cfg = SpectrumConfig::new(Centering::None, Method::Auto);
    let spectrum = if t.dtype() == DType::F64 {
        spectrum_in::<f64>(t, (rows, cols), &cfg, par, device)?
    } else {
        spectrum_in::<f32>(t, (rows, cols), &cfg, par, device)?
    };
    let sp = spectrum.spectrum();
    let summary = sp.summary();
    let iso = sp.isotropy(10);
    Ok(SpectralSummary {
        shape: (rows, cols),
        erank_energy: summary.map(|s| s.erank_energy),
        erank_sigma: summary.map(|s| s.erank_sigma),
        stable_rank: summary.map(|s| s.stable_rank),
        rankme: summary.map(|s| s.rankme),
        alpha: sp.power_law().map(|f| f.alpha),
        normalized_entropy: iso.and_then(|i| i.normalized_entropy),
        top10_energy: iso.map(|i| i.top_k_energy),
    })
}

/// Logit margins of `logits` `[N, C]`: `z_y − max_{j≠y} z_j` with `labels` (`[N]`, integer
/// dtype) for [`MarginKind::TrueClass`], or the top-2 gap for [`MarginKind::Top2`] (labels
/// ignored). Returns `[N]` in `f32` (`f64` for `f64` logits) on the logits' device.
///
/// # Errors
/// Shapes that do not match, a missing or out-of-range label, fewer than 2 classes, NaN/±∞.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mlkern::spectrum::MarginKind;
/// use mlkern_candle::{logit_margins, DevicePolicy};
/// let z = Tensor::new(&[[2.0f32, 0.0, 1.0], [0.0, 5.0, 5.0]], &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1], &Device::Cpu)?;
/// let m = logit_margins(&z, Some(&y), MarginKind::TrueClass, DevicePolicy::CpuOnly)?;
/// assert_eq!(m.to_vec1::<f32>()?, [1.0, 0.0]);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn logit_margins(
    logits: &Tensor,
    labels: Option<&Tensor>,
    kind: MarginKind,
    device: DevicePolicy,
) -> Result<Tensor> {
    let [rows, classes] = *logits.dims() else {
        return Err(msg(format!(
            "mlkern-candle: logit_margins: expected [N, C] logits, found shape {:?}",
            logits.dims()
        )));
    };
    let labels: Option<Vec<usize>> = match labels {
        None => None,
        Some(l) => Some(
            host::on_host(l, "labels", device)?
                .to_dtype(DType::I64)?
                .flatten_all()?
                .to_vec1::<i64>()?
                .into_iter()
                .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
                .collect(),
        ),
    };
    let labels = labels.as_deref();
    if logits.dtype() == DType::F64 {
        margins_in::<f64>(logits, (rows, classes), labels, kind, device)
    } else {
        margins_in::<f32>(logits, (rows, classes), labels, kind, device)
    }
}

fn spectrum_in<T: HostFloat>(
    t: &Tensor,
    (rows, cols): (usize, usize),
    cfg: &SpectrumConfig,
    par: Par,
    device: DevicePolicy,
) -> Result<MatrixSpectrum> {
    let err = |e| kernel("spectral_summary", e);
    host::with_values::<T, _>(t, "spectral_summary input", device, |x| {
        let v = view(x, rows, cols, Layout::RowMajor).map_err(err)?;
        singular_values(v, cfg, par).map_err(err)
    })
}

fn margins_in<T: HostFloat>(
    logits: &Tensor,
    (rows, classes): (usize, usize),
    labels: Option<&[usize]>,
    kind: MarginKind,
    device: DevicePolicy,
) -> Result<Tensor> {
    let mut out = vec![T::zero(); rows];
    host::with_values::<T, _>(logits, "logits", device, |z| {
        margins(z, rows, classes, labels, kind, &mut out).map_err(|e| kernel("logit_margins", e))
    })?;
    host::tensor(out, &rows.into(), T::DTYPE, logits.device())
}
