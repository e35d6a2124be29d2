//! Fuzzes the FFTs, STFT and ISTFT: arbitrary lengths, framing parameters (zero hops, windows
//! longer than n_fft, custom windows with zeros, NaN or ∞), padding modes, both backends, any
//! f32 bit pattern in signals and spectra. FFT lengths, n_fft, hops, window lengths, batch
//! sizes, signal lengths, ISTFT lengths and frame counts are drawn from the whole `usize` range
//! (`Bytes::size`), under the capped allocator: absurd ones must be an `Err`, never an abort.
//! Accepted outcomes: `Err`, or `Ok` with the documented output sizes; for finite input of
//! moderate size the output is finite, and the FFT of a finite input matches the other backend.
//! Transforms run only for lengths up to [`RUN`] (larger valid plans are only planned).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::limits::{ISTFT_LENGTH_SPANS, MAX_FFT_LEN};
use mlkern::stft::{
    Complex, Direction, Fft, FftBackend, PadMode, RealFft, Spectrogram, Stft, StftConfig, Window,
    WindowKind,
};
use mlkern::{Error, Par};
use mlkern_fuzz::Bytes;

/// This target's floats: mostly in [-4, 4), sometimes 0 or raw bits.
trait Floats {
    fn f32(&mut self) -> f32;
}

impl Floats for Bytes<'_> {
    fn f32(&mut self) -> f32 {
        self.mixed_f32(8, &[0.0], |v| (f32::from(v) - 128.0) / 32.0)
    }
}

/// Largest transform length (and signal, spectrum or window size) actually run; larger valid
/// sizes are only planned and checked, so one input stays fast.
const RUN: usize = 1 << 12;
/// Valid plans are only built up to this length: a plan of `n` points computes `n` twiddles
/// (seconds at 2²⁵, milliseconds at 2¹⁶), which would starve the fuzzer; lengths between this and `MAX_FFT_LEN` are
/// valid and their fallible reservation is covered by `tests/battery/stft.rs`. Lengths over the
/// limit are still planned (an instant `TooLarge`).
const PLAN_MAX: usize = 1 << 13;

/// Whether a plan of `n` points is cheap enough to build here (see [`PLAN_MAX`]).
fn plannable(n: usize) -> bool {
    n <= PLAN_MAX || n > MAX_FFT_LEN
}

/// The signal/spectrum values a case may generate.
const DATA: usize = 1 << 14;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    // FFT of any length on both backends: absurd lengths are errors, valid ones plan.
    let n = b.size(257);
    let fft_case = plannable(n);
    let dir = if b.u8() % 2 == 0 {
        Direction::Forward
    } else {
        Direction::Inverse
    };
    let mut plans = Vec::new();
    for be in [FftBackend::Auto, FftBackend::Builtin]
        .into_iter()
        .filter(|_| fft_case)
    {
        match Fft::<f32>::with_backend(n, dir, be) {
            Ok(p) => {
                assert!((1..=MAX_FFT_LEN).contains(&n), "planned n={n}");
                assert_eq!(p.len(), n);
                plans.push(p);
            }
            Err(e) => assert!(
                n == 0 || n > MAX_FFT_LEN || matches!(e, Error::OutOfMemory { .. }),
                "n={n}: {e}"
            ),
        }
    }
    let rf = fft_case.then(|| RealFft::<f32>::new(n));
    if let Some(rf) = &rf {
        assert!(
            rf.is_err() || (1..=MAX_FFT_LEN).contains(&n),
            "real plan n={n}"
        );
    }
    if plans.len() == 2 && n <= RUN {
        let x: Vec<Complex<f32>> = (0..n).map(|_| Complex::new(b.f32(), b.f32())).collect();
        let finite = x
            .iter()
            .all(|z| z.re.is_finite() && z.im.is_finite() && z.norm() < 1e6);
        let mut outs = Vec::new();
        for p in &plans {
            let mut y = x.clone();
            p.process(&mut y, &mut p.make_scratch().unwrap()).unwrap();
            outs.push(y);
        }
        if finite {
            let scale = x.iter().map(|z| z.norm()).sum::<f32>().max(1.0);
            for (a, c) in outs[0].iter().zip(&outs[1]) {
                assert!((a - c).norm() <= 1e-4 * scale, "backends disagree at n={n}");
            }
        }
        let rf = rf.unwrap().unwrap();
        let re: Vec<f32> = x.iter().map(|z| z.re).collect();
        let mut bins = vec![Complex::new(0.0, 0.0); rf.bins()];
        rf.forward(&re, &mut bins, &mut rf.make_scratch().unwrap())
            .unwrap();
    }

    // STFT / ISTFT with arbitrary framing.
    let n_fft = b.size(40);
    let hop = if b.u8() % 4 == 0 {
        None
    } else {
        Some(b.size(20))
    };
    let win_length = if b.u8() % 3 == 0 {
        None
    } else {
        Some(b.size(45))
    };
    let wlen = win_length.unwrap_or(n_fft);
    // A custom window of the right length (give or take one) only where it is small enough to
    // build; otherwise an empty one, which the plan rejects.
    let extra = usize::from(b.u8() % 2);
    let custom: Vec<f32> = if wlen <= RUN {
        (0..wlen + extra).map(|_| b.f32()).collect()
    } else {
        Vec::new()
    };
    let window = match b.u8() % 5 {
        0 => Window::Custom(&custom[..]),
        1 => Window::Kind(WindowKind::Rect),
        2 => Window::Kind(WindowKind::Hamming),
        3 => Window::Kind(WindowKind::Blackman),
        _ => Window::Kind(WindowKind::Hann),
    };
    let flags = b.u8();
    let mut cfg = StftConfig::new(n_fft)
        .with_window(window)
        .with_periodic(flags & 1 == 0)
        .with_center(flags & 2 == 0)
        .with_pad_mode(match (flags >> 2) % 4 {
            0 => PadMode::Reflect,
            1 => PadMode::Constant,
            2 => PadMode::Replicate,
            _ => PadMode::Circular,
        })
        .with_normalized(flags & 16 != 0)
        .with_onesided(flags & 32 == 0)
        .with_backend(if flags & 64 == 0 {
            FftBackend::Auto
        } else {
            FftBackend::Builtin
        });
    cfg.hop = hop;
    cfg.win_length = win_length;
    // Threads must not change a bit.
    let par = if flags & 128 == 0 {
        Par::Seq
    } else {
        Par::threads(2)
    };
    if !plannable(n_fft) {
        return;
    }
    let plan = match Stft::<f32>::new(&cfg) {
        Ok(plan) => plan,
        Err(e) => {
            // n_fft is checked right after zero, win_length after the hop.
            let hop_ok = hop.unwrap_or(n_fft / 4) > 0;
            if n_fft > MAX_FFT_LEN
                || (n_fft > 0 && hop_ok && win_length.is_some_and(|w| w > MAX_FFT_LEN))
            {
                assert!(matches!(e, Error::TooLarge { .. }), "{e}");
            }
            return;
        }
    };
    assert!(n_fft <= MAX_FFT_LEN && plan.win_length() <= n_fft);
    if n_fft > RUN {
        return;
    }
    let batch = b.size(4);
    let len = b.size(70);
    // Signals only as long as a case may be; a batch of absurd size gets no samples (its
    // signals are then empty: an error, or, with constant padding, an output the allocator
    // refuses).
    let sig: Vec<f32> = match batch.checked_mul(len) {
        Some(t) if t <= DATA => (0..t).map(|_| b.f32()).collect(),
        _ => Vec::new(),
    };
    let len = if batch == 0 { len } else { sig.len() / batch };
    let ok_sig = sig.iter().all(|v| v.is_finite());
    // Outputs between 2^20 values and what the 256 MiB cap surely refuses (2^25 complex f32)
    // would only make the case slow: skip those; absurd ones must still fail cleanly.
    if let Ok(frames) = plan.frames(len) {
        let elems = batch
            .checked_mul(plan.bins())
            .and_then(|v| v.checked_mul(frames));
        if elems.is_some_and(|e| e > 1 << 20 && e <= 1 << 25) {
            return;
        }
    }
    match plan.stft(&sig, batch, par) {
        Ok(spec) => {
            let frames = plan.frames(len).unwrap();
            assert_eq!(spec.shape(), (batch, plan.bins(), frames));
            assert_eq!(spec.length(), Some(len));
            assert!(ok_sig, "non-finite signal accepted");
            let length = if b.u8() % 2 == 0 {
                None
            } else {
                Some(b.size(80))
            };
            let spec = spec.with_length(length);
            let mut into = vec![Complex::new(0.0, 0.0); spec.as_slice().len()];
            plan.stft_into(
                &mut into,
                &sig,
                batch,
                &mut plan.make_scratch(par).unwrap(),
                Par::Seq,
            )
            .unwrap();
            let nan = spec
                .as_slice()
                .iter()
                .any(|z| z.re.is_nan() || z.im.is_nan());
            assert!(into == spec.as_slice() || nan);
            let span = plan.n_fft() + plan.hop() * (frames - 1);
            match plan.istft(&spec, par) {
                Ok(back) => {
                    assert_eq!(back.len(), batch * plan.istft_len(frames, length));
                    assert!(length.is_none_or(|l| l <= ISTFT_LENGTH_SPANS * span));
                }
                Err(e) => {
                    if length.is_some_and(|l| l > ISTFT_LENGTH_SPANS * span) {
                        assert!(
                            matches!(e, Error::TooLarge { name: "length", .. })
                                || plan.hop() > plan.win_length(),
                            "{e}"
                        );
                    }
                }
            }
            // The scratch query agrees with the owned inverse about the length.
            if let Ok(need) = plan.istft_scratch_len(frames, length, par) {
                assert!(need >= plan.scratch_len(Par::Seq).unwrap());
            }
        }
        Err(_) => {}
    }
    // ISTFT of an arbitrary spectrum: any frame count is sized by the scratch query; spectra
    // are built only where they are small.
    let frames = b.size(6);
    let length = if b.u8() % 2 == 0 {
        None
    } else {
        Some(b.size(80))
    };
    let _ = plan.istft_scratch_len(frames, length, par);
    let total = batch
        .checked_mul(plan.bins())
        .and_then(|v| v.checked_mul(frames));
    let Some(total) = total.filter(|&t| t <= DATA) else {
        // Too large to build: an empty spectrum with the shape is a mismatch (or, with a zero
        // dimension, an empty one), never an abort.
        let _ = Spectrogram::new(Vec::new(), batch, plan.bins(), frames)
            .and_then(|s| plan.istft(&s.with_length(length), par));
        return;
    };
    let spec: Vec<Complex<f32>> = (0..total).map(|_| Complex::new(b.f32(), b.f32())).collect();
    let finite = spec.iter().all(|z| z.re.is_finite() && z.im.is_finite());
    if let Ok(out) = Spectrogram::new(spec, batch, plan.bins(), frames)
        .and_then(|s| plan.istft(&s.with_length(length), par))
    {
        assert_eq!(out.len(), batch * plan.istft_len(frames, length));
        assert!(finite);
    }
});
