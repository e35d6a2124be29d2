//! [`Muon`]: mlkern's Muon step on a candle model's matrices, AdamW on the rest.

use candle_core::Var;
use candle_core::backprop::GradStore;
use candle_nn::{Optimizer, VarMap};
use mlkern::Par;
use mlkern::ortho::{Hyper, MuonConfig, muon_scratch_len, muon_step};

use crate::engine::{Engine, Kernel};
use crate::error::Result;
use crate::fallback::{ParamsAdamW, adamw};
use crate::host::{DevicePolicy, HostFloat};
use crate::params::{Route, named_vars, numbered};

/// The configuration of [`Muon`].
///
/// ```
/// use mlkern::ortho::{Algo, MuonConfig, NsConfig, Schedule};
/// use mlkern_candle::ParamsMuon;
/// let ns = NsConfig::new(Schedule::by_name("polar-express").unwrap()).with_algo(Algo::Auto);
/// let cfg = ParamsMuon::default()
///     .with_lr(0.02)
///     .with_muon(MuonConfig::new(ns))
///     .exclude("embed")
///     .exclude("lm_head");
/// assert_eq!(cfg.exclude, ["embed", "lm_head"]);
/// ```
#[derive(Clone, Debug)]
pub struct ParamsMuon {
    /// The matrices' learning rate (default 0.02).
    pub lr: f64,
    /// The matrices' decoupled weight decay (default 0).
    pub weight_decay: f64,
    /// Momentum, Nesterov, update scale and the Newton–Schulz schedule and algorithm (default:
    /// torch.optim.Muon's EMA momentum 0.95 with Nesterov, Keller Jordan's NS5, `√max(1, r/c)`).
    pub muon: MuonConfig<'static>,
    /// AdamW for every other parameter (candle-nn's defaults, lr 0.001, weight decay 0.01).
    pub adamw: ParamsAdamW,
    /// Parameters whose name contains one of these strings take AdamW even when they are
    /// matrices (embeddings and output heads, as Muon is used in practice).
    pub exclude: Vec<String>,
    /// Threads for the Newton–Schulz products.
    pub par: Par,
    /// What to do with variables that are not on the CPU.
    pub device: DevicePolicy,
}

impl Default for ParamsMuon {
    fn default() -> Self {
        ParamsMuon {
            lr: 0.02,
            weight_decay: 0.0,
            muon: MuonConfig::default(),
            adamw: ParamsAdamW::default(),
            exclude: Vec::new(),
            par: Par::Seq,
            device: DevicePolicy::CpuOnly,
        }
    }
}

impl ParamsMuon {
    /// The same with another Muon configuration (momentum, schedule, algorithm, scale).
    pub fn with_muon(mut self, muon: MuonConfig<'static>) -> Self {
        self.muon = muon;
        self
    }

    /// The same with another AdamW configuration for the other parameters.
    pub fn with_adamw(mut self, adamw: ParamsAdamW) -> Self {
        self.adamw = adamw;
        self
    }
}

crate::params::common_builders!(ParamsMuon, "AdamW");

impl Kernel for ParamsMuon {
    fn init<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        w: &[T],
    ) -> mlkern::Result<(Vec<Vec<T>>, usize)> {
        let zeros = vec![T::zero(); w.len()];
        Ok(match route {
            Route::Matrix { .. } => (vec![zeros], muon_scratch_len(dims, &self.muon)?),
            Route::Fallback => (vec![zeros.clone(), zeros], 0),
        })
    }

    fn update<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        w: &mut [T],
        state: &mut [Vec<T>],
        g: &[T],
        t: u64,
        scratch: &mut [T],
        par: Par,
    ) -> mlkern::Result<()> {
        match (route, state) {
            (Route::Matrix { .. }, [m]) => {
                let hyper = Hyper::lr(self.lr).with_weight_decay(self.weight_decay);
                muon_step(w, m, g, dims, hyper, &self.muon, scratch, par).map(drop)
            }
            (_, [m, v]) => adamw(w, m, v, g, t, &self.adamw),
            _ => unreachable!("the state has the buffers init made"),
        }
    }
}

/// Muon on a candle model: every float variable with at least two dimensions (not excluded by
/// name) takes mlkern's Muon step on its `(d0, ∏rest)` matrix view; the others take AdamW.
///
/// * `f32` variables are computed in `f32` (the step equals [`mlkern::ortho::muon_step`] bit for
///   bit), `f64` in `f64`, `bf16`/`f16` in `f32` and rounded back to their dtype.
/// * A step is all or nothing: a gradient with NaN/±∞ (the error names the variable), or an update
///   that would overflow, leaves every variable and every state buffer unchanged.
/// * Same-shaped matrices form a batch: when `par` allows several threads and the matrices are
///   small (`k²·N ≤ 2²⁵`, `orthogonalize_batch_into`'s rule) the batch is spread over the threads,
///   one matrix per thread; larger ones run in turn with `par` inside each. Same bits either way.
/// * Variables on another device are an error naming them, unless [`DevicePolicy::HostRoundTrip`].
/// * Build it from a [`VarMap`] with [`Muon::from_varmap`] to route by name (variables sorted by
///   name); [`Optimizer::new`] names them `param0`, `param1`, … in the given order.
/// * [`Optimizer::set_learning_rate`] sets the matrices' learning rate and AdamW's to its initial
///   value times the same factor (`lr / initial lr`), so one schedule drives both.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{linear, Module, Optimizer, VarBuilder, VarMap};
/// use mlkern_candle::{Muon, ParamsMuon, Route};
/// let vm = VarMap::new();
/// let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
/// let layer = linear(8, 4, vb.pp("fc"))?;
/// let mut opt = Muon::from_varmap(&vm, ParamsMuon::default())?;
/// assert!(matches!(opt.routes()[1], (ref n, Route::Matrix { rows: 4, cols: 8 }) if n == "fc.weight"));
/// let x = Tensor::ones((2, 8), DType::F32, &Device::Cpu)?;
/// let loss = layer.forward(&x)?.sqr()?.sum_all()?;
/// opt.backward_step(&loss)?;
/// # Ok::<(), candle_core::Error>(())
/// ```
pub struct Muon {
    engine: Engine,
    params: ParamsMuon,
    /// The learning rates at construction, `(matrices, AdamW)`.
    base_lr: (f64, f64),
}

impl Muon {
    /// The number of steps taken.
    pub fn steps(&self) -> u64 {
        self.engine.t - 1
    }

    /// The momentum of each matrix parameter (as tensors of its shape, dtype and device),
    /// sorted by name; AdamW parameters give their first moment.
    pub fn momentum(&self) -> Result<Vec<(String, candle_core::Tensor)>> {
        self.engine.state_tensors(0)
    }
}

crate::engine::optimizer_common!(Muon, ParamsMuon, adamw);
