//! Spectral-diagnostics benchmarks.
//!
//! `cargo bench --bench spectrum --features rayon` (2 threads; `MLKERN_BENCH_THREADS` changes it):
//! * `metrics_4096`: [`Spectrum::summary`] (the CLI's metric set) and the isotropy metrics of a
//!   4096-value spectrum — target < 100 µs;
//! * `energy_erank_4096x1024_f32`: centered spectrum of a 4096×1024 f32 matrix by the Gram path
//!   (what `Method::Auto` picks) and by the SVD;
//! * `svd_1024x1024_f64`: the exact path.
//!
//! The side-by-side comparison with NumPy is `benches/compare/run.sh --only 'spectrum*'`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{Centering, Method, Spectrum, SpectrumConfig, Weighting, singular_values};

mod common;
use common::{data, threads};

fn metrics(c: &mut Criterion) {
    // A power-law-ish spectrum with noise, descending.
    let noise = data::<f64>(4096, 3);
    let mut s: Vec<f64> = (0..4096)
        .map(|i| (1.0 + i as f64).powf(-0.75) * (1.0 + 0.1 * noise[i].abs()))
        .collect();
    let sp = Spectrum::from_singular_values(&mut s).unwrap();
    c.bench_function("metrics_4096/summary", |b| {
        b.iter(|| black_box(sp.summary()))
    });
    c.bench_function("metrics_4096/isotropy", |b| {
        b.iter(|| black_box(sp.isotropy(10)))
    });
    c.bench_function("metrics_4096/erank_energy", |b| {
        b.iter(|| black_box(sp.erank(Weighting::Energy)))
    });
    c.bench_function("metrics_4096/power_law", |b| {
        b.iter(|| black_box(sp.power_law()))
    });
}

fn decompositions(c: &mut Criterion) {
    let par = threads();
    let (m, n) = (4096, 1024);
    let x = data::<f32>(m * n, 5);
    let xv = view(&x, m, n, Layout::RowMajor).unwrap();
    let mut g = c.benchmark_group("energy_erank_4096x1024_f32");
    g.sample_size(10);
    for method in [Method::Gram, Method::Svd] {
        let cfg = SpectrumConfig::new(Centering::ColumnMean, method);
        g.bench_function(method.name(), |b| {
            b.iter(|| {
                let s = singular_values(xv, &cfg, par).unwrap();
                black_box(s.spectrum().erank(Weighting::Energy))
            })
        });
    }
    g.finish();
    let k = 1024;
    let y = data::<f64>(k * k, 9);
    let yv = view(&y, k, k, Layout::RowMajor).unwrap();
    let mut g = c.benchmark_group("svd_1024x1024_f64");
    g.sample_size(10);
    let cfg = SpectrumConfig::new(Centering::None, Method::Svd);
    g.bench_function("svd", |b| {
        b.iter(|| black_box(singular_values(yv, &cfg, par).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, metrics, decompositions);
criterion_main!(benches);
