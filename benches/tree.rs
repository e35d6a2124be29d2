//! Tree-model benchmarks (issue 7's targets in brackets; the side-by-side comparison with pgmpy
//! and NumPy/SciPy is `benches/compare/run.sh --only 'tree*'`).
//!
//! `cargo bench --bench tree`:
//! * `chow_liu_binary/{100,1000}x10000`: one thread [p = 100: ≤ 20 ms and ≥ 300× pgmpy;
//!   p = 1000: ≤ 1 s];
//! * `chow_liu_gaussian/1000x10000/2_threads` [≥ 2× NumPy corrcoef + SciPy MST];
//! * `clrg/1000` from population distances [≤ 50 ms]; `snj/256` [≤ 1 s];
//! * `robust_covariance/100x10000_trim100` (the truncated inner product, one thread).

#[path = "../tests/tree_common/mod.rs"]
mod tree_common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlkern::Par;
use mlkern::tree::{
    Center, ChowLiuConfig, Codes, RgConfig, Samples, SnjConfig, chow_liu_discrete,
    chow_liu_gaussian, clrg, path_lengths, robust_covariance, spectral_nj,
};
use rand::RngExt;
use tree_common::*;

/// Binary samples of a random tree model (each variable copies its parent, flipped with
/// probability 0.05–0.3), variable-major.
fn binary(p: usize, n: usize, seed: u64) -> Vec<u8> {
    let mut r = rng(seed);
    let mut x = vec![0u8; p * n];
    for v in x[..n].iter_mut() {
        *v = r.random::<bool>() as u8;
    }
    for v in 1..p {
        let (u, f) = (r.random_range(0..v), 0.05 + 0.25 * r.random::<f64>());
        for t in 0..n {
            x[v * n + t] = x[u * n + t] ^ (r.random::<f64>() < f) as u8;
        }
    }
    x
}

fn chow_liu(c: &mut Criterion) {
    let mut g = c.benchmark_group("chow_liu_binary");
    g.sample_size(10);
    for p in [100usize, 1000] {
        let n = 10_000;
        let x = binary(p, n, p as u64);
        let states = vec![2u8; p];
        let codes = Codes::new(Samples::variable_major(&x, p, n).unwrap(), &states).unwrap();
        g.bench_function(format!("{p}x{n}"), |b| {
            b.iter(|| {
                chow_liu_discrete(black_box(&codes), &ChowLiuConfig::new(), Par::Seq).unwrap()
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("chow_liu_gaussian");
    g.sample_size(10);
    let mut r = rng(5);
    let truth = random_internal(&mut r, 1000, 0.0);
    let (p, n) = (truth.n_observed(), 10_000);
    let x = gaussian_samples(&mut r, &truth, n);
    for threads in [1usize, 2] {
        let opts = ChowLiuConfig::new();
        g.bench_function(format!("{p}x{n}/{threads}_threads"), |b| {
            b.iter(|| {
                chow_liu_gaussian(
                    Samples::variable_major(black_box(&x), p, n).unwrap(),
                    &opts,
                    Par::threads(threads),
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

fn latent(c: &mut Criterion) {
    let mut g = c.benchmark_group("latent");
    g.sample_size(10);
    let mut r = rng(6);
    let truth = random_internal(&mut r, 1200, 0.6);
    let m = truth.n_observed();
    let d = path_lengths(&truth).unwrap();
    g.bench_function(format!("clrg/{m}"), |b| {
        b.iter(|| clrg(black_box(&d), m, &RgConfig::population()).unwrap())
    });
    let truth = random_leaves(&mut r, 256, true);
    let d = path_lengths(&truth).unwrap();
    g.bench_function("snj/256", |b| {
        b.iter(|| spectral_nj(black_box(&d), 256, &SnjConfig::population()).unwrap())
    });
    g.finish();
}

fn robust(c: &mut Criterion) {
    let mut g = c.benchmark_group("robust_covariance");
    g.sample_size(10);
    let mut r = rng(7);
    let (p, n) = (100usize, 10_000usize);
    let x: Vec<f64> = (0..p * n).map(|_| normal(&mut r)).collect();
    g.bench_function(format!("{p}x{n}_trim100"), |b| {
        b.iter(|| {
            robust_covariance(
                Samples::variable_major(black_box(&x), p, n).unwrap(),
                100,
                Center::Median,
                Par::Seq,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, chow_liu, latent, robust);
criterion_main!(benches);
