//! GEMM and symmetric-product benchmarks, single-threaded, f32 and f64; symmetric eigenvalues
//! (`eigvalsh`, one-stage below order 2048, two-stage from 2048).
//!
//! Run once per build to compare the std and no_std paths:
//! `cargo bench --bench linalg` (faer with std) and
//! `cargo bench --bench linalg --no-default-features --features alloc` (faer without std, gemm#44).
//! `Portable` is mlkern's own pulp kernel; it is the same code in both builds.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlkern::Par;
use mlkern::Real;
use mlkern::linalg::{
    Accum, GemmBackend, Layout, eigvalsh, matmul_with, sym_product_with, view, view_mut,
};

mod common;
use common::data;

fn gemm<T: Real>(c: &mut Criterion, sizes: &[usize]) {
    let build = if cfg!(feature = "std") {
        "std"
    } else {
        "no_std"
    };
    let mut g = c.benchmark_group(format!("matmul_{}_{build}", T::NAME));
    g.sample_size(20);
    for &n in sizes {
        let a = data::<T>(n * n, 1);
        let b = data::<T>(n * n, 2);
        let mut out = vec![T::zero(); n * n];
        g.throughput(Throughput::Elements((2 * n * n * n) as u64));
        for backend in [GemmBackend::Faer, GemmBackend::Portable] {
            g.bench_with_input(
                BenchmarkId::new(format!("{backend:?}"), n),
                &n,
                |bench, &n| {
                    bench.iter(|| {
                        matmul_with(
                            backend,
                            view_mut(&mut out, n, n, Layout::ColMajor).unwrap(),
                            Accum::Replace,
                            view(black_box(&a), n, n, Layout::ColMajor).unwrap(),
                            view(black_box(&b), n, n, Layout::ColMajor).unwrap(),
                            T::one(),
                            Par::Seq,
                        )
                        .unwrap()
                    })
                },
            );
        }
        for backend in [GemmBackend::Faer, GemmBackend::Portable] {
            g.bench_with_input(
                BenchmarkId::new(format!("sym_{backend:?}"), n),
                &n,
                |bench, &n| {
                    bench.iter(|| {
                        sym_product_with(
                            backend,
                            view_mut(&mut out, n, n, Layout::ColMajor).unwrap(),
                            T::zero(),
                            view(black_box(&a), n, n, Layout::ColMajor).unwrap(),
                            T::one(),
                            Par::Seq,
                        )
                        .unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

/// `eigvalsh` of the symmetric `(A + Aᵀ)/2`, sequential.
fn eigen<T: Real>(c: &mut Criterion, sizes: &[usize]) {
    let mut g = c.benchmark_group(format!("eigvalsh_{}", T::NAME));
    g.sample_size(10);
    for &n in sizes {
        let a = data::<T>(n * n, 3);
        let s: Vec<T> = (0..n * n)
            .map(|k| (a[k] + a[(k % n) * n + k / n]) * T::from_f64(0.5))
            .collect();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, &n| {
            bench.iter(|| {
                eigvalsh(
                    view(black_box(&s), n, n, Layout::ColMajor).unwrap(),
                    Par::Seq,
                )
            })
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    gemm::<f32>(c, &[256, 512]);
    gemm::<f64>(c, &[512]);
    eigen::<f32>(c, &[256, 512]);
    eigen::<f64>(c, &[256, 512]);
}

criterion_group!(linalg, benches);
criterion_main!(linalg);
