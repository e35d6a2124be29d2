//! `mlkern muon --param P.npy --grad G.npy --momentum M.npy -o PREFIX`: one Muon step on files,
//! writing `PREFIX_param.npy` and `PREFIX_momentum.npy`.

use std::path::{Path, PathBuf};

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::ortho::{self, Hyper, MomentumKind, MuonConfig, MuonReport, Normalize, UpdateScale};
use serde_json::json;

use crate::files::{filled, read_array, write_array};
use crate::ortho::NsArgs;
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern muon`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Parameter (≥ 2-D; more dimensions are flattened to (d0, rest)). Its dtype sets the precision.
    #[arg(long)]
    param: PathBuf,
    /// Gradient, same shape as the parameter.
    #[arg(long)]
    grad: PathBuf,
    /// Momentum buffer, same shape (default: zeros, i.e. the first step).
    #[arg(long)]
    momentum: Option<PathBuf>,
    /// Output prefix: writes PREFIX_param.npy and PREFIX_momentum.npy.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Learning rate.
    #[arg(long, default_value_t = 0.02)]
    lr: f64,
    /// Momentum coefficient β in [0, 1).
    #[arg(long, default_value_t = 0.95)]
    beta: f64,
    /// Orthogonalize the Nesterov look-ahead (true) or the momentum buffer (false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    nesterov: bool,
    /// ema: M ← βM + (1−β)g (Keller Jordan, torch); sum: M ← βM + g (Moonlight, Dion).
    #[arg(long, value_enum, default_value_t = Kind::Ema)]
    momentum_kind: Kind,
    /// Decoupled weight decay: p ← p·(1 − lr·wd).
    #[arg(long, default_value_t = 0.0)]
    wd: f64,
    /// Update scale: keller √max(1, r/c), moonlight 0.2·√max(r, c), spectral √(r/c).
    #[arg(long, value_enum, default_value_t = Scale::Keller)]
    scale: Scale,
    /// How eps enters the normalizer: plus, X/(‖X‖ + eps) (Keller Jordan); max, X/max(‖X‖, eps)
    /// (torch.optim.Muon). Default: the schedule's own.
    #[arg(long, value_enum)]
    eps_mode: Option<EpsMode>,
    #[command(flatten)]
    ns: NsArgs,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Kind {
    Ema,
    Sum,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum EpsMode {
    Plus,
    Max,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Scale {
    Keller,
    Moonlight,
    Spectral,
}

fn step<T: Real>(
    param: &[T],
    grad: &[T],
    momentum: &[T],
    shape: &[usize],
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
    common: &Common,
) -> Result<(Vec<T>, Vec<T>, MuonReport, Timing), CliError> {
    let par = common.par();
    let mut ws = filled(
        ortho::muon_scratch_len(shape, cfg)?,
        T::zero(),
        "muon scratch",
    )?;
    let (mut p, mut m) = (param.to_vec(), momentum.to_vec());
    let (report, timing) = Timing::measure(common.repeat, || {
        // Every repetition starts from the same state, so the result is one step.
        p.copy_from_slice(param);
        m.copy_from_slice(momentum);
        ortho::muon_step(&mut p, &mut m, grad, shape, hyper, cfg, &mut ws, par)
    })?;
    Ok((p, m, report, timing))
}

fn same_shape(what: &str, path: &Path, a: &NpyArray, shape: &[usize]) -> Result<(), CliError> {
    if a.shape != shape {
        return Err(CliError::Usage(format!(
            "muon: {what} {} has shape {:?} but the parameter has shape {shape:?}",
            path.display(),
            a.shape
        )));
    }
    Ok(())
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let param = read_array(&args.param)?;
    let shape = param.shape.clone();
    let grad = read_array(&args.grad)?;
    same_shape("gradient", &args.grad, &grad, &shape)?;
    let momentum = match &args.momentum {
        Some(path) => {
            let m = read_array(path)?;
            same_shape("momentum", path, &m, &shape)?;
            Some(m)
        }
        None => None,
    };
    let hyper = Hyper::lr(args.lr).with_weight_decay(args.wd);
    let mut cfg = MuonConfig::new(args.ns.config())
        .with_momentum(args.beta)
        .with_nesterov(args.nesterov)
        .with_momentum_kind(match args.momentum_kind {
            Kind::Ema => MomentumKind::Ema,
            Kind::Sum => MomentumKind::Sum,
        })
        .with_scale(match args.scale {
            Scale::Keller => UpdateScale::Keller,
            Scale::Moonlight => UpdateScale::Moonlight,
            Scale::Spectral => UpdateScale::Spectral,
        });
    if let Some(mode) = args.eps_mode {
        let n = cfg.ns.schedule.normalize;
        cfg.ns.schedule.normalize = match mode {
            EpsMode::Plus => Normalize::plus_eps(n.scale, n.eps),
            EpsMode::Max => Normalize::max_eps(n.scale, n.eps),
        };
    }
    let f32_mode = matches!(param.data, NpyData::F32(_));
    let len = param.len();
    let (p, m, report, timing) = if f32_mode {
        let mom = match momentum {
            Some(m) => m.to_f32_vec()?,
            None => filled(len, 0.0, "muon momentum")?,
        };
        let (p, m, r, t) = step(
            &param.to_f32_vec()?,
            &grad.to_f32_vec()?,
            &mom,
            &shape,
            hyper,
            &cfg,
            &args.common,
        )?;
        (NpyData::F32(p), NpyData::F32(m), r, t)
    } else {
        let mom = match momentum {
            Some(m) => m.to_f64_vec()?,
            None => filled(len, 0.0, "muon momentum")?,
        };
        let (p, m, r, t) = step(
            &param.to_f64_vec()?,
            &grad.to_f64_vec()?,
            &mom,
            &shape,
            hyper,
            &cfg,
            &args.common,
        )?;
        (NpyData::F64(p), NpyData::F64(m), r, t)
    };
    if let Some(prefix) = &args.output {
        write_array(
            &with_suffix(prefix, "_param.npy"),
            &NpyArray::new(shape.clone(), p)?,
        )?;
        write_array(
            &with_suffix(prefix, "_momentum.npy"),
            &NpyArray::new(shape.clone(), m)?,
        )?;
    }
    if args.common.json {
        let summary = json!({
            "shape": shape,
            "matrix": [report.rows, report.cols],
            "dtype": if f32_mode { "f32" } else { "f64" },
            "schedule": cfg.ns.schedule.name,
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
            "muon: {:?} as {}×{}, step size {:.4e}, {} × {} steps ({}){}: median {} over {} run(s)",
            shape,
            report.rows,
            report.cols,
            report.step_size,
            cfg.ns.schedule.name,
            report.ns.steps,
            report.ns.algo.name(),
            if report.ns.zero_input {
                ", zero update (weight decay only)"
            } else {
                ""
            },
            timing.human(),
            args.common.repeat
        );
    }
    Ok(())
}
