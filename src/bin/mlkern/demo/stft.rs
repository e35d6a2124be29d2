//! `mlkern demo` rows for the STFT and TiARA, each checked against an independent reference:
//! a naive f64 DFT, the ISTFT round trip, and the reference note's golden vector.

use mlkern::stft::{
    Band, Complex, Direction, Fft, FftBackend, Spectrogram, Stft, StftConfig, TiaraConfig,
    TiaraInput, tiara, tiara_into, tiara_scratch_len,
};

use super::row::{Row, Step, data, f32s};
use crate::timing::Timing;

/// 64 signals × 16 000 samples, n_fft 512, hop 128, periodic Hann (the benchmark shape).
/// Check: frame 10 of signal 3 against a naive f64 DFT of the same windowed samples (1e-5 of
/// the frame's largest bin).
fn stft_row() -> Step {
    Box::new(|repeat, par| {
        let (b, l, n) = (64usize, 16_000usize, 512usize);
        let x = f32s(&data(b * l, 91));
        let plan = Stft::<f32>::new(&StftConfig::new(n).with_hop(128))?;
        let frames = plan.frames(l)?;
        let f = plan.bins();
        let mut out = vec![Complex::new(0.0f32, 0.0); b * f * frames];
        let mut scratch = plan.make_scratch(par)?;
        let ((), timing) = Timing::measure(repeat, || {
            plan.stft_into(&mut out, &x, b, &mut scratch, par)
        })?;
        let (sig, t) = (3usize, 10usize);
        let w = plan.window();
        // Frame 10 starts at 10·128 − 256 ≥ 0: no padding involved.
        let start = t * 128 - n / 2;
        let seg: Vec<f64> = (0..n)
            .map(|j| f64::from(w[j]) * f64::from(x[sig * l + start + j]))
            .collect();
        let mut err = 0.0f64;
        let mut top = 0.0f64;
        for k in 0..f {
            let want = seg
                .iter()
                .enumerate()
                .fold(Complex::new(0.0, 0.0), |acc, (j, v)| {
                    let a = -2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    acc + Complex::new(a.cos(), a.sin()) * *v
                });
            let got = out[sig * f * frames + k * frames + t];
            err = err.max((Complex::new(f64::from(got.re), f64::from(got.im)) - want).norm());
            top = top.max(want.norm());
        }
        Ok(Row {
            kernel: "stft (torch.stft semantics, f32)",
            shape: format!("{b}×{l} → {b}×{f}×{frames}"),
            summary: format!("frame vs naive f64 DFT: rel. err {:.1e}", err / top),
            ok: err <= 1e-5 * top,
            timing,
        })
    })
}

/// The inverse of the above with `length` = 16 000. Check: the round trip reproduces the
/// signal (Hann at hop n/4 satisfies NOLA) to 1e-5.
fn istft_row() -> Step {
    Box::new(|repeat, par| {
        let (b, l, n) = (64usize, 16_000usize, 512usize);
        let x = f32s(&data(b * l, 92));
        let plan = Stft::<f32>::new(&StftConfig::new(n).with_hop(128))?;
        let frames = plan.frames(l)?;
        let spec: Spectrogram<f32> = plan.stft(&x, b, par)?;
        let mut back = vec![0.0f32; b * l];
        let mut scratch =
            vec![Complex::new(0.0f32, 0.0); plan.istft_scratch_len(frames, Some(l), par)?];
        let ((), timing) = Timing::measure(repeat, || {
            plan.istft_into(
                &mut back,
                spec.as_slice(),
                b,
                frames,
                Some(l),
                &mut scratch,
                par,
            )
        })?;
        let err = back
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        Ok(Row {
            kernel: "istft (least-squares overlap-add, f32)",
            shape: format!("{b}×{}×{frames} → {b}×{l}", plan.bins()),
            summary: format!("round trip max err {err:.1e}"),
            ok: err <= 1e-5,
            timing,
        })
    })
}

/// The in-crate FFT (the no_std backend) at n = 1000 against a naive f64 DFT.
fn builtin_fft_row() -> Step {
    Box::new(|repeat, _| {
        let n = 1000usize;
        let v = data(2 * n, 93);
        let x: Vec<Complex<f64>> = v.chunks(2).map(|c| Complex::new(c[0], c[1])).collect();
        let plan = Fft::<f64>::with_backend(n, Direction::Forward, FftBackend::Builtin)?;
        let mut scratch = plan.make_scratch()?;
        let (y, timing) =
            Timing::measure(repeat, || -> Result<Vec<Complex<f64>>, mlkern::Error> {
                let mut y = x.clone();
                plan.process(&mut y, &mut scratch)?;
                Ok(y)
            })?;
        let mut err = 0.0f64;
        for (k, got) in y.iter().enumerate() {
            let want = x
                .iter()
                .enumerate()
                .fold(Complex::new(0.0, 0.0), |acc, (j, z)| {
                    let a = -2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    acc + z * Complex::new(a.cos(), a.sin())
                });
            err = err.max((got - want).norm());
        }
        Ok(Row {
            kernel: "fft in-crate (no_std backend, f64)",
            shape: format!("{n} = 2³·5³"),
            summary: format!("vs naive DFT: max err {err:.1e}"),
            ok: err <= 1e-10,
            timing,
        })
    })
}

/// TiARA on 16 384 probability matrices of 16×16 (f32), α = 5, L = 7, bins [2, 6), timed with
/// the demo's `--threads`. Check: the reference note's §1.8 golden vector (N = 8, logits in, f64) to 1e-5.
fn tiara_row() -> Step {
    Box::new(|repeat, par| {
        let (m, n) = (16_384usize, 16usize);
        let noise = data(m * n * n, 94);
        let mut p = vec![0.0f32; m * n * n];
        for (k, (o, z)) in p.chunks_mut(n).zip(noise.chunks(n)).enumerate() {
            let i = k % n;
            let e: Vec<f64> = z
                .iter()
                .enumerate()
                .map(|(j, v)| (v + if i == j { 2.0 } else { 0.0 }).exp())
                .collect();
            let s: f64 = e.iter().sum();
            for (a, b) in o.iter_mut().zip(&e) {
                *a = (b / s) as f32;
            }
        }
        let cfg = TiaraConfig::new(5.0, 7, Band::Bins { phi1: 2, phi2: 6 });
        let mut out = vec![0.0f32; p.len()];
        let mut scratch = vec![0.0f32; tiara_scratch_len(&cfg, n)?];
        let ((), timing) = Timing::measure(repeat, || {
            tiara_into(&mut out, &p, n, &cfg, &mut scratch, par)
        })?;
        // The golden vector: S_ij = 2[i=j] + 0.5cos(0.7(i−j)) + 0.1((3i+5j) mod 7)/7.
        let g = 8usize;
        let mut s = vec![0.0f64; g * g];
        for i in 0..g {
            for j in 0..g {
                s[i * g + j] = 2.0 * f64::from(i == j)
                    + 0.5 * (0.7 * (i as f64 - j as f64)).cos()
                    + 0.1 * ((3 * i + 5 * j) % 7) as f64 / 7.0;
            }
        }
        let gcfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 3 })
            .with_input(TiaraInput::Logits);
        let gout = tiara(&s, g, &gcfg, mlkern::Par::Seq)?;
        let diag = [
            0.235398, 0.223870, 0.220067, 0.220225, 0.222376, 0.231806, 0.240655, 0.236161,
        ];
        let err = (0..g)
            .map(|i| (gout[i * g + i] - diag[i]).abs())
            .fold(0.0, f64::max);
        let gbs = 2.0 * (p.len() * 4) as f64 / timing.median_s() / 1e9;
        Ok(Row {
            kernel: "tiara (probabilities, f32)",
            shape: format!("{m}×{n}×{n}"),
            summary: format!("golden diag err {err:.1e}; {gbs:.1} GB/s r+w"),
            ok: err <= 1e-5,
            timing,
        })
    })
}

/// The STFT rows of the demo.
pub(crate) fn rows() -> Vec<Step> {
    vec![stft_row(), istft_row(), builtin_fft_row(), tiara_row()]
}
