//! Fuzzes the spectral metrics (every metric of `Spectrum` over arbitrary f64 bit patterns),
//! matrix → spectrum (SVD and Gram, both centerings, f32 and f64, small shapes), the streaming
//! accumulator and the margins. Accepted outcomes: `Ok` with finite, in-bound metrics (never
//! NaN: `1 ≤ erank ≤ #non-zero`, ratios in range), or the documented error — `NonFinite` exactly
//! when the input holds a NaN/±∞, `InvalidParameter` for negative singular values. A fourth mode
//! draws the parameters the caller passes apart from data (accumulator dimension, shapes of
//! empty and absurd matrices, ranks, margin shapes) from the whole `usize` range: `Err`
//! (`TooLarge`, `OutOfMemory`, a shape error) or a valid result, never an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::Par;
use mlkern::limits::MAX_COV_DIM;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, CovAccumulator, MarginKind, Method, RankTol, Spectrum, SpectrumConfig, Weighting,
    margins, singular_values, singular_values_scratch_len,
};
use mlkern_fuzz::Bytes;

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

/// Parameters from the whole `usize` range against small or empty data.
fn params(b: &mut Bytes<'_>, vals: &[f64]) {
    let cfg = SpectrumConfig::new(
        if b.u8() % 2 == 0 {
            Centering::None
        } else {
            Centering::ColumnMean
        },
        match b.u8() % 3 {
            0 => Method::Auto,
            1 => Method::Svd,
            _ => Method::Gram,
        },
    )
    .with_energy_only(b.u8() % 2 == 0);
    // The accumulator's dimension is a bare parameter.
    let dim = b.size(64);
    match CovAccumulator::new(dim) {
        Ok(acc) => assert!(dim >= 1 && dim <= MAX_COV_DIM && acc.dim() == dim),
        Err(Error::InvalidParameter { .. }) => assert_eq!(dim, 0),
        Err(Error::TooLarge { value, .. }) => assert!(value == dim && dim > MAX_COV_DIM),
        Err(Error::OutOfMemory { .. }) => assert!(dim > 1 << 10),
        Err(e) => panic!("unexpected error {e}"),
    }
    // Scratch sizes of any shape: a number or an error, never a panic.
    let (r, c) = (b.size(64), b.size(64));
    let _ = singular_values_scratch_len::<f64>(r, c, &cfg, Par::Seq);
    let _ = singular_values_scratch_len::<f32>(r, c, &cfg, Par::Seq);
    // An empty matrix with an absurd other dimension: no values, nothing allocated.
    let (r, c) = if b.u8() % 2 == 0 { (0, c) } else { (r, 0) };
    let s = singular_values(
        view(&[] as &[f64], r, c, Layout::RowMajor).unwrap(),
        &cfg,
        Par::Seq,
    )
    .unwrap();
    assert!(s.sigma.is_empty());
    // Margins with declared shapes the logits may not back.
    let (rows, classes) = (b.size(16), b.size(16));
    let mut out = vec![0.0; rows.min(vals.len())];
    match margins(vals, rows, classes, None, MarginKind::Top2, &mut out) {
        Ok(()) => assert!(rows == 0 || rows.checked_mul(classes) == Some(vals.len())),
        Err(
            Error::NonFinite { .. } | Error::ShapeMismatch { .. } | Error::InvalidParameter { .. },
        ) => {}
        Err(e) => panic!("unexpected error {e}"),
    }
    // Ranks far beyond the spectrum.
    let mut v: Vec<f64> = vals.iter().map(|x| x.abs()).collect();
    if let Ok(sp) = Spectrum::from_singular_values(&mut v) {
        finite_or_none(sp.top_k_energy(b.size(8)));
        let _ = sp.isotropy(b.size(8));
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
    match head[0] % 4 {
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
        3 => {
            let mut b = Bytes(body);
            let split = body.len().min(64);
            params(&mut b, &vals[split / 8..]);
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
