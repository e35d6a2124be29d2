//! Invariants of the spectral metrics, the decomposition paths, the streaming accumulator, the
//! curvature functions and the margins (reference note `spectrum.md` §8.3).
//!
//! Tolerances: metric identities hold in exact arithmetic and are evaluated in f64 on O(100)
//! values: 1e-12 relative. Path agreement (SVD vs f64 Gram vs streaming) on well-conditioned
//! inputs: energy metrics 1e-10, σ metrics 1e-8 (the Gram path resolves σ to √(k·ε₆₄)·σ₁ ≈ 1e-7·σ₁,
//! which moves σ-weighted sums by far less on spectra without tiny values).

#![cfg(feature = "std")]

use mlkern::Error;
use mlkern::Par;
use mlkern::linalg::{Layout, Mat, view};
use mlkern::spectrum::{
    Centering, CovAccumulator, HessianVectorProduct, MarginKind, Method, RankTol, Spectrum,
    SpectrumConfig, Weighting, curvature_penalty, margin_top2, margin_true, margins, nds,
    nds_decomposition, nds_within_estimate, singular_values,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::SmallRng;

const W: [Weighting; 2] = [Weighting::Sigma, Weighting::Energy];

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Deterministic standard normals (xorshift + Box–Muller).
fn gaussian(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (-2.0 * u().ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos())
        .collect()
}

fn spectrum_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![Just(0.0), 1e-3f64..1e3], 1..60)
}

proptest! {
    #[test]
    fn bounds_and_renyi_chains(mut s in spectrum_strategy()) {
        let sp = Spectrum::from_singular_values(&mut s).unwrap();
        let Some(top) = sp.sigma_max() else {
            prop_assert!(sp.erank(Weighting::Sigma).is_none());
            return Ok(());
        };
        let rank = sp.singular_values().iter().filter(|&&v| v > 0.0).count() as f64;
        let eps = 1e-12;
        let (es, ee) = (sp.erank(Weighting::Sigma).unwrap(), sp.erank(Weighting::Energy).unwrap());
        let (sr, pr) = (sp.stable_rank().unwrap(), sp.participation_ratio().unwrap());
        let nr = sp.nuclear_ratio().unwrap();
        prop_assert!(1.0 - eps <= sr && sr <= pr * (1.0 + eps));
        prop_assert!(pr <= ee * (1.0 + eps) && ee <= es * (1.0 + eps) && es <= rank * (1.0 + eps));
        prop_assert!(1.0 - eps <= nr && nr <= es * (1.0 + eps));
        for w in W {
            let mut last = f64::INFINITY;
            for alpha in [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, f64::INFINITY] {
                let r = sp.renyi_erank(alpha, w).unwrap().unwrap();
                prop_assert!(r <= last * (1.0 + eps), "{w:?} α={alpha}: {r} > {last}");
                prop_assert!((1.0 - eps..=rank * (1.0 + eps)).contains(&r));
                last = r;
            }
        }
        prop_assert!(rel(sp.renyi_erank(2.0, Weighting::Energy).unwrap().unwrap(), pr) < 1e-12);
        prop_assert!(rel(sp.renyi_erank(f64::INFINITY, Weighting::Energy).unwrap().unwrap(), sr) < 1e-12);
        prop_assert!(rel(sp.renyi_erank(f64::INFINITY, Weighting::Sigma).unwrap().unwrap(), nr) < 1e-12);
        // The one-pass summary equals the individual metrics.
        let sum = sp.summary().unwrap();
        prop_assert!(rel(sum.erank_sigma, es) < 1e-12 && rel(sum.erank_energy, ee) < 1e-12);
        prop_assert!(rel(sum.stable_rank, sr) < 1e-12 && rel(sum.participation_ratio, pr) < 1e-12);
        prop_assert!(top > 0.0);
    }

    #[test]
    fn scale_invariance_at_extreme_scales(mut s in spectrum_strategy(), e in prop_oneof![Just(-150i32), Just(150), -20i32..20]) {
        let c = 10f64.powi(e);
        let mut t: Vec<f64> = s.iter().map(|v| v * c).collect();
        let a = Spectrum::from_singular_values(&mut s).unwrap();
        let b = Spectrum::from_singular_values(&mut t).unwrap();
        for w in W {
            match (a.erank(w), b.erank(w)) {
                (Some(x), Some(y)) => prop_assert!(rel(y, x) < 1e-12, "{w:?} c={c:e}"),
                (x, y) => prop_assert_eq!(x, y),
            }
        }
        if let (Some(x), Some(y)) = (a.summary(), b.summary()) {
            prop_assert!(rel(y.participation_ratio, x.participation_ratio) < 1e-12);
            prop_assert!(rel(y.rankme, x.rankme) < 1e-12);
            prop_assert_eq!(y.numerical_rank, x.numerical_rank);
        }
    }

    #[test]
    fn block_mixture_identity(mut a in prop::collection::vec(1e-2f64..1e2, 1..30), mut b in prop::collection::vec(1e-2f64..1e2, 1..30)) {
        // H(diag(A, B)) = h(w) + w·H_A + (1 − w)·H_B with w = ‖A‖_F²/(‖A‖_F² + ‖B‖_F²) (energy).
        let mut ab: Vec<f64> = a.iter().chain(&b).copied().collect();
        let fa: f64 = a.iter().map(|x| x * x).sum();
        let fb: f64 = b.iter().map(|x| x * x).sum();
        let w = fa / (fa + fb);
        let ha = Spectrum::from_singular_values(&mut a).unwrap().entropy(Weighting::Energy).unwrap();
        let hb = Spectrum::from_singular_values(&mut b).unwrap().entropy(Weighting::Energy).unwrap();
        let hab = Spectrum::from_singular_values(&mut ab).unwrap().entropy(Weighting::Energy).unwrap();
        let hw = -(w * w.ln() + (1.0 - w) * (1.0 - w).ln());
        prop_assert!((hab - (hw + w * ha + (1.0 - w) * hb)).abs() < 1e-12);
    }
}

#[test]
fn closed_forms_and_edge_cases() {
    // Equal non-zero values: erank = rank in both weightings.
    let mut s = [2.5; 17];
    let sp = Spectrum::from_singular_values(&mut s).unwrap();
    for w in W {
        assert!(rel(sp.erank(w).unwrap(), 17.0) < 1e-13);
    }
    // Rank 1 (zeros elsewhere) → 1.
    let mut s = [0.0, 3.0, 0.0];
    let sp = Spectrum::from_singular_values(&mut s).unwrap();
    assert_eq!(sp.erank(Weighting::Sigma), Some(1.0));
    assert_eq!(
        sp.normalized_entropy(Weighting::Energy, RankTol::Numpy)
            .unwrap(),
        None
    );
    // Empty and all-zero: None everywhere, rank 0, never NaN.
    for v in [vec![], vec![0.0; 4]] {
        let mut v = v;
        let sp = Spectrum::from_singular_values(&mut v).unwrap();
        assert_eq!(sp.erank(Weighting::Energy), None);
        assert_eq!(sp.summary(), None);
        assert_eq!(sp.isotropy(3), None);
        assert_eq!(sp.power_law(), None);
        assert_eq!(sp.ww_metrics(None), None);
        assert_eq!(sp.rankme(1e-7).unwrap(), None);
        assert_eq!(sp.quantile_ratio(0.75, 0.25).unwrap(), None);
        assert_eq!(sp.numerical_rank(RankTol::Numpy).unwrap(), 0);
    }
    // 1×1: erank = srank = PR = 1; RankMe's ε breaks the bound by design.
    let mut one = [4.0];
    let sp = Spectrum::from_singular_values(&mut one).unwrap();
    assert_eq!(
        (
            sp.erank(Weighting::Sigma),
            sp.stable_rank(),
            sp.participation_ratio()
        ),
        (Some(1.0), Some(1.0), Some(1.0))
    );
    assert!(sp.rankme(1e-7).unwrap().unwrap() < 1.0);
    // Bad input.
    assert!(matches!(
        Spectrum::from_singular_values(&mut [1.0, f64::NAN]),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        Spectrum::from_singular_values(&mut [1.0, -1.0]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Spectrum::from_sorted(&[1.0, 2.0]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Spectrum::from_eigenvalues(&mut [1.0, -0.5]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Spectrum::from_eigenvalues(&mut [f64::INFINITY]),
        Err(Error::NonFinite { .. })
    ));
    let mut s = [1.0, 2.0];
    let sp = Spectrum::from_singular_values(&mut s).unwrap();
    assert!(
        sp.renyi_erank(-1.0, Weighting::Sigma).is_err()
            && sp.renyi_erank(f64::NAN, Weighting::Sigma).is_err()
    );
    assert!(sp.numerical_rank(RankTol::Abs(-1.0)).is_err() && sp.rankme(f64::NAN).is_err());
    assert!(sp.quantile_ratio(1.5, 0.25).is_err());
}

fn rows_view(x: &[f64], m: usize, n: usize) -> mlkern::linalg::MatRef<'_, f64> {
    view(x, m, n, Layout::RowMajor).unwrap()
}

#[test]
fn svd_gram_and_streaming_paths_agree() {
    for &(m, n) in &[(300usize, 40usize), (40, 300), (120, 120), (1, 9), (9, 1)] {
        // Decaying column scales and an offset, so centering matters.
        let z = gaussian(m as u64 * 31 + n as u64, m * n);
        let x: Vec<f64> = (0..m * n)
            .map(|i| 2.0 + z[i] / (1.0 + (i % n) as f64 / 4.0))
            .collect();
        for centering in [Centering::None, Centering::ColumnMean] {
            let svd = singular_values(
                rows_view(&x, m, n),
                &SpectrumConfig::new(centering, Method::Svd),
                Par::Seq,
            )
            .unwrap();
            let gram = singular_values(
                rows_view(&x, m, n),
                &SpectrumConfig::new(centering, Method::Gram),
                Par::Seq,
            )
            .unwrap();
            let (a, b) = (svd.spectrum(), gram.spectrum());
            if a.sigma_max().is_none() {
                continue; // a centered 1-row matrix is zero
            }
            assert!(
                rel(
                    b.erank(Weighting::Energy).unwrap(),
                    a.erank(Weighting::Energy).unwrap()
                ) < 1e-10,
                "{m}×{n}"
            );
            assert!(rel(b.stable_rank().unwrap(), a.stable_rank().unwrap()) < 1e-10);
            assert!(
                rel(
                    b.erank(Weighting::Sigma).unwrap(),
                    a.erank(Weighting::Sigma).unwrap()
                ) < 1e-8,
                "{m}×{n}"
            );
            // Streaming in uneven chunks, merged in two accumulators (samples are rows).
            let mut acc = CovAccumulator::new(n).unwrap();
            let mut other = CovAccumulator::new(n).unwrap();
            let cuts = [0, m / 3, m / 3 + 1, m];
            for (i, w) in cuts.windows(2).enumerate() {
                let chunk = &x[w[0] * n..w[1] * n];
                let target = if i == 1 { &mut other } else { &mut acc };
                target
                    .push(rows_view(chunk, w[1] - w[0], n), Par::Seq)
                    .unwrap();
            }
            acc.merge(&other).unwrap();
            assert_eq!(acc.count(), m as u64);
            let st = acc.spectrum(centering, Par::Seq).unwrap();
            let c = st.spectrum();
            assert_eq!(c.len(), m.min(n));
            assert!(
                rel(
                    c.erank(Weighting::Energy).unwrap(),
                    a.erank(Weighting::Energy).unwrap()
                ) < 1e-10,
                "stream {m}×{n} {centering:?}"
            );
        }
    }
}

#[test]
fn transpose_and_orthogonal_invariance() {
    let (m, n) = (30, 12);
    let x = gaussian(5, m * n);
    let xt: Vec<f64> = (0..n * m).map(|i| x[(i % m) * n + i / m]).collect();
    // Q·X with a Householder reflector Q = I − 2vvᵀ/‖v‖².
    let v = gaussian(6, m);
    let vv: f64 = v.iter().map(|a| a * a).sum();
    let mut qx = x.clone();
    for j in 0..n {
        let d: f64 = (0..m).map(|i| v[i] * x[i * n + j]).sum();
        for i in 0..m {
            qx[i * n + j] -= 2.0 * v[i] * d / vv;
        }
    }
    let cfg = SpectrumConfig::new(Centering::None, Method::Svd);
    let a = singular_values(rows_view(&x, m, n), &cfg, Par::Seq).unwrap();
    let b = singular_values(rows_view(&xt, n, m), &cfg, Par::Seq).unwrap();
    let c = singular_values(rows_view(&qx, m, n), &cfg, Par::Seq).unwrap();
    for w in W {
        let e = a.spectrum().erank(w).unwrap();
        assert!(rel(b.spectrum().erank(w).unwrap(), e) < 1e-12);
        assert!(rel(c.spectrum().erank(w).unwrap(), e) < 1e-12);
    }
}

#[test]
fn f32_input_and_scratch_variant() {
    let (m, n) = (200, 50);
    let x = gaussian(8, m * n);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let x32_64: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
    let cfg = SpectrumConfig::new(Centering::ColumnMean, Method::Auto);
    let s32 = singular_values(view(&x32, m, n, Layout::RowMajor).unwrap(), &cfg, Par::Seq).unwrap();
    assert_eq!(s32.method, Method::Gram); // f32 at aspect 4
    assert_eq!(s32.eps, f32::EPSILON as f64);
    let s64 = singular_values(
        rows_view(&x32_64, m, n),
        &SpectrumConfig::new(Centering::ColumnMean, Method::Svd),
        Par::Seq,
    )
    .unwrap();
    // The f64-accumulated Gram of f32 data matches the f64 SVD of the same values.
    for (a, b) in s32.sigma.iter().zip(&s64.sigma) {
        assert!((a - b).abs() <= 1e-7 * s64.sigma[0]);
    }
    // energy_only: the eigensolver runs in f32 — energy metrics still agree to 1e-5.
    let eo = singular_values(
        view(&x32, m, n, Layout::RowMajor).unwrap(),
        &cfg.with_energy_only(true),
        Par::Seq,
    )
    .unwrap();
    assert!(
        rel(
            eo.spectrum().erank(Weighting::Energy).unwrap(),
            s64.spectrum().erank(Weighting::Energy).unwrap()
        ) < 1e-5
    );
    // f64 input at aspect 4 takes the SVD unless energy_only.
    assert_eq!(
        singular_values(rows_view(&x, m, n), &cfg, Par::Seq)
            .unwrap()
            .method,
        Method::Svd
    );
    assert_eq!(
        singular_values(rows_view(&x, m, n), &cfg.with_energy_only(true), Par::Seq)
            .unwrap()
            .method,
        Method::Gram
    );
    // The scratch variant allocates nothing itself and gives the same values.
    for method in [Method::Svd, Method::Gram] {
        let cfg = SpectrumConfig::new(Centering::None, method);
        let len =
            mlkern::spectrum::singular_values_scratch_len::<f64>(m, n, &cfg, Par::Seq).unwrap();
        // Any alignment: a plain byte vector, one byte off its start.
        let mut mem = vec![core::mem::MaybeUninit::<u8>::uninit(); len + 1];
        let mut out = vec![0.0; n];
        let used = mlkern::spectrum::singular_values_into(
            &mut out,
            rows_view(&x, m, n),
            &cfg,
            mlkern::linalg::MemStack::new(&mut mem[1..]),
            Par::Seq,
        )
        .unwrap();
        assert_eq!(used, method);
        let own = singular_values(rows_view(&x, m, n), &cfg, Par::Seq).unwrap();
        assert_eq!(out, own.sigma);
    }
}

#[test]
fn decomposition_errors_and_edges() {
    let mut x = gaussian(9, 20);
    x[13] = f64::NAN;
    let e = singular_values(rows_view(&x, 4, 5), &SpectrumConfig::default(), Par::Seq);
    assert!(
        matches!(e, Err(Error::NonFinite { index: 13, .. })),
        "{e:?}"
    );
    let empty: [f64; 0] = [];
    let s = singular_values(
        rows_view(&empty, 0, 5),
        &SpectrumConfig::default(),
        Par::Seq,
    )
    .unwrap();
    assert!(s.sigma.is_empty() && s.spectrum().erank(Weighting::Sigma).is_none());
    let zero = [0.0; 12];
    for method in [Method::Svd, Method::Gram] {
        let s = singular_values(
            rows_view(&zero, 3, 4),
            &SpectrumConfig::new(Centering::ColumnMean, method),
            Par::Seq,
        )
        .unwrap();
        assert!(s.sigma.iter().all(|&v| v == 0.0) && s.spectrum().summary().is_none());
    }
    let mut out = [0.0; 2];
    let len = mlkern::spectrum::singular_values_scratch_len::<f64>(
        3,
        4,
        &SpectrumConfig::default(),
        Par::Seq,
    )
    .unwrap();
    let mut mem = mlkern::linalg::MemBuffer::new(mlkern::linalg::StackReq::new::<u8>(len));
    let e = mlkern::spectrum::singular_values_into(
        &mut out,
        rows_view(&zero, 3, 4),
        &SpectrumConfig::default(),
        mlkern::linalg::MemStack::new(&mut mem),
        Par::Seq,
    );
    assert!(matches!(e, Err(Error::ShapeMismatch { .. })));
    // A short scratch is the convention's error, in bytes, not a panic.
    let mut out = [0.0; 3];
    let mut small = [core::mem::MaybeUninit::<u8>::uninit(); 8];
    let e = mlkern::spectrum::singular_values_into(
        &mut out,
        rows_view(&zero, 3, 4),
        &SpectrumConfig::default(),
        mlkern::linalg::MemStack::new(&mut small),
        Par::Seq,
    );
    assert!(
        matches!(e, Err(Error::ShapeMismatch { what: "singular_values: scratch", found, .. })
            if found == mlkern::Shape::d1(8)),
        "{e:?}"
    );
    // Accumulator misuse.
    assert!(CovAccumulator::new(0).is_err());
    let mut acc = CovAccumulator::new(3).unwrap();
    assert!(matches!(
        acc.push(rows_view(&zero, 3, 4), Par::Seq),
        Err(Error::ShapeMismatch { .. })
    ));
    let bad = [1.0, f64::INFINITY, 0.0];
    assert!(matches!(
        acc.push(rows_view(&bad, 1, 3), Par::Seq),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert_eq!(acc.count(), 0);
    assert!(acc.merge(&CovAccumulator::new(4).unwrap()).is_err());
}

#[test]
fn streaming_merge_is_order_independent() {
    let (n, d) = (500, 16);
    let x: Vec<f64> = gaussian(10, n * d).iter().map(|v| 100.0 + v).collect();
    let chunks: Vec<&[f64]> = x.chunks(37 * d).collect();
    let run = |order: &[usize]| {
        let mut acc = CovAccumulator::new(d).unwrap();
        for &i in order {
            acc.push(rows_view(chunks[i], chunks[i].len() / d, d), Par::Seq)
                .unwrap();
        }
        acc.spectrum(Centering::ColumnMean, Par::Seq).unwrap().sigma
    };
    let fwd: Vec<usize> = (0..chunks.len()).collect();
    let rev: Vec<usize> = fwd.iter().rev().copied().collect();
    let (a, b) = (run(&fwd), run(&rev));
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() <= 1e-10 * a[0]);
    }
}

/// An explicit symmetric matrix as the HVP oracle.
struct Dense(Mat<f64>);

impl HessianVectorProduct for Dense {
    fn dim(&self) -> usize {
        self.0.nrows()
    }
    fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> mlkern::Result<()> {
        for (i, o) in out.iter_mut().enumerate() {
            *o = (0..v.len()).map(|j| self.0[(i, j)] * v[j]).sum();
        }
        Ok(())
    }
}

fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
    let z = gaussian(seed, n * n);
    Mat::from_fn(n, n, |i, j| z[i.min(j) * n + i.max(j)])
}

#[test]
fn nds_identities() {
    let n = 12;
    let mut h = Dense(random_symmetric(n, 11));
    let delta = gaussian(12, n);
    let mut scratch = vec![0.0; 2 * n];
    let total = nds(&mut h, &delta, &mut scratch).unwrap().unwrap();
    // Scale-free, and within the spectrum of H.
    let scaled: Vec<f64> = delta.iter().map(|v| -3.5 * v).collect();
    assert!(rel(nds(&mut h, &scaled, &mut scratch).unwrap().unwrap(), total) < 1e-12);
    let eig = h.0.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    assert!(eig[0] - 1e-12 <= total && total <= eig[n - 1] + 1e-12);
    // Decomposition: within + cross = total; per-block values weight to the within term.
    let blocks = [0..3, 3..7, 7..12];
    let mut per = [0.0; 3];
    let parts = nds_decomposition(&mut h, &delta, &blocks, &mut per, &mut scratch)
        .unwrap()
        .unwrap();
    assert!(rel(parts.total, total) < 1e-12);
    assert!((parts.within + parts.cross - parts.total).abs() < 1e-12 * parts.total.abs().max(1.0));
    let norm_sq: f64 = delta.iter().map(|v| v * v).sum();
    let weighted: f64 = blocks
        .iter()
        .zip(&per)
        .map(|(b, p)| p * delta[b.clone()].iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        / norm_sq;
    assert!((weighted - parts.within).abs() < 1e-12 * parts.within.abs().max(1.0));
    assert!(rel(curvature_penalty(total, norm_sq), 0.5 * total * norm_sq) < 1e-15);
    // Block-diagonal H: no cross term.
    let mut bd = h.0.clone();
    for i in 0..n {
        for j in 0..n {
            let bi = blocks.iter().position(|b| b.contains(&i));
            let bj = blocks.iter().position(|b| b.contains(&j));
            if bi != bj {
                bd[(i, j)] = 0.0;
            }
        }
    }
    let mut hb = Dense(bd);
    let p = nds_decomposition(&mut hb, &delta, &blocks, &mut per, &mut scratch)
        .unwrap()
        .unwrap();
    assert!(p.cross.abs() < 1e-12);
    // Diagonal toy: Σ hᵢΔᵢ²/ΣΔᵢ².
    let d: Vec<f64> = (0..n).map(|i| i as f64 - 4.0).collect();
    let mut hd = Dense(Mat::from_fn(n, n, |i, j| if i == j { d[i] } else { 0.0 }));
    let want: f64 = d.iter().zip(&delta).map(|(h, x)| h * x * x).sum::<f64>() / norm_sq;
    assert!(rel(nds(&mut hd, &delta, &mut scratch).unwrap().unwrap(), want) < 1e-12);
    // Eigen-direction → eigenvalue: e₀ of the diagonal toy.
    let mut e0 = vec![0.0; n];
    e0[0] = 2.0;
    assert_eq!(nds(&mut hd, &e0, &mut scratch).unwrap(), Some(d[0]));
    // Zero Δ, bad blocks, bad lengths.
    assert_eq!(nds(&mut h, &vec![0.0; n], &mut scratch).unwrap(), None);
    assert!(
        nds_decomposition(&mut h, &delta, &[0..3, 4..12], &mut [0.0; 2], &mut scratch).is_err()
    );
    assert!(nds(&mut h, &delta[..5], &mut scratch).is_err());
    assert!(nds(&mut h, &delta, &mut [0.0; 3]).is_err());
}

#[test]
fn random_sign_estimator_is_unbiased() {
    let n = 10;
    let mut h = Dense(random_symmetric(n, 21));
    let delta = gaussian(22, n);
    let blocks = [0..2, 2..5, 5..10];
    let mut scratch = vec![0.0; 2 * n];
    let mut per = [0.0; 3];
    let exact = nds_decomposition(&mut h, &delta, &blocks, &mut per, &mut scratch)
        .unwrap()
        .unwrap()
        .within;
    let mut rng = SmallRng::seed_from_u64(7);
    let est = nds_within_estimate(&mut h, &delta, &blocks, 4000, &mut rng, &mut scratch)
        .unwrap()
        .unwrap();
    // Unbiased: within 5 standard errors (fails with probability < 1e-6 for a fixed seed's draw).
    assert!(
        (est.within - exact).abs() <= 5.0 * est.std_error,
        "{} vs {exact} ± {}",
        est.within,
        est.std_error
    );
    assert!(est.std_error > 0.0);
    // One block: no cross terms, so every sample is exact.
    let whole = [0..n; 1];
    let one = nds_within_estimate(&mut h, &delta, &whole, 3, &mut rng, &mut scratch)
        .unwrap()
        .unwrap();
    let total = nds(&mut h, &delta, &mut scratch).unwrap().unwrap();
    assert!(rel(one.within, total) < 1e-12 && one.std_error < 1e-12);
    assert!(nds_within_estimate(&mut h, &delta, &blocks, 0, &mut rng, &mut scratch).is_err());
}

proptest! {
    #[test]
    fn margin_properties(z in prop::collection::vec(-50.0f32..50.0, 2..40), shift in -100.0f32..100.0, c in 0.1f32..10.0, label_seed in 0usize..1000) {
        let y = label_seed % z.len();
        let mt = margin_true(&z, y).unwrap();
        let m2 = margin_top2(&z).unwrap();
        // Shift invariance and positive scaling (f32 rounding of shifted logits: 1e-3 absolute).
        let zs: Vec<f32> = z.iter().map(|v| v + shift).collect();
        prop_assert!((margin_true(&zs, y).unwrap() - mt).abs() < 1e-3 * (1.0 + shift.abs()));
        let zc: Vec<f32> = z.iter().map(|v| v * c).collect();
        prop_assert!((margin_true(&zc, y).unwrap() - c * mt).abs() < 1e-4 * (1.0 + c * mt.abs()));
        // true = top2 when correct; otherwise true < 0 ≤ top2.
        prop_assert!(m2 >= 0.0);
        let (amax, _) = mlkern::simd::argmax(&z).unwrap();
        if z[y] >= z[amax] {
            prop_assert_eq!(mt, m2);
        } else {
            prop_assert!(mt < 0.0);
        }
        // Batched equals per-row.
        let rows = 3;
        let zz: Vec<f32> = (0..rows).flat_map(|_| z.iter().copied()).collect();
        let mut out = vec![0.0f32; rows];
        margins(&zz, rows, z.len(), Some(&[y, y, y]), MarginKind::TrueClass, &mut out).unwrap();
        prop_assert!(out.iter().all(|&o| o == mt));
        margins(&zz, rows, z.len(), None, MarginKind::Top2, &mut out).unwrap();
        prop_assert!(out.iter().all(|&o| o == m2));
    }
}

#[test]
fn margin_edges_and_errors() {
    assert_eq!(margin_top2(&[1.0f64, 1.0, 0.0]).unwrap(), 0.0); // tie at the top
    assert_eq!(margin_true(&[3.0f64, 3.0], 1).unwrap(), 0.0);
    // Odd lengths around the SIMD width.
    for n in [2usize, 15, 16, 17, 33, 65] {
        let z: Vec<f64> = (0..n).map(|i| ((i * 7) % n) as f64).collect();
        assert_eq!(margin_top2(&z).unwrap(), 1.0, "n={n}");
    }
    assert!(margin_true(&[1.0f32], 0).is_err());
    assert!(margin_true(&[1.0f32, 2.0], 2).is_err());
    assert!(matches!(
        margin_top2(&[1.0f32, f32::NAN]),
        Err(Error::NonFinite { index: 1, .. })
    ));
    let mut out = [0.0f32; 2];
    assert!(margins(&[0.0f32; 6], 2, 3, None, MarginKind::TrueClass, &mut out).is_err());
    assert!(
        margins(
            &[0.0f32; 6],
            2,
            3,
            Some(&[0, 3]),
            MarginKind::TrueClass,
            &mut out
        )
        .is_err()
    );
    assert!(margins(&[0.0f32; 5], 2, 3, None, MarginKind::Top2, &mut out).is_err());
    assert!(matches!(
        margins(
            &[0.0f32, 1.0, 2.0, 3.0, f32::INFINITY, 5.0],
            2,
            3,
            None,
            MarginKind::Top2,
            &mut out
        ),
        Err(Error::NonFinite { index: 4, .. })
    ));
    margins::<f32>(&[], 0, 3, None, MarginKind::Top2, &mut []).unwrap();
}

#[test]
fn decompositions_at_extreme_scales() {
    // Huge (Gram would overflow unscaled), tiny and subnormal data: exact power-of-two rescaling
    // keeps every path finite and scale-invariant.
    let (m, n) = (60, 20);
    let x = gaussian(30, m * n);
    let base = singular_values(
        rows_view(&x, m, n),
        &SpectrumConfig::new(Centering::ColumnMean, Method::Svd),
        Par::Seq,
    )
    .unwrap();
    let e0 = base.spectrum().erank(Weighting::Sigma).unwrap();
    for c in [1e200, 1e-200, 1e-310] {
        let y: Vec<f64> = x.iter().map(|v| v * c).collect();
        for method in [Method::Svd, Method::Gram] {
            for centering in [Centering::None, Centering::ColumnMean] {
                let s = singular_values(
                    rows_view(&y, m, n),
                    &SpectrumConfig::new(centering, method),
                    Par::Seq,
                )
                .unwrap();
                assert!(s.sigma.iter().all(|v| v.is_finite()), "c={c:e} {method:?}");
                if centering == Centering::ColumnMean && c > 1e-300 {
                    let e = s.spectrum().erank(Weighting::Sigma).unwrap();
                    assert!(rel(e, e0) < 1e-7, "c={c:e} {method:?}: {e} vs {e0}");
                }
            }
        }
    }
    // σ₁ beyond f64::MAX is an error, not ∞.
    let big = vec![1e308; 16];
    let e = singular_values(
        rows_view(&big, 4, 4),
        &SpectrumConfig::new(Centering::None, Method::Svd),
        Par::Seq,
    );
    assert!(matches!(e, Err(Error::InvalidParameter { .. })), "{e:?}");
}

#[test]
fn svd_non_convergence_falls_back_to_gram() {
    // A fuzzer input (3×3, entries from 1e-316 to 1e15) on which faer's SVD did not converge in
    // the fuzz build (rounding there differs; the test build may converge): either way the result
    // must be finite, through the SVD or its f64 Gram fallback.
    let bytes: [u8; 80] = [
        210, 13, 0, 0, 0, 9, 0, 0, 0, 0, 0, 155, 236, 251, 22, 195, 85, 0, 0, 0, 193, 193, 193,
        193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193,
        0, 0, 0, 0, 0, 0, 7, 0, 0, 1, 7, 0, 0, 0, 0, 0, 49, 183, 18, 59, 0, 0, 0, 193, 193, 193,
        193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193, 193,
    ];
    let vals: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let (m, n) = (vals.len() / 3, 3);
    for centering in [Centering::None, Centering::ColumnMean] {
        let s = singular_values(
            rows_view(&vals[..m * n], m, n),
            &SpectrumConfig::new(centering, Method::Svd),
            Par::Seq,
        )
        .unwrap();
        assert!(s.sigma.iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}
