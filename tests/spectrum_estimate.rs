//! The iterative spectrum estimators: top-k eigenvalues (block Krylov) and the SLQ metrics with
//! confidence intervals, against the exact spectrum of an independent path (faer's values-only
//! SVD in f64, squared).
//!
//! Tolerances: top-k values within their own residual bound `|θᵢ − λᵢ| ≤ rᵢ` (plus 1e-12·λ₁ of
//! rounding) and `θᵢ ≤ λᵢ·(1 + 1e-12)` (interlacing). SLQ point estimates within 2 % (the default
//! target is a 1 % half-width at 95 %); intervals must cover the exact value in ≥ 90 % of seeded
//! trials (the criterion for a nominal 95 % interval).

#![cfg(feature = "std")]

mod common;

use common::values;
use mlkern::linalg::{Layout, MatRef, view};
use mlkern::spectrum::{
    Centering, DenseOperator, GramOperator, Method, RANKME_EPS, SlqConfig, SlqReport, Spectrum,
    SpectrumConfig, SymOperator, TopKConfig, Weighting, estimate, singular_values, top_eigenvalues,
};
use mlkern::{Error, Par};

/// `n×p` samples, column `j` scaled by `(1 + j)^(−decay)`, plus an offset of 3 on every entry
/// (removed by centering).
fn samples(n: usize, p: usize, decay: f64, seed: u64) -> Vec<f64> {
    let z = values(n * p, seed);
    (0..n * p)
        .map(|k| 3.0 + z[k] * (1.0 + (k % p) as f64).powf(-decay))
        .collect()
}

/// The exact metrics of the (centered) matrix, from the f64 SVD.
struct Exact {
    erank: f64,
    sigma_erank: f64,
    stable: f64,
    pr: f64,
    nuclear: f64,
    rankme: f64,
    top: Vec<f64>,
}

fn exact(x: MatRef<'_, f64>, center: bool) -> Exact {
    let c = if center {
        Centering::ColumnMean
    } else {
        Centering::None
    };
    let s = singular_values(x, &SpectrumConfig::new(c, Method::Svd), Par::Seq).unwrap();
    let sp: Spectrum<'_> = s.spectrum();
    Exact {
        erank: sp.erank(Weighting::Energy).unwrap(),
        sigma_erank: sp.erank(Weighting::Sigma).unwrap(),
        stable: sp.stable_rank().unwrap(),
        pr: sp.participation_ratio().unwrap(),
        nuclear: sp.nuclear_ratio().unwrap(),
        rankme: sp.rankme(RANKME_EPS).unwrap().unwrap(),
        top: s.sigma.iter().map(|v| v * v).collect(),
    }
}

/// Every estimated metric within `tol` (relative) of the exact one, inside its own interval.
fn assert_close(r: &SlqReport, e: &Exact, tol: f64, label: &str) {
    for (name, est, want) in pairs(r, e) {
        assert!(
            (est.value / want - 1.0).abs() < tol,
            "{label} {name}: {} vs {want} ({est:?})",
            est.value
        );
        assert!(
            est.lo <= est.value && est.value <= est.hi,
            "{label} {name}: {est:?}"
        );
    }
}

fn pairs(r: &SlqReport, e: &Exact) -> [(&'static str, mlkern::spectrum::Estimate, f64); 6] {
    [
        ("erank", r.erank, e.erank),
        ("sigma_erank", r.sigma_erank, e.sigma_erank),
        ("stable_rank", r.stable_rank, e.stable),
        ("participation_ratio", r.participation_ratio, e.pr),
        ("nuclear_ratio", r.nuclear_ratio, e.nuclear),
        ("rankme", r.rankme, e.rankme),
    ]
}

#[test]
fn top_eigenvalues_are_certified_by_their_residuals() {
    for (n, p, decay) in [(300, 120, 1.0), (80, 200, 0.5), (500, 64, 0.0)] {
        let x = samples(n, p, decay, 7);
        let xv = view(&x, n, p, Layout::RowMajor).unwrap();
        let e = exact(xv, true);
        let op = GramOperator::new(xv, true).unwrap();
        assert_eq!(op.dim(), n.min(p));
        let top = top_eigenvalues(&op, &TopKConfig::new(8).with_vectors(true), Par::Seq).unwrap();
        assert!(top.converged, "{n}×{p}");
        for i in 0..8 {
            let (t, r, l) = (top.values[i], top.residuals[i], e.top[i]);
            assert!(t <= l * (1.0 + 1e-12), "{n}×{p} #{i}: {t} > {l}");
            assert!(
                (t - l).abs() <= r + 1e-12 * e.top[0],
                "{n}×{p} #{i}: {t} vs {l}, r = {r}"
            );
            assert!((t / l - 1.0).abs() < 1e-6, "{n}×{p} #{i}: {t} vs {l}");
        }
        let v = top.vectors.unwrap();
        assert_eq!((v.nrows(), v.ncols()), (n.min(p), 8));
        for a in 0..8 {
            for b in 0..8 {
                let d: f64 = (0..v.nrows()).map(|i| v[(i, a)] * v[(i, b)]).sum();
                assert!((d - f64::from(u8::from(a == b))).abs() < 1e-10);
            }
        }
    }
}

#[test]
fn top_eigenvalues_of_small_and_degenerate_operators() {
    // Order 1, k = 0, k = d (the Krylov space fills the space: exact), a repeated eigenvalue.
    let one = [5.0f64];
    let op = DenseOperator::new(view(&one, 1, 1, Layout::RowMajor).unwrap()).unwrap();
    let t = top_eigenvalues(&op, &TopKConfig::new(1), Par::Seq).unwrap();
    assert_eq!(t.values, vec![5.0]);
    assert!(
        top_eigenvalues(&op, &TopKConfig::new(0), Par::Seq)
            .unwrap()
            .values
            .is_empty()
    );
    let id: Vec<f64> = (0..100)
        .map(|k| f64::from(u8::from(k % 11 == 0)) * 2.0)
        .collect();
    let op = DenseOperator::new(view(&id, 10, 10, Layout::RowMajor).unwrap()).unwrap();
    let t = top_eigenvalues(&op, &TopKConfig::new(10), Par::Seq).unwrap();
    assert!(
        t.converged && t.values.iter().all(|&v| (v - 2.0).abs() < 1e-12),
        "{:?}",
        t.values
    );
    assert!(matches!(
        top_eigenvalues(&op, &TopKConfig::new(11), Par::Seq),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        top_eigenvalues(&op, &TopKConfig::new(1).with_tol(-1.0), Par::Seq),
        Err(Error::InvalidParameter { name: "tol", .. })
    ));
}

#[test]
fn slq_estimates_match_the_exact_metrics() {
    // Decaying (λ ∝ j⁻²), slowly decaying, flat, rank-deficient (n < p) and uncentered.
    for (n, p, decay, center) in [
        (600, 256, 1.0, true),
        (600, 256, 0.5, true),
        (800, 200, 0.0, true),
        (150, 300, 0.7, true),
        (400, 160, 0.8, false),
    ] {
        let x = samples(n, p, decay, 11);
        let xv = view(&x, n, p, Layout::RowMajor).unwrap();
        let e = exact(xv, center);
        let op = GramOperator::new(xv, center).unwrap();
        let r = estimate(&op, &SlqConfig::default(), Par::Seq).unwrap();
        assert_close(&r, &e, 0.02, &format!("{n}×{p} decay {decay}"));
        assert!(r.probes >= 16 && r.probes <= 128);
    }
}

#[test]
fn slq_intervals_cover_the_exact_values() {
    // 100 seeds of the probes on one decaying and one flat spectrum. The deflation is kept
    // small so that the probes carry the estimate and the interval is really tested.
    let (n, p) = (500, 256);
    for decay in [0.8, 0.0] {
        let x = samples(n, p, decay, 3);
        let xv = view(&x, n, p, Layout::RowMajor).unwrap();
        let e = exact(xv, true);
        let op = GramOperator::new(xv, true).unwrap();
        let mut hits = [0usize; 6];
        let trials = 100;
        for seed in 0..trials {
            let cfg = SlqConfig::default().with_seed(seed).with_deflate(4);
            let r = estimate(&op, &cfg, Par::Seq).unwrap();
            for (k, (_, est, want)) in pairs(&r, &e).into_iter().enumerate() {
                hits[k] += usize::from(est.contains(want));
            }
        }
        eprintln!("decay {decay}: covered {hits:?} of {trials}");
        for (k, name) in ["erank", "sigma_erank", "stable", "pr", "nuclear", "rankme"]
            .iter()
            .enumerate()
        {
            assert!(
                hits[k] * 100 >= 90 * trials as usize,
                "decay {decay}: {name} covered {}/{trials}",
                hits[k]
            );
        }
    }
}

#[test]
fn slq_is_bit_identical_across_thread_counts_and_f32_agrees() {
    let (n, p) = (700, 300);
    let x = samples(n, p, 0.7, 5);
    let xv = view(&x, n, p, Layout::RowMajor).unwrap();
    let op = GramOperator::new(xv, true).unwrap();
    let cfg = SlqConfig::default().with_seed(9);
    let a = estimate(&op, &cfg, Par::Seq).unwrap();
    for t in [2, 3] {
        let b = estimate(&op, &cfg, Par::threads(t)).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "threads {t}");
    }
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let op32 = GramOperator::new(view(&x32, n, p, Layout::RowMajor).unwrap(), true).unwrap();
    let c = estimate(&op32, &cfg, Par::Seq).unwrap();
    let e = exact(xv, true);
    assert!(
        (c.erank.value / e.erank - 1.0).abs() < 0.02,
        "{:?} vs {}",
        c.erank,
        e.erank
    );
}

#[test]
fn slq_is_scale_invariant_at_extreme_scales() {
    let (n, p) = (300, 100);
    let x = samples(n, p, 0.6, 8);
    let xv = view(&x, n, p, Layout::RowMajor).unwrap();
    let cfg = SlqConfig::default();
    let base = estimate(&GramOperator::new(xv, true).unwrap(), &cfg, Par::Seq).unwrap();
    for s in [2f64.powi(505), 2f64.powi(-505)] {
        let y: Vec<f64> = x.iter().map(|v| v * s).collect();
        let r = estimate(
            &GramOperator::new(view(&y, n, p, Layout::RowMajor).unwrap(), true).unwrap(),
            &cfg,
            Par::Seq,
        )
        .unwrap();
        assert!(
            (r.erank.value / base.erank.value - 1.0).abs() < 1e-9,
            "{s:e}"
        );
        assert!(
            (r.trace / s / s / base.trace - 1.0).abs() < 1e-12,
            "{s:e} {} {}",
            r.trace,
            base.trace
        );
        assert!((r.lambda_max.value / s / s / base.lambda_max.value - 1.0).abs() < 1e-9);
    }
    let y: Vec<f32> = x.iter().map(|v| (v * 2f64.powi(100)) as f32).collect();
    let r = estimate(
        &GramOperator::new(view(&y, n, p, Layout::RowMajor).unwrap(), true).unwrap(),
        &cfg,
        Par::Seq,
    )
    .unwrap();
    assert!((r.erank.value / base.erank.value - 1.0).abs() < 1e-3);
}

#[test]
fn slq_on_a_formed_gram_matrix_and_tiny_operators() {
    // G = XcᵀXc formed explicitly gives the same metrics as the operator over X.
    let (n, p) = (400, 90);
    let x = samples(n, p, 0.9, 2);
    let xv = view(&x, n, p, Layout::RowMajor).unwrap();
    let mu: Vec<f64> = (0..p)
        .map(|j| (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64)
        .collect();
    let mut g = vec![0.0; p * p];
    for i in 0..n {
        for a in 0..p {
            for b in 0..p {
                g[a * p + b] += (x[i * p + a] - mu[a]) * (x[i * p + b] - mu[b]);
            }
        }
    }
    let e = exact(xv, true);
    let op = DenseOperator::new(view(&g, p, p, Layout::RowMajor).unwrap()).unwrap();
    let r = estimate(&op, &SlqConfig::default(), Par::Seq).unwrap();
    assert_close(&r, &e, 0.02, "formed Gram");
    // Order 1 and order ≤ the deflation: every value is exact, the interval has zero width.
    for d in [1usize, 5] {
        let diag: Vec<f64> = (0..d * d)
            .map(|k| {
                if k % (d + 1) == 0 {
                    (1 + k / (d + 1)) as f64
                } else {
                    0.0
                }
            })
            .collect();
        let r = estimate(
            &DenseOperator::new(view(&diag, d, d, Layout::RowMajor).unwrap()).unwrap(),
            &SlqConfig::default(),
            Par::Seq,
        )
        .unwrap();
        let s: Vec<f64> = (0..d).rev().map(|k| ((k + 1) as f64).sqrt()).collect();
        let sp = Spectrum::from_sorted(&s).unwrap();
        let want = sp.erank(Weighting::Energy).unwrap();
        assert!(
            (r.erank.value - want).abs() < 1e-9 * want,
            "d = {d}: {:?} vs {want}",
            r.erank
        );
        assert_eq!(r.probes, 0);
        assert!(r.erank.hi - r.erank.lo < 1e-9);
    }
}

#[test]
fn bad_input_is_an_error() {
    let (n, p) = (20, 6);
    let mut x = samples(n, p, 0.0, 1);
    x[13] = f64::NAN;
    assert!(matches!(
        GramOperator::new(view(&x, n, p, Layout::RowMajor).unwrap(), true),
        Err(Error::NonFinite { index: 13, .. })
    ));
    let zero = vec![0.0f64; n * p];
    let op = GramOperator::new(view(&zero, n, p, Layout::RowMajor).unwrap(), true).unwrap();
    assert!(matches!(
        estimate(&op, &SlqConfig::default(), Par::Seq),
        Err(Error::Degenerate { .. })
    ));
    let empty: Vec<f64> = Vec::new();
    let op = GramOperator::new(view(&empty, 0, 4, Layout::RowMajor).unwrap(), true).unwrap();
    assert!(matches!(
        estimate(&op, &SlqConfig::default(), Par::Seq),
        Err(Error::Empty { .. })
    ));
    let asym = [1.0f64, 2.0, 0.0, 1.0];
    assert!(matches!(
        DenseOperator::new(view(&asym, 2, 2, Layout::RowMajor).unwrap()),
        Err(Error::InvalidParameter { name: "matrix", .. })
    ));
    assert!(matches!(
        DenseOperator::new(view(&asym, 1, 4, Layout::RowMajor).unwrap()),
        Err(Error::ShapeMismatch { .. })
    ));
    // An indefinite matrix: diag(1, …, 1, −50).
    let d = 60;
    let ind: Vec<f64> = (0..d * d)
        .map(|k| match (k / d, k % d) {
            (i, j) if i == j && i + 1 == d => -50.0,
            (i, j) if i == j => 1.0 + i as f64 / d as f64,
            _ => 0.0,
        })
        .collect();
    let op = DenseOperator::new(view(&ind, d, d, Layout::RowMajor).unwrap()).unwrap();
    let cfg = SlqConfig::default().with_deflate(0);
    assert!(matches!(
        estimate(&op, &cfg, Par::Seq),
        Err(Error::InvalidParameter { .. } | Error::Degenerate { .. })
    ));
    let ok = GramOperator::new(view(&x[..0], 0, 0, Layout::RowMajor).unwrap(), false).unwrap();
    let (mut c1, mut c2, mut c3) = (
        SlqConfig::default(),
        SlqConfig::default(),
        SlqConfig::default(),
    );
    c1.confidence = 1.0;
    c2.batch = 0;
    c3.rankme_eps = f64::NAN;
    for cfg in [
        SlqConfig::default().with_rtol(0.0),
        SlqConfig::default().with_probes(2),
        SlqConfig::default().with_steps(1),
        c1,
        c2,
        c3,
    ] {
        assert!(
            matches!(
                estimate(&ok, &cfg, Par::Seq),
                Err(Error::InvalidParameter { .. })
            ),
            "{cfg:?}"
        );
    }
}
