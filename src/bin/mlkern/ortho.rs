//! `mlkern ortho IN.npy -o OUT.npy`: Newton–Schulz orthogonalization of an m×n matrix or a
//! b×m×n batch.

use std::path::PathBuf;

use mlkern::Real;
use mlkern::gpu::{Cuda, GpuScalar, bf16};
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::ortho::{self, Algo, NsConfig, NsReport, PRESETS, Schedule};
use serde_json::json;

use crate::backend::{self, Backend};
use crate::files::{filled, read_array, write_array};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern ortho`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input: m×n or b×m×n, .npy (f32/f64/integer) or .csv (m×n).
    pub(crate) input: PathBuf,
    /// Output .npy: same shape; same dtype as the input (f64 for integer input).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Coefficient schedule (with its own normalization and default step count).
    #[command(flatten)]
    pub(crate) ns: NsArgs,
    /// Compute precision (default: the input's dtype, f64 for integer input; f32 on the GPU).
    /// bf16 storage (f32 accumulation) is GPU-only, f64 CPU-only.
    #[arg(long, value_enum)]
    pub(crate) precision: Option<Precision>,
    /// Where the products run. `cublas` needs the `cublas` feature and a GPU; its `--repeat`
    /// times the device kernel alone, rerun on the device-resident iterate (no host transfers).
    #[arg(long, value_parser = Backend::parser(backend::DEVICE), default_value = "cpu")]
    pub(crate) backend: Backend,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Schedule options shared by `ortho` and `muon`.
#[derive(clap::Args, Debug, Clone)]
pub struct NsArgs {
    /// keller | you | polar-express | polar-express-modded | cans | deepseek-v4 | cubic | quintic.
    #[arg(long, default_value = "keller", value_parser = parse_schedule)]
    schedule: Schedule<'static>,
    /// Number of steps (default: the schedule's own; at most 100, `mlkern::limits::MAX_NS_STEPS`).
    #[arg(long)]
    steps: Option<usize>,
    /// standard | gram | auto (Gram when the aspect ratio is at least 2).
    #[arg(long, value_enum, default_value_t = AlgoArg::Standard)]
    algo: AlgoArg,
}

impl NsArgs {
    /// The library configuration these options describe.
    pub fn config(&self) -> NsConfig<'static> {
        let mut schedule = self.schedule;
        if let Some(steps) = self.steps {
            schedule = schedule.with_steps(steps);
        }
        NsConfig::new(schedule).with_algo(match self.algo {
            AlgoArg::Standard => Algo::Standard,
            AlgoArg::Gram => Algo::GRAM,
            AlgoArg::Auto => Algo::Auto,
        })
    }
}

fn parse_schedule(s: &str) -> Result<Schedule<'static>, String> {
    Schedule::by_name(s).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        format!(
            "unknown schedule '{s}' (expected one of: {})",
            names.join(", ")
        )
    })
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum AlgoArg {
    Standard,
    Gram,
    Auto,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub(crate) enum Precision {
    F32,
    F64,
    Bf16,
}

/// Splits an m×n or b×m×n shape into `(b, m, n)`.
fn batch_shape(shape: &[usize]) -> Result<(usize, usize, usize), CliError> {
    match *shape {
        [m, n] => Ok((1, m, n)),
        [b, m, n] => Ok((b, m, n)),
        _ => Err(CliError::Usage(format!(
            "ortho: expected an m×n or b×m×n array, found shape {shape:?}"
        ))),
    }
}

fn compute<T: Real>(
    g: &[T],
    (b, m, n): (usize, usize, usize),
    cfg: &NsConfig<'_>,
    common: &Common,
) -> Result<(Vec<T>, Vec<NsReport>, Timing), CliError> {
    let par = common.par();
    // Steps over the limit are rejected before any buffer is made.
    cfg.validate()?;
    let need = ortho::orthogonalize_batch_scratch_len(b, m, n, cfg, par)?;
    let mut out = filled(g.len(), T::zero(), "ortho output")?;
    // b comes from the file's shape: b×0×n is empty whatever b is.
    let mut reports = filled(b, NsReport::default(), "ortho batch")?;
    let mut ws = filled(need, T::zero(), "ortho scratch")?;
    let ((), timing) = Timing::measure(common.repeat, || {
        ortho::orthogonalize_batch_into(&mut out, &mut reports, g, b, m, n, cfg, &mut ws, par)
    })?;
    Ok((out, reports, timing))
}

/// The GPU path: the result of one run on the input, then `--repeat` timed runs of the kernel on
/// the device-resident iterate (GEMM cost does not depend on the values).
fn compute_gpu<T: GpuScalar>(
    gpu: &Cuda,
    g: &[T],
    (b, m, n): (usize, usize, usize),
    cfg: &NsConfig<'_>,
    common: &Common,
) -> Result<(Vec<T>, Vec<NsReport>, Timing), CliError> {
    let mut x = gpu.upload(g)?;
    let mut ws = gpu.workspace::<T>();
    let reports = gpu.orthogonalize(&mut x, b, m, n, cfg, &mut ws)?;
    let mut out = vec![T::default(); g.len()];
    gpu.download(&x, &mut out)?;
    let ((), timing) = Timing::measure(common.repeat, || {
        gpu.orthogonalize(&mut x, b, m, n, cfg, &mut ws)?;
        gpu.synchronize()
    })?;
    Ok((out, reports, timing))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let gpu = if args.backend == Backend::Cublas {
        Some(mlkern::gpu::Cuda::try_new()?)
    } else {
        None
    };
    let array = read_array(&args.input)?;
    let dims = batch_shape(&array.shape)?;
    let cfg = args.ns.config();
    let input_f32 = matches!(array.data, NpyData::F32(_));
    let precision = args.precision.unwrap_or(if input_f32 || gpu.is_some() {
        Precision::F32
    } else {
        Precision::F64
    });
    let (data, reports, timing) = if let Some(gpu) = &gpu {
        let (o, r, t) = match precision {
            Precision::F32 => compute_gpu(gpu, &array.to_f32_vec()?, dims, &cfg, &args.common)?,
            Precision::Bf16 => {
                let host: Vec<bf16> = array
                    .to_f32_vec()?
                    .into_iter()
                    .map(bf16::from_f32)
                    .collect();
                let (o, r, t) = compute_gpu(gpu, &host, dims, &cfg, &args.common)?;
                (o.into_iter().map(f32::from).collect(), r, t)
            }
            Precision::F64 => {
                return Err(CliError::Usage(
                    "ortho: --backend cublas computes in f32 or bf16, not f64".into(),
                ));
            }
        };
        let data = if input_f32 {
            NpyData::F32(o)
        } else {
            NpyData::F64(o.into_iter().map(f64::from).collect())
        };
        (data, r, t)
    } else if precision == Precision::Bf16 {
        return Err(CliError::Usage(
            "ortho: --precision bf16 needs --backend cublas".into(),
        ));
    } else if precision == Precision::F32 {
        let (o, r, t) = compute(&array.to_f32_vec()?, dims, &cfg, &args.common)?;
        let data = if input_f32 {
            NpyData::F32(o)
        } else {
            NpyData::F64(o.into_iter().map(f64::from).collect())
        };
        (data, r, t)
    } else {
        let (o, r, t) = compute(&array.to_f64_vec()?, dims, &cfg, &args.common)?;
        let data = if input_f32 {
            NpyData::F32(o.into_iter().map(|x| x as f32).collect())
        } else {
            NpyData::F64(o)
        };
        (data, r, t)
    };
    if let Some(out) = &args.output {
        write_array(out, &NpyArray::new(array.shape.clone(), data)?)?;
    }
    let flops: f64 = reports.iter().map(|r| r.flops).sum();
    let zero = reports.iter().filter(|r| r.zero_input).count();
    let algo = reports.first().map_or(cfg.algo, |r| r.algo).name();
    let prec = match precision {
        Precision::F32 => "f32",
        Precision::F64 => "f64",
        Precision::Bf16 => "bf16",
    };
    let device = gpu
        .as_ref()
        .map_or("cpu".to_string(), |g| g.info().name.clone());
    if args.common.json {
        let norms: Vec<f64> = reports.iter().map(|r| r.input_norm).collect();
        let summary = json!({
            "shape": array.shape,
            "dtype": array.dtype_name(),
            "precision": prec,
            "device": device,
            "schedule": cfg.schedule.name,
            "steps": cfg.schedule.steps,
            "algo": algo,
            "input_norms": norms,
            "zero_inputs": zero,
            "gflop": flops / 1e9,
            "gflops": flops / timing.median_s() / 1e9,
            "timing": timing.to_json(),
        });
        outln!("{summary}");
    } else {
        let (b, m, n) = dims;
        outln!(
            "ortho: {b}×{m}×{n} ({prec}, {device}), schedule {} × {} steps, {algo}: median {} over {} run(s), {:.1} GFLOP/s{}",
            cfg.schedule.name,
            cfg.schedule.steps,
            timing.human(),
            args.common.repeat,
            flops / timing.median_s() / 1e9,
            if zero > 0 {
                format!(" ({zero} zero input(s) → zero output)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
