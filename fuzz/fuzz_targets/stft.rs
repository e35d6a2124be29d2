//! Fuzzes the FFTs, STFT and ISTFT: arbitrary lengths, framing parameters (zero hops, windows
//! longer than n_fft, custom windows with zeros, NaN or ∞), padding modes, both backends, any
//! f32 bit pattern in signals and spectra. Accepted outcomes: `Err`, or `Ok` with the documented
//! output sizes; for finite input of moderate size the output is finite, and the FFT of a
//! finite input matches the other backend.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Par;
use mlkern::stft::{
    Complex, Direction, Fft, FftBackend, PadMode, RealFft, Spectrogram, Stft, StftConfig, Window,
    WindowKind,
};
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

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    // FFT of any length on both backends.
    let n = usize::from(b.u8()) + 1;
    let x: Vec<Complex<f32>> = (0..n).map(|_| Complex::new(b.f32(), b.f32())).collect();
    let finite = x
        .iter()
        .all(|z| z.re.is_finite() && z.im.is_finite() && z.norm() < 1e6);
    let dir = if b.u8() % 2 == 0 {
        Direction::Forward
    } else {
        Direction::Inverse
    };
    let mut outs = Vec::new();
    for be in [FftBackend::Auto, FftBackend::Builtin] {
        let p = Fft::<f32>::with_backend(n, dir, be).unwrap();
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
    let rf = RealFft::<f32>::new(n).unwrap();
    let re: Vec<f32> = x.iter().map(|z| z.re).collect();
    let mut bins = vec![Complex::new(0.0, 0.0); rf.bins()];
    rf.forward(&re, &mut bins, &mut rf.make_scratch().unwrap())
        .unwrap();

    // STFT / ISTFT with arbitrary framing.
    let n_fft = usize::from(b.u8() % 40);
    let hop = if b.u8() % 4 == 0 {
        None
    } else {
        Some(usize::from(b.u8() % 20))
    };
    let win_length = if b.u8() % 3 == 0 {
        None
    } else {
        Some(usize::from(b.u8() % 45))
    };
    let wlen = win_length.unwrap_or(n_fft);
    let custom: Vec<f32> = (0..wlen + usize::from(b.u8() % 2))
        .map(|_| b.f32())
        .collect();
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
    let Ok(plan) = Stft::<f32>::new(&cfg) else {
        return;
    };
    let batch = 1 + usize::from(b.u8() % 3);
    let len = usize::from(b.u8() % 70);
    let sig: Vec<f32> = (0..batch * len).map(|_| b.f32()).collect();
    let ok_sig = sig.iter().all(|v| v.is_finite());
    match plan.stft(&sig, batch, par) {
        Ok(spec) => {
            let frames = plan.frames(len).unwrap();
            assert_eq!(spec.shape(), (batch, plan.bins(), frames));
            assert_eq!(spec.length(), Some(len));
            assert!(ok_sig, "non-finite signal accepted");
            let length = if b.u8() % 2 == 0 {
                None
            } else {
                Some(usize::from(b.u8() % 80))
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
            if let Ok(back) = plan.istft(&spec, par) {
                assert_eq!(back.len(), batch * plan.istft_len(frames, length));
            }
        }
        Err(_) => {}
    }
    // ISTFT of an arbitrary spectrum.
    let frames = usize::from(b.u8() % 6);
    let spec: Vec<Complex<f32>> = (0..batch * plan.bins() * frames)
        .map(|_| Complex::new(b.f32(), b.f32()))
        .collect();
    let finite = spec.iter().all(|z| z.re.is_finite() && z.im.is_finite());
    if let Ok(out) =
        Spectrogram::new(spec, batch, plan.bins(), frames).and_then(|s| plan.istft(&s, par))
    {
        assert_eq!(out.len(), batch * plan.istft_len(frames, None));
        assert!(finite);
    }
});
