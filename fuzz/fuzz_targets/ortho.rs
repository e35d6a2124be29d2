//! Fuzzes Newton–Schulz (`orthogonalize_batch` for every preset, both algorithms, both GEMM
//! backends, f32 and f64) and the Muon step with arbitrary shapes and bit patterns (NaN, ±∞,
//! huge, tiny, subnormal). Accepted outcomes: `Ok` with finite output whose Frobenius norm stays in
//! the schedules' band (`‖O‖_F² ≤ k·1.25²`), zero output for zero input — or `Err(NonFinite)`
//! exactly when the input holds a NaN/±∞. The Muon step may fail only with `NonFinite` (bad
//! input or an overflowing update) and must then leave the state untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::Par;
use mlkern::linalg::GemmBackend;
use mlkern::ortho::{self, Algo, Hyper, MomentumKind, MuonConfig, NsConfig, PRESETS, UpdateScale};
use mlkern_fuzz::Bytes;

fn check<T: mlkern::Real>(g: &[T], b: usize, m: usize, n: usize, cfg: &NsConfig<'_>) {
    let res = ortho::orthogonalize_batch(g, b, m, n, cfg, Par::Seq);
    let bad = g.iter().position(|x| !x.as_f64().is_finite());
    match (res, bad) {
        (Ok((out, reports)), None) => {
            let k = m.min(n) as f64;
            for (i, r) in reports.iter().enumerate() {
                let o = &out[i * m * n..(i + 1) * m * n];
                assert!(
                    o.iter().all(|x| x.as_f64().is_finite()),
                    "non-finite output"
                );
                let fro2: f64 = o.iter().map(|x| x.as_f64().powi(2)).sum();
                assert!(fro2 <= k * 1.25 * 1.25 + 1e-3, "‖O‖² = {fro2} for k = {k}");
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
    let b = usize::from(bytes.u8() % 3);
    let m = usize::from(bytes.u8() % 10);
    let n = usize::from(bytes.u8() % 10);
    let sched = PRESETS[usize::from(bytes.u8()) % PRESETS.len()];
    let flags = bytes.u8();
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
    let len = b * m * n;
    if flags & 4 == 0 {
        let g: Vec<f32> = (0..len)
            .map(|_| f32::from_bits(bytes.u64_be() as u32))
            .collect();
        check(&g, b, m, n, &cfg);
    } else {
        let g: Vec<f64> = (0..len).map(|_| f64::from_bits(bytes.u64_be())).collect();
        check(&g, b, m, n, &cfg);
    }

    // Muon: arbitrary gradients, parameters and momentum up to ±1.7e38 (updates can overflow:
    // that must be an error that commits nothing), both momentum kinds.
    if m == 0 || n == 0 {
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
            assert!(grad.iter().all(|g| g.is_finite()));
            assert!(
                p.iter().chain(&mom).all(|x| x.is_finite()),
                "Muon produced a non-finite state"
            );
        }
        Err(e) => {
            assert!(matches!(e, Error::NonFinite { .. }), "unexpected error {e}");
            assert!(p.iter().zip(&p0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(mom.iter().zip(&m0).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
});
