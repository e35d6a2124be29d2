//! A per-parameter spectral report of a candle model: what the Muon papers plot, as a table and
//! as JSON.

use std::fmt;

use candle_nn::VarMap;
use mlkern::Par;
use serde_json::{Value, json};

use crate::diagnostics::{SpectralSummary, spectral_summary};
use crate::error::Result;
use crate::host::{self, DevicePolicy};
use crate::params::named_vars;

/// One parameter's row of a [`ModelReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct ParamReport {
    /// The variable's name in the [`VarMap`].
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its spectral summary (of the `(d0, ∏rest)` matrix view).
    pub summary: SpectralSummary,
}

/// The spectral diagnostics of every float parameter with at least two dimensions of a model,
/// sorted by name. `Display` prints a markdown table; [`to_json`](Self::to_json) gives the same
/// data as JSON.
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_nn::{linear, VarBuilder, VarMap};
/// use mlkern::Par;
/// use mlkern_candle::{DevicePolicy, ModelReport};
/// let vm = VarMap::new();
/// let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
/// let _l1 = linear(32, 16, vb.pp("l1"))?;
/// let _l2 = linear(16, 4, vb.pp("l2"))?;
/// let report = ModelReport::of(&vm, Par::Seq, DevicePolicy::CpuOnly)?;
/// assert_eq!(report.params.len(), 2); // the two weights; biases are 1-D
/// assert!(report.to_string().contains("| l1.weight | 16×32 |"));
/// assert_eq!(report.to_json()["params"][1]["name"], "l2.weight");
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ModelReport {
    /// One row per matrix parameter.
    pub params: Vec<ParamReport>,
}

impl ModelReport {
    /// The report of every float variable of `varmap` with at least two dimensions.
    ///
    /// # Errors
    /// A variable with NaN/±∞ or on another device (unless opted in), naming it.
    pub fn of(varmap: &VarMap, par: Par, device: DevicePolicy) -> Result<Self> {
        let mut params = Vec::new();
        for (name, var) in named_vars(varmap) {
            if var.dims().len() < 2 || host::precision(var.dtype()).is_none() {
                continue;
            }
            let summary = spectral_summary(var.as_tensor(), par, device)
                .map_err(|e| crate::error::msg(format!("'{name}': {e}")))?;
            params.push(ParamReport {
                name,
                shape: var.dims().to_vec(),
                summary,
            });
        }
        Ok(ModelReport { params })
    }

    /// The report as JSON: `{"params": [{"name", "shape", "matrix", "erank_energy", …}]}`
    /// (metrics that do not exist for a parameter are `null`).
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .params
            .iter()
            .map(|p| {
                let s = &p.summary;
                json!({
                    "name": p.name,
                    "shape": p.shape,
                    "matrix": [s.shape.0, s.shape.1],
                    "erank_energy": s.erank_energy,
                    "erank_sigma": s.erank_sigma,
                    "stable_rank": s.stable_rank,
                    "rankme": s.rankme,
                    "alpha": s.alpha,
                    "normalized_entropy": s.normalized_entropy,
                    "top10_energy": s.top10_energy,
                })
            })
            .collect();
        json!({ "params": rows })
    }
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| parameter | shape | erank (σ²) | erank (σ) | stable rank | RankMe | α | entropy/ln n | top-10 energy |"
        )?;
        writeln!(f, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for p in &self.params {
            let s = &p.summary;
            let shape: Vec<String> = p.shape.iter().map(|d| d.to_string()).collect();
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                p.name,
                shape.join("×"),
                cell(s.erank_energy),
                cell(s.erank_sigma),
                cell(s.stable_rank),
                cell(s.rankme),
                cell(s.alpha),
                cell(s.normalized_entropy),
                cell(s.top10_energy),
            )?;
        }
        Ok(())
    }
}
