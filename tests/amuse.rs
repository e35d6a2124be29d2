//! AMUSE (`ortho::amuse_step`): the reductions of the reference note (β ≡ 0 is the Muon step on
//! Z bit for bit; X is the exact running mean of Z), the β schedule, and all-or-nothing errors.

use mlkern::Par;

mod common;
use mlkern::ortho::{
    AmuseConfig, AmuseState, Hyper, MomentumKind, MuonConfig, amuse_scratch_len, amuse_step,
    muon_scratch_len, muon_step,
};

use common::values as data;

fn muon_part() -> MuonConfig<'static> {
    MuonConfig::default()
        .with_momentum_kind(MomentumKind::Sum)
        .with_nesterov(false)
}

#[test]
fn beta_schedule() {
    let cfg = AmuseConfig::default().with_schedule(0.2, 5, 0.5);
    assert_eq!(cfg.beta(1), 0.2);
    assert_eq!(cfg.beta(4), 0.2);
    assert_eq!(cfg.beta(5), 0.2); // β_{T0} = β1
    let mut last = 0.0;
    for t in 1..10_000 {
        let b = cfg.beta(t);
        assert!(b >= last && b < 1.0, "t = {t}: {b}");
        last = b;
    }
    // 1 − (4/(t−1))^0.5·0.8 at t = 401: 1 − 0.1·0.8.
    assert!((cfg.beta(401) - 0.92).abs() < 1e-15);
    assert!(
        AmuseConfig::default()
            .with_schedule(0.9, u64::MAX, 1.0)
            .beta(1 << 40)
            == 0.9
    );
}

/// β ≡ 0, no weight decay: Y = Z and Z follows muon_step (sum momentum) bit for bit.
#[test]
fn beta_zero_is_the_muon_step_bit_for_bit() {
    let (r, c) = (6, 10);
    let w0 = data(r * c, 1);
    let amuse = AmuseConfig::new(muon_part()).with_schedule(0.0, u64::MAX, 1.0);
    let (mut y, mut z, mut x, mut m) = (w0.clone(), w0.clone(), w0.clone(), vec![0.0; r * c]);
    let (mut p, mut mm) = (w0.clone(), vec![0.0; r * c]);
    let mut ws = vec![0.0; amuse_scratch_len(&[r, c], &amuse).unwrap()];
    let mut ws2 = vec![0.0; muon_scratch_len(&[r, c], &amuse.muon).unwrap()];
    for t in 1..=4u64 {
        let g = data(r * c, 10 + t);
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        let a = amuse_step(
            &mut y,
            state,
            &g,
            &[r, c],
            t,
            Hyper::lr(0.05),
            &amuse,
            &mut ws,
            Par::Seq,
        )
        .unwrap();
        let b = muon_step(
            &mut p,
            &mut mm,
            &g,
            &[r, c],
            Hyper::lr(0.05),
            &amuse.muon,
            &mut ws2,
            Par::Seq,
        )
        .unwrap();
        assert_eq!(a, b, "reports");
        assert_eq!(z, p, "Z is the Muon iterate (step {t})");
        assert_eq!(y, p, "Y = Z when β = 0 (step {t})");
        assert_eq!(m, mm, "momentum");
    }
}

/// X_{t+1} is the uniform mean of Z_1 … Z_{t+1}.
#[test]
fn x_is_the_running_mean_of_z() {
    let (r, c) = (5, 7);
    let w0 = data(r * c, 2);
    let cfg = AmuseConfig::default().with_schedule(0.5, 3, 1.0);
    let (mut y, mut z, mut x, mut m) = (w0.clone(), w0.clone(), w0.clone(), vec![0.0; r * c]);
    let mut ws = vec![0.0; amuse_scratch_len(&[r, c], &cfg).unwrap()];
    let mut sum = w0.clone();
    for t in 1..=6u64 {
        let g = data(r * c, 20 + t);
        let hyper = Hyper::lr(0.03).with_weight_decay(0.1);
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        amuse_step(
            &mut y,
            state,
            &g,
            &[r, c],
            t,
            hyper,
            &cfg,
            &mut ws,
            Par::Seq,
        )
        .unwrap();
        for (s, zi) in sum.iter_mut().zip(&z) {
            *s += zi;
        }
        for i in 0..r * c {
            let mean = sum[i] / (t + 1) as f64;
            assert!(
                (x[i] - mean).abs() <= 1e-14 * (1.0 + mean.abs()),
                "t {t} i {i}"
            );
            let beta = cfg.beta(t + 1);
            let want = (1.0 - beta) * z[i] + beta * x[i];
            assert!((y[i] - want).abs() <= 1e-14 * (1.0 + want.abs()));
        }
    }
}

#[test]
fn bad_input_leaves_every_buffer_untouched() {
    let (r, c) = (3, 4);
    let w0 = data(r * c, 3);
    let cfg = AmuseConfig::default();
    let (mut y, mut z, mut x, mut m) = (w0.clone(), w0.clone(), w0.clone(), vec![0.5; r * c]);
    let mut ws = vec![0.0; amuse_scratch_len(&[r, c], &cfg).unwrap()];
    let mut g = data(r * c, 4);
    g[5] = f64::NAN;
    let state = AmuseState {
        z: &mut z,
        x: &mut x,
        m: &mut m,
    };
    let e = amuse_step(
        &mut y,
        state,
        &g,
        &[r, c],
        1,
        Hyper::lr(0.1),
        &cfg,
        &mut ws,
        Par::Seq,
    );
    assert!(matches!(e, Err(mlkern::Error::NonFinite { .. })), "{e:?}");
    assert_eq!((&y, &z, &x), (&w0, &w0, &w0));
    assert_eq!(m, vec![0.5; r * c]);
    // t = 0, bad schedule parameters, short buffers.
    let g = data(r * c, 4);
    for (t, cfg) in [
        (0, AmuseConfig::default()),
        (1, AmuseConfig::default().with_schedule(1.5, 10, 1.0)),
        (1, AmuseConfig::default().with_schedule(0.5, 1, 1.0)),
        (1, AmuseConfig::default().with_schedule(0.5, 10, 0.0)),
    ] {
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        let e = amuse_step(
            &mut y,
            state,
            &g,
            &[r, c],
            t,
            Hyper::lr(0.1),
            &cfg,
            &mut ws,
            Par::Seq,
        );
        assert!(
            matches!(e, Err(mlkern::Error::InvalidParameter { .. })),
            "{e:?}"
        );
    }
    let mut short = vec![0.0; r * c - 1];
    let state = AmuseState {
        z: &mut z,
        x: &mut short,
        m: &mut m,
    };
    let e = amuse_step(
        &mut y,
        state,
        &g,
        &[r, c],
        1,
        Hyper::lr(0.1),
        &AmuseConfig::default(),
        &mut ws,
        Par::Seq,
    );
    assert!(
        matches!(e, Err(mlkern::Error::ShapeMismatch { .. })),
        "{e:?}"
    );
    assert_eq!((&y, &z), (&w0, &w0));
}

/// The float64 NumPy transcription of the note's equations
/// (`tests/fixtures/amuse/make_amuse_fixtures.py`), to 1e-12.
#[test]
fn matches_the_numpy_transcription() {
    for case in ["wide", "tall"] {
        let cfg_json = common::fixture_json(&format!("amuse/{case}__config.json"));
        let f = |k: &str| cfg_json[k].as_f64().unwrap();
        let shape: Vec<usize> = cfg_json["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let load = |name: &str| common::npy_fixture_f64(&format!("amuse/{case}__{name}.npy")).0;
        let cfg = AmuseConfig::new(muon_part().with_momentum(f("mu"))).with_schedule(
            f("beta1"),
            f("t0") as u64,
            f("rho"),
        );
        let hyper = Hyper::lr(f("lr")).with_weight_decay(f("wd"));
        let w0 = load("w0");
        let n = w0.len();
        let (mut y, mut z, mut x, mut m) = (w0.clone(), w0.clone(), w0.clone(), vec![0.0; n]);
        let mut ws = vec![0.0; amuse_scratch_len(&shape, &cfg).unwrap()];
        for t in 1..=f("steps") as u64 {
            let g = load(&format!("grad{t}"));
            let state = AmuseState {
                z: &mut z,
                x: &mut x,
                m: &mut m,
            };
            amuse_step(&mut y, state, &g, &shape, t, hyper, &cfg, &mut ws, Par::Seq).unwrap();
            for (key, got) in [("y", &y), ("z", &z), ("x", &x)] {
                let want = load(&format!("{key}{}", t + 1));
                let d = common::max_abs_diff(got, &want);
                assert!(d <= 1e-12, "{case} {key}{}: {d:e}", t + 1);
            }
            assert!(common::max_abs_diff(&m, &load(&format!("m{t}"))) <= 1e-12);
        }
    }
}

/// The owned optimizer is `amuse_step` on its own state, bit for bit; `t` advances only on
/// success; `restore` resumes a run exactly.
#[test]
fn owned_amuse_is_the_core_step_and_resumes_from_a_checkpoint() {
    use mlkern::ortho::Amuse;
    let (r, c) = (4, 9);
    let w0: Vec<f32> = data(r * c, 5).iter().map(|&v| v as f32).collect();
    let cfg = AmuseConfig::default().with_schedule(0.3, 3, 2.0);
    let mut opt = Amuse::new(&w0, &[r, c], cfg)
        .unwrap()
        .with_weight_decay(0.05);
    let (mut y, mut z, mut x, mut m) = (w0.clone(), w0.clone(), w0.clone(), vec![0.0f32; r * c]);
    let mut y_owned = w0.clone();
    let mut ws = vec![0.0f32; amuse_scratch_len(&[r, c], &cfg).unwrap()];
    let grads: Vec<Vec<f32>> = (0..6)
        .map(|t| data(r * c, 30 + t).iter().map(|&v| v as f32).collect())
        .collect();
    let mut checkpoint = None;
    for (i, g) in grads.iter().enumerate() {
        let t = i as u64 + 1;
        assert_eq!(opt.t(), t);
        let hyper = Hyper::lr(0.04).with_weight_decay(0.05);
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        let a = amuse_step(&mut y, state, g, &[r, c], t, hyper, &cfg, &mut ws, Par::Seq).unwrap();
        let b = opt.step(&mut y_owned, g, 0.04, Par::Seq).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            (&y_owned[..], opt.fast(), opt.averaged(), opt.momentum()),
            (&y[..], &z[..], &x[..], &m[..])
        );
        if t == 3 {
            checkpoint = Some((
                opt.fast().to_vec(),
                opt.averaged().to_vec(),
                opt.momentum().to_vec(),
                y.clone(),
            ));
        }
    }
    // A failed step changes nothing, not even t.
    let mut bad = grads[0].clone();
    bad[3] = f32::INFINITY;
    let before = (y_owned.clone(), opt.averaged().to_vec(), opt.t());
    assert!(opt.step(&mut y_owned, &bad, 0.04, Par::Seq).is_err());
    assert_eq!((y_owned.clone(), opt.averaged().to_vec(), opt.t()), before);
    // Resume from step 4 in a fresh optimizer: the same last three steps.
    let (zc, xc, mc, mut yc) = checkpoint.unwrap();
    let mut resumed = Amuse::new(&w0, &[r, c], cfg)
        .unwrap()
        .with_weight_decay(0.05);
    assert!(resumed.restore(&zc, &xc[1..], &mc, 4).is_err());
    assert!(resumed.restore(&zc, &xc, &mc, 0).is_err());
    assert_eq!(resumed.t(), 1);
    resumed.restore(&zc, &xc, &mc, 4).unwrap();
    for g in &grads[3..] {
        resumed.step(&mut yc, g, 0.04, Par::Seq).unwrap();
    }
    assert_eq!(
        (&yc, resumed.averaged(), resumed.t()),
        (&y_owned, opt.averaged(), 7)
    );
    // Bad construction: 1-D shape, wrong length, non-finite weights.
    assert!(Amuse::new(&w0, &[r * c], cfg).is_err());
    assert!(Amuse::new(&w0[1..], &[r, c], cfg).is_err());
    let mut nan = w0.clone();
    nan[0] = f32::NAN;
    assert!(Amuse::new(&nan, &[r, c], cfg).is_err());
}
