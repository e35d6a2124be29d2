//! `mlkern accept`: speculative-decoding verification of a batch of (target, draft, tokens)
//! `.npy` files: one verify, its exact first-token law (`--analytic`), or repeated simulated
//! steps (`--trials N`).

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::spec::{
    Batch, Draft, Input, NeighborTable, Philox, Purpose, Residual, Rule, UniformKey, Uniforms,
    VerifyConfig, acceptance_probability, cool_sd_schedule, step_law, tv_distance, verify,
};
use serde_json::{Value, json};

use crate::files::{checked_len, filled, read_array, try_vec};
use crate::timing::Timing;
use crate::{CliError, Common};

/// The most `--trials`: Monte-Carlo estimates of acceptance need 10⁴–10⁶ trials; 10⁷ leaves a
/// margin, and beyond it a run (one verification of the whole batch per trial) does not end.
const MAX_TRIALS: i64 = 10_000_000;

/// Arguments of `mlkern accept`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Target probabilities P, [B, k+1, V] (the last row of each request is the bonus row).
    #[arg(long)]
    target: PathBuf,
    /// Draft probabilities Q, [B, k, V] (optional with --one-hot).
    #[arg(long)]
    draft: Option<PathBuf>,
    /// Draft tokens T, [B, k] integers (ignored with --trials, which draws them from Q).
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Acceptance rule.
    #[arg(long, value_enum, default_value_t = RuleArg::Exact)]
    rule: RuleArg,
    /// LANTERN's budget δ ∈ [0, 1] (default 0.1); the mixture rule's TV budget (default 0.1);
    /// COOL-SD's schedule δ when --omega is not given (default 1.1).
    #[arg(long)]
    delta: Option<f64>,
    /// LANTERN++'s λ ≥ 1 (default 2).
    #[arg(long)]
    lambda: Option<f64>,
    /// COOL-SD's ω: one value, or comma-separated per draft position.
    #[arg(long, value_delimiter = ',')]
    omega: Vec<f64>,
    /// Neighbour table NB, [V, K] integers, nearest first, self excluded (LANTERN rules).
    #[arg(long)]
    neighbors: Option<PathBuf>,
    /// Neighbours LANTERN considers (default min(1000, K)).
    #[arg(long)]
    k: Option<usize>,
    /// Typical acceptance: ε (default 0.09).
    #[arg(long, default_value_t = 0.09)]
    eps: f64,
    /// Typical acceptance: α (default 0.3).
    #[arg(long, default_value_t = 0.3)]
    alpha: f64,
    /// Residual after a rejection.
    #[arg(long, value_enum, default_value_t = ResidualArg::Optimal)]
    residual: ResidualArg,
    /// Deterministic drafts: q is one-hot at each draft token (vLLM draft_probs=None, EAGLE-2).
    #[arg(long)]
    one_hot: bool,
    /// Seed; request r uses seed + r.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the exact law of the first emitted token, its TV to the target and the acceptance
    /// probability (the draft token marginalised over Q's first row; with --one-hot, given the
    /// first token of T).
    #[arg(long, conflicts_with = "trials")]
    analytic: bool,
    /// Simulate N steps: draw the draft tokens from Q (own random stream), verify, count;
    /// N ≤ 10000000.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_TRIALS))]
    trials: Option<u32>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum RuleArg {
    Exact,
    Greedy,
    Lantern,
    LanternPp,
    CoolSd,
    Mixture,
    Typical,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum ResidualArg {
    Optimal,
    Vanilla,
    LanternDynamicTree,
    LanternLuminaStatic,
    LanternLlamagenStatic,
}

/// A 3-D probability array in its own precision.
enum Probs {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

fn dims3(name: &str, a: &NpyArray) -> Result<[usize; 3], CliError> {
    match a.shape.as_slice() {
        &[b, k, v] => Ok([b, k, v]),
        s => Err(CliError::Usage(format!(
            "{name}: expected a 3-D array [B, rows, V], found shape {s:?}"
        ))),
    }
}

fn ints(name: &str, a: NpyArray) -> Result<Vec<u32>, CliError> {
    let v = a.to_f64_vec()?;
    v.iter()
        .map(|&x| {
            if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 {
                Ok(x as u32)
            } else {
                Err(CliError::Usage(format!(
                    "{name}: expected non-negative integer token ids, found {x}"
                )))
            }
        })
        .collect()
}

pub fn run(args: Args) -> Result<(), CliError> {
    let p = read_array(&args.target)?;
    let [b, kp1, v] = dims3("--target", &p)?;
    if kp1 == 0 {
        return Err(CliError::Usage(
            "--target: each request needs at least the bonus row (k + 1 ≥ 1)".into(),
        ));
    }
    let k = kp1 - 1;
    let q = match (&args.draft, args.one_hot) {
        (Some(path), _) => {
            let q = read_array(path)?;
            let d = dims3("--draft", &q)?;
            if d != [b, k, v] {
                return Err(CliError::Usage(format!(
                    "--draft: expected shape [{b}, {k}, {v}] (B, k, V of --target), found {d:?}"
                )));
            }
            Some(q)
        }
        (None, true) => None,
        (None, false) => {
            return Err(CliError::Usage(
                "--draft Q.npy is required (or --one-hot for deterministic drafts)".into(),
            ));
        }
    };
    if args.trials.is_some() && q.is_none() {
        return Err(CliError::Usage(
            "--trials draws the drafts from --draft Q.npy".into(),
        ));
    }
    let tokens = match (&args.tokens, args.trials, args.analytic) {
        (Some(path), _, _) => {
            let t = read_array(path)?;
            if t.shape != [b, k] {
                return Err(CliError::Usage(format!(
                    "--tokens: expected shape [{b}, {k}], found {:?}",
                    t.shape
                )));
            }
            ints("--tokens", t)?
        }
        (None, None, false) => {
            return Err(CliError::Usage("--tokens T.npy is required".into()));
        }
        (None, _, true) if args.one_hot => {
            return Err(CliError::Usage(
                "--analytic with --one-hot needs --tokens T.npy (the deterministic drafts)".into(),
            ));
        }
        // B and k come from --target's shape: [B, k+1, 0] is empty whatever B and k are.
        (None, _, _) => filled(checked_len(&[b, k], "--target")?, 0, "--target")?,
    };
    let nb = match &args.neighbors {
        Some(path) => {
            let a = read_array(path)?;
            let &[rows, width] = a.shape.as_slice() else {
                return Err(CliError::Usage(format!(
                    "--neighbors: expected [V, K], found shape {:?}",
                    a.shape
                )));
            };
            if rows != v {
                return Err(CliError::Usage(format!(
                    "--neighbors: expected {v} rows (V), found {rows}"
                )));
            }
            Some((ints("--neighbors", a)?, width))
        }
        None => None,
    };
    let mut omega = args.omega.clone();
    if args.rule == RuleArg::CoolSd && omega.is_empty() {
        omega = filled(k.max(1), 0.0, "--target")?;
        cool_sd_schedule(args.delta.unwrap_or(1.1), 0.7, &mut omega)?;
    }
    let table = match &nb {
        Some((ids, width)) => Some(NeighborTable::new(ids, v, *width)?),
        None => None,
    };
    let lantern = |delta: bool| -> Result<Rule<'_>, CliError> {
        let t = table
            .ok_or_else(|| CliError::Usage("the LANTERN rules need --neighbors NB.npy".into()))?;
        let kk = args.k.unwrap_or(t.width().min(1000));
        Ok(if delta {
            Rule::Lantern {
                k: kk,
                delta: args.delta.unwrap_or(0.1),
                neighbors: t,
            }
        } else {
            Rule::LanternPP {
                k: kk,
                lambda: args.lambda.unwrap_or(2.0),
                neighbors: t,
            }
        })
    };
    let rule = match args.rule {
        RuleArg::Exact => Rule::Exact,
        RuleArg::Greedy => Rule::Greedy,
        RuleArg::Lantern => lantern(true)?,
        RuleArg::LanternPp => lantern(false)?,
        RuleArg::CoolSd => Rule::CoolSd { omega: &omega },
        RuleArg::Mixture => Rule::MixtureBudget {
            delta: args.delta.unwrap_or(0.1),
        },
        RuleArg::Typical => Rule::Typical {
            eps: args.eps,
            alpha: args.alpha,
        },
    };
    let residual = match args.residual {
        ResidualArg::Optimal => Residual::Optimal,
        ResidualArg::Vanilla => Residual::Vanilla,
        ResidualArg::LanternDynamicTree => Residual::LanternDynamicTree,
        ResidualArg::LanternLuminaStatic => Residual::LanternLuminaStatic,
        ResidualArg::LanternLlamagenStatic => Residual::LanternLlamaGenStatic,
    };
    let cfg = VerifyConfig::new(rule).with_residual(residual);
    let both_f32 = matches!(p.data, NpyData::F32(_))
        && q.as_ref().is_none_or(|q| matches!(q.data, NpyData::F32(_)));
    let to_probs = |a: NpyArray| -> Result<Probs, CliError> {
        Ok(match a.data {
            NpyData::F32(d) if both_f32 => Probs::F32(d),
            NpyData::F32(d) => Probs::F64(d.into_iter().map(f64::from).collect()),
            _ => Probs::F64(a.to_f64_vec()?),
        })
    };
    let pp = to_probs(p)?;
    let qq = q.map(to_probs).transpose()?;
    let job = Job {
        b,
        k,
        v,
        tokens: &tokens,
        cfg: &cfg,
        seed: args.seed,
        common: &args.common,
    };
    let out = match (pp, qq) {
        (Probs::F32(p), Some(Probs::F32(q))) => job.run(&p, Some(&q), &args)?,
        (Probs::F32(p), None) => job.run::<f32>(&p, None, &args)?,
        (Probs::F64(p), Some(Probs::F64(q))) => job.run(&p, Some(&q), &args)?,
        (Probs::F64(p), None) => job.run::<f64>(&p, None, &args)?,
        _ => unreachable!("both inputs are converted to one precision"),
    };
    if args.common.json {
        outln!("{}", serde_json::to_string(&out).unwrap_or_default());
    } else {
        print_human(&out);
    }
    Ok(())
}

fn print_human(out: &Value) {
    if let Some(obj) = out.as_object() {
        for (key, val) in obj {
            outln!("{key}: {val}");
        }
    }
}

struct Job<'j> {
    b: usize,
    k: usize,
    v: usize,
    tokens: &'j [u32],
    cfg: &'j VerifyConfig<'j>,
    seed: u64,
    common: &'j Common,
}

impl Job<'_> {
    fn seeds(&self) -> Result<Vec<u64>, CliError> {
        let mut seeds = try_vec(self.b, "--target")?;
        seeds.extend((0..self.b as u64).map(|r| self.seed.wrapping_add(r)));
        Ok(seeds)
    }

    fn run<T: Real>(&self, p: &[T], q: Option<&[T]>, args: &Args) -> Result<Value, CliError> {
        if args.analytic {
            return self.analytic(p, if args.one_hot { None } else { q });
        }
        let (b, k) = (self.b, self.k);
        checked_len(&[b, k], "--target")?;
        let mut cu = try_vec(b.saturating_add(1), "--target")?;
        cu.extend((0..=b).map(|r| r * k));
        let seeds = self.seeds()?;
        let draft = match q {
            Some(q) if !args.one_hot => Draft::Full(Input::Probs(q)),
            _ => Draft::OneHot,
        };
        let par = self.common.par();
        if let Some(trials) = args.trials {
            let q = q.unwrap_or(&[]);
            checked_len(&[b, self.v, 8], "--target")?;
            let mut counts = try_vec(b, "--target")?;
            for _ in 0..b {
                counts.push(filled(self.v, 0u64, "--target")?);
            }
            let mut emitted = filled(b, 0u64, "--target")?;
            let mut drafted = filled(checked_len(&[b, k], "--target")?, 0u32, "--target")?;
            let mut errs = filled(b, None, "--target")?;
            let (_, timing) = Timing::measure(1, || -> Result<(), CliError> {
                for t in 0..trials {
                    self.draw_drafts(q, t, &seeds, &mut drafted);
                    let batch = Batch {
                        vocab: self.v,
                        draft_tokens: &drafted,
                        cu_num_drafts: &cu,
                        seeds: &seeds,
                        positions: None,
                    };
                    let cfg = self.cfg.with_trial(t);
                    let out = verify(&batch, Input::Probs(p), draft, &cfg, &Philox, par)?;
                    for r in 0..b {
                        if out.errors()[r].is_none() {
                            counts[r][out.tokens(r)[0] as usize] += 1;
                            emitted[r] += u64::from(out.num_emitted()[r]);
                        }
                    }
                    errs.copy_from_slice(out.errors());
                }
                Ok(())
            })?;
            return Ok(json!({
                "first_token_counts": counts,
                "mean_emitted": emitted.iter().map(|&e| e as f64 / f64::from(trials.max(1))).collect::<Vec<_>>(),
                "trials": trials,
                "errors": errs.iter().map(|e| e.map(|e| e.to_string())).collect::<Vec<_>>(),
                "timing": timing.to_json(),
            }));
        }
        let batch = Batch {
            vocab: self.v,
            draft_tokens: self.tokens,
            cu_num_drafts: &cu,
            seeds: &seeds,
            positions: None,
        };
        let (out, timing) = Timing::measure(self.common.repeat, || {
            verify(&batch, Input::Probs(p), draft, self.cfg, &Philox, par)
        })?;
        let rows: Vec<Vec<i32>> = out
            .token_rows()
            .chunks(out.width())
            .map(<[i32]>::to_vec)
            .collect();
        Ok(json!({
            "tokens": rows,
            "num_emitted": out.num_emitted(),
            "errors": out.errors().iter().map(|e| e.map(|e| e.to_string())).collect::<Vec<_>>(),
            "threads": par.thread_count(),
            "timing": timing.to_json(),
        }))
    }

    /// Draft tokens for trial `t`: inverse CDF on each Q row with the `Draft` stream.
    fn draw_drafts<T: Real>(&self, q: &[T], t: u32, seeds: &[u64], out: &mut [u32]) {
        let v = self.v;
        for (j, o) in out.iter_mut().enumerate() {
            let r = j / self.k.max(1);
            let u = Philox.uniform(UniformKey {
                request: r,
                seed: seeds[r],
                position: (j % self.k.max(1)) as u64,
                purpose: Purpose::Draft,
                trial: t,
            });
            let row = &q[j * v..(j + 1) * v];
            let total: f64 = row.iter().map(|x| x.as_f64().max(0.0)).sum();
            let target = u * total;
            let mut cum = 0.0;
            let mut pick = row.iter().rposition(|x| x.as_f64() > 0.0).unwrap_or(0);
            for (i, x) in row.iter().enumerate() {
                let w = x.as_f64().max(0.0);
                cum += w;
                if w > 0.0 && cum > target {
                    pick = i;
                    break;
                }
            }
            *o = pick as u32;
        }
    }

    fn analytic<T: Real>(&self, p: &[T], q: Option<&[T]>) -> Result<Value, CliError> {
        let (b, k, v) = (self.b, self.k, self.v);
        // V comes from --target's shape: [0, k+1, V] is empty whatever V is.
        let mut laws = try_vec(b, "--target")?;
        let mut tvs = try_vec(b, "--target")?;
        let mut accs = try_vec(b, "--target")?;
        let mut errs: Vec<Option<String>> = try_vec(b, "--target")?;
        let mut scratch = filled(checked_len(&[2, v], "--target")?, 0.0, "--target")?;
        let mut law = filled(v, 0.0, "--target")?;
        for r in 0..b {
            let p0: Vec<f64> = p[r * (k + 1) * v..][..v]
                .iter()
                .map(|x| x.as_f64())
                .collect();
            let q0: Vec<f64> = match (q, k) {
                (_, 0) => p0.clone(),
                // One-hot drafts: q is the point mass at the given first draft token.
                (None, _) => {
                    let mut e = vec![0.0; v];
                    if let Some(x) = e.get_mut(self.tokens[r * k] as usize) {
                        *x = 1.0;
                    }
                    e
                }
                (Some(q), _) => q[r * k * v..][..v].iter().map(|x| x.as_f64()).collect(),
            };
            let res = if k == 0 {
                law.copy_from_slice(&p0);
                Ok(1.0)
            } else {
                step_law(
                    &p0,
                    &q0,
                    &self.cfg.rule,
                    0,
                    self.cfg.residual,
                    &mut law,
                    &mut scratch,
                )
                .and_then(|()| acceptance_probability(&p0, &q0, &self.cfg.rule, 0, &mut scratch))
            };
            match res {
                Ok(a) => {
                    tvs.push(Some(tv_distance(&law, &p0)?));
                    accs.push(Some(a));
                    laws.push(Some(law.clone()));
                    errs.push(None);
                }
                Err(e) => {
                    tvs.push(None);
                    accs.push(None);
                    laws.push(None);
                    errs.push(Some(e.to_string()));
                }
            }
        }
        Ok(json!({
            "first_token_distribution": laws,
            "tv_to_target": tvs,
            "acceptance_probability": accs,
            "errors": errs,
        }))
    }
}
