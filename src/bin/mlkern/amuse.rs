//! `mlkern amuse --param Y.npy --grad G.npy [--z Z.npy --x X.npy --momentum M.npy] --t T -o PREFIX`:
//! one AMUSE step on files, writing `PREFIX_param.npy` (the next evaluation point `Y`),
//! `PREFIX_z.npy`, `PREFIX_x.npy` (the averaged weights) and `PREFIX_momentum.npy`.

use std::path::PathBuf;

use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::ortho::{self, AmuseConfig, AmuseState, MomentumKind, MuonReport};
use serde_json::json;

use crate::files::{FileReal, filled, read_array, write_array};
use crate::muon::{MuonArgs, read_like, with_suffix};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern amuse`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The evaluation point `Y_t`: the weights the gradient was taken at (≥ 2-D; more dimensions
    /// are flattened to (d0, rest)). Its dtype sets the precision.
    #[arg(long)]
    param: PathBuf,
    /// Gradient at `Y_t`, same shape.
    #[arg(long)]
    grad: PathBuf,
    /// The fast sequence `Z_t` (default at t = 1: the parameter).
    #[arg(long)]
    z: Option<PathBuf>,
    /// The average `X_t` (default at t = 1: the parameter).
    #[arg(long)]
    x: Option<PathBuf>,
    /// Momentum buffer `M_{t−1}` (default: zeros).
    #[arg(long)]
    momentum: Option<PathBuf>,
    /// The step number t ≥ 1 (sets the average's weight 1/(t+1) and β_{t+1}).
    #[arg(long, default_value_t = 1)]
    t: u64,
    /// β₁ ∈ [0, 1]: the interpolation between Z (0) and X (1) up to the warmup's end.
    #[arg(long, default_value_t = 0.9)]
    beta1: f64,
    /// T₀ ≥ 2: the step after which β_t rises towards 1.
    #[arg(long, default_value_t = 1000)]
    warmup: u64,
    /// ρ > 0: how fast β_t rises after the warmup.
    #[arg(long, default_value_t = 1.0)]
    rho: f64,
    /// Output prefix: writes PREFIX_param.npy (Y_{t+1}), PREFIX_z.npy, PREFIX_x.npy and
    /// PREFIX_momentum.npy.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    opts: MuonArgs,
    #[command(flatten)]
    common: Common,
}

/// The input files, each checked against the parameter's shape.
struct Inputs {
    y: NpyArray,
    grad: NpyArray,
    z: Option<NpyArray>,
    x: Option<NpyArray>,
    m: Option<NpyArray>,
}

fn read_inputs(args: &Args) -> Result<Inputs, CliError> {
    let y = read_array(&args.param)?;
    let shape = y.shape.clone();
    let opt = |what, path: &Option<PathBuf>| {
        path.as_deref()
            .map(|p| read_like("amuse", what, p, &shape))
            .transpose()
    };
    let inputs = Inputs {
        grad: read_like("amuse", "gradient", &args.grad, &shape)?,
        z: opt("z", &args.z)?,
        x: opt("x", &args.x)?,
        m: opt("momentum", &args.momentum)?,
        y,
    };
    if args.t > 1 && (inputs.z.is_none() || inputs.x.is_none()) {
        return Err(CliError::Usage(
            "amuse: --z and --x are needed after the first step (--t > 1)".into(),
        ));
    }
    Ok(inputs)
}

/// One AMUSE step in precision `T`; writes the outputs and returns the report and timing.
fn run_in<T: FileReal>(
    args: &Args,
    inputs: &Inputs,
    cfg: &AmuseConfig<'_>,
) -> Result<(MuonReport, Timing), CliError> {
    let shape = &inputs.y.shape;
    let (y0, grad) = (T::read(&inputs.y)?, T::read(&inputs.grad)?);
    let or_y = |a: &Option<NpyArray>| a.as_ref().map_or_else(|| Ok(y0.clone()), T::read);
    let (z0, x0) = (or_y(&inputs.z)?, or_y(&inputs.x)?);
    let m0 = match &inputs.m {
        Some(m) => T::read(m)?,
        None => filled(y0.len(), T::zero(), "amuse momentum")?,
    };
    let mut ws = filled(
        ortho::amuse_scratch_len(shape, cfg)?,
        T::zero(),
        "amuse scratch",
    )?;
    let (mut y, mut z, mut x, mut m) = (y0.clone(), z0.clone(), x0.clone(), m0.clone());
    let (hyper, par) = (args.opts.hyper(), args.common.par());
    let (report, timing) = Timing::measure(args.common.repeat, || {
        // Every repetition starts from the same state, so the result is one step.
        for (dst, src) in [(&mut y, &y0), (&mut z, &z0), (&mut x, &x0), (&mut m, &m0)] {
            dst.copy_from_slice(src);
        }
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        ortho::amuse_step(
            &mut y, state, &grad, shape, args.t, hyper, cfg, &mut ws, par,
        )
    })?;
    if let Some(prefix) = &args.output {
        for (suffix, data) in [
            ("_param.npy", y),
            ("_z.npy", z),
            ("_x.npy", x),
            ("_momentum.npy", m),
        ] {
            let array = NpyArray::new(shape.clone(), T::data(data))?;
            write_array(&with_suffix(prefix, suffix), &array)?;
        }
    }
    Ok((report, timing))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let inputs = read_inputs(&args)?;
    let cfg = AmuseConfig::new(args.opts.config(false, MomentumKind::Sum)).with_schedule(
        args.beta1,
        args.warmup,
        args.rho,
    );
    let f32_mode = matches!(inputs.y.data, NpyData::F32(_));
    let (report, timing) = if f32_mode {
        run_in::<f32>(&args, &inputs, &cfg)?
    } else {
        run_in::<f64>(&args, &inputs, &cfg)?
    };
    let beta_next = cfg.beta(args.t.saturating_add(1));
    if args.common.json {
        let summary = json!({
            "shape": inputs.y.shape,
            "matrix": [report.rows, report.cols],
            "dtype": if f32_mode { f32::NAME } else { f64::NAME },
            "t": args.t,
            "beta_next": beta_next,
            "schedule": cfg.muon.ns.schedule.name,
            "steps": report.ns.steps,
            "algo": report.ns.algo.name(),
            "step_size": report.step_size,
            "update_norm_in": report.ns.input_norm,
            "zero_update": report.ns.zero_input,
            "timing": timing.to_json(),
        });
        outln!("{summary}");
    } else {
        outln!(
            "amuse: step {} on {:?} as {}×{}, step size {:.4e}, β_{} = {:.6}, {} × {} steps ({}): median {} over {} run(s)",
            args.t,
            inputs.y.shape,
            report.rows,
            report.cols,
            report.step_size,
            args.t.saturating_add(1),
            beta_next,
            cfg.muon.ns.schedule.name,
            report.ns.steps,
            report.ns.algo.name(),
            timing.human(),
            args.common.repeat
        );
    }
    Ok(())
}
