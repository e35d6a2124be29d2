//! ortho: the Polar Express coefficient generator against the published lists and a 60-digit
//! reference (`tests/fixtures/ortho/make_polar_express_reference.py`).
#![cfg(feature = "alloc")]

use mlkern::Error;
use mlkern::ortho::{Quintic, polar_express_schedule};

/// Published list A: the Polar Express paper's raw (pre-safety) coefficients, as hard-coded in
/// `NoahAmsel/PolarExpress` `polar_express/basic.py` (also `gram_NS_diagnostic.py`; Amsel, Persson,
/// Musco, Gower, arXiv:2505.16932). Users divide steps 1–7 by (1.01, 1.01³, 1.01⁵) afterwards.
/// Steps 1–7 come from the recursion with l₀ = 1e-3, no safety factor and cushion
/// 0.02407327424182761 (the paper's default); step 8 is the classical quintic, appended by hand.
const LIST_A: [Quintic; 8] = [
    Quintic::new(8.28721201814563, -23.595886519098837, 17.300387312530933),
    Quintic::new(4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    Quintic::new(3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    Quintic::new(3.3184196573706015, -2.488488024314874, 0.51004894012372),
    Quintic::new(2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    Quintic::new(1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    Quintic::new(1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    Quintic::new(1.875, -1.25, 0.375),
];

/// The paper's cushion (`polar_express.py`, paper Algorithm 1).
const PAPER_CUSHION: f64 = 0.024_073_274_241_827_61;

/// Published list B: modded-nanogpt `train_gpt.py::polar_express` (record 2025-09-29, PR #134) and
/// Microsoft Dion `dion/polar_express.py`; comment there: "num_iters=5, safety_factor=2e-2,
/// cushion=2" — i.e. l₀ = 1e-3, 5 steps, safety 1.02 baked into steps 1–4, cushion 0.02.
const LIST_B: [Quintic; 5] = [
    Quintic::new(8.156554524902461, -22.48329292557795, 15.878769915207462),
    Quintic::new(4.042929935166739, -2.808917465908714, 0.5000178451051316),
    Quintic::new(3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    Quintic::new(3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    Quintic::new(2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
];

/// The same recursion as list A evaluated in 60-digit arithmetic (mpmath Remez, computed for this
/// test), rounded to f64. Steps 7–8 differ from the published list: see `list_a_reproduced`.
const LIST_A_EXACT: [Quintic; 8] = [
    Quintic::new(8.287212018145626, -23.595886519098826, 17.300387312530926),
    Quintic::new(4.107059111542201, -2.947849916737909, 0.5448431082926598),
    Quintic::new(3.9486908534822933, -2.908902115962947, 0.5518191394370131),
    Quintic::new(3.318419657370601, -2.488488024314874, 0.51004894012372),
    Quintic::new(2.3006520199548177, -1.6689039845747502, 0.4188073119525674),
    Quintic::new(1.8913014077873984, -1.2679958271945881, 0.37680408948524896),
    Quintic::new(1.8750014808442192, -1.2500016453814815, 0.37500016453818624),
    Quintic::new(1.874999998050339, -1.249999996100678, 0.37499999805033896),
];

/// The PolarExpress package default recipe (`polar_express/_core.py`: `optimal_composition(l=1e-3,
/// num_iters=10, safety_factor_eps=1e-2, cushion=0.02)`, safety applied inside the recursion), in
/// 60-digit arithmetic (computed for this test). Steps 7–9 are nearly converged, badly conditioned
/// Remez problems: a plain f64 `np.linalg.solve` gets step 8 wrong by about 1e-6.
const PACKAGE_DEFAULT_EXACT: [Quintic; 10] = [
    Quintic::new(8.237312490495555, -23.15774741455819, 16.680568411445908),
    Quintic::new(4.082441999064834, -2.893047735332585, 0.5252849256975645),
    Quintic::new(3.926347992254652, -2.854746803476526, 0.5318022422894982),
    Quintic::new(3.298218713308516, -2.4245419810267084, 0.4863200835884411),
    Quintic::new(2.297036943455258, -1.6366255812590318, 0.40026284559536307),
    Quintic::new(1.8763805351440401, -1.2347896577722244, 0.35891887501668474),
    Quintic::new(1.856442348560425, -1.2132449880908598, 0.3568003487812673),
    Quintic::new(1.8564356435863227, -1.2132376849334816, 0.35679963285487626),
    Quintic::new(1.8564311662246082, -1.213228906693793, 0.3567953302377913),
    Quintic::new(1.8749954775653717, -1.249990955152559, 0.37499547758718743),
];

fn diff(p: Quintic, q: Quintic) -> f64 {
    (p.a - q.a)
        .abs()
        .max((p.b - q.b).abs())
        .max((p.c - q.c).abs())
}

fn max_diff(got: &[Quintic], want: &[Quintic]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(&p, &q)| diff(p, q))
        .fold(0.0, f64::max)
}

#[test]
fn list_b_reproduced() {
    let got = polar_express_schedule(1e-3, 5, 1.02, 0.02).unwrap();
    let err = max_diff(&got, &LIST_B);
    // Achieved: 1.1e-14.
    assert!(err <= 1e-12, "list B max abs diff {err:e}");
}

#[test]
fn list_a_reproduced() {
    let got = polar_express_schedule(1e-3, 8, 1.0, PAPER_CUSHION).unwrap();
    // Steps 1–6 are well conditioned. Achieved: 2.8e-14.
    let err = max_diff(&got[..6], &LIST_A[..6]);
    assert!(err <= 1e-12, "list A steps 1-6 max abs diff {err:e}");
    // Step 7 optimizes on [0.99882, 1.00118], where the monomial Remez system is badly
    // conditioned: the published value carries the error of its plain f64 solve (1.8e-11 from
    // the exact recursion; other f64 solvers land 1e-11..3e-11 away). Achieved: 1.85e-11.
    let err7 = diff(got[6], LIST_A[6]);
    assert!(err7 <= 3e-11, "list A step 7 abs diff {err7:e}");
    // Step 8 is the limit case (l/u = 1 − 2.1e-9), i.e. the classical quintic scaled to
    // u = 1 + 1.04e-9; the published list writes the unscaled (15/8, −10/8, 3/8) by hand.
    // Achieved: 3.9e-9.
    let err8 = diff(got[7], LIST_A[7]);
    assert!(err8 <= 5e-9, "list A step 8 abs diff {err8:e}");
    let u = 1.875 / got[7].a;
    assert!((got[7].b + 1.25 / (u * u * u)).abs() <= 1e-15);
    assert!((got[7].c - 0.375 / u.powi(5)).abs() <= 1e-15);
}

#[test]
fn list_a_matches_exact_recursion() {
    let got = polar_express_schedule(1e-3, 8, 1.0, PAPER_CUSHION).unwrap();
    let err = max_diff(&got, &LIST_A_EXACT);
    // Achieved: 1.9e-14 (a few ulps), including the ill-conditioned steps 7–8.
    assert!(err <= 1e-13, "list A vs 60-digit recursion {err:e}");
}

#[test]
fn package_default_matches_exact_recursion() {
    let got = polar_express_schedule(1e-3, 10, 1.01, 0.02).unwrap();
    let err = max_diff(&got, &PACKAGE_DEFAULT_EXACT);
    // Achieved: 1.4e-14.
    assert!(
        err <= 1e-13,
        "package default vs 60-digit recursion {err:e}"
    );
}

#[test]
fn l0_one_gives_classical_quintic() {
    let classical = Quintic::new(1.875, -1.25, 0.375);
    assert_eq!(
        polar_express_schedule(1.0, 1, 1.0, 0.0).unwrap(),
        [classical]
    );
    // p(1) = 1 exactly, so the interval stays [1, 1] without a safety factor.
    assert_eq!(
        polar_express_schedule(1.0, 6, 1.0, 0.02).unwrap(),
        [classical; 6]
    );
    // With a safety factor the first step is the classical quintic evaluated at x/s.
    let s = 1.02_f64;
    let first = polar_express_schedule(1.0, 3, s, 0.0).unwrap()[0];
    assert_eq!(
        first,
        Quintic::new(1.875 / s, -1.25 / (s * s * s), 0.375 / (s * s * s * s * s))
    );
}

#[test]
fn safety_skips_last_step_and_cushion_recenters() {
    let raw = polar_express_schedule(1e-3, 1, 1.0, 0.02).unwrap()[0];
    let safe = polar_express_schedule(1e-3, 1, 1.5, 0.02).unwrap()[0];
    assert_eq!(
        raw, safe,
        "the last (here: only) step carries no safety factor"
    );
    // Recentred: p(l) and p(u) are symmetric about 1.
    let p = |x: f64| x * (raw.a + x * x * (raw.b + x * x * raw.c));
    assert!((p(1e-3) + p(1.0) - 2.0).abs() <= 1e-14);
}

#[test]
fn converges_to_classical_quintic_without_safety() {
    for &l0 in &[1e-12, 1e-6, 1e-3, 0.1, 0.9] {
        for &cushion in &[0.0, 0.02, 0.5] {
            let s = polar_express_schedule(l0, 64, 1.0, cushion).unwrap();
            let last = *s.last().unwrap();
            assert!(
                diff(last, Quintic::new(1.875, -1.25, 0.375)) <= 1e-12,
                "l0={l0} cushion={cushion}: {last:?}"
            );
        }
    }
}

#[test]
fn invalid_parameters_are_rejected() {
    let bad = |r: Result<Vec<Quintic>, Error>, which: &str| match r {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, which),
        other => panic!("expected InvalidParameter({which}), got {other:?}"),
    };
    for l0 in [
        0.0,
        -1e-3,
        1.0 + 1e-12,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        bad(polar_express_schedule(l0, 5, 1.0, 0.0), "l0");
    }
    bad(polar_express_schedule(1e-3, 0, 1.0, 0.0), "steps");
    // Above the documented limit (issue 23): `TooLarge`, before anything is allocated.
    for steps in [mlkern::limits::MAX_NS_STEPS + 1, 1025, usize::MAX] {
        match polar_express_schedule(1e-3, steps, 1.0, 0.0) {
            Err(Error::TooLarge { name, .. }) => assert_eq!(name, "steps"),
            other => panic!("expected TooLarge(steps), got {other:?}"),
        }
    }
    for safety in [0.99, 0.0, -1.02, f64::NAN, f64::INFINITY] {
        bad(polar_express_schedule(1e-3, 5, safety, 0.0), "safety");
    }
    for cushion in [-0.01, 1.0, 1.5, f64::NAN, f64::INFINITY] {
        bad(polar_express_schedule(1e-3, 5, 1.0, cushion), "cushion");
    }
    // A safety factor so large that the lower bound underflows to zero (no cushion to hold it).
    bad(polar_express_schedule(0.5, 64, 1e100, 0.0), "safety");
}

#[test]
fn extreme_but_valid_parameters_do_not_fail() {
    for &l0 in &[
        f64::MIN_POSITIVE,
        1e-300,
        1e-30,
        1e-3,
        0.5,
        0.999_999_9,
        1.0,
    ] {
        for &safety in &[1.0, 1.0 + 1e-12, 1.01, 1.05, 2.0] {
            for &cushion in &[0.0, 1e-10, 0.02, 0.5, 0.999_999, 1.0 - f64::EPSILON] {
                let s = polar_express_schedule(l0, 64, safety, cushion)
                    .unwrap_or_else(|e| panic!("l0={l0} safety={safety} cushion={cushion}: {e:?}"));
                assert_eq!(s.len(), 64);
                assert!(
                    s.iter()
                        .all(|q| q.a.is_finite() && q.b.is_finite() && q.c.is_finite())
                );
            }
        }
    }
}
