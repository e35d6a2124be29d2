//! STFT, FFT and TiARA benchmarks (issue 8's targets in brackets; the side-by-side comparison
//! with torch/NumPy is `benches/compare/run.sh --only 'stft*,istft*,tiara*'`).
//!
//! `cargo bench --bench stft`:
//! * `fft/{rustfft,builtin}/{f32,f64}/{512,1000}`: one complex transform [the in-crate (no_std)
//!   FFT within 3× of rustfft at n = 512 and 1000];
//! * `stft_64x16000/{1,2}_threads`: 64 signals × 16 000 samples, n_fft 512, hop 128, Hann
//!   [2 threads ≥ 2× faster than torch.stft: see the compare script];
//! * `istft_64x16000/2_threads`;
//! * `tiara_16384x16/{1,2}_threads` and `copy_16384x16`: 16 384 f32 probability matrices of
//!   16×16 [≥ 5× a vectorized NumPy implementation; ≥ 50 % of memory-copy bandwidth, i.e. ≤ 2×
//!   the copy's time].

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlkern::stft::{
    Band, Complex, Direction, Fft, FftBackend, Stft, StftConfig, TiaraConfig, tiara_into,
    tiara_scratch_len,
};
use mlkern::{Par, Real};

mod common;
use common::data;

fn fft_group<T: Real>(c: &mut Criterion) {
    let mut g = c.benchmark_group("fft");
    for n in [512usize, 1000] {
        let v = data::<T>(2 * n, 7);
        let x: Vec<Complex<T>> = v.chunks(2).map(|p| Complex::new(p[0], p[1])).collect();
        for (name, be) in [
            ("rustfft", FftBackend::Auto),
            ("builtin", FftBackend::Builtin),
        ] {
            let plan = Fft::<T>::with_backend(n, Direction::Forward, be).unwrap();
            let mut scratch = plan.make_scratch().unwrap();
            let mut buf = x.clone();
            g.bench_function(format!("{name}/{}/{n}", T::NAME), |b| {
                b.iter(|| {
                    buf.copy_from_slice(&x);
                    plan.process(black_box(&mut buf), &mut scratch).unwrap();
                })
            });
        }
    }
    g.finish();
}

fn stft(c: &mut Criterion) {
    let (b, l) = (64usize, 16_000usize);
    let x = data::<f32>(b * l, 11);
    let plan = Stft::<f32>::new(&StftConfig::new(512).with_hop(128)).unwrap();
    let frames = plan.frames(l).unwrap();
    let mut out = vec![Complex::new(0.0f32, 0.0); b * plan.bins() * frames];
    let mut g = c.benchmark_group("stft_64x16000");
    g.sample_size(20);
    for threads in [1usize, 2] {
        let par = Par::threads(threads);
        let mut scratch = plan.make_scratch(par).unwrap();
        g.bench_function(format!("{threads}_threads"), |bch| {
            bch.iter(|| {
                plan.stft_into(&mut out, black_box(&x), b, &mut scratch, par)
                    .unwrap()
            })
        });
    }
    g.finish();
    let mut back = vec![0.0f32; b * l];
    let mut g = c.benchmark_group("istft_64x16000");
    g.sample_size(20);
    let par = Par::threads(2);
    let mut scratch =
        vec![Complex::new(0.0f32, 0.0); plan.istft_scratch_len(frames, Some(l), par).unwrap()];
    g.bench_function("2_threads", |bch| {
        bch.iter(|| {
            plan.istft_into(
                &mut back,
                black_box(&out),
                b,
                frames,
                Some(l),
                &mut scratch,
                par,
            )
            .unwrap()
        })
    });
    g.finish();
}

fn tiara(c: &mut Criterion) {
    let (m, n) = (16_384usize, 16usize);
    let mut p = data::<f32>(m * n * n, 13);
    for (k, row) in p.chunks_mut(n).enumerate() {
        row[k % n] += 2.0;
        mlkern::simd::softmax_in_place(row).unwrap();
    }
    let cfg = TiaraConfig::new(5.0, 7, Band::Bins { phi1: 2, phi2: 6 });
    let mut out = vec![0.0f32; p.len()];
    let mut g = c.benchmark_group("tiara_16384x16");
    g.sample_size(30);
    let mut scratch = vec![0.0f32; tiara_scratch_len(&cfg, n).unwrap()];
    for threads in [1usize, 2] {
        let par = Par::threads(threads);
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| tiara_into(&mut out, black_box(&p), n, &cfg, &mut scratch, par).unwrap())
        });
    }
    g.finish();
    c.bench_function("copy_16384x16", |b| {
        b.iter(|| out.copy_from_slice(black_box(&p)))
    });
}

fn ffts(c: &mut Criterion) {
    fft_group::<f32>(c);
    fft_group::<f64>(c);
}

criterion_group!(benches, ffts, stft, tiara);
criterion_main!(benches);
