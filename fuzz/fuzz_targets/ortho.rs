//! Fuzzes Newton–Schulz (`orthogonalize_batch` for every preset, both algorithms, both GEMM
//! backends, f32 and f64) and the Muon step with arbitrary shapes and bit patterns (NaN, ±∞,
//! huge, tiny, subnormal). Accepted outcomes: `Ok` with finite output whose Frobenius norm stays in
//! the schedules' band (`‖O‖_F² ≤ k·1.25²`), zero output for zero input — or `Err(NonFinite)`
//! exactly when the input holds a NaN/±∞. The Muon step may fail only with `NonFinite` (bad
//! input or an overflowing update) and must then leave the state untouched.
//!
//! Issue 23: the batch size, the dimensions and (half of the time) the step count are drawn from
//! the whole `usize` range ([`Bytes::size`]). A step count above `MAX_NS_STEPS` must be
//! `Err(TooLarge)` at every entry point, before any work; a shape whose element count is not held
//! by the data (absurd or overflowing) must be an error, never an abort under the fuzz
//! allocator's cap; an empty matrix with a huge other dimension must return at once; a huge batch
//! of empty matrices may only fail with `OutOfMemory` (one report per matrix).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::Par;
use mlkern::limits::MAX_NS_STEPS;
use mlkern::linalg::{GemmBackend, Layout, view};
use mlkern::ortho::{self, Algo, Hyper, MomentumKind, MuonConfig, NsConfig, PRESETS, UpdateScale};
use mlkern_fuzz::Bytes;

/// `band`: the schedule runs its own step count, so its output lies in the published band (a
/// drawn step count may stop a schedule half way, where the singular values are still large).
fn check<T: mlkern::Real>(g: &[T], b: usize, m: usize, n: usize, cfg: &NsConfig<'_>, band: bool) {
    let res = ortho::orthogonalize_batch(g, b, m, n, cfg, Par::Seq);
    if cfg.schedule.steps > MAX_NS_STEPS {
        // Checked first, whatever the data.
        assert!(
            matches!(res, Err(Error::TooLarge { name: "steps", .. })),
            "{} steps accepted: {:?}",
            cfg.schedule.steps,
            res.err()
        );
        return;
    }
    let bad = g.iter().position(|x| !x.as_f64().is_finite());
    match (res, bad) {
        // A huge batch of empty matrices: the reports cannot all be held.
        (Err(Error::OutOfMemory { name: "batch", .. }), None) if m == 0 || n == 0 => {}
        (Ok((out, reports)), None) => {
            let k = m.min(n) as f64;
            for (i, r) in reports.iter().enumerate() {
                let o = &out[i * m * n..(i + 1) * m * n];
                assert!(
                    o.iter().all(|x| x.as_f64().is_finite()),
                    "non-finite output"
                );
                let fro2: f64 = o.iter().map(|x| x.as_f64().powi(2)).sum();
                assert!(
                    !band || fro2 <= k * 1.25 * 1.25 + 1e-3,
                    "‖O‖² = {fro2} for k = {k}"
                );
                if r.zero_input {
                    assert!(o.iter().all(|x| x.as_f64() == 0.0));
                }
            }
        }
        (Err(Error::NonFinite { index, .. }), Some(first)) => assert_eq!(index, first),
        (res, bad) => panic!(
            "unexpected outcome {:?} (first non-finite: {bad:?})",
            res.err()
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let b = bytes.size(3);
    let m = bytes.size(10);
    let n = bytes.size(10);
    let sched = PRESETS[usize::from(bytes.u8()) % PRESETS.len()];
    let flags = bytes.u8();
    let sched = if flags & 128 != 0 {
        sched.with_steps(bytes.size(12))
    } else {
        sched
    };
    let too_many = sched.steps > MAX_NS_STEPS;
    let algo = if flags & 1 == 0 {
        Algo::Standard
    } else {
        Algo::GRAM
    };
    let backend = if flags & 2 == 0 {
        GemmBackend::Auto
    } else {
        GemmBackend::Portable
    };
    let cfg = NsConfig::new(sched).with_algo(algo).with_backend(backend);
    // Scratch queries never panic: a length, or OutOfMemory when it overflows.
    for r in [
        ortho::orthogonalize_scratch_len(m, n, &cfg),
        ortho::orthogonalize_batch_scratch_len(b, m, n, &cfg, Par::Seq),
    ] {
        assert!(matches!(r, Ok(_) | Err(Error::OutOfMemory { .. })), "{r:?}");
    }
    // Only shapes the input can hold get data; any other shape is called with too little.
    let len = b.checked_mul(m).and_then(|x| x.checked_mul(n));
    let Some(len) = len.filter(|&l| l <= 4096) else {
        let r = ortho::orthogonalize_batch(&[0.5f32; 7], b, m, n, &cfg, Par::Seq);
        if too_many {
            assert!(matches!(r, Err(Error::TooLarge { .. })), "{:?}", r.err());
        } else {
            assert!(
                matches!(r, Err(Error::ShapeMismatch { .. })),
                "{:?}",
                r.err()
            );
        }
        return;
    };
    if m == 0 || n == 0 {
        // An empty m×n view, whichever the other dimension: Ok at once (or TooLarge), or
        // OutOfMemory only where faer's padded row capacity overflows (≥ 2⁶¹ rows).
        let g = view(&[] as &[f64], m, n, Layout::RowMajor).unwrap();
        match ortho::orthogonalize(g, &cfg, Par::Seq) {
            Ok((o, r)) => {
                assert!(!too_many);
                assert!((o.nrows(), o.ncols()) == (m, n) && r.zero_input);
            }
            Err(Error::TooLarge { .. }) => assert!(too_many),
            Err(Error::OutOfMemory { .. }) => assert!(m > 1 << 60),
            Err(e) => panic!("empty {m}×{n}: {e}"),
        }
    }
    if flags & 4 == 0 {
        let g: Vec<f32> = (0..len)
            .map(|_| f32::from_bits(bytes.u64_be() as u32))
            .collect();
        check(&g, b, m, n, &cfg, flags & 128 == 0);
    } else {
        let g: Vec<f64> = (0..len).map(|_| f64::from_bits(bytes.u64_be())).collect();
        check(&g, b, m, n, &cfg, flags & 128 == 0);
    }

    // Muon: arbitrary gradients, parameters and momentum up to ±1.7e38 (updates can overflow:
    // that must be an error that commits nothing), both momentum kinds.
    if m == 0 || n == 0 || m.saturating_mul(n) > 4096 {
        return;
    }
    let unit = |v: u8| f64::from(v) / 255.0;
    let big = |v: u8| (f32::from(v) - 128.0) * 1.3e36;
    // The bytes are read in the 0.1 order (lr, momentum, weight decay), so the corpus still maps.
    let lr = unit(bytes.u8());
    let cfg = MuonConfig::new(cfg)
        .with_momentum(unit(bytes.u8()) * 0.999)
        .with_nesterov(flags & 8 == 0)
        .with_momentum_kind(if flags & 64 == 0 {
            MomentumKind::Ema
        } else {
            MomentumKind::Sum
        })
        .with_scale(
            [
                UpdateScale::Keller,
                UpdateScale::Moonlight,
                UpdateScale::Spectral,
            ][usize::from(flags >> 4) % 3],
        );
    let hyper = Hyper::lr(lr).with_weight_decay(unit(bytes.u8()));
    let shape = [m, n];
    let mut p: Vec<f32> = (0..m * n).map(|_| big(bytes.u8())).collect();
    let mut mom: Vec<f32> = (0..m * n).map(|_| big(bytes.u8())).collect();
    let grad: Vec<f32> = (0..m * n)
        .map(|_| f32::from_bits(bytes.u64_be() as u32))
        .collect();
    let (p0, m0) = (p.clone(), mom.clone());
    let mut ws = vec![0.0f32; ortho::muon_scratch_len(&shape, &cfg).unwrap()];
    match ortho::muon_step(
        &mut p,
        &mut mom,
        &grad,
        &shape,
        hyper,
        &cfg,
        &mut ws,
        Par::Seq,
    ) {
        Ok(_) => {
            assert!(!too_many, "{} steps accepted", cfg.ns.schedule.steps);
            assert!(grad.iter().all(|g| g.is_finite()));
            assert!(
                p.iter().chain(&mom).all(|x| x.is_finite()),
                "Muon produced a non-finite state"
            );
        }
        Err(e) => {
            if too_many {
                assert!(matches!(e, Error::TooLarge { .. }), "unexpected error {e}");
            } else {
                assert!(matches!(e, Error::NonFinite { .. }), "unexpected error {e}");
            }
            assert!(p.iter().zip(&p0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(mom.iter().zip(&m0).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
});
