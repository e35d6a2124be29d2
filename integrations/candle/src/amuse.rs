//! [`Amuse`]: mlkern's AMUSE step (Muon with Schedule-Free averaging) on a candle model's
//! matrices, Schedule-Free AdamW on the rest.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::{Optimizer, VarMap};
use mlkern::Par;
use mlkern::ortho::{AmuseConfig, AmuseState, Hyper, amuse_scratch_len, amuse_step};

use crate::engine::{Engine, Kernel};
use crate::error::Result;
use crate::fallback::{ParamsSfAdamW, sf_adamw};
use crate::host::{DevicePolicy, HostFloat};
use crate::params::{Route, named_vars, numbered};

/// The configuration of [`Amuse`].
#[derive(Clone, Debug)]
pub struct ParamsAmuse {
    /// The matrices' learning rate η (constant: AMUSE needs no schedule; default 0.02).
    pub lr: f64,
    /// The matrices' decoupled weight decay, applied at the evaluation point (default 0).
    pub weight_decay: f64,
    /// β₁, T₀, ρ and the Muon part (default: [`AmuseConfig::default`], sum momentum 0.95
    /// without Nesterov, Keller Jordan's NS5).
    pub amuse: AmuseConfig<'static>,
    /// Schedule-Free AdamW for every other parameter.
    pub fallback: ParamsSfAdamW,
    /// Parameters whose name contains one of these strings take the fallback even when they are
    /// matrices.
    pub exclude: Vec<String>,
    /// Threads for the Newton–Schulz products.
    pub par: Par,
    /// What to do with variables that are not on the CPU.
    pub device: DevicePolicy,
}

impl Default for ParamsAmuse {
    fn default() -> Self {
        ParamsAmuse {
            lr: 0.02,
            weight_decay: 0.0,
            amuse: AmuseConfig::default(),
            fallback: ParamsSfAdamW::default(),
            exclude: Vec::new(),
            par: Par::Seq,
            device: DevicePolicy::CpuOnly,
        }
    }
}

impl ParamsAmuse {
    /// The same with another AMUSE configuration.
    pub fn with_amuse(mut self, amuse: AmuseConfig<'static>) -> Self {
        self.amuse = amuse;
        self
    }

    /// The same with another fallback configuration.
    pub fn with_fallback(mut self, fallback: ParamsSfAdamW) -> Self {
        self.fallback = fallback;
        self
    }
}

crate::params::common_builders!(ParamsAmuse, "the fallback");

impl Kernel for ParamsAmuse {
    fn init<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        w: &[T],
    ) -> mlkern::Result<(Vec<Vec<T>>, usize)> {
        // Z₁ = X₁ = Y₁ = the initial weights; the last buffer is the momentum (matrices) or the
        // second moment (fallback).
        let state = vec![w.to_vec(), w.to_vec(), vec![T::zero(); w.len()]];
        Ok(match route {
            Route::Matrix { .. } => (state, amuse_scratch_len(dims, &self.amuse)?),
            Route::Fallback => (state, 0),
        })
    }

    fn update<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        y: &mut [T],
        state: &mut [Vec<T>],
        g: &[T],
        t: u64,
        scratch: &mut [T],
        par: Par,
    ) -> mlkern::Result<()> {
        let [z, x, last] = state else {
            unreachable!("the state has the buffers init made")
        };
        match route {
            Route::Matrix { .. } => {
                let hyper = Hyper::lr(self.lr).with_weight_decay(self.weight_decay);
                let s = AmuseState { z, x, m: last };
                amuse_step(y, s, g, dims, t, hyper, &self.amuse, scratch, par).map(drop)
            }
            Route::Fallback => sf_adamw(y, z, x, last, g, t, &self.fallback),
        }
    }
}

/// AMUSE on a candle model (Anytime Muon with Stable gradient Evaluation, arXiv 2605.22432): the
/// variables hold the evaluation point `Y` (the weights the model trains with); every float
/// matrix (not excluded by name) takes mlkern's [`amuse_step`], the others Schedule-Free AdamW
/// ([`ParamsSfAdamW`]). Both keep `Z` and the average `X`, which is the model to evaluate and
/// checkpoint ([`averaged`](Self::averaged), [`with_averaged`](Self::with_averaged)).
///
/// Precision, all-or-nothing steps, devices and routing are as for [`Muon`](crate::Muon). The
/// step counter `t` is shared by every parameter; a variable whose gradient is missing in a step
/// keeps its state.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{linear, Module, Optimizer, VarBuilder, VarMap};
/// use mlkern_candle::{Amuse, ParamsAmuse};
/// let vm = VarMap::new();
/// let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
/// let layer = linear(8, 4, vb.pp("fc"))?;
/// let mut opt = Amuse::from_varmap(&vm, ParamsAmuse::default())?;
/// let x = Tensor::ones((2, 8), DType::F32, &Device::Cpu)?;
/// for _ in 0..3 {
///     let loss = layer.forward(&x)?.sqr()?.sum_all()?;
///     opt.backward_step(&loss)?;
/// }
/// // Evaluate the averaged weights X, then go on training from Y.
/// let eval = opt.with_averaged(|| layer.forward(&x)?.sqr()?.sum_all()?.to_scalar::<f32>())?;
/// assert!(eval.is_finite());
/// # Ok::<(), candle_core::Error>(())
/// ```
pub struct Amuse {
    engine: Engine,
    params: ParamsAmuse,
    base_lr: (f64, f64),
}

impl Amuse {
    /// The number of the next step (1 before the first).
    pub fn t(&self) -> u64 {
        self.engine.t
    }

    /// The averaged weights `X` of every parameter (its shape, dtype and device), sorted by name:
    /// the model to evaluate and checkpoint (e.g. with `candle_core::safetensors::save`).
    pub fn averaged(&self) -> Result<Vec<(String, Tensor)>> {
        self.engine.state_tensors(1)
    }

    /// The fast sequence `Z` of every parameter, sorted by name.
    pub fn fast(&self) -> Result<Vec<(String, Tensor)>> {
        self.engine.state_tensors(0)
    }

    /// Runs `f` with every variable set to its averaged weights `X`, then puts the training
    /// weights `Y` back (also when `f` fails).
    ///
    /// # Errors
    /// `f`'s error, or an error setting the variables.
    pub fn with_averaged<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        let vars = self.vars();
        let saved: Vec<Tensor> = vars
            .iter()
            .map(|v| v.as_tensor().copy())
            .collect::<Result<_>>()?;
        let swapped = self.averaged().and_then(|xs| {
            xs.iter()
                .zip(&vars)
                .try_for_each(|((_, x), var)| var.set(x))
        });
        let out = swapped.and_then(|()| f());
        for (var, y) in vars.iter().zip(&saved) {
            var.set(y)?;
        }
        out
    }

    /// The variables in name order (the order of [`averaged`](Self::averaged)).
    fn vars(&self) -> Vec<Var> {
        let mut named: Vec<(&String, &Var)> = (self.engine.f32s.iter().map(|e| (&e.name, &e.var)))
            .chain(self.engine.f64s.iter().map(|e| (&e.name, &e.var)))
            .collect();
        named.sort_by(|a, b| a.0.cmp(b.0));
        named.into_iter().map(|(_, v)| v.clone()).collect()
    }
}

crate::engine::optimizer_common!(Amuse, ParamsAmuse, fallback);
