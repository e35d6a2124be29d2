//! `mlkern muon --param P.npy --grad G.npy --momentum M.npy -o PREFIX`: one Muon step on files,
//! writing `PREFIX_param.npy` and `PREFIX_momentum.npy`.

use std::path::{Path, PathBuf};

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::ortho::{self, Hyper, MomentumKind, MuonConfig, MuonReport, Normalize, UpdateScale};
use serde_json::json;

use crate::files::{FileReal, filled, read_array, write_array};
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
    #[command(flatten)]
    opts: MuonArgs,
    #[command(flatten)]
    common: Common,
}

/// The Muon options shared by `muon` and `amuse` (their defaults for `--nesterov` and
/// `--momentum-kind` differ: torch's Muon vs the AMUSE paper's equations).
#[derive(clap::Args, Debug)]
pub struct MuonArgs {
    /// Learning rate.
    #[arg(long, default_value_t = 0.02)]
    lr: f64,
    /// Momentum coefficient β in [0, 1).
    #[arg(long, default_value_t = 0.95)]
    beta: f64,
    /// Orthogonalize the Nesterov look-ahead (true) or the momentum buffer (false). Default:
    /// true for `muon`, false for `amuse`.
    #[arg(long, action = clap::ArgAction::Set)]
    nesterov: Option<bool>,
    /// ema: M ← βM + (1−β)g (Keller Jordan, torch); sum: M ← βM + g (Moonlight, Dion, AMUSE).
    /// Default: ema for `muon`, sum for `amuse`.
    #[arg(long, value_enum)]
    momentum_kind: Option<Kind>,
    /// Decoupled weight decay: p ← p·(1 − lr·wd) (AMUSE: Z ← Z − lr·wd·Y).
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
}

impl MuonArgs {
    /// The step's learning rate and weight decay.
    pub fn hyper(&self) -> Hyper {
        Hyper::lr(self.lr).with_weight_decay(self.wd)
    }

    /// The configuration, with `nesterov` and `kind` where the flags leave them open.
    pub fn config(&self, nesterov: bool, kind: MomentumKind) -> MuonConfig<'static> {
        let mut cfg = MuonConfig::new(self.ns.config())
            .with_momentum(self.beta)
            .with_nesterov(self.nesterov.unwrap_or(nesterov))
            .with_momentum_kind(match self.momentum_kind {
                Some(Kind::Ema) => MomentumKind::Ema,
                Some(Kind::Sum) => MomentumKind::Sum,
                None => kind,
            })
            .with_scale(match self.scale {
                Scale::Keller => UpdateScale::Keller,
                Scale::Moonlight => UpdateScale::Moonlight,
                Scale::Spectral => UpdateScale::Spectral,
            });
        if let Some(mode) = self.eps_mode {
            let n = cfg.ns.schedule.normalize;
            cfg.ns.schedule.normalize = match mode {
                EpsMode::Plus => Normalize::plus_eps(n.scale, n.eps),
                EpsMode::Max => Normalize::max_eps(n.scale, n.eps),
            };
        }
        cfg
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Kind {
    Ema,
    Sum,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum EpsMode {
    Plus,
    Max,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Scale {
    Keller,
    Moonlight,
    Spectral,
}

/// One Muon step on the files' data in precision `T`; writes the outputs and returns the report
/// and timing.
fn run_in<T: FileReal>(
    args: &Args,
    param: &NpyArray,
    grad: &NpyArray,
    momentum: Option<&NpyArray>,
    cfg: &MuonConfig<'_>,
) -> Result<(MuonReport, Timing), CliError> {
    let shape = &param.shape;
    let (param, grad) = (T::read(param)?, T::read(grad)?);
    let momentum = match momentum {
        Some(m) => T::read(m)?,
        None => filled(param.len(), T::zero(), "muon momentum")?,
    };
    let (p, m, report, timing) = step(
        &param,
        &grad,
        &momentum,
        shape,
        args.opts.hyper(),
        cfg,
        &args.common,
    )?;
    if let Some(prefix) = &args.output {
        for (suffix, data) in [("_param.npy", p), ("_momentum.npy", m)] {
            let array = NpyArray::new(shape.clone(), T::data(data))?;
            write_array(&with_suffix(prefix, suffix), &array)?;
        }
    }
    Ok((report, timing))
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

/// Reads `path` and checks that it has the parameter's `shape` (`cmd`, `what` name it in the error).
pub fn read_like(
    cmd: &str,
    what: &str,
    path: &Path,
    shape: &[usize],
) -> Result<NpyArray, CliError> {
    let a = read_array(path)?;
    if a.shape != shape {
        return Err(CliError::Usage(format!(
            "{cmd}: {what} {} has shape {:?} but the parameter has shape {shape:?}",
            path.display(),
            a.shape
        )));
    }
    Ok(a)
}

/// `prefix` with `suffix` appended to its last component.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let param = read_array(&args.param)?;
    let shape = param.shape.clone();
    let grad = read_like("muon", "gradient", &args.grad, &shape)?;
    let momentum = match &args.momentum {
        Some(path) => Some(read_like("muon", "momentum", path, &shape)?),
        None => None,
    };
    let cfg = args.opts.config(true, MomentumKind::Ema);
    let f32_mode = matches!(param.data, NpyData::F32(_));
    let (report, timing) = if f32_mode {
        run_in::<f32>(&args, &param, &grad, momentum.as_ref(), &cfg)?
    } else {
        run_in::<f64>(&args, &param, &grad, momentum.as_ref(), &cfg)?
    };
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
