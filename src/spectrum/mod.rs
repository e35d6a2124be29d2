//! Spectral diagnostics: effective rank and its relatives, matrix → spectrum, a streaming
//! covariance accumulator, curvature (normalized directional sharpness) and logit margins.
//!
//! * **Metrics over a spectrum** (core tier, no allocation): [`Spectrum`] borrows singular values
//!   (or converts eigenvalues in place) and computes the effective rank in both weightings
//!   ([`Weighting::Sigma`], Roy & Vetterli; [`Weighting::Energy`], the Muon papers), entropies,
//!   the Rényi family, stable rank, participation ratio, nuclear ratio, numerical rank
//!   ([`RankTol`], NumPy's rule by default), top-k energy, quantile ratios, RankMe, the
//!   associative-memory paper's [`Isotropy`] metrics and WeightWatcher's power-law fit
//!   ([`PowerLawFit`]) and norm metrics ([`WwMetrics`]). All are computed on `σ/σ₁` with f64
//!   accumulation; empty and all-zero spectra give `None`, never NaN.
//! * **Matrix → spectrum** (alloc tier): [`singular_values`] / [`singular_values_into`] (a
//!   caller [`MemStack`](crate::linalg::MemStack) of [`singular_values_scratch_len`] bytes) with
//!   [`Method::Svd`] (faer, values only) or [`Method::Gram`] (f64-accumulated `XᵀX` or `XXᵀ` and
//!   symmetric eigenvalues), [`Method::Auto`] choosing the Gram path when it is accurate;
//!   [`Centering::ColumnMean`] for hidden states.
//! * **[`CovAccumulator`]** (alloc tier): push row chunks, merge accumulators, get the spectrum.
//! * **Spectra at scale** (alloc tier): [`estimate`] — every metric with a confidence interval
//!   by stochastic Lanczos quadrature ([`SlqConfig`], [`SlqReport`], [`Estimate`]) — and
//!   [`top_eigenvalues`] with residual certificates ([`TopKConfig`], [`TopK`]), over a
//!   [`SymOperator`]: [`GramOperator`] (the covariance of samples, never formed),
//!   [`DenseOperator`], or your own.
//! * **Curvature** (core tier): [`nds`], [`nds_decomposition`], [`nds_within_estimate`],
//!   [`curvature_penalty`] over a [`HessianVectorProduct`] oracle.
//! * **Margins** (core tier): [`margin_true`], [`margin_top2`], batched [`margins`].
//!
//! ```
//! use mlkern::Par;
//! use mlkern::linalg::{view, Layout};
//! use mlkern::spectrum::{singular_values, Centering, Method, SpectrumConfig, Weighting};
//! // Hidden states with a large common offset: centering removes it.
//! let x: Vec<f64> = (0..64 * 8).map(|i| 10.0 + ((i * 37 % 101) as f64) / 101.0).collect();
//! let raw = singular_values(view(&x, 64, 8, Layout::RowMajor)?, &SpectrumConfig::default(), Par::Seq)?;
//! let cfg = SpectrumConfig::new(Centering::ColumnMean, Method::Auto);
//! let centered = singular_values(view(&x, 64, 8, Layout::RowMajor)?, &cfg, Par::Seq)?;
//! let (r, c) = (raw.spectrum().erank(Weighting::Energy).unwrap(), centered.spectrum().erank(Weighting::Energy).unwrap());
//! assert!(r < 1.1 && c > 4.0);
//! # Ok::<(), mlkern::Error>(())
//! ```

mod curvature;
mod margin;
mod metrics;
mod power_law;

#[cfg(feature = "alloc")]
mod decomp;
#[cfg(feature = "alloc")]
mod gram;
#[cfg(feature = "alloc")]
mod interval;
#[cfg(feature = "alloc")]
mod krylov;
#[cfg(feature = "alloc")]
mod operator;
#[cfg(feature = "alloc")]
mod slq;
#[cfg(feature = "alloc")]
mod stream;
#[cfg(feature = "alloc")]
mod topk;

pub use curvature::{
    HessianVectorProduct, NdsParts, WithinEstimate, curvature_penalty, nds, nds_decomposition,
    nds_decomposition_scratch_len, nds_scratch_len, nds_within_estimate,
};
pub use margin::{MarginKind, margin_top2, margin_true, margins};
pub use metrics::{Isotropy, RANKME_EPS, RankTol, Spectrum, Summary, Weighting};
pub use power_law::{EVALS_THRESH, PowerLawFit, WwMetrics};

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use decomp::{
    Centering, MatrixSpectrum, Method, SpectrumConfig, singular_values, singular_values_into,
    singular_values_scratch_len,
};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use stream::CovAccumulator;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use {
    operator::{DenseOperator, GramOperator, SymOperator},
    slq::{Estimate, SlqConfig, SlqReport, estimate},
    topk::{TopK, TopKConfig, top_eigenvalues},
};
