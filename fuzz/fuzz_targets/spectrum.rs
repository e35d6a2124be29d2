//! Fuzzes the spectral metrics (every metric of `Spectrum` over arbitrary f64 bit patterns),
//! matrix → spectrum (SVD and Gram, both centerings, f32 and f64, small shapes), the streaming
//! accumulator and the margins. Accepted outcomes: `Ok` with finite, in-bound metrics (never
//! NaN: `1 ≤ erank ≤ #non-zero`, ratios in range), or the documented error — `NonFinite` exactly
//! when the input holds a NaN/±∞, `InvalidParameter` for negative singular values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::Par;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, CovAccumulator, MarginKind, Method, RankTol, Spectrum, SpectrumConfig, Weighting,
    margins, singular_values,
};

fn finite_or_none(v: Option<f64>) {
    if let Some(x) = v {
        assert!(!x.is_nan(), "NaN metric");
    }
}

fn metrics(values: &mut [f64]) {
    let bad = values.iter().position(|v| !v.is_finite());
    let neg = values.iter().any(|&v| v < 0.0);
    match Spectrum::from_singular_values(values) {
        Ok(sp) => {
            assert!(bad.is_none() && !neg);
            let nonzero = sp.singular_values().iter().filter(|&&v| v > 0.0).count() as f64;
            for w in [Weighting::Sigma, Weighting::Energy] {
                if let Some(e) = sp.erank(w) {
                    assert!(
                        (1.0..=nonzero).contains(&e),
                        "erank {e} with {nonzero} non-zero"
                    );
                }
                finite_or_none(sp.entropy(w));
                for a in [0.0, 0.5, 2.0, f64::INFINITY] {
                    finite_or_none(sp.renyi_erank(a, w).unwrap());
                }
                finite_or_none(sp.normalized_entropy(w, RankTol::Numpy).unwrap());
            }
            finite_or_none(sp.stable_rank());
            finite_or_none(sp.participation_ratio());
            finite_or_none(sp.nuclear_ratio());
            finite_or_none(sp.top_k_energy(3));
            finite_or_none(sp.rankme(1e-7).unwrap());
            let _ = sp.quantile_ratio(0.75, 0.25).unwrap();
            if let Some(f) = sp.power_law() {
                assert!(f.alpha.is_finite() && f.alpha > 1.0 && f.ks_distance.is_finite());
            }
            if let Some(w) = sp.ww_metrics(sp.power_law().map(|f| f.alpha)) {
                assert!(!w.log_norm.is_nan() && !w.entropy.is_nan());
            }
            let _ = sp.summary();
            let _ = sp.isotropy(2);
        }
        Err(Error::NonFinite { index, .. }) => assert_eq!(Some(index), bad),
        Err(Error::InvalidParameter { .. }) => assert!(bad.is_none() && neg),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn matrix<T: mlkern::Real>(x: &[T], m: usize, n: usize) {
    let bad = x.iter().position(|v| !v.as_f64().is_finite());
    let v = view(x, m, n, Layout::RowMajor).unwrap();
    for method in [Method::Svd, Method::Gram] {
        for centering in [Centering::None, Centering::ColumnMean] {
            let cfg = SpectrumConfig::new(centering, method);
            match singular_values(v, &cfg, Par::Seq) {
                Ok(s) => {
                    assert!(bad.is_none());
                    assert!(s.sigma.iter().all(|v| v.is_finite() && *v >= 0.0));
                    let _ = s.spectrum().summary();
                }
                Err(Error::NonFinite { index, .. }) => assert_eq!(Some(index), bad),
                // σ₁ beyond f64::MAX is reported, never returned as ∞.
                Err(Error::InvalidParameter { .. }) => {
                    let amax = x.iter().fold(0.0f64, |a, v| a.max(v.as_f64().abs()));
                    assert!(amax > 1e300, "InvalidParameter for max |x| = {amax:e}");
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }
    let mut acc = CovAccumulator::new(n).unwrap();
    match acc.push(v, Par::Seq) {
        Ok(()) => {
            assert!(bad.is_none());
            let _ = acc.spectrum(Centering::ColumnMean, Par::Seq);
        }
        Err(Error::NonFinite { index, .. }) => assert_eq!(Some(index), bad),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (head, body) = data.split_at(2);
    let vals: Vec<f64> = body
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    match head[0] % 3 {
        0 => {
            let mut v = vals;
            metrics(&mut v);
        }
        1 => {
            let n = 1 + usize::from(head[1] % 8);
            let m = vals.len() / n;
            let x = &vals[..m * n];
            matrix(x, m, n);
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            matrix(&x32, m, n);
        }
        _ => {
            let classes = 2 + usize::from(head[1] % 9);
            let rows = vals.len() / classes;
            let z = &vals[..rows * classes];
            let mut out = vec![0.0; rows];
            let bad = z.iter().position(|v| !v.is_finite());
            match margins(z, rows, classes, None, MarginKind::Top2, &mut out) {
                Ok(()) => assert!(bad.is_none() && out.iter().all(|&m| m >= 0.0)),
                Err(Error::NonFinite { index, .. }) => assert_eq!(Some(index), bad),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }
});
