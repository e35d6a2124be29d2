//! Naming and routing parameters: which variables take the matrix (Muon/AMUSE) step and which
//! take the element-wise fallback (AdamW / Schedule-Free AdamW).

use candle_core::Var;
use candle_nn::VarMap;

/// Where a parameter's update comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The orthogonalized step on the `(rows, cols) = (d0, ∏rest)` matrix view.
    Matrix {
        /// `d0`.
        rows: usize,
        /// The product of the other dimensions.
        cols: usize,
    },
    /// The element-wise fallback: fewer than two dimensions, or a name the caller excluded.
    Fallback,
}

/// `(name, variable)` pairs of a [`VarMap`], sorted by name. `VarMap::all_vars` returns them in
/// hash-map order, which changes from process to process; sorting makes the optimizer's state
/// order, and so its checkpoints and error messages, reproducible.
pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap
        .data()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut named: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

/// Unnamed variables (the [`Optimizer::new`](candle_nn::Optimizer::new) form) get `param{i}`
/// names in the given order.
pub(crate) fn numbered(vars: Vec<Var>) -> Vec<(String, Var)> {
    vars.into_iter()
        .enumerate()
        .map(|(i, v)| (format!("param{i}"), v))
        .collect()
}

/// The route of a variable of `dims` named `name`: the fallback for fewer than two dimensions or
/// a name containing one of `exclude`, else the matrix step.
pub(crate) fn route(name: &str, dims: &[usize], exclude: &[String]) -> Route {
    if dims.len() < 2
        || exclude
            .iter()
            .any(|pattern| name.contains(pattern.as_str()))
    {
        return Route::Fallback;
    }
    Route::Matrix {
        rows: dims[0],
        cols: dims[1..].iter().product(),
    }
}

/// The fallback's learning rate when the matrices' is set to `lr`: its initial value scaled by
/// `lr / initial` (unchanged when the initial matrix learning rate was 0).
pub(crate) fn scaled((initial, fallback): (f64, f64), lr: f64) -> f64 {
    if initial == 0.0 {
        fallback
    } else {
        fallback * (lr / initial)
    }
}

/// The builder methods both optimizer configurations share (`lr`, `weight_decay`, `exclude`,
/// `par`, `device` fields), written once.
macro_rules! common_builders {
    ($params:ty, $fallback:literal) => {
        impl $params {
            /// The same with the matrices' learning rate `lr`.
            pub fn with_lr(mut self, lr: f64) -> Self {
                self.lr = lr;
                self
            }

            /// The same with the matrices' weight decay.
            pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
                self.weight_decay = weight_decay;
                self
            }

            #[doc = concat!("The same, routing parameters whose name contains `pattern` to ", $fallback, ".")]
            pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
                self.exclude.push(pattern.into());
                self
            }

            /// The same with another parallelism for Newton–Schulz (and across same-shaped
            /// matrices).
            pub fn with_par(mut self, par: mlkern::Par) -> Self {
                self.par = par;
                self
            }

            /// The same with another device policy.
            pub fn with_device(mut self, device: crate::host::DevicePolicy) -> Self {
                self.device = device;
                self
            }
        }
    };
}
pub(crate) use common_builders;
