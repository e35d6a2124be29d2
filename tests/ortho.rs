//! ortho: Newton–Schulz against independent oracles.
//!
//! * Exact: signed-permutation inputs, where every product entry is one rounded product plus exact
//!   zeros, so the kernel must equal the scalar recursion (`Schedule::eval`, same op order) bit for
//!   bit in f64.
//! * Float64 NumPy fixtures (`tests/fixtures/ortho/make_ortho_fixtures.py`): 1e-12 absolute; the
//!   entries are O(1) and a handful of steps of products of length ≤ 20 in f64 leave ~1e-15 of
//!   round-off, amplified at most ~10³ by the polynomials' slopes (`P'(0)` ≤ 7.9e4 for
//!   DeepSeek-V4 but applied to σ ≳ 1e-2 here).
//! * f32 vs f64 of the same schedule: 2e-5 relative Frobenius (the reference note measures 2e-6 –
//!   1.2e-5 at 256×1024).
#![cfg(feature = "alloc")]

mod common;

use mlkern::Par;
use mlkern::linalg::{GemmBackend, Layout, Mat, MatRef, view, view_mut};
use mlkern::ortho::{
    self, Algo, Normalize, NsConfig, NsReport, POLAR_EXPRESS, PRESETS, Quintic, Restarts, Schedule,
    Tail,
};
use mlkern::{Error, Real};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

const BACKENDS: [GemmBackend; 2] = [GemmBackend::Faer, GemmBackend::Portable];

fn gaussian(rng: &mut SmallRng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            let v: f64 = rng.random_range(0.0..1.0);
            (-2.0 * u.ln()).sqrt() * (2.0 * core::f64::consts::PI * v).cos()
        })
        .collect()
}

fn cast<T: Real>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&v| T::from_f64(v)).collect()
}

fn ns<T: Real>(g: &[T], m: usize, n: usize, cfg: &NsConfig<'_>) -> (Vec<T>, NsReport) {
    let mut out = vec![T::from_f64(f64::NAN); m * n];
    let mut ws = vec![T::from_f64(f64::NAN); ortho::orthogonalize_scratch_len(m, n, cfg).unwrap()];
    let rep = ortho::orthogonalize_into(
        view_mut(&mut out, m, n, Layout::RowMajor).unwrap(),
        view(g, m, n, Layout::RowMajor).unwrap(),
        cfg,
        &mut ws,
        Par::Seq,
    )
    .unwrap();
    (out, rep)
}

fn transpose<T: Copy>(x: &[T], m: usize, n: usize) -> Vec<T> {
    (0..n * m).map(|idx| x[(idx % m) * n + idx / m]).collect()
}

fn rel_fro<T: Real, U: Real>(a: &[T], b: &[U]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        num += (x.as_f64() - y.as_f64()).powi(2);
        den += y.as_f64().powi(2);
    }
    (num / den).sqrt()
}

fn max_abs_diff<T: Real>(a: &[T], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64() - y).abs())
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------------
// Exact oracle: signed permutations.

/// `G = P·[diag(s) | 0]·Q` as an m×n row-major matrix, with the row/column permutations and signs.
fn signed_perm(s: &[f64], m: usize, n: usize, seed: u64) -> (Vec<f64>, Vec<(usize, usize, f64)>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..m).collect();
    let mut cols: Vec<usize> = (0..n).collect();
    for i in (1..m).rev() {
        rows.swap(i, rng.random_range(0..=i));
    }
    for i in (1..n).rev() {
        cols.swap(i, rng.random_range(0..=i));
    }
    let mut g = vec![0.0; m * n];
    let mut entries = Vec::new();
    for (t, &v) in s.iter().enumerate() {
        let sign = if rng.random_range(0..2) == 0 {
            1.0
        } else {
            -1.0
        };
        g[rows[t] * n + cols[t]] = sign * v;
        entries.push((rows[t], cols[t], sign));
    }
    (g, entries)
}

#[test]
fn signed_permutation_oracle_is_bit_exact_in_f64() {
    // Frobenius norms are exact: 5, 7, 13.
    let cases: [(&[f64], usize, usize); 5] = [
        (&[3.0, 4.0], 2, 3),
        (&[3.0, 4.0], 3, 2),
        (&[2.0, 3.0, 6.0], 3, 5),
        (&[2.0, 3.0, 6.0], 5, 3),
        (&[3.0, 4.0, 12.0], 3, 3),
    ];
    for backend in BACKENDS {
        for sched in PRESETS {
            for (seed, &(s, m, n)) in cases.iter().enumerate() {
                let (g, entries) = signed_perm(s, m, n, seed as u64);
                let cfg = NsConfig::new(*sched).with_backend(backend);
                let (out, rep) = ns(&g, m, n, &cfg);
                let norm: f64 = s.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert_eq!(rep.input_norm, norm);
                // The kernel normalizes as x·fl(1/d).
                let rho = 1.0 / sched.normalize.divisor(norm);
                let mut want = vec![0.0; m * n];
                for (&v, &(i, j, sign)) in s.iter().zip(&entries) {
                    want[i * n + j] = sched.eval(sign * v * rho);
                }
                assert_eq!(out, want, "{} {m}×{n} {backend:?}", sched.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NumPy float64 fixtures.

fn fixture(name: &str) -> (Vec<f64>, Vec<usize>) {
    common::npy_fixture_f64(&format!("ortho/{name}.npy"))
}

#[test]
fn matches_numpy_float64_fixtures() {
    let inputs = [
        "tv1",
        "tv2",
        "tv2t",
        "tv3",
        "gauss12x20",
        "gauss20x12",
        "svd8x16",
    ];
    for input in inputs {
        let (g, shape) = fixture(input);
        let (m, n) = (shape[0], shape[1]);
        for sched in PRESETS {
            let (want, _) = fixture(&format!("{input}__{}", sched.name));
            for algo in [Algo::Standard, Algo::GRAM] {
                for backend in BACKENDS {
                    let cfg = NsConfig::new(*sched).with_algo(algo).with_backend(backend);
                    let (out, _) = ns(&g, m, n, &cfg);
                    let err = max_abs_diff(&out, &want);
                    // Gram: same map, different products; k ≤ 12 keeps it at f64 round-off too.
                    let tol = if algo == Algo::Standard { 1e-12 } else { 1e-11 };
                    assert!(
                        err <= tol,
                        "{input} {} {algo:?} {backend:?}: {err:e}",
                        sched.name
                    );
                }
            }
        }
    }
}

#[test]
fn reference_note_test_vectors() {
    // TV1–TV3 of the reference note (§7.2, printed to 10 decimals), Keller Jordan ×5.
    let cfg = NsConfig::default();
    let (o1, _) = ns(&[3.0f64, 0.0, 0.0, 0.0, 4.0, 0.0], 2, 3, &cfg);
    assert!(max_abs_diff(&o1, &[0.7228761296, 0.0, 0.0, 0.0, 1.1192039042, 0.0]) < 1e-10);
    let (o3, _) = ns(&[3.0, 6.0, 6.0, 4.0, 8.0, 8.0], 2, 3, &cfg);
    let want3 = [
        0.1392872833,
        0.2785745665,
        0.2785745665,
        0.1857163777,
        0.3714327554,
        0.3714327554,
    ];
    assert!(max_abs_diff(&o3, &want3) < 1e-10);
    let (g2, _) = fixture("tv2");
    let (o2, rep) = ns(&g2, 4, 6, &cfg);
    assert!((rep.input_norm - 12.649110640673518).abs() < 1e-14);
    let row0 = [
        -0.0506761077,
        0.2564061794,
        0.3993931053,
        0.4860939568,
        0.4876594957,
        0.7114166407,
    ];
    assert!(max_abs_diff(&o2[..6], &row0) < 1e-10);
    // Polar Express (8 steps) reaches the SVD polar factor.
    let (polar, _) = fixture("tv2__svd_polar");
    let (pe, _) = ns(&g2, 4, 6, &NsConfig::new(POLAR_EXPRESS));
    assert!(max_abs_diff(&pe, &polar) < 1e-12);
}

#[test]
fn known_svd_oracle() {
    let (g, _) = fixture("svd8x16");
    let (u, _) = fixture("svd8x16_U");
    let (v, _) = fixture("svd8x16_V");
    let (s, _) = fixture("svd8x16_s");
    for sched in PRESETS {
        let (out, rep) = ns(&g, 8, 16, &NsConfig::new(*sched));
        let d = sched.normalize.divisor(rep.input_norm);
        let p: Vec<f64> = s.iter().map(|&x| sched.eval(x / d)).collect();
        let mut want = vec![0.0; 8 * 16];
        for i in 0..8 {
            for j in 0..16 {
                want[i * 16 + j] = (0..8).map(|t| u[i * 8 + t] * p[t] * v[j * 8 + t]).sum();
            }
        }
        let err = max_abs_diff(&out, &want);
        assert!(err < 1e-12, "{}: {err:e}", sched.name);
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants.

fn check_transpose<T: Real>(m: usize, n: usize, algo: Algo, backend: GemmBackend) {
    let mut rng = SmallRng::seed_from_u64((m * 1000 + n) as u64);
    let g: Vec<T> = cast(&gaussian(&mut rng, m * n));
    let cfg = NsConfig::default().with_algo(algo).with_backend(backend);
    let (o, _) = ns(&g, m, n, &cfg);
    let (ot, _) = ns(&transpose(&g, m, n), n, m, &cfg);
    assert!(
        ot == transpose(&o, m, n),
        "{} {m}×{n} {algo:?} {backend:?}",
        T::NAME
    );
}

#[test]
fn transpose_identity_is_exact() {
    for backend in BACKENDS {
        for algo in [Algo::Standard, Algo::GRAM] {
            for (m, n) in [(12, 20), (33, 70), (96, 200)] {
                check_transpose::<f64>(m, n, algo, backend);
                check_transpose::<f32>(m, n, algo, backend);
            }
        }
    }
}

#[test]
fn zero_input_gives_zero_output() {
    for (m, n) in [(2, 3), (3, 2), (1, 1), (5, 5)] {
        for algo in [Algo::Standard, Algo::GRAM] {
            let cfg = NsConfig::default().with_algo(algo);
            let (o, rep) = ns(&vec![0.0f32; m * n], m, n, &cfg);
            assert!(rep.zero_input && rep.steps == 0 && rep.input_norm == 0.0);
            assert!(o.iter().all(|&x| x == 0.0));
        }
    }
    // Empty matrices are a no-op, not an error.
    let (o, rep) = ns::<f64>(&[], 0, 4, &NsConfig::default());
    assert!(o.is_empty() && rep.zero_input);
}

#[test]
fn vectors_and_scalars() {
    // k = 1: NS(x) = P(‖x‖/d)·x/‖x‖ (the Gram is the scalar ‖x‖²).
    let x = [1.0, -2.0, 2.0, 4.0]; // ‖x‖ = 5
    for sched in PRESETS {
        let cfg = NsConfig::new(*sched);
        let scale = sched.eval(5.0 / sched.normalize.divisor(5.0)) / 5.0;
        for (m, n) in [(1, 4), (4, 1)] {
            let (o, _) = ns(&x, m, n, &cfg);
            let want: Vec<f64> = x.iter().map(|v| v * scale).collect();
            // The kernel forms ‖x‖² by a 4-term sum; the schedules' slopes near 1 (up to ~26 per
            // step for CANS) amplify that ulp: 1e-12 is ~10⁴ ulps.
            let err = max_abs_diff(&o, &want);
            assert!(err < 1e-12, "{} {m}×{n}: {err:e}", sched.name);
        }
    }
    let (o, _) = ns(&[-7.0f64], 1, 1, &NsConfig::new(POLAR_EXPRESS));
    assert!((o[0] + 1.0).abs() < 1e-12);
}

fn check_scale_invariance<T: Real>() {
    let mut rng = SmallRng::seed_from_u64(11);
    let g = gaussian(&mut rng, 6 * 9);
    let exact = NsConfig::new(POLAR_EXPRESS.with_normalize(Normalize::plus_eps(1.01, 0.0)));
    let (base, _) = ns(&cast::<T>(&g), 6, 9, &exact);
    for c in [1e30, 1e-30, 1e15, 1e-15] {
        let scaled: Vec<T> = g.iter().map(|&v| T::from_f64(v * c)).collect();
        let (o, rep) = ns(&scaled, 6, 9, &exact);
        assert!(rep.input_norm.is_finite() && rep.input_norm > 0.0);
        // The inputs themselves were rounded after scaling: compare at input precision.
        let tol = 1e3 * T::EPS.as_f64();
        assert!(rel_fro(&o, &base) < tol, "{} c = {c:e}", T::NAME);
    }
    // Powers of two commute with rounding: bit-exact.
    for k in [-120, -60, 60, 120] {
        let c = 2f64.powi(k);
        let scaled: Vec<T> = g.iter().map(|&v| T::from_f64(v) * T::from_f64(c)).collect();
        assert_eq!(ns(&scaled, 6, 9, &exact).0, base, "{} 2^{k}", T::NAME);
    }
    // With eps, tiny inputs shrink instead of blowing up (that is what eps is for).
    let tiny: Vec<T> = g.iter().map(|&v| T::from_f64(v * 1e-30)).collect();
    let (o, _) = ns(&tiny, 6, 9, &NsConfig::new(POLAR_EXPRESS));
    assert!(
        o.iter()
            .all(|x| x.as_f64().is_finite() && x.as_f64().abs() < 1e-10)
    );
}

#[test]
fn huge_and_tiny_scales() {
    check_scale_invariance::<f64>();
    check_scale_invariance::<f32>();
    // The extremes of f64: no overflow in the norm.
    let g = [f64::MAX, f64::MAX / 3.0, -f64::MAX, 5e-324];
    let (o, rep) = ns(&g, 2, 2, &NsConfig::new(POLAR_EXPRESS));
    assert!(rep.input_norm.is_infinite());
    assert!(o.iter().all(|x| x.is_finite()));
    let (o, rep) = ns(
        &[5e-324f64, 0.0, 0.0, 5e-324],
        2,
        2,
        &NsConfig::new(POLAR_EXPRESS.with_normalize(Normalize::plus_eps(1.01, 0.0))),
    );
    assert!(rep.input_norm > 0.0);
    assert!(
        (o[0] - 1.0).abs() < 1e-6 && (o[3] - 1.0).abs() < 1e-6,
        "{o:?}"
    );
}

#[test]
fn non_finite_input_is_an_error() {
    for (bad, idx) in [(f32::NAN, 4), (f32::INFINITY, 0), (f32::NEG_INFINITY, 5)] {
        let mut g = vec![1.0f32; 6];
        g[idx] = bad;
        for (m, n) in [(2, 3), (3, 2)] {
            let mut out = vec![0.0f32; 6];
            let cfg = NsConfig::default();
            let mut ws = vec![0.0f32; ortho::orthogonalize_scratch_len(m, n, &cfg).unwrap()];
            let err = ortho::orthogonalize_into(
                view_mut(&mut out, m, n, Layout::RowMajor).unwrap(),
                view(&g, m, n, Layout::RowMajor).unwrap(),
                &cfg,
                &mut ws,
                Par::Seq,
            )
            .unwrap_err();
            assert!(
                matches!(err, Error::NonFinite { index, .. } if index == idx),
                "{err}"
            );
        }
    }
}

#[test]
fn bad_arguments_are_errors() {
    let g = [1.0f64; 6];
    let gv = view(&g, 2, 3, Layout::RowMajor).unwrap();
    let cfg = NsConfig::default();
    let mut out = [0.0f64; 6];
    let mut ws = vec![0.0f64; ortho::orthogonalize_scratch_len(2, 3, &cfg).unwrap()];
    // Wrong output shape.
    let e = ortho::orthogonalize_into(
        view_mut(&mut out, 3, 2, Layout::RowMajor).unwrap(),
        gv,
        &cfg,
        &mut ws,
        Par::Seq,
    );
    assert!(matches!(e, Err(Error::ShapeMismatch { .. })));
    // Short scratch.
    let short = ws.len() - 1;
    let e = ortho::orthogonalize_into(
        view_mut(&mut out, 2, 3, Layout::RowMajor).unwrap(),
        gv,
        &cfg,
        &mut ws[..short],
        Par::Seq,
    );
    assert_eq!(
        e,
        Err(Error::ShapeMismatch {
            what: "orthogonalize: scratch",
            expected: mlkern::Shape::d1(short + 1),
            found: mlkern::Shape::d1(short),
        })
    );
    // Invalid schedules.
    let nan = [Quintic::new(f64::NAN, 0.0, 0.0)];
    for sched in [
        Schedule::custom(&nan, Tail::Cycle),
        Schedule::custom(&[], Tail::Cycle).with_steps(3),
        POLAR_EXPRESS.with_normalize(Normalize::plus_eps(0.0, 1e-7)),
        POLAR_EXPRESS.with_normalize(Normalize::max_eps(1.0, -1.0)),
    ] {
        let e = ortho::orthogonalize_into(
            view_mut(&mut out, 2, 3, Layout::RowMajor).unwrap(),
            gv,
            &NsConfig::new(sched),
            &mut ws,
            Par::Seq,
        );
        assert!(matches!(e, Err(Error::InvalidParameter { .. })), "{e:?}");
    }
    // Batch shape mismatch.
    let e = ortho::orthogonalize_batch(&g, 2, 2, 3, &cfg, Par::Seq);
    assert!(matches!(e, Err(Error::ShapeMismatch { .. })));
}

#[test]
fn schedules_tail_and_steps() {
    let list = [Quintic::new(3.0, -3.0, 1.0), Quintic::new(2.0, -1.5, 0.5)];
    let cyc = Schedule::custom(&list, Tail::Cycle);
    let rep = Schedule::custom(&list, Tail::RepeatLast);
    assert_eq!(cyc.coefficient(2), list[0]);
    assert_eq!(rep.coefficient(2), list[1]);
    // steps = 0: just the normalization.
    let (o, r) = ns(
        &[3.0f64, 0.0, 0.0, 4.0],
        2,
        2,
        &NsConfig::new(cyc.with_steps(0)),
    );
    assert_eq!(r.steps, 0);
    let rho = 1.0 / (5.0 + 1e-7);
    assert_eq!(o, vec![3.0 * rho, 0.0, 0.0, 4.0 * rho]);
    // Cubic steps (c = 0) take the two-product path and still match the scalar map.
    let (o, r) = ns(&[3.0f64, 0.0, 0.0, 4.0], 2, 2, &NsConfig::new(ortho::CUBIC));
    assert_eq!(o[0], ortho::CUBIC.eval(3.0 * rho));
    let plain = 5.0 * (4.0 * 2.0 * 2.0 * 2.0);
    assert!(r.flops < plain);
    // Preset lookup by CLI name.
    for s in PRESETS {
        assert_eq!(Schedule::by_name(s.name), Some(*s));
    }
    // Polar Express constants: steps 1–7 carry the 1.01 safety factor, step 8 is the limit.
    assert_eq!(
        POLAR_EXPRESS.coefficient(7),
        Quintic::new(1.875, -1.25, 0.375)
    );
    assert!((POLAR_EXPRESS.coefficient(0).a - 8.28721201814563 / 1.01).abs() < 1e-15);
    assert_eq!(Restarts::at(&[2]), Restarts::Mask(4));
}

// ---------------------------------------------------------------------------------------------
// Precision, convergence, Gram.

fn f32_vs_f64(m: usize, n: usize, sched: Schedule<'_>, algo: Algo) -> f64 {
    let mut rng = SmallRng::seed_from_u64((m + 7 * n) as u64);
    let g = gaussian(&mut rng, m * n);
    let cfg = NsConfig::new(sched).with_algo(algo);
    let (o64, _) = ns(&g, m, n, &cfg);
    let (o32, _) = ns(&cast::<f32>(&g), m, n, &cfg);
    rel_fro(&o32, &o64)
}

#[test]
fn f32_matches_f64_of_the_same_schedule() {
    for sched in PRESETS {
        for (m, n) in [(64, 256), (256, 64), (200, 200)] {
            let err = f32_vs_f64(m, n, *sched, Algo::Standard);
            assert!(err < 2e-5, "{} {m}×{n}: {err:e}", sched.name);
        }
    }
}

#[test]
fn f32_matches_f64_large() {
    // The largest shapes (a few seconds in the test profile).
    for (m, n) in [(1024, 4096), (768, 3072), (4096, 1024)] {
        for sched in [ortho::KELLER_JORDAN, POLAR_EXPRESS] {
            let err = f32_vs_f64(m, n, sched, Algo::Standard);
            assert!(err < 2e-5, "{} {m}×{n}: {err:e}", sched.name);
        }
    }
    for sched in PRESETS {
        let err = f32_vs_f64(256, 1024, *sched, Algo::Standard);
        assert!(err < 2e-5, "{} 256×1024: {err:e}", sched.name);
    }
}

/// `‖OOᵀ − I‖₂` by power iteration on the symmetric k×k error matrix (in f64).
fn orth_error<T: Real>(o: &[T], k: usize, n: usize) -> f64 {
    let mut e = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let dot: f64 = (0..n)
                .map(|t| o[i * n + t].as_f64() * o[j * n + t].as_f64())
                .sum();
            e[i * k + j] = dot - if i == j { 1.0 } else { 0.0 };
        }
    }
    let mut v: Vec<f64> = (0..k).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
    let mut lambda = 0.0;
    for _ in 0..500 {
        let w: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| e[i * k + j] * v[j]).sum())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        lambda = norm / v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v = w.iter().map(|x| x / norm).collect();
    }
    lambda
}

#[test]
fn polar_express_8_steps_converges_in_f32() {
    // Rectangular Gaussian matrices (as in the reference note, §5.2): a square Gaussian matrix has
    // σ_min/‖G‖_F ~ 1/n^1.5, below the 8-step reach (8.5e-5), so it is not orthogonalized fully.
    for (m, n) in [(64, 256), (128, 384), (256, 96)] {
        let mut rng = SmallRng::seed_from_u64(3);
        let g: Vec<f32> = cast(&gaussian(&mut rng, m * n));
        let (o, _) = ns(&g, m, n, &NsConfig::new(POLAR_EXPRESS));
        let (k, big, o) = if m <= n {
            (m, n, o)
        } else {
            (n, m, transpose(&o, m, n))
        };
        let err = orth_error(&o, k, big);
        assert!(err <= 1e-5, "{m}×{n}: ‖OOᵀ − I‖₂ = {err:e}");
    }
}

/// `U·diag(s)·Vᵀ` with s = logspace(0, −log10(kappa), k) and U, V products of Householder
/// reflectors of Gaussian vectors.
fn conditioned(k: usize, n: usize, kappa: f64, seed: u64) -> Vec<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let reflect = |rng: &mut SmallRng, dim: usize, cols: usize| -> Vec<f64> {
        // Start from the first `cols` columns of I (dim×cols), apply 6 reflectors.
        let mut q = vec![0.0; dim * cols];
        for i in 0..cols {
            q[i * cols + i] = 1.0;
        }
        for _ in 0..6 {
            let v = gaussian(rng, dim);
            let vv: f64 = v.iter().map(|x| x * x).sum();
            for c in 0..cols {
                let dot: f64 = (0..dim).map(|r| v[r] * q[r * cols + c]).sum();
                for r in 0..dim {
                    q[r * cols + c] -= 2.0 * dot / vv * v[r];
                }
            }
        }
        q
    };
    let u = reflect(&mut rng, k, k);
    let v = reflect(&mut rng, n, k);
    let s: Vec<f64> = (0..k)
        .map(|i| kappa.powf(-(i as f64) / (k - 1) as f64))
        .collect();
    let mut g = vec![0.0; k * n];
    for i in 0..k {
        for j in 0..n {
            g[i * n + j] = (0..k).map(|t| u[i * k + t] * s[t] * v[j * k + t]).sum();
        }
    }
    g
}

#[test]
fn gram_path_tracks_the_standard_path() {
    for sched in [
        ortho::KELLER_JORDAN,
        ortho::YOU_5,
        ortho::POLAR_EXPRESS_MODDED,
        POLAR_EXPRESS,
    ] {
        for kappa in [10.0, 1e4] {
            let (k, n) = (48, 192);
            let g = conditioned(k, n, kappa, 5);
            let std64 = ns(&g, k, n, &NsConfig::new(sched)).0;
            // f64: the same map to round-off.
            let gram64 = ns(&g, k, n, &NsConfig::new(sched).with_algo(Algo::GRAM)).0;
            assert!(rel_fro(&gram64, &std64) < 1e-11, "{} f64", sched.name);
            // f32 with the default restarts: within 5e-4 of the standard f32 path.
            let g32: Vec<f32> = cast(&g);
            let std32 = ns(&g32, k, n, &NsConfig::new(sched)).0;
            let (gram32, rep) = ns(&g32, k, n, &NsConfig::new(sched).with_algo(Algo::Auto));
            assert!(matches!(rep.algo, Algo::Gram { .. }));
            let err = rel_fro(&gram32, &std32);
            assert!(err < 5e-4, "{} κ = {kappa:e}: {err:e}", sched.name);
        }
    }
    // The note's shape (256×1024, κ = 1e4): error grows with k, so check the default restarts there.
    for sched in [ortho::KELLER_JORDAN, POLAR_EXPRESS] {
        let (k, n) = (256, 1024);
        let g32: Vec<f32> = cast(&conditioned(k, n, 1e4, 8));
        let std32 = ns(&g32, k, n, &NsConfig::new(sched)).0;
        let gram32 = ns(&g32, k, n, &NsConfig::new(sched).with_algo(Algo::GRAM)).0;
        let err = rel_fro(&gram32, &std32);
        assert!(err < 5e-4, "{} 256×1024 κ = 1e4: {err:e}", sched.name);
    }
    // Auto keeps square inputs on the standard path.
    let (_, rep) = ns(
        &[1.0f32, 2.0, 3.0, 4.0],
        2,
        2,
        &NsConfig::default().with_algo(Algo::Auto),
    );
    assert_eq!(rep.algo, Algo::Standard);
    // Explicit restart masks are honoured (and change the flop count).
    let g = conditioned(16, 64, 10.0, 1);
    let none = ns(
        &g,
        16,
        64,
        &NsConfig::default().with_algo(Algo::Gram {
            restarts: Restarts::NONE,
        }),
    )
    .1;
    let two = ns(
        &g,
        16,
        64,
        &NsConfig::default().with_algo(Algo::Gram {
            restarts: Restarts::at(&[2, 4]),
        }),
    )
    .1;
    assert!(two.flops > none.flops);
}

// ---------------------------------------------------------------------------------------------
// Batches, padding, shards.

#[test]
fn batch_equals_per_slice() {
    let (b, m, n) = (5, 6, 11);
    let mut rng = SmallRng::seed_from_u64(9);
    let mut g: Vec<f32> = cast(&gaussian(&mut rng, b * m * n));
    g[2 * m * n..3 * m * n].fill(0.0); // one zero matrix in the batch
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::default().with_algo(algo);
        let (out, reports) = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::Seq).unwrap();
        for i in 0..b {
            let (o, rep) = ns(&g[i * m * n..(i + 1) * m * n], m, n, &cfg);
            assert_eq!(&out[i * m * n..(i + 1) * m * n], &o[..]);
            assert_eq!(reports[i], rep);
        }
        assert!(reports[2].zero_input);
    }
    // A NaN in matrix 3 is reported with its flat index into the batch.
    g[3 * m * n + 7] = f32::NAN;
    let e = ortho::orthogonalize_batch(&g, b, m, n, &NsConfig::default(), Par::Seq).unwrap_err();
    assert!(matches!(e, Error::NonFinite { index, .. } if index == 3 * m * n + 7));
}

#[cfg(feature = "rayon")]
#[test]
fn parallel_batch_equals_sequential() {
    let (b, m, n) = (7, 16, 40);
    let mut rng = SmallRng::seed_from_u64(10);
    let g: Vec<f64> = gaussian(&mut rng, b * m * n);
    let cfg = NsConfig::new(POLAR_EXPRESS);
    let seq = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::Seq).unwrap();
    let par = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::threads(2)).unwrap();
    assert_eq!(seq, par);
}

/// Large matrices run with all threads inside their products (no batch split).
#[cfg(feature = "rayon")]
#[test]
fn parallel_products_match_sequential() {
    let (b, m, n) = (2, 300, 700); // k²N = 63M: above the across-matrices threshold
    let mut rng = SmallRng::seed_from_u64(16);
    let g: Vec<f32> = cast(&gaussian(&mut rng, b * m * n));
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::default().with_algo(algo);
        let (seq, _) = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::Seq).unwrap();
        let (par, _) = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::threads(2)).unwrap();
        assert!(rel_fro(&par, &seq) < 1e-6, "{algo:?}");
    }
    // Across matrices with Gram, and the first NaN is reported whatever thread meets it.
    let (b, m, n) = (6, 16, 48);
    let mut g: Vec<f64> = gaussian(&mut rng, b * m * n);
    let cfg = NsConfig::default().with_algo(Algo::GRAM);
    let seq = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::Seq).unwrap();
    assert_eq!(
        seq,
        ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::threads(2)).unwrap()
    );
    g[5 * m * n + 3] = f64::NAN;
    g[m * n + 1] = f64::INFINITY;
    let e = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::threads(2)).unwrap_err();
    assert!(
        matches!(e, Error::NonFinite { index, .. } if index == m * n + 1),
        "{e}"
    );
}

#[test]
fn zero_padding_does_not_change_the_result() {
    let (m, n, pad) = (6, 10, 5);
    let mut rng = SmallRng::seed_from_u64(12);
    let g = gaussian(&mut rng, m * n);
    let mut padded = vec![0.0; m * (n + pad)];
    for i in 0..m {
        padded[i * (n + pad)..i * (n + pad) + n].copy_from_slice(&g[i * n..(i + 1) * n]);
    }
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::new(POLAR_EXPRESS).with_algo(algo);
        let (o, _) = ns(&g, m, n, &cfg);
        let (op, _) = ns(&padded, m, n + pad, &cfg);
        for i in 0..m {
            assert!(
                op[i * (n + pad) + n..(i + 1) * (n + pad)]
                    .iter()
                    .all(|&x| x == 0.0)
            );
            assert!(
                max_abs_diff(
                    &op[i * (n + pad)..i * (n + pad) + n],
                    &o[i * n..(i + 1) * n]
                ) < 1e-13
            );
        }
    }
}

#[test]
fn zero_rows_on_the_short_side_stay_zero() {
    // Ragged batches pad the short side: zero rows of X stay zero rows of every iterate.
    let (m, n, pad) = (5, 12, 3);
    let mut rng = SmallRng::seed_from_u64(15);
    let g = gaussian(&mut rng, m * n);
    let mut padded = g.clone();
    padded.extend(std::iter::repeat_n(0.0, pad * n));
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::new(POLAR_EXPRESS).with_algo(algo);
        let (o, _) = ns(&g, m, n, &cfg);
        let (op, _) = ns(&padded, m + pad, n, &cfg);
        assert!(op[m * n..].iter().all(|&x| x == 0.0));
        assert!(max_abs_diff(&op[..m * n], &o) < 1e-13, "{algo:?}");
    }
}

#[test]
fn diverging_user_schedules_are_errors() {
    // A polynomial that blows up (p(x) = 1e6·x per step) overflows f32 in a few steps.
    let wild = [Quintic::new(1e6, 0.0, 0.0)];
    let cfg = NsConfig::new(Schedule::custom(&wild, Tail::Cycle).with_steps(12));
    let g = [1.0f32, 2.0, 3.0, 4.0, 5.0, 7.0];
    let mut out = [0.0f32; 6];
    let mut ws = vec![0.0f32; ortho::orthogonalize_scratch_len(2, 3, &cfg).unwrap()];
    let e = ortho::orthogonalize_into(
        view_mut(&mut out, 2, 3, Layout::RowMajor).unwrap(),
        view(&g, 2, 3, Layout::RowMajor).unwrap(),
        &cfg,
        &mut ws,
        Par::Seq,
    )
    .unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
}

#[test]
fn absurd_shapes_are_errors_not_aborts() {
    // The scratch of a 2³²×2³² matrix cannot exist: its size is an error.
    let cfg = NsConfig::default();
    assert!(matches!(
        ortho::orthogonalize_scratch_len(1 << 32, 1 << 32, &cfg),
        Err(Error::OutOfMemory { .. })
    ));
    assert_eq!(
        ortho::orthogonalize_batch_scratch_len(0, 1 << 40, 1 << 40, &cfg, Par::Seq),
        Ok(0)
    );
    let e = ortho::orthogonalize_batch::<f32>(&[], 0, 1 << 40, 1 << 40, &cfg, Par::Seq);
    assert!(
        matches!(e, Ok((ref o, ref r)) if o.is_empty() && r.is_empty()),
        "{e:?}"
    );
}

#[test]
fn four_shards_give_the_unsharded_result() {
    use mlkern::linalg::Accum;
    let (k, n, shards) = (12, 64, 4);
    let mut rng = SmallRng::seed_from_u64(13);
    let g = gaussian(&mut rng, k * n);
    let gm = MatRef::from_row_major_slice(&g, k, n);
    let sched = POLAR_EXPRESS;
    let w = n / shards;
    let be = GemmBackend::Auto;
    // Normalize with the global norm (shard norms combined with hypot).
    let norm = (0..shards)
        .map(|s| ortho::shard_norm(gm.subcols(s * w, w)).unwrap())
        .fold(0.0, f64::hypot);
    let mut x: Vec<Mat<f64>> = (0..shards)
        .map(|s| {
            let mut xs = Mat::zeros(k, w);
            ortho::normalize_shard(xs.as_mut(), gm.subcols(s * w, w), norm, sched.normalize)
                .unwrap();
            xs
        })
        .collect();
    for i in 0..sched.steps {
        let mut r = Mat::<f64>::zeros(k, k);
        for (s, xs) in x.iter().enumerate() {
            let accum = if s == 0 { Accum::Replace } else { Accum::Add };
            ortho::shard_gram(be, r.as_mut(), accum, xs.as_ref(), Par::Seq).unwrap();
        }
        let mut mstep = Mat::<f64>::zeros(k, k);
        ortho::step_matrix(
            be,
            mstep.as_mut(),
            r.as_ref(),
            sched.coefficient(i),
            Par::Seq,
        )
        .unwrap();
        for xs in x.iter_mut() {
            let mut next = Mat::zeros(k, w);
            ortho::apply_step(be, next.as_mut(), mstep.as_ref(), xs.as_ref(), Par::Seq).unwrap();
            *xs = next;
        }
    }
    let (whole, _) = ns(&g, k, n, &NsConfig::new(sched));
    for (s, xs) in x.iter().enumerate() {
        for i in 0..k {
            for j in 0..w {
                let diff = (xs[(i, j)] - whole[i * n + s * w + j]).abs();
                assert!(diff < 1e-12, "shard {s} ({i}, {j}): {diff:e}");
            }
        }
    }
}

#[test]
fn strided_and_column_major_views() {
    let mut rng = SmallRng::seed_from_u64(14);
    let (m, n) = (5, 9);
    let g = gaussian(&mut rng, m * n);
    let cfg = NsConfig::new(POLAR_EXPRESS);
    let (want, _) = ns(&g, m, n, &cfg);
    let gt = transpose(&g, m, n); // column-major storage of g
    let (o, _) =
        ortho::orthogonalize(view(&gt, m, n, Layout::ColMajor).unwrap(), &cfg, Par::Seq).unwrap();
    for i in 0..m {
        for j in 0..n {
            assert!((o[(i, j)] - want[i * n + j]).abs() < 1e-13);
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Finite output for any finite input; transpose identity; singular values end in the
        /// scalar band (checked through ‖O‖_F² = Σ P(σ/d)² ≤ k·max P²).
        #[test]
        fn finite_and_transpose_invariant(
            m in 1usize..9, n in 1usize..9, seed in any::<u64>(), exp in -40i32..40,
            sched_idx in 0usize..8, gram in any::<bool>(),
        ) {
            let mut rng = SmallRng::seed_from_u64(seed);
            let g: Vec<f64> = gaussian(&mut rng, m * n).iter().map(|v| v * 10f64.powi(exp)).collect();
            let sched = PRESETS[sched_idx];
            let algo = if gram { Algo::GRAM } else { Algo::Standard };
            let cfg = NsConfig::new(sched).with_algo(algo);
            let (o, rep) = ns(&g, m, n, &cfg);
            prop_assert!(o.iter().all(|x| x.is_finite()));
            prop_assert!(!rep.zero_input);
            // Exact for m ≠ n (both orientations run the same products); a square input is not
            // transposed, so Gᵀ runs on GᵀG instead of GGᵀ: equal up to round-off.
            let (ot, _) = ns(&transpose(&g, m, n), n, m, &cfg);
            if m != n {
                prop_assert_eq!(ot, transpose(&o, m, n));
            } else {
                let ott = transpose(&ot, n, m);
                prop_assert!(rel_fro(&ott, &o) < 1e-10);
            }
            let fro2: f64 = o.iter().map(|x| x * x).sum();
            prop_assert!(fro2 <= (m.min(n) as f64) * 1.25 * 1.25 + 1e-9, "‖O‖² = {}", fro2);
        }

        /// Batched ≡ per-slice for any small batch.
        #[test]
        fn batch_is_per_slice(b in 0usize..5, m in 1usize..6, n in 1usize..6, seed in any::<u64>()) {
            let mut rng = SmallRng::seed_from_u64(seed);
            let g: Vec<f32> = cast(&gaussian(&mut rng, b * m * n));
            let cfg = NsConfig::default();
            let (out, reps) = ortho::orthogonalize_batch(&g, b, m, n, &cfg, Par::Seq).unwrap();
            prop_assert_eq!(reps.len(), b);
            for i in 0..b {
                let (o, _) = ns(&g[i * m * n..(i + 1) * m * n], m, n, &cfg);
                prop_assert_eq!(&out[i * m * n..(i + 1) * m * n], &o[..]);
            }
        }
    }
}
