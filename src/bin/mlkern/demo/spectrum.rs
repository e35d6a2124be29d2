//! Demo rows of the `spectrum` family, each checked against a closed form: matrices with known
//! singular values (the Householder construction of `demo_ortho`), a diagonal Hessian, and
//! margins recomputed by a scalar loop.

use mlkern::Par;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, CovAccumulator, HessianVectorProduct, MarginKind, Method, Spectrum, SpectrumConfig,
    Weighting, margins, nds, singular_values,
};

use super::known_svd::KnownSvd;
use super::row::{Row, Step, data, f32s};
use crate::timing::Timing;

/// Energy and σ effective ranks of the exact singular values.
fn exact_eranks(s: &[f64]) -> (f64, f64) {
    let mut v = s.to_vec();
    let sp = Spectrum::from_singular_values(&mut v).expect("finite, non-negative");
    (
        sp.erank(Weighting::Energy).unwrap_or(0.0),
        sp.erank(Weighting::Sigma).unwrap_or(0.0),
    )
}

fn decomposition_row(
    name: &'static str,
    k: usize,
    n: usize,
    method: Method,
    f32_input: bool,
) -> Step {
    Box::new(move |repeat, par: Par| {
        let svd = KnownSvd::new(k, n, 70);
        let (we, ws) = exact_eranks(&svd.s);
        let cfg = SpectrumConfig::new(Centering::None, method);
        let (got, timing) = if f32_input {
            let g = f32s(&svd.input());
            let v = view(&g, k, n, Layout::RowMajor)?;
            Timing::measure(repeat, || singular_values(v, &cfg, par))?
        } else {
            let g = svd.input();
            let v = view(&g, k, n, Layout::RowMajor)?;
            Timing::measure(repeat, || singular_values(v, &cfg, par))?
        };
        let sp = got.spectrum();
        let (ge, gs) = (
            sp.erank(Weighting::Energy).unwrap_or(0.0),
            sp.erank(Weighting::Sigma).unwrap_or(0.0),
        );
        let err = ((ge - we) / we).abs().max(((gs - ws) / ws).abs());
        // f64 data: rounding only (1e-10); f32 data: the data's own rounding (~1e-7 relative per
        // entry) moves the ranks by ~1e-6.
        let tol = if f32_input { 1e-5 } else { 1e-10 };
        Ok(Row {
            kernel: name,
            shape: format!("{k}×{n}"),
            summary: format!(
                "{}: erank energy {ge:.3} (exact {we:.3}), σ {gs:.3}; rel err {err:.1e}",
                got.method.name()
            ),
            ok: err < tol,
            timing,
        })
    })
}

fn stream_row(k: usize, n: usize) -> Step {
    Box::new(move |repeat, par: Par| {
        // Samples = the columns of the k×n matrix, i.e. the rows of its transpose (n×k).
        let svd = KnownSvd::new(k, n, 71);
        let g = svd.input();
        let t: Vec<f64> = (0..n * k).map(|i| g[(i % k) * n + i / k]).collect();
        let (we, _) = exact_eranks(&svd.s);
        let (acc, timing) = Timing::measure(repeat, || {
            let mut acc = CovAccumulator::new(k)?;
            for chunk in t.chunks(300 * k) {
                acc.push(view(chunk, chunk.len() / k, k, Layout::RowMajor)?, par)?;
            }
            acc.spectrum(Centering::None, par)
        })?;
        let ge = acc.spectrum().erank(Weighting::Energy).unwrap_or(0.0);
        let err = ((ge - we) / we).abs();
        Ok(Row {
            kernel: "spectrum stream (CovAccumulator)",
            shape: format!("{n}×{k} in chunks of 300"),
            summary: format!("erank energy {ge:.3} (exact {we:.3}), rel err {err:.1e}"),
            ok: err < 1e-10,
            timing,
        })
    })
}

fn metrics_row() -> Step {
    Box::new(|repeat, _| {
        // σᵢ = 1 for i < 64, 0 after: every effective rank is exactly 64.
        let mut s = vec![0.0; 4096];
        s[..64].iter_mut().for_each(|v| *v = 1.0);
        let sp = Spectrum::from_singular_values(&mut s)?;
        let (sum, timing) = Timing::measure(repeat, || Ok::<_, mlkern::Error>(sp.summary()))?;
        let sum = sum.expect("non-zero spectrum");
        let err = [
            sum.erank_sigma,
            sum.erank_energy,
            sum.stable_rank,
            sum.participation_ratio,
        ]
        .iter()
        .map(|v| (v - 64.0).abs() / 64.0)
        .fold(0.0, f64::max);
        Ok(Row {
            kernel: "spectrum metrics (summary)",
            shape: "4096 values".to_string(),
            summary: format!(
                "64 equal values: ranks {:.6}, rank {}, rel err {err:.1e}",
                sum.erank_sigma, sum.numerical_rank
            ),
            ok: err < 1e-12 && sum.numerical_rank == 64,
            timing,
        })
    })
}

struct DiagHessian(Vec<f64>);

impl HessianVectorProduct for DiagHessian {
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> mlkern::Result<()> {
        for ((o, h), x) in out.iter_mut().zip(&self.0).zip(v) {
            *o = h * x;
        }
        Ok(())
    }
}

fn nds_row(n: usize) -> Step {
    Box::new(move |repeat, _| {
        let h: Vec<f64> = data(n, 72).iter().map(|v| 10.0 * v).collect();
        let delta = data(n, 73);
        let want = h.iter().zip(&delta).map(|(h, d)| h * d * d).sum::<f64>()
            / delta.iter().map(|d| d * d).sum::<f64>();
        let mut oracle = DiagHessian(h);
        let mut scratch = vec![0.0; n];
        let (got, timing) = Timing::measure(repeat, || nds(&mut oracle, &delta, &mut scratch))?;
        let got = got.unwrap_or(f64::NAN);
        let err = (got - want).abs() / want.abs();
        Ok(Row {
            kernel: "spectrum nds (diagonal H)",
            shape: format!("{n}"),
            summary: format!("NDS {got:.6} (closed form {want:.6}), rel err {err:.1e}"),
            ok: err < 1e-12,
            timing,
        })
    })
}

fn margins_row(rows: usize, classes: usize) -> Step {
    Box::new(move |repeat, _| {
        let z = f32s(&data(rows * classes, 74));
        let mut out = vec![0.0f32; rows];
        let ((), timing) = Timing::measure(repeat, || {
            margins(&z, rows, classes, None, MarginKind::Top2, &mut out)
        })?;
        let mut worst = 0.0f32;
        for (r, &m) in z.chunks(classes).zip(&out) {
            let mut top = [f32::NEG_INFINITY; 2];
            for &v in r {
                if v > top[0] {
                    top = [v, top[0]];
                } else if v > top[1] {
                    top[1] = v;
                }
            }
            worst = worst.max((m - (top[0] - top[1])).abs());
        }
        Ok(Row {
            kernel: "spectrum margins (top-2, f32)",
            shape: format!("{rows}×{classes}"),
            summary: format!("max |Δ| vs scalar loop {worst:.1e}"),
            ok: worst == 0.0,
            timing,
        })
    })
}

/// The spectrum rows of `mlkern demo`.
pub(crate) fn rows() -> Vec<Step> {
    vec![
        metrics_row(),
        decomposition_row(
            "spectrum gram (f32 in, f64 acc)",
            512,
            2048,
            Method::Auto,
            true,
        ),
        decomposition_row("spectrum svd (f64)", 384, 384, Method::Svd, false),
        stream_row(256, 1200),
        nds_row(100_000),
        margins_row(4096, 1000),
    ]
}
