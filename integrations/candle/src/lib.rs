//! mlkern's kernels for [candle](https://github.com/huggingface/candle) 0.11: the Muon and AMUSE
//! optimizers (implementing [`candle_nn::Optimizer`]), torch-compatible STFT/ISTFT, TiARA,
//! spectral diagnostics, logit margins and speculative verification on candle tensors, and a
//! per-parameter spectral report of a model.
//!
//! Everything runs on CPU tensors through mlkern's slice kernels: a tensor is read to host
//! memory once (one copy, in `f32` or `f64`), the kernel runs, and the result is written back in
//! the variable's or input's dtype. Tensors on another device are an error that names them,
//! unless the caller opts into [`DevicePolicy::HostRoundTrip`].
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::{linear, Module, Optimizer, VarBuilder, VarMap};
//! use mlkern_candle::{Muon, ParamsMuon};
//! let vm = VarMap::new();
//! let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
//! let model = linear(16, 4, vb.pp("fc"))?;
//! // Matrices take Muon; the bias (1-D) takes AdamW.
//! let mut opt = Muon::from_varmap(&vm, ParamsMuon::default().with_lr(0.02))?;
//! let x = Tensor::randn(0f32, 1.0, (32, 16), &Device::Cpu)?;
//! let mut losses = Vec::new();
//! for _ in 0..30 {
//!     let loss = model.forward(&x)?.sqr()?.mean_all()?;
//!     losses.push(loss.to_scalar::<f32>()?);
//!     opt.backward_step(&loss)?;
//! }
//! assert!(losses[29] < 0.5 * losses[0]);
//! # Ok::<(), candle_core::Error>(())
//! ```
#![deny(missing_docs)]

mod amuse;
mod diagnostics;
mod engine;
mod error;
mod fallback;
mod host;
mod muon;
mod params;
mod report;
mod signal;
mod verify;

pub use amuse::{Amuse, ParamsAmuse};
pub use diagnostics::{SpectralSummary, logit_margins, spectral_summary};
pub use error::Result;
pub use fallback::{ParamsAdamW, ParamsSfAdamW};
pub use host::{DevicePolicy, HostFloat};
/// mlkern itself, for its configuration types (`ortho::MuonConfig`, `ortho::AmuseConfig`,
/// schedules, `Par`) without a second dependency that could differ in version.
pub use mlkern;
pub use muon::{Muon, ParamsMuon};
pub use params::{Route, named_vars};
pub use report::{ModelReport, ParamReport};
pub use signal::{istft, stft, tiara};
pub use verify::{VerifiedTokens, verify};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
