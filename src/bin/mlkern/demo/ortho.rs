//! Demo rows of the `ortho` family, each checked against a known-SVD oracle: for
//! `G = H_u·diag(s)·V_kᵀ` (Householder reflectors, `V_k` = first k columns) the exact result of a
//! schedule is `H_u·diag(P(s/d))·V_kᵀ`, computed here in f64 in O(k·N).

use mlkern::Par;
use mlkern::ortho::{
    self, Algo, Hyper, KELLER_JORDAN, MuonConfig, NsConfig, POLAR_EXPRESS, Schedule, muon_step,
};

use super::known_svd::KnownSvd;
use super::row::{Row, Step, data, f32s};
use crate::timing::Timing;

fn rel_fro(got: &[f32], want: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (&g, &w) in got.iter().zip(want) {
        num += (g as f64 - w).powi(2);
        den += w * w;
    }
    (num / den).sqrt()
}

/// f32 against the exact-arithmetic result: f32 round-off (~1e-6 per product, a few steps) plus
/// the polynomials' amplification of small singular values stays well below 2e-4.
const TOL: f64 = 2e-4;

fn single_row(
    name: &'static str,
    sched: Schedule<'static>,
    algo: Algo,
    k: usize,
    n: usize,
) -> Step {
    Box::new(move |repeat, par| {
        let svd = KnownSvd::new(k, n, 20);
        let g = f32s(&svd.input());
        let cfg = NsConfig::new(sched).with_algo(algo);
        let mut out = vec![0.0f32; k * n];
        let mut reports = [ortho::NsReport::default()];
        let mut ws = vec![0.0f32; ortho::orthogonalize_batch_scratch_len(1, k, n, &cfg, par)?];
        let ((), timing) = Timing::measure(repeat, || {
            ortho::orthogonalize_batch_into(&mut out, &mut reports, &g, 1, k, n, &cfg, &mut ws, par)
        })?;
        let err = rel_fro(&out, &svd.expected(&sched, 1.0));
        let gflops = reports[0].flops / timing.median_s() / 1e9;
        Ok(Row {
            kernel: name,
            shape: format!("{k}×{n}"),
            summary: format!(
                "{} × {} steps, {}: {gflops:.1} GFLOP/s, rel err {err:.1e}",
                sched.name,
                sched.steps,
                reports[0].algo.name()
            ),
            ok: err < TOL,
            timing,
        })
    })
}

fn batch_row(b: usize, k: usize, n: usize) -> Step {
    Box::new(move |repeat, par| {
        let svds: Vec<KnownSvd> = (0..b)
            .map(|i| KnownSvd::new(k, n, 40 + 2 * i as u64))
            .collect();
        let g: Vec<f32> = svds.iter().flat_map(|s| f32s(&s.input())).collect();
        let cfg = NsConfig::new(KELLER_JORDAN).with_algo(Algo::Auto);
        let ((out, reports), timing) = Timing::measure(repeat, || {
            ortho::orthogonalize_batch(&g, b, k, n, &cfg, par)
        })?;
        let worst = svds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                rel_fro(
                    &out[i * k * n..(i + 1) * k * n],
                    &s.expected(&KELLER_JORDAN, 1.0),
                )
            })
            .fold(0.0, f64::max);
        let flops: f64 = reports.iter().map(|r| r.flops).sum();
        Ok(Row {
            kernel: "ortho batch (f32)",
            shape: format!("{b}×{k}×{n}"),
            summary: format!(
                "keller × 5, auto → {}: {:.1} GFLOP/s, worst rel err {worst:.1e}",
                reports[0].algo.name(),
                flops / timing.median_s() / 1e9
            ),
            ok: worst < TOL,
            timing,
        })
    })
}

fn muon_row(k: usize, n: usize) -> Step {
    Box::new(move |repeat, par: Par| {
        let svd = KnownSvd::new(k, n, 60);
        let grad = f32s(&svd.input());
        let p0 = f32s(&data(k * n, 61));
        let cfg = MuonConfig::default();
        let hyper = Hyper::lr(0.02).with_weight_decay(0.1);
        let shape = [k, n];
        let mut ws = vec![0.0f32; ortho::muon_scratch_len(&shape, &cfg)?];
        let (mut p, mut m) = (p0.clone(), vec![0.0f32; k * n]);
        let (report, timing) = Timing::measure(repeat, || {
            p.copy_from_slice(&p0);
            m.fill(0.0);
            muon_step(&mut p, &mut m, &grad, &shape, hyper, &cfg, &mut ws, par)
        })?;
        // First step from a zero buffer: the Nesterov input is (1 − β)(1 + β)·g.
        let c = (1.0 - cfg.momentum) * (1.0 + cfg.momentum);
        let o = svd.expected(&cfg.ns.schedule, c);
        let want: Vec<f64> = p0
            .iter()
            .zip(&o)
            .map(|(&p, &o)| p as f64 * (1.0 - hyper.lr * hyper.weight_decay) - report.step_size * o)
            .collect();
        let err = rel_fro(&p, &want);
        Ok(Row {
            kernel: "ortho::muon_step (f32)",
            shape: format!("{k}×{n}"),
            summary: format!("EMA + Nesterov + wd, keller NS5: param rel err {err:.1e}"),
            ok: err < 1e-5,
            timing,
        })
    })
}

/// The ortho rows of `mlkern demo`.
pub(crate) fn rows() -> Vec<Step> {
    vec![
        single_row(
            "ortho keller NS5 (f32)",
            KELLER_JORDAN,
            Algo::Standard,
            512,
            512,
        ),
        single_row(
            "ortho polar-express (f32)",
            POLAR_EXPRESS,
            Algo::Auto,
            256,
            1024,
        ),
        batch_row(16, 128, 512),
        muon_row(256, 512),
    ]
}
