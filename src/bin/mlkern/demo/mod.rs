//! `mlkern demo`: every kernel on generated data, checked against a reference, with timings.
//!
//! Each family's rows live in its own file of this module; `row` owns the row type and the
//! generated data, so the family files import from it and never from each other or from here.
//! Each family adds its rows here as it lands. A row's check compares the kernel's result with an
//! independent f64 computation; the demo fails (exit 2) if any check fails.

use indicatif::{ProgressBar, ProgressStyle};
use mlkern::linalg::GemmBackend;
use serde_json::{Value, json};

use crate::timing::human_seconds;
use crate::{CliError, Common};

mod known_svd;
mod linalg;
mod ortho;
mod row;
mod spec;
mod spectrum;
mod stft;
mod tree;

/// Arguments of `mlkern demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let par = args.common.par();
    let repeat = args.common.repeat.max(3);
    let mut steps = linalg::simd_rows();
    steps.push(linalg::gemm_row(GemmBackend::Auto, 512));
    steps.push(linalg::gemm_row(GemmBackend::Portable, 512));
    steps.push(linalg::sym_row(512));
    steps.extend(ortho::rows());
    steps.extend(spectrum::rows());
    steps.extend(spec::rows());
    steps.extend(stft::rows());
    steps.extend(tree::rows());

    let bar = if args.common.json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(steps.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        bar
    };
    let mut rows = Vec::with_capacity(steps.len());
    for step in &steps {
        let row = step(repeat, par)?;
        bar.set_message(row.kernel);
        bar.inc(1);
        rows.push(row);
    }
    bar.finish_and_clear();

    let all_ok = rows.iter().all(|r| r.ok);
    if args.common.json {
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({"kernel": r.kernel, "shape": r.shape, "summary": r.summary,
                       "ok": r.ok, "timing": r.timing.to_json()})
            })
            .collect();
        outln!(
            "{}",
            json!({ "isa": mlkern::simd::Isa::detect().name(), "rows": items, "ok": all_ok })
        );
    } else {
        outln!(
            "mlkern demo — ISA {}, {repeat} runs per kernel, median time\n",
            mlkern::simd::Isa::detect().name()
        );
        let w = rows
            .iter()
            .map(|r| r.kernel.chars().count())
            .max()
            .unwrap_or(6);
        let ws = rows
            .iter()
            .map(|r| r.shape.chars().count())
            .max()
            .unwrap_or(5);
        outln!(
            "{:<w$}  {:<ws$}  {:>10}  check  result",
            "kernel",
            "shape",
            "time"
        );
        for r in &rows {
            outln!(
                "{:<w$}  {:<ws$}  {:>10}  {:<5}  {}",
                r.kernel,
                r.shape,
                human_seconds(r.timing.median_s()),
                if r.ok { "ok" } else { "FAIL" },
                r.summary
            );
        }
    }
    if all_ok {
        Ok(())
    } else {
        Err(CliError::Usage(
            "demo: a kernel's result disagreed with its reference (see FAIL rows)".into(),
        ))
    }
}
