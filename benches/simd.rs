//! SIMD primitives on 4096 `f32` against plain scalar loops.
//!
//! Each group holds the primitive at every supported level (`simd/<level>`, the free function
//! uses the widest) and a straightforward `for` loop (`scalar_loop`). The scalar loops for sum and
//! dot stay sequential because floating-point addition is not associative, so the compiler may not
//! reorder (vectorize) them; max/argmax loops are compare-and-select chains; exp calls `f32::exp`.
//!
//! Run: `cargo bench --bench simd -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlkern::simd::Isa;

const N: usize = 4096;

/// Fixed pseudo-random data in `[-4, 4)` (xorshift64*).
fn data(seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..N)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
            ((r >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
        })
        .collect()
}

fn scalar_sum(x: &[f32]) -> f32 {
    let mut s = 0.0;
    for &v in x {
        s += v;
    }
    s
}

fn scalar_dot(x: &[f32], y: &[f32]) -> f32 {
    let mut s = 0.0;
    for (&a, &b) in x.iter().zip(y) {
        s += a * b;
    }
    s
}

fn scalar_max(x: &[f32]) -> f32 {
    let mut m = f32::NEG_INFINITY;
    for &v in x {
        if v > m {
            m = v;
        }
    }
    m
}

fn scalar_argmax(x: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in x.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

fn scalar_exp(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.exp();
    }
}

fn scalar_softmax(x: &mut [f32]) {
    let m = scalar_max(x);
    let mut s = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    let inv = 1.0 / s;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

fn levels() -> Vec<Isa> {
    Isa::supported().collect()
}

fn bench(c: &mut Criterion) {
    let x = data(1);
    let y = data(2);

    let mut g = c.benchmark_group("sum");
    g.throughput(Throughput::Elements(N as u64));
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| isa.sum(black_box(&x)))
        });
    }
    g.bench_function("scalar_loop", |b| b.iter(|| scalar_sum(black_box(&x))));
    g.finish();

    let mut g = c.benchmark_group("dot");
    g.throughput(Throughput::Elements(N as u64));
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| isa.dot(black_box(&x), black_box(&y)).unwrap())
        });
    }
    g.bench_function("scalar_loop", |b| {
        b.iter(|| scalar_dot(black_box(&x), black_box(&y)))
    });
    g.finish();

    let mut g = c.benchmark_group("max");
    g.throughput(Throughput::Elements(N as u64));
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| isa.max(black_box(&x)).unwrap())
        });
    }
    g.bench_function("scalar_loop", |b| b.iter(|| scalar_max(black_box(&x))));
    g.finish();

    let mut g = c.benchmark_group("argmax");
    g.throughput(Throughput::Elements(N as u64));
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| isa.argmax(black_box(&x)).unwrap())
        });
    }
    g.bench_function("scalar_loop", |b| b.iter(|| scalar_argmax(black_box(&x))));
    g.finish();

    let mut g = c.benchmark_group("exp");
    g.throughput(Throughput::Elements(N as u64));
    let mut out = vec![0.0f32; N];
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| isa.exp_into(black_box(&x), black_box(&mut out)).unwrap())
        });
    }
    g.bench_function("scalar_loop", |b| {
        b.iter(|| scalar_exp(black_box(&x), black_box(&mut out)))
    });
    g.finish();

    // Both variants copy the input into the work buffer first (≈ the same small cost).
    let mut g = c.benchmark_group("softmax");
    g.throughput(Throughput::Elements(N as u64));
    let mut buf = vec![0.0f32; N];
    for isa in levels() {
        g.bench_function(BenchmarkId::new("simd", isa.name()), |b| {
            b.iter(|| {
                buf.copy_from_slice(black_box(&x));
                isa.softmax_in_place(&mut buf).unwrap();
                black_box(&buf);
            })
        });
    }
    g.bench_function("scalar_loop", |b| {
        b.iter(|| {
            buf.copy_from_slice(black_box(&x));
            scalar_softmax(&mut buf);
            black_box(&buf);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
