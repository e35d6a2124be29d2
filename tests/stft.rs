//! Properties of `mlkern::stft`: FFTs against an f64 naive DFT, Parseval, STFT/ISTFT round
//! trips, NOLA, shapes, bad input, threads; TiARA's invariants from the reference note
//! (`tiara_stft.md` §6): stochastic rows, α = 0, the delta row, scale invariance, shift
//! equivariance, logits path = probability path, preserved off-diagonal ratios, batching.
//!
//! Tolerances: FFT f32 1e-5 relative to ‖x‖₂ (the bound; the f32 error is ~ε·log₂n),
//! f64 1e-12; round trips 1e-5 (f32) and 1e-12 (f64) relative to max|x|; TiARA row sums 1e-12
//! (f64) / 1e-6 (f32); logits vs probabilities 1e-12 (f64).

use mlkern::stft::{
    Band, Complex, Direction, FarBias, Fft, FftBackend, PadMode, RealFft, Spectrogram, Stft,
    StftConfig, TiaraConfig, TiaraInput, Window, WindowKind, motion_intensity, tiara,
    tiara_in_place, tiara_into, tiara_scratch_len, window,
};
use mlkern::{Error, Par};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

fn naive_dft(x: &[Complex<f64>], sign: f64) -> Vec<Complex<f64>> {
    let n = x.len();
    (0..n)
        .map(|k| {
            x.iter()
                .enumerate()
                .fold(Complex::new(0.0, 0.0), |acc, (j, v)| {
                    let a = sign * 2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    acc + v * Complex::new(a.cos(), a.sin())
                })
        })
        .collect()
}

fn backends() -> Vec<FftBackend> {
    vec![FftBackend::Builtin, FftBackend::Auto]
}

#[test]
fn fft_matches_a_naive_dft_for_every_length_up_to_300() {
    let mut r = rng(1);
    for n in 1..=300usize {
        let x: Vec<Complex<f64>> = (0..n)
            .map(|_| Complex::new(r.random::<f64>() - 0.5, r.random::<f64>() - 0.5))
            .collect();
        let norm = x.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        for dir in [Direction::Forward, Direction::Inverse] {
            let want = naive_dft(&x, if dir == Direction::Forward { -1.0 } else { 1.0 });
            for be in backends() {
                let p64 = Fft::<f64>::with_backend(n, dir, be).unwrap();
                let mut y = x.clone();
                p64.process(&mut y, &mut p64.make_scratch().unwrap())
                    .unwrap();
                let e64 = y
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).norm())
                    .fold(0.0, f64::max);
                assert!(
                    e64 <= 1e-12 * norm.max(1.0),
                    "n={n} {dir:?} {be:?} f64: {e64:e}"
                );
                let p32 = Fft::<f32>::with_backend(n, dir, be).unwrap();
                let mut y32: Vec<Complex<f32>> = x
                    .iter()
                    .map(|v| Complex::new(v.re as f32, v.im as f32))
                    .collect();
                p32.process(&mut y32, &mut p32.make_scratch().unwrap())
                    .unwrap();
                let e32 = y32
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (Complex::new(a.re as f64, a.im as f64) - b).norm())
                    .fold(0.0, f64::max);
                assert!(
                    e32 <= 1e-5 * norm,
                    "n={n} {dir:?} {be:?} f32: {e32:e} (norm {norm})"
                );
            }
        }
    }
}

#[test]
fn builtin_uses_bluestein_only_for_large_prime_factors() {
    for (n, blue) in [
        (1, false),
        (61, false),
        (64, false),
        (1000, false),
        (67, true),
        (2 * 67, true),
        (4099, true),
    ] {
        let p = Fft::<f64>::with_backend(n, Direction::Forward, FftBackend::Builtin).unwrap();
        assert_eq!(p.is_bluestein(), blue, "n={n}");
    }
    // A large Bluestein length against the naive DFT.
    let n = 1031; // prime
    let mut r = rng(2);
    let x: Vec<Complex<f64>> = (0..n)
        .map(|_| Complex::new(r.random::<f64>(), r.random::<f64>()))
        .collect();
    let want = naive_dft(&x, -1.0);
    let p = Fft::<f64>::with_backend(n, Direction::Forward, FftBackend::Builtin).unwrap();
    let mut y = x.clone();
    p.process(&mut y, &mut p.make_scratch().unwrap()).unwrap();
    let e = y
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(e < 1e-10, "{e:e}");
}

#[test]
fn parseval_and_real_fft_round_trip() {
    let mut r = rng(3);
    for n in [1usize, 2, 3, 7, 16, 30, 97, 128, 243, 500, 1000] {
        for be in backends() {
            let plan = RealFft::<f64>::with_backend(n, be).unwrap();
            let x: Vec<f64> = (0..n).map(|_| r.random::<f64>() - 0.5).collect();
            let mut bins = vec![Complex::new(0.0, 0.0); plan.bins()];
            let mut s = plan.make_scratch().unwrap();
            plan.forward(&x, &mut bins, &mut s).unwrap();
            // Parseval over the Hermitian half: Σx² = (1/n)(|X0|² + 2Σ|Xk|² + |X_{n/2}|²).
            let mut e = 0.0;
            for (k, b) in bins.iter().enumerate() {
                let twice = k != 0 && !(n % 2 == 0 && k == n / 2);
                e += b.norm_sqr() * if twice { 2.0 } else { 1.0 };
            }
            let sx: f64 = x.iter().map(|v| v * v).sum();
            assert!((e / n as f64 - sx).abs() <= 1e-12 * sx.max(1.0), "n={n}");
            let mut back = vec![0.0; n];
            plan.inverse(&bins, &mut back, &mut s).unwrap();
            for (a, b) in back.iter().zip(&x) {
                assert!((a / n as f64 - b).abs() < 1e-13, "n={n}");
            }
        }
    }
}

#[test]
fn fft_rejects_bad_sizes() {
    assert!(matches!(
        Fft::<f32>::new(0, Direction::Forward),
        Err(Error::InvalidParameter { .. })
    ));
    let p = Fft::<f32>::new(8, Direction::Forward).unwrap();
    let mut buf = vec![Complex::new(0.0, 0.0); 12];
    assert!(p.process(&mut buf, &mut p.make_scratch().unwrap()).is_err());
    let mut ok = vec![Complex::new(1.0f32, 0.0); 16]; // two transforms back to back
    p.process(&mut ok, &mut p.make_scratch().unwrap()).unwrap();
    assert_eq!(ok[0].re, 8.0);
    assert_eq!(ok[8].re, 8.0);
    let mut empty: Vec<Complex<f32>> = Vec::new();
    p.process(&mut empty, &mut p.make_scratch().unwrap())
        .unwrap();
}

fn round_trip_error(
    n_fft: usize,
    hop: usize,
    kind: WindowKind,
    center: bool,
    len: usize,
    seed: u64,
    be: FftBackend,
) -> (f64, f64) {
    let mut r = rng(seed);
    let x: Vec<f64> = (0..2 * len)
        .map(|_| r.random::<f64>() * 2.0 - 1.0)
        .collect();
    let mut cfg = StftConfig::new(n_fft);
    cfg.hop = Some(hop);
    cfg.window = Window::Kind(kind);
    cfg.center = center;
    cfg.backend = be;
    let p = Stft::<f64>::new(&cfg).unwrap();
    let frames = p.frames(len).unwrap();
    let spec = p.stft(&x, 2, Par::Seq).unwrap();
    assert_eq!(spec.shape(), (2, p.bins(), frames));
    let back = p.istft(&spec, Par::Seq).unwrap();
    let e64 = back
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let cfg32 = StftConfig::new(n_fft).with_window(Window::Kind(kind));
    let p32 = Stft::<f32>::new(&cfg32.with_hop(hop).with_center(center).with_backend(be)).unwrap();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let spec32 = p32.stft(&x32, 2, Par::Seq).unwrap();
    let back32 = p32.istft(&spec32, Par::Seq).unwrap();
    let e32 = back32
        .iter()
        .zip(&x32)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max);
    (e64, e32)
}

#[test]
fn stft_istft_round_trip_where_nola_holds() {
    for be in backends() {
        for (n_fft, hop, kind) in [
            (512, 128, WindowKind::Hann),
            (400, 100, WindowKind::Hann),
            (30, 10, WindowKind::Blackman),
            (33, 11, WindowKind::Hamming),
            (16, 16, WindowKind::Rect),
            (7, 1, WindowKind::Hann),
        ] {
            // 3000 samples: with hop = n_fft the centred overlap-add still reaches the last sample.
            let (e64, e32) = round_trip_error(n_fft, hop, kind, true, 3000, n_fft as u64, be);
            assert!(e64 <= 1e-12, "{n_fft}/{hop} {kind:?} {be:?}: f64 {e64:e}");
            assert!(e32 <= 1e-5, "{n_fft}/{hop} {kind:?} {be:?}: f32 {e32:e}");
        }
    }
}

/// The caller-buffer inverse into new buffers (raw spectra of any length).
fn istft_vec(
    p: &Stft<f64>,
    spec: &[Complex<f64>],
    batch: usize,
    frames: usize,
    length: Option<usize>,
) -> Result<Vec<f64>, Error> {
    let mut out = vec![0.0; batch * p.istft_len(frames, length)];
    let mut s = vec![Complex::new(0.0, 0.0); p.istft_scratch_len(frames, length, Par::Seq)?];
    p.istft_into(&mut out, spec, batch, frames, length, &mut s, Par::Seq)
        .map(|()| out)
}

#[test]
fn istft_reports_nola_violations() {
    // A rectangular window of 4 inside n_fft 8 with hop 8 leaves gaps.
    let w = [1.0f64; 4];
    let mut cfg = StftConfig::new(8);
    cfg.win_length = Some(4);
    cfg.hop = Some(4);
    cfg.window = Window::Custom(&w);
    cfg.center = false;
    let p = Stft::<f64>::new(&cfg).unwrap();
    let spec = vec![Complex::new(1.0, 0.0); 5 * 3];
    let e = istft_vec(&p, &spec, 1, 3, None).unwrap_err();
    assert!(e.to_string().contains("NOLA"), "{e}");
    // An all-zero window.
    let z = [0.0f64; 8];
    let p = Stft::<f64>::new(&StftConfig::new(8).with_window(Window::Custom(&z))).unwrap();
    assert!(
        istft_vec(&p, &spec, 1, 3, None)
            .unwrap_err()
            .to_string()
            .contains("NOLA")
    );
    // hop > win_length is rejected as torch does.
    let p = Stft::<f64>::new(&StftConfig::new(8).with_hop(9)).unwrap();
    assert!(istft_vec(&p, &spec, 1, 3, None).is_err());
    // The spectrum's size must be B·F·T.
    let p = Stft::<f64>::new(&StftConfig::new(8)).unwrap();
    assert!(matches!(
        istft_vec(&p, &spec[..14], 1, 3, None),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(istft_vec(&p, &spec, 1, 0, None).is_err());
    let mut bad = spec.clone();
    bad[4].im = f64::NAN;
    assert!(matches!(
        istft_vec(&p, &bad, 1, 3, None),
        Err(Error::NonFinite { index: 4, .. })
    ));
    // A spectrogram with the wrong bin count.
    let wrong = Spectrogram::new(vec![Complex::new(1.0, 0.0); 9 * 3], 1, 9, 3).unwrap();
    assert!(matches!(
        p.istft(&wrong, Par::Seq),
        Err(Error::ShapeMismatch { .. })
    ));
    // A short scratch.
    let mut out = vec![0.0; p.istft_len(3, None)];
    let mut s = vec![Complex::new(0.0, 0.0); p.istft_scratch_len(3, None, Par::Seq).unwrap() - 1];
    assert!(matches!(
        p.istft_into(&mut out, &spec, 1, 3, None, &mut s, Par::Seq),
        Err(Error::ShapeMismatch {
            what: "istft: scratch",
            ..
        })
    ));
}

#[test]
fn stft_shapes_follow_torch() {
    for (n_fft, hop, len, center, frames) in [
        (8, 2, 20, true, 11),
        (8, 2, 20, false, 7),
        (7, 3, 10, true, 4),
        (1, 1, 5, true, 5),
        (5, 5, 5, false, 1),
    ] {
        let p = Stft::<f32>::new(
            &StftConfig::new(n_fft)
                .with_hop(hop)
                .with_center(center)
                .with_window(Window::Kind(WindowKind::Rect)),
        )
        .unwrap();
        assert_eq!(
            p.frames(len).unwrap(),
            frames,
            "{n_fft} {hop} {len} {center}"
        );
        assert_eq!(p.bins(), n_fft / 2 + 1);
    }
    let two = Stft::<f32>::new(&StftConfig::new(12).with_onesided(false)).unwrap();
    assert_eq!(two.bins(), 12);
    // Two-sided output is the Hermitian extension of the one-sided one.
    let x: Vec<f32> = (0..40).map(|j| ((j * j) % 7) as f32 - 3.0).collect();
    let one = Stft::<f32>::new(&StftConfig::new(12)).unwrap();
    let (a, b) = (
        one.stft(&x, 1, Par::Seq).unwrap().into_vec(),
        two.stft(&x, 1, Par::Seq).unwrap().into_vec(),
    );
    let t = one.frames(40).unwrap();
    for f in 0..12 {
        for k in 0..t {
            let want = if f <= 6 {
                a[f * t + k]
            } else {
                a[(12 - f) * t + k].conj()
            };
            assert!((b[f * t + k] - want).norm() < 1e-5);
        }
    }
}

#[test]
fn stft_rejects_bad_input_with_clear_errors() {
    let msg = |r: Result<Stft<f32>, Error>| r.unwrap_err().to_string();
    assert!(msg(Stft::new(&StftConfig::new(0))).contains("n_fft"));
    assert!(msg(Stft::new(&StftConfig::new(3))).contains("hop"));
    assert!(msg(Stft::new(&StftConfig::new(8).with_win_length(9))).contains("win_length"));
    let w = [1.0f32; 3];
    assert!(
        msg(Stft::new(
            &StftConfig::new(8).with_window(Window::Custom(&w))
        ))
        .contains("window")
    );
    let nan = [f32::NAN; 8];
    assert!(matches!(
        Stft::new(&StftConfig::new(8).with_window(Window::Custom(&nan))),
        Err(Error::NonFinite { .. })
    ));
    let p = Stft::<f32>::new(&StftConfig::new(8)).unwrap();
    assert!(
        p.stft(&[1.0; 4], 1, Par::Seq)
            .unwrap_err()
            .to_string()
            .contains("reflect")
    );
    assert!(p.stft(&[1.0; 10], 3, Par::Seq).is_err());
    assert!(p.stft(&[1.0; 10], 0, Par::Seq).is_err());
    let mut x = vec![0.5f32; 20];
    x[13] = f32::INFINITY;
    assert!(matches!(
        p.stft(&x, 1, Par::Seq),
        Err(Error::NonFinite { index: 13, .. })
    ));
    let q = Stft::<f32>::new(&StftConfig::new(8).with_pad_mode(PadMode::Replicate)).unwrap();
    assert!(q.stft(&[], 1, Par::Seq).is_err());
    let mut out = vec![Complex::new(0.0, 0.0); 3];
    assert!(matches!(
        p.stft_into(
            &mut out,
            &[1.0; 20],
            1,
            &mut p.make_scratch(Par::Seq).unwrap(),
            Par::Seq
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    let mut out = vec![Complex::new(0.0, 0.0); p.bins() * p.frames(20).unwrap()];
    let mut short = vec![Complex::new(0.0, 0.0); p.scratch_len(Par::Seq).unwrap() - 1];
    assert!(matches!(
        p.stft_into(&mut out, &[1.0; 20], 1, &mut short, Par::Seq),
        Err(Error::ShapeMismatch {
            what: "stft: scratch",
            ..
        })
    ));
}

#[test]
fn padding_modes_agree_with_explicit_padding() {
    let x: Vec<f64> = (0..11)
        .map(|j| (j as f64 * 0.7).sin() + j as f64 * 0.1)
        .collect();
    let n = 8;
    let pad = |mode: PadMode, i: isize| -> f64 {
        let l = x.len() as isize;
        if (0..l).contains(&i) {
            return x[i as usize];
        }
        match mode {
            PadMode::Constant => 0.0,
            PadMode::Reflect => x[if i < 0 { -i } else { 2 * (l - 1) - i } as usize],
            PadMode::Replicate => x[i.clamp(0, l - 1) as usize],
            PadMode::Circular => x[i.rem_euclid(l) as usize],
            _ => unreachable!("a padding mode this test does not know"),
        }
    };
    for mode in [
        PadMode::Reflect,
        PadMode::Constant,
        PadMode::Replicate,
        PadMode::Circular,
    ] {
        let centred =
            Stft::<f64>::new(&StftConfig::new(n).with_pad_mode(mode).with_hop(3)).unwrap();
        let padded: Vec<f64> = (-(n as isize / 2)..x.len() as isize + n as isize / 2)
            .map(|i| pad(mode, i))
            .collect();
        let plain = Stft::<f64>::new(&StftConfig::new(n).with_center(false).with_hop(3)).unwrap();
        let (a, b) = (
            centred.stft(&x, 1, Par::Seq).unwrap().into_vec(),
            plain.stft(&padded, 1, Par::Seq).unwrap().into_vec(),
        );
        assert_eq!(a.len(), b.len());
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).norm() < 1e-12, "{mode:?}");
        }
    }
}

#[cfg(feature = "std")]
#[test]
fn threads_give_bit_identical_results() {
    let mut r = rng(5);
    let x: Vec<f32> = (0..7 * 1000).map(|_| r.random::<f32>() - 0.5).collect();
    let p = Stft::<f32>::new(&StftConfig::new(64)).unwrap();
    let serial = p.stft(&x, 7, Par::Seq).unwrap();
    let frames = p.frames(1000).unwrap();
    let back = p.istft(&serial, Par::Seq).unwrap();
    for threads in [1, 2, 3, 8] {
        let par = Par::threads(threads);
        assert_eq!(p.stft(&x, 7, par).unwrap(), serial);
        let mut out = vec![Complex::new(0.0, 0.0); serial.as_slice().len()];
        let mut scratch = p.make_scratch(par).unwrap();
        p.stft_into(&mut out, &x, 7, &mut scratch, par).unwrap();
        assert_eq!(out, serial.as_slice());
        assert_eq!(p.istft(&serial, par).unwrap(), back);
        let mut into = vec![0.0f32; back.len()];
        let mut scratch =
            vec![Complex::new(0.0, 0.0); p.istft_scratch_len(frames, Some(1000), par).unwrap()];
        p.istft_into(
            &mut into,
            serial.as_slice(),
            7,
            frames,
            Some(1000),
            &mut scratch,
            par,
        )
        .unwrap();
        let par = into;
        assert_eq!(par, back);
    }
}

#[test]
fn windows_have_their_textbook_values() {
    let mut w = [0.0f64; 5];
    window(WindowKind::Blackman, false, &mut w);
    for (a, b) in w.iter().zip([0.0, 0.34, 1.0, 0.34, 0.0]) {
        assert!((a - b).abs() < 1e-7);
    }
    for l in 2..20 {
        for kind in [
            WindowKind::Hann,
            WindowKind::Hamming,
            WindowKind::Blackman,
            WindowKind::Rect,
        ] {
            let mut p = vec![0.0f64; l];
            let mut s = vec![0.0f64; l + 1];
            window(kind, true, &mut p);
            window(kind, false, &mut s);
            for (a, b) in p.iter().zip(&s) {
                assert!((a - b).abs() < 1e-15);
            }
        }
    }
    let mut b8 = [0.0f64; 8];
    window(WindowKind::Blackman, true, &mut b8);
    assert!((b8[4] - 1.0).abs() < 1e-15);
}

// ---------------------------------------------------------------------------------------------
// TiARA

fn softmax_rows(logits: &[f64], n: usize) -> Vec<f64> {
    let mut p = logits.to_vec();
    for row in p.chunks_mut(n) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        row.iter_mut().for_each(|v| *v = (*v - m).exp());
        let s: f64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= s);
    }
    p
}

fn random_logits(r: &mut SmallRng, mats: usize, n: usize) -> Vec<f64> {
    (0..mats * n * n)
        .map(|k| {
            let (i, j) = ((k / n) % n, k % n);
            3.0 * (r.random::<f64>() - 0.5) + if i == j { 2.0 } else { 0.0 }
        })
        .collect()
}

fn run(cfg: &TiaraConfig<'_>, x: &[f64], n: usize) -> Vec<f64> {
    let mut s = vec![0.0; tiara_scratch_len(cfg, n).unwrap()];
    let mut out = vec![0.0; x.len()];
    tiara_into(&mut out, x, n, cfg, &mut s, Par::Seq).unwrap();
    out
}

fn rho_of(cfg: &TiaraConfig<'_>, row: &[f64], i: usize) -> f64 {
    let n = row.len();
    let mut m = vec![1.0; n * n];
    m[i * n..(i + 1) * n].copy_from_slice(row);
    let mut rho = vec![0.0; n];
    let mut s = vec![0.0; tiara_scratch_len(cfg, n).unwrap()];
    motion_intensity(&mut rho, &m, n, cfg, &mut s).unwrap();
    rho[i]
}

#[test]
fn tiara_rows_are_distributions_and_alpha_zero_is_the_identity() {
    let mut r = rng(7);
    for n in [1usize, 2, 3, 5, 16, 17, 64] {
        let p = softmax_rows(&random_logits(&mut r, 3, n), n);
        let l = n.min(7);
        let cfg = TiaraConfig::new(
            6.0,
            l,
            Band::Bins {
                phi1: 0,
                phi2: n / 2 + 1,
            },
        );
        let cfg = cfg.with_band(Band::Bins {
            phi1: usize::from(n > 1),
            phi2: n / 2 + 1,
        });
        let out = run(&cfg, &p, n);
        for (row, src) in out.chunks(n).zip(p.chunks(n)) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(row.iter().all(|v| (0.0..=1.0).contains(v)));
            let i = 0; // the diagonal only moves down
            let _ = (i, src);
        }
        for (k, (a, b)) in out.iter().zip(&p).enumerate() {
            let (i, j) = ((k / n) % n, k % n);
            if i == j {
                assert!(*a <= *b + 1e-15);
            }
        }
        let zero = run(&cfg.with_alpha(0.0), &p, n);
        for (a, b) in zero.iter().zip(&p) {
            assert!((a - b).abs() <= 1e-15 * b.abs(), "{a} vs {b}");
        }
    }
}

#[test]
fn tiara_delta_rows_give_the_flat_spectrum_ratio() {
    let n = 16;
    for (l, phi1, phi2) in [(7, 2, 6), (8, 1, 9), (5, 0, 3), (16, 3, 4)] {
        let cfg = TiaraConfig::new(5.0, l, Band::Bins { phi1, phi2 });
        for i in [0, 5, 15] {
            let mut row = vec![0.0; n];
            row[i] = 1.0;
            let rho = rho_of(&cfg, &row, i);
            let want = (phi2 - phi1) as f64 / phi2 as f64;
            assert!((rho - want).abs() < 1e-9, "L={l} i={i}: {rho} vs {want}");
        }
    }
}

#[test]
fn tiara_is_scale_invariant_and_shift_equivariant() {
    let mut r = rng(9);
    let n = 12;
    let cfg = TiaraConfig::new(4.0, 5, Band::Bins { phi1: 1, phi2: 5 });
    let p = softmax_rows(&random_logits(&mut r, 1, n), n);
    let out = run(&cfg, &p, n);
    let scaled: Vec<f64> = p.iter().map(|v| v * 37.5).collect();
    for (a, b) in run(&cfg, &scaled, n).iter().zip(&out) {
        assert!((a - b).abs() < 1e-13);
    }
    // Rolling every row and the row index by s (P′[i][j] = P[i−s][j−s]) rolls the output.
    for s in [1, 5, 11] {
        let roll = |m: &[f64]| -> Vec<f64> {
            let mut o = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    o[((i + s) % n) * n + (j + s) % n] = m[i * n + j];
                }
            }
            o
        };
        for (a, b) in run(&cfg, &roll(&p), n).iter().zip(&roll(&out)) {
            assert!((a - b).abs() < 1e-13, "shift {s}");
        }
    }
}

#[test]
fn tiara_logits_path_equals_probability_path_and_keeps_ratios() {
    let mut r = rng(11);
    let n = 16;
    let mut logits = random_logits(&mut r, 4, n);
    logits[3] = f64::NEG_INFINITY; // a masked key
    logits[n * n + 2 * n + 7] = f64::NEG_INFINITY;
    for far in [
        None,
        Some(FarBias {
            distance: 6,
            beta: 1.5,
        }),
    ] {
        let cfg = TiaraConfig::new(
            6.0,
            7,
            Band::Freq {
                f1: 0.125,
                f2: 0.375,
            },
        )
        .with_far(far);
        let from_probs = run(&cfg, &softmax_rows(&logits, n), n);
        let from_logits = run(&cfg.with_input(TiaraInput::Logits), &logits, n);
        for (a, b) in from_probs.iter().zip(&from_logits) {
            assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
        }
        if far.is_none() {
            let p = softmax_rows(&logits, n);
            for (i, (row, src)) in from_probs.chunks(n).zip(p.chunks(n)).enumerate() {
                let (a, b) = ((i % n + 1) % n, (i % n + 5) % n);
                if src[b] > 0.0 && src[a] > 0.0 {
                    assert!((row[a] / row[b] - src[a] / src[b]).abs() < 1e-12 * (src[a] / src[b]));
                }
            }
        }
    }
}

#[test]
fn tiara_fixed_variant_matches_a_constant_bias() {
    let n = 6;
    let mut r = rng(13);
    let logits = random_logits(&mut r, 2, n);
    let cfg = TiaraConfig::new(3.0, 3, Band::Bins { phi1: 1, phi2: 2 })
        .with_adaptive(false)
        .with_input(TiaraInput::Logits);
    let out = run(&cfg, &logits, n);
    let mut biased = logits.clone();
    for (k, v) in biased.iter_mut().enumerate() {
        if (k / n) % n == k % n {
            *v -= 3.0;
        }
    }
    for (a, b) in out.iter().zip(softmax_rows(&biased, n)) {
        assert!((a - b).abs() < 1e-14);
    }
}

#[test]
fn tiara_batched_in_place_parallel_and_f32_agree() {
    let mut r = rng(17);
    let (n, mats) = (16, 37);
    let p = softmax_rows(&random_logits(&mut r, mats, n), n);
    let cfg = TiaraConfig::new(5.0, 7, Band::Bins { phi1: 2, phi2: 6 });
    let all = run(&cfg, &p, n);
    for (m, chunk) in p.chunks(n * n).enumerate() {
        assert_eq!(run(&cfg, chunk, n), all[m * n * n..(m + 1) * n * n]);
    }
    let mut inplace = p.clone();
    let mut s = vec![0.0; tiara_scratch_len(&cfg, n).unwrap()];
    tiara_in_place(&mut inplace, n, &cfg, &mut s, Par::Seq).unwrap();
    assert_eq!(inplace, all);
    assert_eq!(tiara(&p, n, &cfg, Par::Seq).unwrap(), all);
    #[cfg(feature = "std")]
    for threads in [1, 2, 5] {
        assert_eq!(tiara(&p, n, &cfg, Par::threads(threads)).unwrap(), all);
        let mut out = vec![0.0; p.len()];
        let mut s = vec![0.0; tiara_scratch_len(&cfg, n).unwrap()];
        tiara_into(&mut out, &p, n, &cfg, &mut s, Par::threads(threads)).unwrap();
        assert_eq!(out, all);
        let mut inplace = p.clone();
        tiara_in_place(&mut inplace, n, &cfg, &mut s, Par::threads(threads)).unwrap();
        assert_eq!(inplace, all);
    }
    let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
    let mut s32 = vec![0.0f32; tiara_scratch_len(&cfg, n).unwrap()];
    let mut o32 = vec![0.0f32; p.len()];
    tiara_into(&mut o32, &p32, n, &cfg, &mut s32, Par::Seq).unwrap();
    for (a, b) in o32.iter().zip(&all) {
        assert!((*a as f64 - b).abs() < 2e-6);
    }
}

#[test]
fn tiara_rejects_bad_input() {
    let n = 4;
    let cfg = TiaraConfig::new(5.0, 3, Band::Bins { phi1: 1, phi2: 3 });
    let good = vec![0.25f64; n * n];
    let go = |c: &TiaraConfig<'_>, x: &[f64]| -> Result<Vec<f64>, Error> {
        let mut s = vec![0.0; 64];
        let mut out = vec![0.0; x.len()];
        tiara_into(&mut out, x, n, c, &mut s, Par::Seq).map(|_| out)
    };
    let mut nan = good.clone();
    nan[9] = f64::NAN;
    assert!(matches!(
        go(&cfg, &nan),
        Err(Error::NonFinite { index: 9, .. })
    ));
    let mut neg = good.clone();
    neg[2] = -0.1;
    assert!(go(&cfg, &neg).unwrap_err().to_string().contains(">= 0"));
    let mut zero = good.clone();
    zero[4..8].fill(0.0);
    assert!(
        go(&cfg, &zero)
            .unwrap_err()
            .to_string()
            .contains("sums to 0")
    );
    assert!(go(&cfg, &good[..15]).is_err());
    let logits = cfg.with_input(TiaraInput::Logits);
    let mut masked = good.clone();
    masked[0..4].fill(f64::NEG_INFINITY);
    assert!(
        go(&logits, &masked)
            .unwrap_err()
            .to_string()
            .contains("-inf")
    );
    let mut inf = good.clone();
    inf[5] = f64::INFINITY;
    assert!(matches!(
        go(&logits, &inf),
        Err(Error::NonFinite { index: 5, .. })
    ));
    for bad in [
        cfg.with_alpha(-1.0),
        cfg.with_alpha(f64::NAN),
        cfg.with_window_len(0),
        cfg.with_window_len(5),
        cfg.with_band(Band::Bins { phi1: 2, phi2: 2 }),
        cfg.with_band(Band::Bins { phi1: 0, phi2: 4 }),
        cfg.with_band(Band::Freq { f1: 0.3, f2: 0.2 }),
        cfg.with_band(Band::Freq { f1: 0.1, f2: 0.12 }), // both round to bin 0
        cfg.with_far(Some(FarBias {
            distance: 0,
            beta: 1.0,
        })),
        cfg.with_far(Some(FarBias {
            distance: 2,
            beta: f64::INFINITY,
        })),
    ] {
        assert!(
            matches!(go(&bad, &good), Err(Error::InvalidParameter { .. })),
            "{bad:?}"
        );
    }
    // Huge α: the diagonal vanishes (or keeps all the mass when it is the only mass).
    let huge = run(&cfg.with_alpha(1e6), &good, n);
    assert!(huge[0] == 0.0 && (huge[1] - 1.0 / 3.0).abs() < 1e-15);
    let mut delta = vec![0.0; n * n];
    for i in 0..n {
        delta[i * n + i] = 1.0;
    }
    assert_eq!(run(&cfg.with_alpha(1e6), &delta, n), delta);
    // Tiny and huge scales.
    let tiny: Vec<f64> = good.iter().map(|v| v * 1e-300).collect();
    let big: Vec<f64> = good.iter().map(|v| v * 1e300).collect();
    let base = run(&cfg, &good, n);
    for x in [tiny, big] {
        for (a, b) in run(&cfg, &x, n).iter().zip(&base) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}

#[test]
fn tiara_survives_overflowing_windows_and_weights() {
    // Regressions from the fuzzer: a custom window of huge taps (tap·p overflowed f32) and
    // probability rows whose mass overflows f32 (the normalizer became ∞).
    let n = 2;
    let huge = [3.0e38f64, 1.0e38];
    let cfg = TiaraConfig::new(5.0, 2, Band::Bins { phi1: 1, phi2: 2 })
        .with_window(mlkern::stft::TiaraWindow::Custom(&huge));
    let reference = |x: &[f32]| -> Vec<f64> {
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        run(&cfg, &x64, n)
    };
    for x in [
        [0.3f32, 0.7, 0.6, 0.4],
        [3.0e38, 3.0e38, 1.0e38, 3.3e38],
        [f32::MAX, 1.0, 0.0, f32::MAX],
    ] {
        let mut s = vec![0.0f32; tiara_scratch_len(&cfg, n).unwrap()];
        let mut out = vec![0.0f32; 4];
        tiara_into(&mut out, &x, n, &cfg, &mut s, Par::Seq).unwrap();
        let want = reference(&x);
        for (row, w) in out.chunks(n).zip(want.chunks(n)) {
            assert!(
                row.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
                "{x:?} → {out:?}"
            );
            assert!(
                (row.iter().sum::<f32>() - 1.0).abs() < 1e-6,
                "{x:?} → {out:?}"
            );
            for (a, b) in row.iter().zip(w) {
                assert!(
                    (f64::from(*a) - b).abs() < 1e-6,
                    "{x:?} → {out:?} vs {want:?}"
                );
            }
        }
    }
}

#[test]
fn tiara_far_bias_that_underflows_still_gives_distributions() {
    // From the fuzzer: logits with a far-frame bias β = 97 (e^(−β) is subnormal in f32), so
    // the only off-diagonal term of row 0 is subnormal and its reciprocal overflows.
    let cfg = TiaraConfig::new(2.5, 1, Band::Bins { phi1: 0, phi2: 1 })
        .with_far(Some(FarBias {
            distance: 1,
            beta: 97.0,
        }))
        .with_input(TiaraInput::Logits);
    let x = [f32::NEG_INFINITY, 0.005, 0.78, 2.42];
    let mut s = vec![0.0f32; tiara_scratch_len(&cfg, 2).unwrap()];
    let mut out = [0.0f32; 4];
    tiara_into(&mut out, &x, 2, &cfg, &mut s, Par::Seq).unwrap();
    for row in out.chunks(2) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{out:?}");
    }
    assert_eq!(out[..2], [0.0, 1.0]); // row 0: the only finite logit takes all the mass
}
