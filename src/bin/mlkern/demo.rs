//! `mlkern demo`: every kernel on generated data, checked against a reference, with timings.
//!
//! Each family adds its rows here as it lands. A row's check compares the kernel's result with an
//! independent f64 computation; the demo fails (exit 2) if any check fails.

use indicatif::{ProgressBar, ProgressStyle};
use mlkern::Par;
use mlkern::linalg::{self, Accum, GemmBackend, Layout};
use serde_json::{Value, json};

use crate::timing::{Timing, human_seconds};
use crate::{CliError, Common};

/// Arguments of `mlkern demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    common: Common,
}

/// One line of the demo table.
pub(crate) struct Row {
    pub kernel: &'static str,
    pub shape: String,
    pub summary: String,
    pub ok: bool,
    pub timing: Timing,
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift64*).
pub(crate) fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let x = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
            (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

pub(crate) fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// Relative error `|got − want| / max(|want|, tiny)`.
fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}

/// The f64 sum of `terms` and the f32 accuracy budget `1e-5·Σ|terms|` a reduction must meet.
fn reference_sum(terms: impl Iterator<Item = f64>) -> (f64, f64) {
    let (sum, abs) = terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
    (sum, abs * 1e-5)
}

pub(crate) type Step = Box<dyn Fn(u32, Par) -> Result<Row, CliError>>;

fn simd_rows() -> Vec<Step> {
    const N: usize = 1 << 20;
    vec![
        Box::new(|repeat, _| {
            let x = data(N, 1);
            let x32 = f32s(&x);
            let (got, timing) =
                Timing::measure(repeat, || Ok::<_, CliError>(mlkern::simd::sum(&x32)))?;
            let (want, bound) = reference_sum(x32.iter().map(|&v| v as f64));
            Ok(Row {
                kernel: "simd::sum (f32)",
                shape: format!("{N}"),
                summary: format!("sum = {got:.6} (f64 ref {want:.6})"),
                ok: (got as f64 - want).abs() <= bound,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let (x, y) = (f32s(&data(N, 2)), f32s(&data(N, 3)));
            let (got, timing) = Timing::measure(repeat, || mlkern::simd::dot(&x, &y))?;
            let (want, bound) = reference_sum(x.iter().zip(&y).map(|(&a, &b)| a as f64 * b as f64));
            Ok(Row {
                kernel: "simd::dot (f32)",
                shape: format!("{N}"),
                summary: format!("dot = {got:.6} (f64 ref {want:.6})"),
                ok: (got as f64 - want).abs() <= bound,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let x = f32s(&data(N, 4));
            let ((idx, max), timing) = Timing::measure(repeat, || mlkern::simd::argmax(&x))?;
            let want = x
                .iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |acc, (i, v)| if v > acc.1 { (i, v) } else { acc },
                );
            Ok(Row {
                kernel: "simd::argmax (f32)",
                shape: format!("{N}"),
                summary: format!("x[{idx}] = {max}"),
                ok: (idx, max) == want,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let logits: Vec<f32> = data(N, 5).iter().map(|&v| (8.0 * v) as f32).collect();
            let mut p = logits.clone();
            let ((), timing) = Timing::measure(repeat, || {
                p.copy_from_slice(&logits);
                mlkern::simd::softmax_in_place(&mut p)
            })?;
            let lse = mlkern::simd::log_sum_exp(&logits)?;
            let m = logits
                .iter()
                .fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
            let want_lse = m + logits
                .iter()
                .map(|&v| (v as f64 - m).exp())
                .sum::<f64>()
                .ln();
            let total: f64 = p.iter().map(|&v| v as f64).sum();
            Ok(Row {
                kernel: "simd::softmax (f32)",
                shape: format!("{N}"),
                summary: format!("Σp = {total:.7}, logsumexp = {lse:.5} (f64 ref {want_lse:.5})"),
                ok: (total - 1.0).abs() < 1e-4 && rel(lse as f64, want_lse) < 1e-5,
                timing,
            })
        }),
    ]
}

fn gemm_row(backend: GemmBackend, n: usize) -> Step {
    Box::new(move |repeat, par| {
        let a = f32s(&data(n * n, 10));
        let b = f32s(&data(n * n, 11));
        let mut c = vec![0.0f32; n * n];
        let ((), timing) = Timing::measure(repeat, || {
            linalg::matmul_with(
                backend,
                linalg::view_mut(&mut c, n, n, Layout::RowMajor)?,
                Accum::Replace,
                linalg::view(&a, n, n, Layout::RowMajor)?,
                linalg::view(&b, n, n, Layout::RowMajor)?,
                1.0,
                par,
            )
        })?;
        // Check a few entries against f64 dot products.
        let mut worst: f64 = 0.0;
        for &(i, j) in &[(0, 0), (n / 2, n / 3), (n - 1, n - 1), (7 % n, (n - 1) / 2)] {
            let want: f64 = (0..n)
                .map(|p| a[i * n + p] as f64 * b[p * n + j] as f64)
                .sum();
            let scale: f64 = (0..n)
                .map(|p| (a[i * n + p] as f64 * b[p * n + j] as f64).abs())
                .sum();
            worst = worst.max((c[i * n + j] as f64 - want).abs() / scale);
        }
        let gflops = 2.0 * (n * n * n) as f64 / timing.median_s() / 1e9;
        Ok(Row {
            kernel: if backend == GemmBackend::Portable {
                "linalg::matmul portable (f32)"
            } else {
                "linalg::matmul (f32)"
            },
            shape: format!("{n}×{n}×{n}"),
            summary: format!("{gflops:.1} GFLOP/s, rel err {worst:.1e}"),
            ok: worst < 1e-5,
            timing,
        })
    })
}

fn sym_row(n: usize) -> Step {
    Box::new(move |repeat, par| {
        let a = f32s(&data(n * n, 12));
        let mut c = vec![0.0f32; n * n];
        let ((), timing) = Timing::measure(repeat, || {
            linalg::sym_product(
                linalg::view_mut(&mut c, n, n, Layout::RowMajor)?,
                0.0,
                linalg::view(&a, n, n, Layout::RowMajor)?,
                1.0,
                par,
            )
        })?;
        let symmetric = (0..n).all(|i| (0..i).all(|j| c[i * n + j] == c[j * n + i]));
        let want: f64 = (0..n).map(|p| (a[p] as f64).powi(2)).sum();
        Ok(Row {
            kernel: "linalg::sym_product A·Aᵀ (f32)",
            shape: format!("{n}×{n}"),
            summary: format!("exactly symmetric: {symmetric}, c₀₀ = {:.4}", c[0]),
            ok: symmetric && rel(c[0] as f64, want) < 1e-5,
            timing,
        })
    })
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let par = args.common.par();
    let repeat = args.common.repeat.max(3);
    let mut steps = simd_rows();
    steps.push(gemm_row(GemmBackend::Auto, 512));
    steps.push(gemm_row(GemmBackend::Portable, 512));
    steps.push(sym_row(512));
    steps.extend(crate::demo_ortho::rows());
    steps.extend(crate::demo_spectrum::rows());
    steps.extend(crate::demo_spec::rows());
    steps.extend(crate::demo_stft::rows());
    steps.extend(crate::demo_tree::rows());

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
