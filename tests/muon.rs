//! ortho::muon_step against a float64 NumPy port of `torch.optim.Muon`'s step semantics
//! (`tests/fixtures/muon/make_muon_fixtures.py`; verified there against torch 2.15's own class with
//! the bf16 cast removed). Tolerance 1e-12: three steps of O(1) arithmetic in f64 plus NS5.
#![cfg(feature = "alloc")]

mod common;

use mlkern::Error;
use mlkern::Par;
use mlkern::ortho::{
    Hyper, KELLER_JORDAN, MomentumKind, Muon, MuonConfig, Normalize, NsConfig, UpdateScale,
    muon_scratch_len, muon_step,
};

fn load(name: &str) -> Vec<f64> {
    common::npy_fixture_f64(&format!("muon/{name}.npy")).0
}

fn torch_config(nesterov: bool, wd: f64, scale: UpdateScale) -> (MuonConfig<'static>, Hyper) {
    let cfg = MuonConfig::new(NsConfig::new(
        KELLER_JORDAN.with_normalize(Normalize::PYTORCH),
    ))
    .with_momentum(0.95)
    .with_nesterov(nesterov)
    .with_momentum_kind(MomentumKind::Ema)
    .with_scale(scale);
    (cfg, Hyper::lr(0.02).with_weight_decay(wd))
}

fn check_case(case: &str, shape: &[usize], steps: usize, (cfg, hyper): (MuonConfig<'_>, Hyper)) {
    let mut p = load(&format!("{case}__param0"));
    let mut m = load(&format!("{case}__momentum0"));
    let mut ws = vec![0.0; muon_scratch_len(shape, &cfg).unwrap()];
    // The stateful optimizer runs alongside and must agree bit for bit.
    let mut opt = Muon::<f64>::new(shape, cfg)
        .unwrap()
        .with_weight_decay(hyper.weight_decay);
    let mut p2 = p.clone();
    let m0 = m.clone();
    for t in 1..=steps {
        let g = load(&format!("{case}__grad{t}"));
        let rep = muon_step(&mut p, &mut m, &g, shape, hyper, &cfg, &mut ws, Par::Seq).unwrap();
        if m0.iter().all(|&x| x == 0.0) {
            let rep2 = opt.step(&mut p2, &g, hyper.lr, Par::Seq).unwrap();
            assert_eq!((rep2, &p2, opt.momentum()), (rep, &p, &m[..]));
        }
        assert_eq!(
            (rep.rows, rep.cols),
            (shape[0], shape[1..].iter().product())
        );
        for (what, got, want) in [
            ("param", &p, load(&format!("{case}__param{t}"))),
            ("momentum", &m, load(&format!("{case}__momentum{t}"))),
        ] {
            let err = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-12, "case {case} step {t} {what}: {err:e}");
        }
    }
}

#[test]
fn matches_torch_optim_muon_semantics() {
    check_case(
        "a",
        &[6, 10],
        3,
        torch_config(true, 0.1, UpdateScale::Keller),
    );
    check_case(
        "b",
        &[10, 6],
        3,
        torch_config(false, 0.1, UpdateScale::Moonlight),
    );
    check_case(
        "c",
        &[4, 4],
        1,
        torch_config(true, 0.01, UpdateScale::Keller),
    );
}

/// Moonlight's semantics (sum momentum, `g + μ·M` Nesterov input, `X/(‖X‖_F + eps)`,
/// 0.2·√max(A, B)) on a 3-D parameter flattened to (d0, ∏rest) — fixture case `d`.
#[test]
fn matches_moonlight_semantics_on_a_3d_parameter() {
    let cfg = MuonConfig::new(NsConfig::new(KELLER_JORDAN))
        .with_momentum(0.9)
        .with_nesterov(true)
        .with_momentum_kind(MomentumKind::Sum)
        .with_scale(UpdateScale::Moonlight);
    check_case(
        "d",
        &[4, 3, 5],
        2,
        (cfg, Hyper::lr(0.01).with_weight_decay(0.05)),
    );
}

/// Updates that would overflow are errors and leave the optimizer state untouched.
#[test]
fn overflowing_updates_are_errors_and_commit_nothing() {
    let shape = [2, 2];
    let check = |(cfg, hyper): (MuonConfig<'_>, Hyper), p0: [f32; 4], m0: [f32; 4], g: [f32; 4]| {
        let (mut p, mut m) = (p0, m0);
        let mut ws = vec![0.0f32; muon_scratch_len(&shape, &cfg).unwrap()];
        let e = muon_step(&mut p, &mut m, &g, &shape, hyper, &cfg, &mut ws, Par::Seq).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{e}");
        assert_eq!((p, m), (p0, m0));
    };
    // EMA: g − M overflows f32.
    let lr = Hyper::lr(0.02);
    check(
        (MuonConfig::default(), lr),
        [0.0; 4],
        [-3e38; 4],
        [3e38, 3e38, 0.0, 1.0],
    );
    // Sum momentum: β·M + g overflows.
    let sum = MuonConfig::default().with_momentum_kind(MomentumKind::Sum);
    check((sum, lr), [0.0; 4], [3e38; 4], [3e38, 3e38, 3e38, 3e38]);
    // The parameter update p − lr·O overflows.
    check(
        (MuonConfig::default(), Hyper::lr(3e38)),
        [-3.3e38, 3.3e38, -3.3e38, 3.3e38],
        [0.0; 4],
        [1.0, -1.0, 1.0, -1.0],
    );
}

#[test]
fn f32_tracks_f64() {
    let (cfg, hyper) = torch_config(true, 0.1, UpdateScale::Keller);
    let shape = [6, 10];
    let mut p64 = load("a__param0");
    let mut m64 = vec![0.0; 60];
    let mut p32: Vec<f32> = p64.iter().map(|&x| x as f32).collect();
    let mut m32 = vec![0.0f32; 60];
    let mut ws64 = vec![0.0; muon_scratch_len(&shape, &cfg).unwrap()];
    let mut ws32 = vec![0.0f32; ws64.len()];
    for t in 1..=3 {
        let g = load(&format!("a__grad{t}"));
        let g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
        muon_step(
            &mut p64,
            &mut m64,
            &g,
            &shape,
            hyper,
            &cfg,
            &mut ws64,
            Par::Seq,
        )
        .unwrap();
        muon_step(
            &mut p32,
            &mut m32,
            &g32,
            &shape,
            hyper,
            &cfg,
            &mut ws32,
            Par::Seq,
        )
        .unwrap();
    }
    let err = p32
        .iter()
        .zip(&p64)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-6, "{err:e}");
}

#[test]
fn momentum_kinds_and_nesterov() {
    // From a zero buffer, sum momentum is EMA momentum / (1 − β): same update up to eps.
    let shape = [3, 5];
    let g: Vec<f64> = (0..15).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
    let mut outs = Vec::new();
    for kind in [MomentumKind::Ema, MomentumKind::Sum] {
        for nesterov in [true, false] {
            let cfg = MuonConfig::default()
                .with_momentum_kind(kind)
                .with_nesterov(nesterov);
            let (mut p, mut m) = (vec![0.0; 15], vec![0.0; 15]);
            let mut ws = vec![0.0; muon_scratch_len(&shape, &cfg).unwrap()];
            let hyper = Hyper::lr(0.02);
            muon_step(&mut p, &mut m, &g, &shape, hyper, &cfg, &mut ws, Par::Seq).unwrap();
            let want_m = match kind {
                MomentumKind::Ema => 0.05,
                _ => 1.0,
            };
            assert!(
                m.iter()
                    .zip(&g)
                    .all(|(m, g)| (m - want_m * g).abs() < 1e-15)
            );
            outs.push(p);
        }
    }
    for p in &outs[1..] {
        let err = p
            .iter()
            .zip(&outs[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-6, "{err:e}");
    }
}

#[test]
fn conv_filters_are_flattened_and_scales_apply() {
    // (C_out, C_in, kh, kw) = (2, 3, 2, 2) → a 2×12 matrix view.
    let shape = [2, 3, 2, 2];
    let g: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin()).collect();
    for (scale, factor) in [
        (UpdateScale::Keller, 1.0),
        (UpdateScale::Moonlight, 0.2 * 12f64.sqrt()),
        (UpdateScale::Spectral, (2.0f64 / 12.0).sqrt()),
        (UpdateScale::Fixed(3.0), 3.0),
    ] {
        let cfg = MuonConfig::default().with_scale(scale);
        let (mut p, mut m) = (vec![0.0f32; 24], vec![0.0f32; 24]);
        let mut ws = vec![0.0f32; muon_scratch_len(&shape, &cfg).unwrap()];
        let hyper = Hyper::lr(0.02);
        let rep = muon_step(&mut p, &mut m, &g, &shape, hyper, &cfg, &mut ws, Par::Seq).unwrap();
        assert_eq!((rep.rows, rep.cols), (2, 12));
        assert!((rep.step_size - 0.02 * factor).abs() < 1e-12);
    }
}

#[test]
fn bad_input_leaves_state_untouched() {
    let cfg = MuonConfig::default();
    let shape = [2, 3];
    let hyper = Hyper::lr(0.02);
    let mut ws = vec![0.0f32; muon_scratch_len(&shape, &cfg).unwrap()];
    let (mut p, mut m) = (vec![1.0f32; 6], vec![0.5f32; 6]);
    let mut g = vec![1.0f32; 6];
    g[4] = f32::NAN;
    let e = muon_step(&mut p, &mut m, &g, &shape, hyper, &cfg, &mut ws, Par::Seq).unwrap_err();
    assert!(matches!(e, Error::NonFinite { index: 4, .. }), "{e}");
    assert!(p == vec![1.0; 6] && m == vec![0.5; 6]);
    let g = vec![1.0f32; 6];
    // Vectors, wrong lengths, bad hyper-parameters, short scratch.
    assert!(matches!(
        muon_scratch_len(&[6], &cfg),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        muon_step(&mut p, &mut m, &g, &[3, 3], hyper, &cfg, &mut ws, Par::Seq),
        Err(Error::ShapeMismatch { .. })
    ));
    for (bad, h) in [
        (cfg.with_momentum(1.0), hyper),
        (cfg, Hyper::lr(f64::NAN)),
        (cfg, hyper.with_weight_decay(f64::INFINITY)),
        (cfg.with_scale(UpdateScale::Fixed(f64::NAN)), hyper),
    ] {
        assert!(matches!(
            muon_step(&mut p, &mut m, &g, &shape, h, &bad, &mut ws, Par::Seq),
            Err(Error::InvalidParameter { .. })
        ));
    }
    let need = ws.len();
    assert_eq!(
        muon_step(
            &mut p,
            &mut m,
            &g,
            &shape,
            hyper,
            &cfg,
            &mut ws[..3],
            Par::Seq
        ),
        Err(Error::ShapeMismatch {
            what: "muon_step: scratch",
            expected: mlkern::Shape::d1(need),
            found: mlkern::Shape::d1(3),
        })
    );
    assert!(p == vec![1.0; 6] && m == vec![0.5; 6]);
}
