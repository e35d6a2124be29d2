//! `mlkern spectrum IN.npy`: spectral metrics of an m×n matrix, or of each layer of a
//! layers × samples × width array.

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::NpyData;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, MatrixSpectrum, Method, SpectrumConfig, Summary, singular_values,
};
use serde_json::{Value, json};

use crate::backend::{self, Backend};
use crate::files::{checked_len, read_array, try_vec};
use crate::spectrum_estimate::{self as slq, EstimateArgs};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern spectrum`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input: m×n, or layers × samples × width; .npy (f32/f64/integer) or .csv (m×n).
    pub(crate) input: PathBuf,
    /// Subtract each column's mean first (hidden states: the covariance spectrum).
    #[arg(long)]
    pub(crate) center: bool,
    /// auto (Gram for f32 or --energy-only input at aspect ≥ 2, SVD otherwise) | svd | gram.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub(crate) method: MethodArg,
    /// Only energy-weighted metrics are needed: lets auto take the Gram path for f64 input and
    /// run the eigensolver in f32 for f32 input (σ-weighted metrics are then approximate);
    /// with --estimate, only the energy-weighted metrics set the depth and the probe count.
    #[arg(long)]
    pub(crate) energy_only: bool,
    /// Write an SVG of the singular spectrum (log-log, one line per layer, effective ranks marked).
    #[arg(long)]
    pub(crate) plot: Option<PathBuf>,
    /// Where the decomposition runs; `cublas` (feature `cublas`, a GPU) forms the f32 Gram
    /// matrix on the device and solves the small eigenproblem on the host.
    #[arg(long, value_parser = Backend::parser(backend::DEVICE), default_value = "cpu")]
    pub(crate) backend: Backend,
    #[command(flatten)]
    pub(crate) slq: EstimateArgs,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub(crate) enum MethodArg {
    Auto,
    Svd,
    Gram,
}

/// The input as row-major layers of rows × cols, in its own precision.
enum Layers {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

pub(crate) fn summary_json(s: &MatrixSpectrum, method: &str) -> Value {
    let sp = s.spectrum();
    let sum: Option<Summary> = sp.summary();
    let f = |g: fn(&Summary) -> f64| sum.as_ref().map(g);
    json!({
        "rows": s.rows,
        "cols": s.cols,
        "centered": s.centering == Centering::ColumnMean,
        "method": method,
        "erank_sigma": f(|s| s.erank_sigma),
        "erank_energy": f(|s| s.erank_energy),
        "entropy_sigma_nats": f(|s| s.entropy_sigma),
        "entropy_energy_nats": f(|s| s.entropy_energy),
        "stable_rank": f(|s| s.stable_rank),
        "participation_ratio": f(|s| s.participation_ratio),
        "numerical_rank": sum.as_ref().map_or(0, |s| s.numerical_rank),
        "rankme": f(|s| s.rankme),
        "singular_values": s.sigma,
    })
}

fn one_layer<T: Real>(
    x: &[T],
    (rows, cols): (usize, usize),
    cfg: &SpectrumConfig,
    common: &Common,
) -> Result<(MatrixSpectrum, Timing), CliError> {
    let v = view(x, rows, cols, Layout::RowMajor)?;
    let par = common.par();
    Ok(Timing::measure(common.repeat, || {
        singular_values(v, cfg, par)
    })?)
}

#[cfg(feature = "cublas")]
fn gpu_layer(
    gpu: &mlkern::gpu::Cuda,
    x: &[f32],
    (rows, cols): (usize, usize),
    centering: Centering,
    common: &Common,
) -> Result<(MatrixSpectrum, Timing), CliError> {
    let h = gpu.upload(x)?;
    let center = centering == Centering::ColumnMean;
    let (sigma, t) = Timing::measure(common.repeat, || {
        gpu.gram_singular_values(&h, rows, cols, center)
    })?;
    Ok((
        MatrixSpectrum {
            sigma,
            rows,
            cols,
            eps: f32::EPSILON as f64,
            centering,
            method: Method::Gram,
        },
        t,
    ))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let array = read_array(&args.input)?;
    let (layers, rows, cols, three_d) = match *array.shape.as_slice() {
        [r, c] => (1, r, c, false),
        [l, r, c] => (l, r, c, true),
        _ => {
            return Err(CliError::Usage(format!(
                "spectrum: expected an m×n or layers × samples × width array, found shape {:?}",
                array.shape
            )));
        }
    };
    let data = match array.data {
        NpyData::F32(_) => Layers::F32(array.to_f32_vec()?),
        _ => Layers::F64(array.to_f64_vec()?),
    };
    let centering = if args.center {
        Centering::ColumnMean
    } else {
        Centering::None
    };
    let method = match args.method {
        MethodArg::Auto => Method::Auto,
        MethodArg::Svd => Method::Svd,
        MethodArg::Gram => Method::Gram,
    };
    let cfg = SpectrumConfig::new(centering, method).with_energy_only(args.energy_only);
    let per = checked_len(&[rows, cols], "spectrum layer")?;
    if per == 0 && layers > 1 {
        // [L, 0, n] holds nothing whatever L is: L alone must not size buffers or loops.
        return Err(CliError::Usage(format!(
            "spectrum: the layers are empty (shape {:?})",
            array.shape
        )));
    }
    if args.slq.estimate {
        return run_estimate(&args, &data, (layers, rows, cols), three_d);
    }
    // layers comes from the file's shape: [L, 0, n] is empty whatever L is.
    let mut results = try_vec(layers, "spectrum layers")?;
    let mut timings = try_vec(layers, "spectrum layers")?;
    let backend_name = args.backend.name();
    if args.backend == Backend::Cublas {
        run_gpu(
            &data,
            (layers, rows, cols),
            centering,
            &args.common,
            &mut results,
            &mut timings,
        )?;
    } else {
        for l in 0..layers {
            let (s, t) = match &data {
                Layers::F32(x) => {
                    one_layer(&x[l * per..(l + 1) * per], (rows, cols), &cfg, &args.common)?
                }
                Layers::F64(x) => {
                    one_layer(&x[l * per..(l + 1) * per], (rows, cols), &cfg, &args.common)?
                }
            };
            results.push(s);
            timings.push(t);
        }
    }
    let method_name = |s: &MatrixSpectrum| {
        if args.backend == Backend::Cublas {
            "gram-gpu"
        } else {
            s.method.name()
        }
    };
    if let Some(path) = &args.plot {
        std::fs::write(path, crate::spectrum_plot::svg(&results))
            .map_err(|e| CliError::io(path, e))?;
    }
    if args.common.json {
        let mut objs: Vec<Value> = results
            .iter()
            .map(|s| summary_json(s, method_name(s)))
            .collect();
        for (o, t) in objs.iter_mut().zip(&timings) {
            o["timing"] = t.to_json();
            o["backend"] = json!(backend_name);
            // With --energy-only, σ-weighted metrics and the rank may be approximate.
            o["energy_only"] = json!(args.energy_only);
        }
        print_json(objs, three_d);
    } else {
        print_table(&results, &timings, three_d, method_name);
    }
    Ok(())
}

/// Prints the per-layer objects: `{"layers": [...]}` for a 3-D input, the one object otherwise.
fn print_json(mut objs: Vec<Value>, three_d: bool) {
    let out = if three_d {
        json!({ "layers": objs })
    } else {
        objs.pop().unwrap_or(Value::Null)
    };
    outln!("{out}");
}

/// `--estimate`: every layer by stochastic Lanczos quadrature.
fn run_estimate(
    args: &Args,
    data: &Layers,
    (layers, rows, cols): (usize, usize, usize),
    three_d: bool,
) -> Result<(), CliError> {
    if args.method != MethodArg::Auto || args.plot.is_some() || args.backend != Backend::Cpu {
        return Err(CliError::Usage(
            "spectrum --estimate: --method, --plot and --backend apply to the exact spectrum only"
                .into(),
        ));
    }
    let per = rows * cols;
    let mut reports = try_vec(layers, "spectrum layers")?;
    let mut timings = try_vec(layers, "spectrum layers")?;
    let (shape, flags) = ((rows, cols), (args.center, args.energy_only));
    for l in 0..layers {
        let range = l * per..(l + 1) * per;
        let (r, t) = match data {
            Layers::F32(x) => slq::one_layer(&x[range], shape, flags, &args.slq, &args.common)?,
            Layers::F64(x) => slq::one_layer(&x[range], shape, flags, &args.slq, &args.common)?,
        };
        reports.push(r);
        timings.push(t);
    }
    if args.common.json {
        let objs = reports
            .iter()
            .zip(&timings)
            .map(|(r, t)| slq::report_json(r, (rows, cols), args.center, t))
            .collect();
        print_json(objs, three_d);
    } else {
        slq::print_table(&reports, &timings, (rows, cols), args.center);
    }
    Ok(())
}

#[cfg(feature = "cublas")]
fn run_gpu(
    data: &Layers,
    (layers, rows, cols): (usize, usize, usize),
    centering: Centering,
    common: &Common,
    results: &mut Vec<MatrixSpectrum>,
    timings: &mut Vec<Timing>,
) -> Result<(), CliError> {
    let gpu = mlkern::gpu::Cuda::try_new()?;
    let per = checked_len(&[rows, cols], "spectrum layer")?;
    let x32: Vec<f32> = match data {
        Layers::F32(x) => x.clone(),
        Layers::F64(x) => x.iter().map(|&v| v as f32).collect(),
    };
    for l in 0..layers {
        let (s, t) = gpu_layer(
            &gpu,
            &x32[l * per..(l + 1) * per],
            (rows, cols),
            centering,
            common,
        )?;
        results.push(s);
        timings.push(t);
    }
    Ok(())
}

#[cfg(not(feature = "cublas"))]
fn run_gpu(
    _data: &Layers,
    _shape: (usize, usize, usize),
    _centering: Centering,
    _common: &Common,
    _results: &mut Vec<MatrixSpectrum>,
    _timings: &mut Vec<Timing>,
) -> Result<(), CliError> {
    mlkern::gpu::Cuda::try_new()?;
    unreachable!("Cuda::try_new fails without the cublas feature")
}

pub(crate) fn print_table(
    results: &[MatrixSpectrum],
    timings: &[Timing],
    three_d: bool,
    method_name: impl Fn(&MatrixSpectrum) -> &'static str,
) {
    let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
    if let Some(first) = results.first() {
        outln!(
            "spectrum: {}{}×{} ({}), method {}",
            if three_d {
                format!("{} layers of ", results.len())
            } else {
                String::new()
            },
            first.rows,
            first.cols,
            if first.centering == Centering::ColumnMean {
                "centered"
            } else {
                "raw"
            },
            method_name(first)
        );
    }
    outln!(
        "{:>5} {:>12} {:>12} {:>11} {:>11} {:>9} {:>12} {:>10}",
        "layer",
        "erank_sigma",
        "erank_energy",
        "stable_rank",
        "part_ratio",
        "num_rank",
        "rankme",
        "time"
    );
    for (l, (s, t)) in results.iter().zip(timings).enumerate() {
        let sum = s.spectrum().summary();
        outln!(
            "{:>5} {:>12} {:>12} {:>11} {:>11} {:>9} {:>12} {:>10}",
            l,
            fmt(sum.map(|s| s.erank_sigma)),
            fmt(sum.map(|s| s.erank_energy)),
            fmt(sum.map(|s| s.stable_rank)),
            fmt(sum.map(|s| s.participation_ratio)),
            sum.map_or(0, |s| s.numerical_rank),
            fmt(sum.map(|s| s.rankme)),
            t.human()
        );
    }
}
