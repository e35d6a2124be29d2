//! Fuzzes TiARA: arbitrary matrix sizes, window lengths, bands (bins or frequencies), α, far
//! bias, probability or logit input with any f32 bit pattern. Accepted outcomes: `Err`, or `Ok`
//! with every output row a probability distribution (entries in [0, 1], sum within 1e-4 of 1)
//! and the in-place path bit-identical to the out-of-place one. The matrix size, batch, window
//! length, band bins and far distance are drawn from the whole `usize` range (`Bytes::size`)
//! under the capped allocator: absurd ones must be an `Err` (or an empty result for an empty
//! batch), never an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::limits::MAX_TIARA_N;
use mlkern::stft::{
    Band, FarBias, TiaraConfig, TiaraInput, TiaraWindow, WindowKind, tiara, tiara_in_place,
    tiara_into, tiara_scratch_len,
};
use mlkern::{Error, Par};
use mlkern_fuzz::Bytes;

/// The values (matrix entries, taps, table entries / 16) a case may build.
const DATA: usize = 1 << 14;

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
    let n = b.size(20);
    let mats = b.size(4);
    let l = b.size(22);
    let band = if b.u8() % 2 == 0 {
        Band::Bins {
            phi1: b.size(12),
            phi2: b.size(12),
        }
    } else {
        Band::Freq {
            f1: f64::from(b.u8()) / 400.0,
            f2: f64::from(b.u8()) / 400.0,
        }
    };
    let alpha = f64::from(b.f32());
    let flags = b.u8();
    // Custom taps only where there are few; otherwise an empty window, which is rejected.
    let custom: Vec<f64> = if l <= DATA {
        (0..l).map(|_| f64::from(b.f32())).collect()
    } else {
        Vec::new()
    };
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
            distance: b.size(6),
            beta: f64::from(b.f32()),
        }))
        .with_input(if flags & 16 == 0 {
            TiaraInput::Probs
        } else {
            TiaraInput::Logits
        });
    let scratch_len = tiara_scratch_len(&cfg, n);
    if n > MAX_TIARA_N {
        assert!(
            matches!(scratch_len, Err(Error::TooLarge { name: "n", .. })),
            "{scratch_len:?}"
        );
    }
    // Batches only as large as a case may build; an empty batch of any configuration is empty
    // or an error, without building the table.
    let total = mats
        .checked_mul(n)
        .and_then(|v| v.checked_mul(n))
        .and_then(|v| v.checked_add(usize::from(flags >> 7)))
        .filter(|&t| t <= DATA);
    let Some(total) = total else {
        if let Ok(v) = tiara::<f32>(&[], n, &cfg, Par::Seq) {
            assert!(v.is_empty());
        }
        return;
    };
    let x: Vec<f32> = (0..total).map(|_| b.f32()).collect();
    let Ok(need) = scratch_len else {
        return;
    };
    // The table can be ~N² values for a wide window and band; build it only where it is small.
    if need > DATA * 16 {
        if x.is_empty() {
            assert!(tiara(&x, n, &cfg, Par::Seq).is_ok_and(|v| v.is_empty()));
        }
        return;
    }
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
