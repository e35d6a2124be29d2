//! What the candle bridge costs on top of mlkern's kernels: one Muon step on a model's
//! parameters through `mlkern_candle::Muon` vs `mlkern::ortho::muon_step` on the same slices, and
//! `stft` on a `[B, L]` tensor vs the core plan on the slice.
//!
//! `cargo bench -p mlkern-candle --bench bridge` (sequential; `MLKERN_BENCH_THREADS=2` for
//! threads in the Newton–Schulz products and across same-shaped matrices).

use std::hint::black_box;

use candle_core::{Device, Tensor, Var};
use candle_nn::Optimizer;
use criterion::{Criterion, criterion_group, criterion_main};
use mlkern::Par;
use mlkern::ortho::{Hyper, MuonConfig, muon_scratch_len, muon_step};
use mlkern::stft::{Stft, StftConfig};
use mlkern_candle::{DevicePolicy, Muon, ParamsMuon, stft};

fn par() -> Par {
    let n = std::env::var("MLKERN_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    Par::threads(n)
}

fn tensor(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|i| (((i as u64 * 2654435761 + seed) % 1000) as f32) / 500.0 - 1.0)
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// Six 256×1024 matrices (a small transformer block's projections), one 1024 bias.
fn muon(c: &mut Criterion) {
    let shapes: Vec<Vec<usize>> = (0..6)
        .map(|_| vec![256, 1024])
        .chain([vec![1024]])
        .collect();
    let vars: Vec<Var> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| Var::from_tensor(&tensor(s, i as u64)).unwrap())
        .collect();
    let loss = vars
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (v.as_tensor() * tensor(v.dims(), 100 + i as u64))
                .unwrap()
                .sum_all()
                .unwrap()
        })
        .reduce(|a, b| (a + b).unwrap())
        .unwrap();
    let grads = loss.backward().unwrap();
    let cfg = ParamsMuon::default().with_par(par());
    let mut opt = Muon::new(vars.clone(), cfg.clone()).unwrap();
    let mut g = c.benchmark_group("muon_step_6x256x1024");
    g.sample_size(10);
    g.bench_function("candle_bridge", |b| {
        b.iter(|| opt.step(black_box(&grads)).unwrap())
    });
    let mcfg: MuonConfig<'_> = cfg.muon;
    let mut host: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = vars[..6]
        .iter()
        .map(|v| {
            let p = v
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let gr = grads
                .get(v)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            (p.clone(), vec![0.0; p.len()], gr)
        })
        .collect();
    let mut ws = vec![0.0f32; muon_scratch_len(&[256, 1024], &mcfg).unwrap()];
    g.bench_function("core_muon_step", |b| {
        b.iter(|| {
            for (p, m, gr) in host.iter_mut() {
                muon_step(
                    p,
                    m,
                    gr,
                    &[256, 1024],
                    Hyper::lr(0.02),
                    &mcfg,
                    &mut ws,
                    par(),
                )
                .unwrap();
            }
        })
    });
    g.finish();
}

/// The issue-21 STFT workload: 64 signals of 16 000 samples, n_fft 512, hop 128, Hann.
fn stft_bridge(c: &mut Criterion) {
    let x = tensor(&[64, 16000], 7);
    let plan = Stft::<f32>::new(&StftConfig::new(512).with_hop(128)).unwrap();
    let xs = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let mut g = c.benchmark_group("stft_64x16000");
    g.sample_size(10);
    g.bench_function("candle_bridge", |b| {
        b.iter(|| stft(black_box(&x), &plan, par(), DevicePolicy::CpuOnly).unwrap())
    });
    g.bench_function("core_stft", |b| {
        b.iter(|| plan.stft(black_box(&xs), 64, par()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, muon, stft_bridge);
criterion_main!(benches);
