//! The seed paper's experiment at toy scale, through candle: does Muon (and AMUSE) learn more of
//! the weaker features than AdamW, and so stay accurate when the strongest one is removed?
//!
//! Setting ("Muon Learns More Robust and Transferable Features than Adam"): each of `C` classes
//! owns `K` orthonormal feature directions of unequal strength `1, ½, ¼, …`; a sample of class `c`
//! is `Σₖ bₖ·sₖ·u_{c,k} + σ·ε` with each component present with probability 0.8 (`bₖ`) and
//! Gaussian noise `ε`. A 3-layer MLP is trained with AdamW, Muon and AMUSE for the same number of
//! steps, each at the best of a small learning-rate grid (lowest final training loss). Reported
//! per optimizer: the training-loss curve, test accuracy, accuracy with the strongest component
//! removed and with extra noise, the hidden states' effective rank per layer and the true-class
//! logit margins — the paper's measures. Writes `robust_features.svg` and `robust_features.md`.
//!
//! ```text
//! cargo run --release -p mlkern-candle --example robust_features -- --full --out benches/reports
//! ```
//!
//! Without `--full` it is a quick smoke run (40 steps, one seed, one learning rate; what
//! `cargo test` runs), and without `--out` it writes nothing. Other flags: `--steps N`,
//! `--seeds S`, `--noise σ`.
//!
//! ```text
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap, linear};
use mlkern::Par;
use mlkern::spectrum::MarginKind;
use mlkern_candle::{
    Amuse, DevicePolicy, Muon, ParamsAmuse, ParamsMuon, logit_margins, named_vars, spectral_summary,
};

type R<T> = candle_core::Result<T>;

const DIM: usize = 64;
const CLASSES: usize = 8;
const COMPONENTS: usize = 4;
const HIDDEN: usize = 128;
const BATCH: usize = 128;

/// SplitMix64 → uniforms and normals (reproducible across runs and thread counts).
struct Rng(u64);
impl Rng {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f32 {
        (self.u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}

/// The class feature directions: `C·K` orthonormal vectors of length `DIM` (Gram–Schmidt).
fn directions(rng: &mut Rng) -> Vec<Vec<f32>> {
    let mut out: Vec<Vec<f32>> = Vec::new();
    while out.len() < CLASSES * COMPONENTS {
        let mut v: Vec<f32> = (0..DIM).map(|_| rng.normal()).collect();
        for u in &out {
            let d: f32 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
        }
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.iter_mut().for_each(|a| *a /= n);
        out.push(v);
    }
    out
}

/// How a data set is drawn.
#[derive(Clone, Copy)]
enum Corruption {
    None,
    /// The strongest component is removed from every sample.
    DropStrongest,
    /// Three times the noise.
    Noise,
}

fn dataset(
    dirs: &[Vec<f32>],
    n: usize,
    rng: &mut Rng,
    c: Corruption,
    noise: f32,
) -> R<(Tensor, Tensor)> {
    let mut x = vec![0.0f32; n * DIM];
    let mut y = vec![0u32; n];
    for i in 0..n {
        let class = (rng.u64() % CLASSES as u64) as usize;
        y[i] = class as u32;
        let row = &mut x[i * DIM..(i + 1) * DIM];
        for k in 0..COMPONENTS {
            let present = rng.uniform() < 0.8;
            if !present || (k == 0 && matches!(c, Corruption::DropStrongest)) {
                continue;
            }
            let strength = 0.5f32.powi(k as i32) * 2.0;
            let u = &dirs[class * COMPONENTS + k];
            row.iter_mut().zip(u).for_each(|(a, b)| *a += strength * b);
        }
        let sigma = if matches!(c, Corruption::Noise) {
            3.0 * noise
        } else {
            noise
        };
        row.iter_mut().for_each(|a| *a += sigma * rng.normal());
    }
    Ok((
        Tensor::from_vec(x, (n, DIM), &Device::Cpu)?,
        Tensor::from_vec(y, n, &Device::Cpu)?,
    ))
}

struct Mlp {
    layers: [Linear; 3],
}

impl Mlp {
    /// The model with weights drawn from `seed` (Kaiming-uniform), the same for every optimizer.
    fn new(vm: &VarMap, seed: u64) -> R<Self> {
        let vb = VarBuilder::from_varmap(vm, DType::F32, &Device::Cpu);
        let layers = [
            linear(DIM, HIDDEN, vb.pp("l1"))?,
            linear(HIDDEN, HIDDEN, vb.pp("l2"))?,
            linear(HIDDEN, CLASSES, vb.pp("l3"))?,
        ];
        let mut rng = Rng(seed);
        for (_, var) in named_vars(vm) {
            let fan_in = if var.dims().len() == 2 {
                var.dims()[1]
            } else {
                HIDDEN
            };
            let bound = (1.0 / fan_in as f32).sqrt();
            let v: Vec<f32> = (0..var.elem_count())
                .map(|_| bound * (2.0 * rng.uniform() - 1.0))
                .collect();
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu)?)?;
        }
        Ok(Mlp { layers })
    }

    /// Logits and the two hidden layers' activations.
    fn forward(&self, x: &Tensor) -> R<(Tensor, [Tensor; 2])> {
        let h1 = self.layers[0].forward(x)?.relu()?;
        let h2 = self.layers[1].forward(&h1)?.relu()?;
        Ok((self.layers[2].forward(&h2)?, [h1, h2]))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Opt {
    AdamW,
    Muon,
    Amuse,
}

impl Opt {
    fn name(self) -> &'static str {
        match self {
            Opt::AdamW => "AdamW",
            Opt::Muon => "Muon",
            Opt::Amuse => "AMUSE",
        }
    }
    fn grid(self) -> [f64; 4] {
        match self {
            Opt::AdamW => [1e-3, 3e-3, 1e-2, 3e-2],
            Opt::Muon | Opt::Amuse => [0.003, 0.01, 0.02, 0.05],
        }
    }
}

/// The optimizer of one run.
enum Trainer {
    AdamW(AdamW),
    Muon(Muon),
    Amuse(Amuse),
}

/// What one training run measured.
struct Run {
    losses: Vec<f32>,
    acc: f32,
    acc_drop: f32,
    acc_noise: f32,
    erank: [f64; 2],
    margin_mean: f32,
    margin_p10: f32,
}

fn accuracy(model: &Mlp, (x, y): &(Tensor, Tensor)) -> R<f32> {
    let (logits, _) = model.forward(x)?;
    let hits = logits
        .argmax(D::Minus1)?
        .eq(y)?
        .to_dtype(DType::F32)?
        .mean_all()?;
    hits.to_scalar::<f32>()
}

/// The task: directions, noise level and the three test sets.
struct Task {
    dirs: Vec<Vec<f32>>,
    noise: f32,
    sets: [(Tensor, Tensor); 3],
}

fn train(opt: Opt, lr: f64, steps: usize, seed: u64, task: &Task) -> R<Run> {
    let (dirs, sets) = (&task.dirs, &task.sets);
    let vm = VarMap::new();
    let model = Mlp::new(&vm, 7 + seed)?;
    let mut data_rng = Rng(1000 + seed);
    let par = Par::Seq;
    // The matrices' learning rate is `lr`; the fallbacks (biases only) take a tenth of it.
    let mut trainer = match opt {
        Opt::AdamW => {
            let p = ParamsAdamW {
                lr,
                weight_decay: 0.0,
                ..Default::default()
            };
            Trainer::AdamW(AdamW::new(vm.all_vars(), p)?)
        }
        Opt::Muon => {
            let mut cfg = ParamsMuon::default().with_lr(lr).with_par(par);
            cfg.adamw.lr = lr / 10.0;
            cfg.adamw.weight_decay = 0.0;
            Trainer::Muon(Muon::from_varmap(&vm, cfg)?)
        }
        Opt::Amuse => {
            let mut cfg = ParamsAmuse::default().with_lr(lr).with_par(par);
            cfg.amuse = cfg.amuse.with_schedule(0.9, (steps / 4).max(2) as u64, 1.0);
            cfg.fallback.lr = lr / 10.0;
            Trainer::Amuse(Amuse::from_varmap(&vm, cfg)?)
        }
    };
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (x, y) = dataset(dirs, BATCH, &mut data_rng, Corruption::None, task.noise)?;
        let (logits, _) = model.forward(&x)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        losses.push(loss.to_scalar::<f32>()?);
        match &mut trainer {
            Trainer::AdamW(o) => o.backward_step(&loss)?,
            Trainer::Muon(o) => o.backward_step(&loss)?,
            Trainer::Amuse(o) => o.backward_step(&loss)?,
        }
    }
    let measure = || -> R<([f32; 3], [f64; 2], Vec<f32>)> {
        let accs = [
            accuracy(&model, &sets[0])?,
            accuracy(&model, &sets[1])?,
            accuracy(&model, &sets[2])?,
        ];
        let (logits, hidden) = model.forward(&sets[0].0)?;
        let mut erank = [0.0; 2];
        for (e, h) in erank.iter_mut().zip(&hidden) {
            *e = spectral_summary(h, par, DevicePolicy::CpuOnly)?
                .erank_energy
                .unwrap_or(0.0);
        }
        let m = logit_margins(
            &logits,
            Some(&sets[0].1),
            MarginKind::TrueClass,
            DevicePolicy::CpuOnly,
        )?;
        Ok((accs, erank, m.to_vec1::<f32>()?))
    };
    // AMUSE's model is its average X (the "anytime" weights).
    let (accs, erank, mut margins) = match &trainer {
        Trainer::Amuse(a) => a.with_averaged(measure)?,
        _ => measure()?,
    };
    margins.sort_by(f32::total_cmp);
    Ok(Run {
        acc: accs[0],
        acc_drop: accs[1],
        acc_noise: accs[2],
        erank,
        margin_mean: margins.iter().sum::<f32>() / margins.len() as f32,
        margin_p10: margins[margins.len() / 10],
        losses,
    })
}

/// The mean of the last tenth of the losses.
fn final_loss(r: &Run) -> f32 {
    let tail = &r.losses[r.losses.len() - r.losses.len() / 10..];
    tail.iter().sum::<f32>() / tail.len() as f32
}

/// One optimizer at one learning rate over several seeds.
struct Trials {
    opt: Opt,
    lr: f64,
    runs: Vec<Run>,
}

impl Trials {
    /// Mean and sample standard deviation of `f` over the seeds.
    fn stat(&self, f: impl Fn(&Run) -> f64) -> (f64, f64) {
        let v: Vec<f64> = self.runs.iter().map(f).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }

    /// The tuning criterion: the mean final training loss.
    fn criterion(&self) -> f64 {
        self.stat(|r| f64::from(final_loss(r))).0
    }

    /// The loss curve averaged over the seeds.
    fn mean_curve(&self) -> Vec<f32> {
        let n = self.runs.len() as f32;
        (0..self.runs[0].losses.len())
            .map(|i| self.runs.iter().map(|r| r.losses[i]).sum::<f32>() / n)
            .collect()
    }
}

/// A line plot of the (25-step smoothed, seed-averaged) training losses, as SVG.
fn svg(trials: &[Trials]) -> String {
    let (w, h, pad) = (640.0, 400.0, 50.0);
    let smooth = |l: &[f32]| -> Vec<f32> {
        (0..l.len())
            .map(|i| {
                let a = i.saturating_sub(24);
                l[a..=i].iter().sum::<f32>() / (i - a + 1) as f32
            })
            .collect()
    };
    let curves: Vec<Vec<f32>> = trials.iter().map(|t| smooth(&t.mean_curve())).collect();
    let ymax = curves.iter().flatten().fold(0.0f32, |m, &v| m.max(v));
    let n = curves[0].len().max(2);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"20\" text-anchor=\"middle\">training loss (cross-entropy; mean over seeds, 25-step moving mean)</text>\n\
         <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step (0 … {})</text>\n\
         <text x=\"10\" y=\"{pad}\">{ymax:.2}</text><text x=\"10\" y=\"{}\">0</text>\n",
        w / 2.0,
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        w / 2.0,
        h - 15.0,
        n - 1,
        h - pad
    );
    let colors = ["#1f77b4", "#d62728", "#2ca02c"];
    for (i, (t, c)) in trials.iter().zip(&curves).enumerate() {
        let pts: Vec<String> = c
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                let x = pad + (w - 2.0 * pad) * j as f64 / (n - 1) as f64;
                let y = (h - pad) - (h - 2.0 * pad) * f64::from(v / ymax);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n\
             <text x=\"{}\" y=\"{}\" fill=\"{}\">{} (lr {})</text>",
            colors[i % 3],
            pts.join(" "),
            w - pad - 120.0,
            pad + 18.0 * i as f64,
            colors[i % 3],
            t.opt.name(),
            t.lr
        );
    }
    s.push_str("</svg>\n");
    s
}

fn table(trials: &[Trials], steps: usize, noise: f32) -> String {
    let mut s = String::new();
    let seeds = trials[0].runs.len();
    let _ = writeln!(
        s,
        "| optimizer | lr | final train loss | test acc | acc, strongest feature removed | acc, 3× noise | erank h1 | erank h2 | margin mean | margin p10 |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for t in trials {
        let cell = |f: &dyn Fn(&Run) -> f64, digits: usize| {
            let (m, sd) = t.stat(f);
            format!("{m:.digits$} ± {sd:.digits$}")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.opt.name(),
            t.lr,
            cell(&|r| f64::from(final_loss(r)), 4),
            cell(&|r| f64::from(r.acc), 3),
            cell(&|r| f64::from(r.acc_drop), 3),
            cell(&|r| f64::from(r.acc_noise), 3),
            cell(&|r| r.erank[0], 1),
            cell(&|r| r.erank[1], 1),
            cell(&|r| f64::from(r.margin_mean), 2),
            cell(&|r| f64::from(r.margin_p10), 2),
        );
    }
    let _ = writeln!(
        s,
        "\nMean ± standard deviation over {seeds} seeds (initial weights and training batches); {steps} steps of batch {BATCH}; \
         d = {DIM}, {CLASSES} classes × {COMPONENTS} components (strengths 2, 1, ½, ¼), noise σ = {noise}; \
         MLP {DIM}→{HIDDEN}→{HIDDEN}→{CLASSES}; each optimizer at the learning rate of its grid with the lowest mean final training loss."
    );
    s
}

fn main() -> R<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let quick = !args.iter().any(|a| a == "--full");
    let steps: usize = flag("--steps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 40 } else { 400 });
    let seeds: u64 = flag("--seeds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let noise: f32 = flag("--noise").and_then(|s| s.parse().ok()).unwrap_or(0.3);
    let out = flag("--out").map(PathBuf::from);
    let mut rng = Rng(3);
    let dirs = directions(&mut rng);
    let sets = [
        dataset(&dirs, 2000, &mut rng, Corruption::None, noise)?,
        dataset(&dirs, 2000, &mut rng, Corruption::DropStrongest, noise)?,
        dataset(&dirs, 2000, &mut rng, Corruption::Noise, noise)?,
    ];
    let task = Task { dirs, noise, sets };
    let mut best = Vec::new();
    for opt in [Opt::AdamW, Opt::Muon, Opt::Amuse] {
        let grid: &[f64] = if quick {
            &opt.grid()[2..3]
        } else {
            &opt.grid()
        };
        let mut candidates = Vec::new();
        for &lr in grid {
            let runs = (0..seeds)
                .map(|seed| train(opt, lr, steps, seed, &task))
                .collect::<R<Vec<Run>>>()?;
            let t = Trials { opt, lr, runs };
            eprintln!(
                "{:>6} lr {lr:<6} final loss {:.4}  acc {:.3}  drop {:.3}",
                opt.name(),
                t.criterion(),
                t.stat(|r| f64::from(r.acc)).0,
                t.stat(|r| f64::from(r.acc_drop)).0
            );
            candidates.push(t);
        }
        candidates.sort_by(|a, b| a.criterion().total_cmp(&b.criterion()));
        best.push(candidates.swap_remove(0));
    }
    let md = format!(
        "# Muon, AMUSE and AdamW on a multi-component task (candle, toy scale)\n\n\
         Generated by `cargo run --release -p mlkern-candle --example robust_features -- --full --out benches/reports` \
         (flags: --steps {steps} --seeds {seeds} --noise {noise}); training curves in \
         [robust_features.svg](robust_features.svg).\n\n\
         Each class owns {COMPONENTS} orthonormal feature directions of strengths 2, 1, ½, ¼, each present in a sample \
         with probability 0.8, plus Gaussian noise. Test accuracy is on clean samples, on samples whose strongest \
         component is removed, and with three times the noise. The effective rank (energy, uncentered) is of the two \
         hidden layers' activations on the clean test set; margins are true-class logit margins on it. AMUSE is \
         evaluated at its averaged weights X (its training loss is measured at Y, where its gradients are taken). \
         Learning-rate grids: AdamW {:?}, Muon and AMUSE {:?} (the fallback for biases at a tenth of it; AMUSE \
         β₁ = 0.9, T₀ = steps/4, ρ = 1).\n\n{}",
        Opt::AdamW.grid(),
        Opt::Muon.grid(),
        table(&best, steps, noise)
    );
    print!("{md}");
    if let Some(out) = out {
        std::fs::create_dir_all(&out)?;
        std::fs::write(out.join("robust_features.md"), &md)?;
        std::fs::write(out.join("robust_features.svg"), svg(&best))?;
    }
    Ok(())
}
