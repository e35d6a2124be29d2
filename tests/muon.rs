//! ortho::muon_step against a float64 NumPy port of `torch.optim.Muon`'s step semantics
//! (`tests/fixtures/muon/make_muon_fixtures.py`; verified there against torch 2.15's own class with
//! the bf16 cast removed). Tolerance 1e-12: three steps of O(1) arithmetic in f64 plus NS5.
#![cfg(feature = "alloc")]

mod common;

use mlkern::Error;
use mlkern::Par;
use mlkern::ortho::{
    KELLER_JORDAN, MomentumKind, MuonConfig, Normalize, NsConfig, UpdateScale, muon_step,
    muon_workspace_len,
};

fn load(name: &str) -> Vec<f64> {
    common::npy_fixture_f64(&format!("muon/{name}.npy")).0
}

fn torch_config(nesterov: bool, wd: f64, scale: UpdateScale) -> MuonConfig<'static> {
    MuonConfig {
        lr: 0.02,
        momentum: 0.95,
        nesterov,
        momentum_kind: MomentumKind::Ema,
        weight_decay: wd,
        scale,
        ns: NsConfig::new(KELLER_JORDAN.with_normalize(Normalize::PYTORCH)),
    }
}

fn check_case(case: &str, shape: &[usize], steps: usize, cfg: MuonConfig<'_>) {
    let mut p = load(&format!("{case}__param0"));
    let mut m = load(&format!("{case}__momentum0"));
    let mut ws = vec![0.0; muon_workspace_len(shape, &cfg).unwrap()];
    for t in 1..=steps {
        let g = load(&format!("{case}__grad{t}"));
        let rep = muon_step(&mut p, &g, &mut m, shape, &cfg, &mut ws, Par::Seq).unwrap();
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
    let cfg = MuonConfig {
        lr: 0.01,
        momentum: 0.9,
        nesterov: true,
        momentum_kind: MomentumKind::Sum,
        weight_decay: 0.05,
        scale: UpdateScale::Moonlight,
        ns: NsConfig::new(KELLER_JORDAN),
    };
    check_case("d", &[4, 3, 5], 2, cfg);
}

/// Updates that would overflow are errors and leave the optimizer state untouched.
#[test]
fn overflowing_updates_are_errors_and_commit_nothing() {
    let shape = [2, 2];
    let check = |cfg: MuonConfig<'_>, p0: [f32; 4], m0: [f32; 4], g: [f32; 4]| {
        let (mut p, mut m) = (p0, m0);
        let mut ws = vec![0.0f32; muon_workspace_len(&shape, &cfg).unwrap()];
        let e = muon_step(&mut p, &g, &mut m, &shape, &cfg, &mut ws, Par::Seq).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{e}");
        assert_eq!((p, m), (p0, m0));
    };
    // EMA: g − M overflows f32.
    check(
        MuonConfig::default(),
        [0.0; 4],
        [-3e38; 4],
        [3e38, 3e38, 0.0, 1.0],
    );
    // Sum momentum: β·M + g overflows.
    let sum = MuonConfig {
        momentum_kind: MomentumKind::Sum,
        ..MuonConfig::default()
    };
    check(sum, [0.0; 4], [3e38; 4], [3e38, 3e38, 3e38, 3e38]);
    // The parameter update p − lr·O overflows.
    let huge_lr = MuonConfig {
        lr: 3e38,
        ..MuonConfig::default()
    };
    check(
        huge_lr,
        [-3.3e38, 3.3e38, -3.3e38, 3.3e38],
        [0.0; 4],
        [1.0, -1.0, 1.0, -1.0],
    );
}

#[test]
fn f32_tracks_f64() {
    let cfg = torch_config(true, 0.1, UpdateScale::Keller);
    let shape = [6, 10];
    let mut p64 = load("a__param0");
    let mut m64 = vec![0.0; 60];
    let mut p32: Vec<f32> = p64.iter().map(|&x| x as f32).collect();
    let mut m32 = vec![0.0f32; 60];
    let mut ws64 = vec![0.0; muon_workspace_len(&shape, &cfg).unwrap()];
    let mut ws32 = vec![0.0f32; ws64.len()];
    for t in 1..=3 {
        let g = load(&format!("a__grad{t}"));
        let g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
        muon_step(&mut p64, &g, &mut m64, &shape, &cfg, &mut ws64, Par::Seq).unwrap();
        muon_step(&mut p32, &g32, &mut m32, &shape, &cfg, &mut ws32, Par::Seq).unwrap();
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
            let cfg = MuonConfig {
                momentum_kind: kind,
                nesterov,
                ..MuonConfig::default()
            };
            let (mut p, mut m) = (vec![0.0; 15], vec![0.0; 15]);
            let mut ws = vec![0.0; muon_workspace_len(&shape, &cfg).unwrap()];
            muon_step(&mut p, &g, &mut m, &shape, &cfg, &mut ws, Par::Seq).unwrap();
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
        let cfg = MuonConfig {
            scale,
            ..MuonConfig::default()
        };
        let (mut p, mut m) = (vec![0.0f32; 24], vec![0.0f32; 24]);
        let mut ws = vec![0.0f32; muon_workspace_len(&shape, &cfg).unwrap()];
        let rep = muon_step(&mut p, &g, &mut m, &shape, &cfg, &mut ws, Par::Seq).unwrap();
        assert_eq!((rep.rows, rep.cols), (2, 12));
        assert!((rep.step_size - 0.02 * factor).abs() < 1e-12);
    }
}

#[test]
fn bad_input_leaves_state_untouched() {
    let cfg = MuonConfig::default();
    let shape = [2, 3];
    let mut ws = vec![0.0f32; muon_workspace_len(&shape, &cfg).unwrap()];
    let (mut p, mut m) = (vec![1.0f32; 6], vec![0.5f32; 6]);
    let mut g = vec![1.0f32; 6];
    g[4] = f32::NAN;
    let e = muon_step(&mut p, &g, &mut m, &shape, &cfg, &mut ws, Par::Seq).unwrap_err();
    assert!(matches!(e, Error::NonFinite { index: 4, .. }), "{e}");
    assert!(p == vec![1.0; 6] && m == vec![0.5; 6]);
    let g = vec![1.0f32; 6];
    // Vectors, wrong lengths, bad hyper-parameters, short workspace.
    assert!(matches!(
        muon_workspace_len(&[6], &cfg),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        muon_step(&mut p, &g, &mut m, &[3, 3], &cfg, &mut ws, Par::Seq),
        Err(Error::ShapeMismatch { .. })
    ));
    for bad in [
        MuonConfig {
            momentum: 1.0,
            ..cfg
        },
        MuonConfig {
            lr: f64::NAN,
            ..cfg
        },
        MuonConfig {
            weight_decay: f64::INFINITY,
            ..cfg
        },
        MuonConfig {
            scale: UpdateScale::Fixed(f64::NAN),
            ..cfg
        },
    ] {
        assert!(matches!(
            muon_step(&mut p, &g, &mut m, &shape, &bad, &mut ws, Par::Seq),
            Err(Error::InvalidParameter { .. })
        ));
    }
    assert!(matches!(
        muon_step(&mut p, &g, &mut m, &shape, &cfg, &mut ws[..3], Par::Seq),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(p == vec![1.0; 6] && m == vec![0.5; 6]);
}
