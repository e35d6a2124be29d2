//! Fuzzes TiARA: arbitrary matrix sizes, window lengths, bands (bins or frequencies), α, far
//! bias, probability or logit input with any f32 bit pattern. Accepted outcomes: `Err`, or `Ok`
//! with every output row a probability distribution (entries in [0, 1], sum within 1e-4 of 1)
//! and the in-place path bit-identical to the out-of-place one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Par;
use mlkern::stft::{
    Band, FarBias, TiaraConfig, TiaraInput, TiaraWindow, WindowKind, tiara, tiara_in_place,
    tiara_into, tiara_scratch_len,
};
use mlkern_fuzz::Bytes;

/// This target's floats: mostly in [0, 4), sometimes 0, −∞ or raw bits.
trait Floats {
    fn f32(&mut self) -> f32;
}

impl Floats for Bytes<'_> {
    fn f32(&mut self) -> f32 {
        self.mixed_f32(10, &[0.0, f32::NEG_INFINITY], |v| f32::from(v) / 64.0)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = usize::from(b.u8() % 20);
    let mats = usize::from(b.u8() % 4);
    let l = usize::from(b.u8() % 22);
    let band = if b.u8() % 2 == 0 {
        Band::Bins {
            phi1: usize::from(b.u8() % 12),
            phi2: usize::from(b.u8() % 12),
        }
    } else {
        Band::Freq {
            f1: f64::from(b.u8()) / 400.0,
            f2: f64::from(b.u8()) / 400.0,
        }
    };
    let alpha = f64::from(b.f32());
    let flags = b.u8();
    let custom: Vec<f64> = (0..l).map(|_| f64::from(b.f32())).collect();
    let cfg = TiaraConfig::new(alpha, l, band)
        .with_window(if flags & 1 == 0 {
            TiaraWindow::Kind {
                kind: WindowKind::Blackman,
                periodic: flags & 2 != 0,
            }
        } else {
            TiaraWindow::Custom(&custom)
        })
        .with_adaptive(flags & 4 == 0)
        .with_far((flags & 8 != 0).then(|| FarBias {
            distance: usize::from(b.u8() % 6),
            beta: f64::from(b.f32()),
        }))
        .with_input(if flags & 16 == 0 {
            TiaraInput::Probs
        } else {
            TiaraInput::Logits
        });
    let x: Vec<f32> = (0..mats * n * n + usize::from(flags >> 7))
        .map(|_| b.f32())
        .collect();
    let Ok(need) = tiara_scratch_len(&cfg, n) else {
        return;
    };
    let mut scratch = vec![0.0f32; need];
    let mut out = vec![0.0f32; x.len()];
    if tiara_into(&mut out, &x, n, &cfg, &mut scratch, Par::Seq).is_ok() {
        for row in out.chunks(n.max(1)) {
            let s: f32 = row.iter().sum();
            assert!(
                row.iter().all(|v| (0.0..=1.0).contains(v)),
                "{row:?} n={n} cfg={cfg:?} x={x:?}"
            );
            assert!(
                (s - 1.0).abs() <= 1e-4,
                "row sum {s}: {row:?} n={n} cfg={cfg:?} x={x:?}"
            );
        }
        let mut inplace = x.clone();
        tiara_in_place(&mut inplace, n, &cfg, &mut scratch, Par::threads(2)).unwrap();
        assert_eq!(inplace, out);
        assert_eq!(tiara(&x, n, &cfg, Par::threads(3)).unwrap(), out);
    }
});
