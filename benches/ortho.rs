//! Newton–Schulz benchmarks (f32, Keller Jordan NS5 unless noted).
//!
//! * `cargo bench --bench ortho --features rayon` — the shapes with 2 threads (set
//!   `MLKERN_BENCH_THREADS` to change), standard vs `Auto` (Gram at aspect ≥ 2).
//! * `cargo bench --bench ortho -- ortho_512_seq` and
//!   `cargo bench --bench ortho --no-default-features --features alloc -- ortho_512_seq` — the
//!   single-threaded 512×512 case in the `std` and `no_std` builds (portable GEMM without std).
//!
//! The side-by-side comparison with PyTorch/NumPy is `benches/compare/run.sh --only 'ortho*'`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlkern::Par;
use mlkern::ortho::{self, Algo, KELLER_JORDAN, NsConfig, NsReport};

mod common;
use common::{data, threads};

fn bench_shape(
    c: &mut Criterion,
    group: &str,
    (b, m, n): (usize, usize, usize),
    algos: &[Algo],
    par: Par,
) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    let x = data(b * m * n, (m * n) as u64);
    let mut out = vec![0.0f32; b * m * n];
    let mut reports = vec![NsReport::default(); b];
    for &algo in algos {
        let cfg = NsConfig::new(KELLER_JORDAN).with_algo(algo);
        let mut ws =
            vec![0.0f32; ortho::orthogonalize_batch_scratch_len(b, m, n, &cfg, par).unwrap()];
        // Throughput in plain-NS5 flops (4k²N + 2k³ per step), so the rows compare directly.
        let (k, big) = (m.min(n), m.max(n));
        let plain = 5.0 * (4.0 * (k * k * big) as f64 + 2.0 * (k * k * k) as f64) * b as f64;
        g.throughput(Throughput::Elements(plain as u64));
        let id = BenchmarkId::new(algo.name(), format!("{b}x{m}x{n}"));
        g.bench_function(id, |bench| {
            bench.iter(|| {
                ortho::orthogonalize_batch_into(
                    &mut out,
                    &mut reports,
                    black_box(&x),
                    b,
                    m,
                    n,
                    &cfg,
                    &mut ws,
                    par,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

/// faer's f32 GEMM at n³ with the same threads: the rate the issue's "0.8 × plain NS5 flops ÷
/// GEMM rate" target is measured against.
fn gemm_reference(c: &mut Criterion, n: usize, par: Par) {
    use mlkern::linalg::{Accum, Layout, matmul, view, view_mut};
    let mut g = c.benchmark_group("ortho_f32");
    g.sample_size(10);
    let (a, b) = (data(n * n, 1), data(n * n, 2));
    let mut out = vec![0.0f32; n * n];
    g.throughput(Throughput::Elements((2 * n * n * n) as u64));
    g.bench_function(
        BenchmarkId::new("gemm_reference", format!("{n}x{n}x{n}")),
        |bench| {
            bench.iter(|| {
                matmul(
                    view_mut(&mut out, n, n, Layout::RowMajor).unwrap(),
                    Accum::Replace,
                    view(black_box(&a), n, n, Layout::RowMajor).unwrap(),
                    view(black_box(&b), n, n, Layout::RowMajor).unwrap(),
                    1.0,
                    par,
                )
                .unwrap()
            })
        },
    );
    g.finish();
}

fn benches(c: &mut Criterion) {
    let build = if cfg!(feature = "std") {
        "std"
    } else {
        "no_std"
    };
    bench_shape(
        c,
        &format!("ortho_512_seq_{build}"),
        (1, 512, 512),
        &[Algo::Standard],
        Par::Seq,
    );
    if !cfg!(feature = "rayon") {
        return;
    }
    let par = threads();
    gemm_reference(c, 1024, par);
    let both = [Algo::Standard, Algo::Auto];
    bench_shape(c, "ortho_f32", (1, 1024, 1024), &[Algo::Standard], par);
    bench_shape(c, "ortho_f32", (1, 256, 256), &[Algo::Standard], par);
    bench_shape(c, "ortho_f32", (1, 768, 3072), &both, par);
    bench_shape(c, "ortho_f32", (1, 1024, 4096), &both, par);
    bench_shape(c, "ortho_f32", (64, 128, 512), &both, par);
}

criterion_group!(ortho_benches, benches);
criterion_main!(ortho_benches);
