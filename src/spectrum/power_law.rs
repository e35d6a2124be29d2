//! WeightWatcher's heavy-tail metrics over the eigenvalues `λ = σ²` (core tier).
//!
//! Anchor: WeightWatcher 0.7.5.5 (`CalculatedContent/WeightWatcher`, `weightwatcher.py`,
//! `WW_powerlaw.py`, `RMT_Util.py`). The power-law exponent of the empirical spectral density's
//! tail is fitted by the continuous maximum-likelihood estimator with `x_min` chosen to minimize
//! the Kolmogorov–Smirnov distance (Clauset, Shalizi & Newman 2009).

use num_traits::Float;

use super::metrics::{RankTol, Spectrum};

/// Eigenvalues at or below this are left out of the fit (WeightWatcher's `EVALS_THRESH`).
pub const EVALS_THRESH: f64 = 1e-5;

/// A power-law fit `p(λ) ∝ λ^{−α}` for `λ ≥ x_min` ([`Spectrum::power_law`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerLawFit {
    /// The exponent α.
    pub alpha: f64,
    /// The chosen lower cutoff.
    pub xmin: f64,
    /// The largest eigenvalue.
    pub xmax: f64,
    /// Kolmogorov–Smirnov distance of the fit.
    pub ks_distance: f64,
    /// Standard error `(α − 1)/√n_tail`.
    pub sigma: f64,
    /// Number of eigenvalues `≥ x_min` (WeightWatcher's `num_pl_spikes`).
    pub num_spikes: usize,
}

/// WeightWatcher's norm-based layer metrics ([`Spectrum::ww_metrics`]); eigenvalues are `σ²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WwMetrics {
    /// `log₁₀ Σλ` (`log_norm`).
    pub log_norm: f64,
    /// `log₁₀ λ_max` (`log_spectral_norm`).
    pub log_spectral_norm: f64,
    /// `Σλ/λ_max` (`stable_rank`).
    pub stable_rank: f64,
    /// NumPy-rule rank (`matrix_rank`).
    pub matrix_rank: usize,
    /// WeightWatcher's `matrix_entropy`: `p = λ/Σλ + 1e-10`, `−Σ p ln p / ln(rank + 1e-10)`.
    pub entropy: f64,
    /// `α·log₁₀ λ_max` (`alpha_weighted`), when a fit is given.
    pub alpha_weighted: Option<f64>,
    /// `log₁₀ Σ λ^α` (`log_alpha_norm`), when a fit is given.
    pub log_alpha_norm: Option<f64>,
}

impl Spectrum<'_> {
    /// WeightWatcher's power-law fit of the eigenvalues `λ = σ²` above [`EVALS_THRESH`]: for every
    /// candidate `x_min` (each distinct eigenvalue but the largest), the continuous MLE
    /// `α = 1 + n/Σ_{λ ≥ x_min} ln(λ/x_min)` and the KS distance
    /// `D = max |(1 − (λ/x_min)^{1−α}) − F̂(λ)|` over the tail; the `x_min` with the smallest `D`
    /// wins. O(n²) time, no allocation. `None` with fewer than two eigenvalues above the threshold.
    /// Not scale-invariant (the threshold is absolute, as in WeightWatcher).
    pub fn power_law(&self) -> Option<PowerLawFit> {
        let sigma = self.singular_values();
        // Ascending eigenvalues above the threshold: sigma is descending.
        let n = sigma.iter().take_while(|&&s| s * s > EVALS_THRESH).count();
        if n < 2 {
            return None;
        }
        let lam = |i: usize| {
            let s = sigma[n - 1 - i];
            s * s
        };
        let ln = |i: usize| Float::ln(lam(i));
        let mut best: Option<PowerLawFit> = None;
        let total_ln: f64 = (0..n).map(ln).sum();
        let mut prefix = 0.0;
        for i in 0..n - 1 {
            if i > 0 && lam(i) == lam(i - 1) {
                prefix += ln(i);
                continue; // one candidate per distinct value
            }
            let tail = (n - i) as f64;
            let suffix = total_ln - prefix; // Σ_{j ≥ i} ln λⱼ
            let lx = ln(i);
            let denom = suffix - tail * lx;
            prefix += lx;
            if denom <= 0.0 {
                continue;
            }
            let alpha = 1.0 + tail / denom;
            let mut d = 0.0f64;
            for j in i..n {
                let theory = 1.0 - Float::exp((1.0 - alpha) * (ln(j) - lx));
                let empirical = (j - i) as f64 / tail;
                d = d.max((theory - empirical).abs());
            }
            if best.is_none_or(|b| d < b.ks_distance) {
                best = Some(PowerLawFit {
                    alpha,
                    xmin: lam(i),
                    xmax: lam(n - 1),
                    ks_distance: d,
                    sigma: (alpha - 1.0) / Float::sqrt(tail),
                    num_spikes: n - i,
                });
            }
        }
        best
    }

    /// WeightWatcher's norm metrics of the eigenvalues `λ = σ²`, with the α-dependent ones when
    /// `alpha` is given (e.g. from [`power_law`](Self::power_law)). `None` for a zero spectrum.
    /// These are logarithms of norms, so not scale-invariant by design.
    pub fn ww_metrics(&self, alpha: Option<f64>) -> Option<WwMetrics> {
        let top = self.sigma_max()?;
        let sigma = self.singular_values();
        // Σλ = σ₁²·Σ(σ/σ₁)²: logs taken of the pieces, so nothing overflows.
        let rel: f64 = sigma.iter().map(|&s| (s / top) * (s / top)).sum();
        let log_top = 2.0 * Float::log10(top);
        let rank = self.numerical_rank(RankTol::Numpy).ok()?;
        let entropy = {
            let h: f64 = sigma
                .iter()
                .map(|&s| {
                    let p = (s / top) * (s / top) / rel + 1e-10;
                    -p * Float::ln(p)
                })
                .sum();
            h / Float::ln(rank as f64 + 1e-10)
        };
        let log_alpha_norm = alpha.map(|a| {
            // log₁₀ Σ λ^α = α·log₁₀ λ_max + log₁₀ Σ (λ/λ_max)^α.
            let s: f64 = sigma
                .iter()
                .filter(|&&s| s > 0.0)
                .map(|&s| Float::powf((s / top) * (s / top), a))
                .sum();
            a * log_top + Float::log10(s)
        });
        Some(WwMetrics {
            log_norm: log_top + Float::log10(rel),
            log_spectral_norm: log_top,
            stable_rank: rel,
            matrix_rank: rank,
            entropy,
            alpha_weighted: alpha.map(|a| a * log_top),
            log_alpha_norm,
        })
    }
}
