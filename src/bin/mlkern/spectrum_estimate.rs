//! `mlkern spectrum IN.npy --estimate`: the spectral metrics by stochastic Lanczos quadrature,
//! each with a confidence interval, for widths where the exact spectrum is too slow.

use mlkern::Real;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{Estimate, GramOperator, SlqConfig, SlqReport, estimate};
use serde_json::{Value, json};

use crate::timing::Timing;
use crate::{CliError, Common};

/// The estimator's options from the command line.
#[derive(clap::Args, Debug)]
pub(crate) struct EstimateArgs {
    /// Estimate the metrics with confidence intervals (stochastic Lanczos quadrature with
    /// deflation) instead of computing the exact spectrum: for widths of thousands.
    #[arg(long)]
    pub(crate) estimate: bool,
    /// With --estimate: a fixed number of probes (default: adaptive, 16 to 128, until every
    /// interval is within --rtol).
    #[arg(long, requires = "estimate", value_parser = clap::value_parser!(u32).range(3..=100_000))]
    pub(crate) probes: Option<u32>,
    /// With --estimate: a fixed Lanczos depth per probe (default: adaptive, 16 to 64).
    #[arg(long, requires = "estimate", value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub(crate) lanczos_steps: Option<u32>,
    /// With --estimate: the seed of the probes (the same seed gives the same bits on any
    /// thread count).
    #[arg(long, requires = "estimate", default_value_t = 0)]
    pub(crate) seed: u64,
    /// With --estimate: the target relative half-width of the 95 % intervals.
    #[arg(long, requires = "estimate", default_value_t = 0.01)]
    pub(crate) rtol: f64,
    /// With --estimate: the largest eigenpairs deflated exactly (0: none).
    #[arg(long, requires = "estimate", default_value_t = 32)]
    pub(crate) deflate: usize,
}

impl EstimateArgs {
    fn config(&self, energy_only: bool) -> SlqConfig {
        let mut cfg = SlqConfig::default()
            .with_energy_only(energy_only)
            .with_seed(self.seed)
            .with_rtol(self.rtol)
            .with_deflate(self.deflate);
        if let Some(p) = self.probes {
            cfg = cfg.with_probes(p as usize);
        }
        if let Some(s) = self.lanczos_steps {
            cfg = cfg.with_steps(s as usize);
        }
        cfg
    }
}

/// One layer's estimate and its timing.
pub(crate) fn one_layer<T: Real>(
    x: &[T],
    (rows, cols): (usize, usize),
    (center, energy_only): (bool, bool),
    args: &EstimateArgs,
    common: &Common,
) -> Result<(SlqReport, Timing), CliError> {
    let v = view(x, rows, cols, Layout::RowMajor)?;
    let cfg = args.config(energy_only);
    let par = common.par();
    Ok(Timing::measure(common.repeat, || {
        estimate(&GramOperator::new(v, center)?, &cfg, par)
    })?)
}

/// The estimated metrics: JSON key (the exact path's), table label (none: JSON only), estimate.
fn metrics(r: &SlqReport) -> [(&'static str, Option<&'static str>, &Estimate); 7] {
    [
        ("erank_sigma", Some("erank_sigma"), &r.sigma_erank),
        ("erank_energy", Some("erank_energy"), &r.erank),
        ("entropy_energy_nats", None, &r.entropy),
        ("stable_rank", Some("stable_rank"), &r.stable_rank),
        (
            "participation_ratio",
            Some("part_ratio"),
            &r.participation_ratio,
        ),
        ("nuclear_ratio", Some("nuclear_ratio"), &r.nuclear_ratio),
        ("rankme", Some("rankme"), &r.rankme),
    ]
}

/// The JSON of one layer: the metrics as point values under the exact path's keys, their
/// intervals under `"interval"`, and what the estimate cost.
pub(crate) fn report_json(
    r: &SlqReport,
    (rows, cols): (usize, usize),
    center: bool,
    t: &Timing,
) -> Value {
    let mut o = json!({
        "rows": rows,
        "cols": cols,
        "centered": center,
        "method": "slq",
        "backend": "cpu",
        "confidence": 0.95,
        "lambda_max": r.lambda_max.value,
        "trace": r.trace,
        "probes": r.probes,
        "lanczos_steps": r.steps,
        "deflated": r.deflated,
        "products": r.products,
        "timing": t.to_json(),
    });
    let mut interval = serde_json::Map::new();
    for (k, _, e) in metrics(r) {
        o[k] = json!(e.value);
        interval.insert(k.to_string(), json!([e.lo, e.hi]));
    }
    interval.insert(
        "lambda_max".into(),
        json!([r.lambda_max.lo, r.lambda_max.hi]),
    );
    o["interval"] = Value::Object(interval);
    o
}

/// The text table: value and interval per metric, one row per layer.
pub(crate) fn print_table(
    reports: &[SlqReport],
    timings: &[Timing],
    (rows, cols): (usize, usize),
    center: bool,
) {
    outln!(
        "spectrum estimate (SLQ, 95 % intervals): {}{}×{} ({})",
        if reports.len() > 1 {
            format!("{} layers of ", reports.len())
        } else {
            String::new()
        },
        rows,
        cols,
        if center { "centered" } else { "raw" }
    );
    let f = |e: &Estimate| format!("{:.4} [{:.4}, {:.4}]", e.value, e.lo, e.hi);
    for (l, (r, t)) in reports.iter().zip(timings).enumerate() {
        outln!(
            "layer {l}: {} probes × {} steps, {} deflated, {}",
            r.probes,
            r.steps,
            r.deflated,
            t.human()
        );
        for (_, label, e) in metrics(r) {
            let Some(name) = label else { continue };
            outln!("  {name:>13} {}", f(e));
        }
    }
}
