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
    /// WeightWatcher's power-law fit (release 0.7.7 defaults) of the eigenvalues `λ = σ²`
    /// above [`EVALS_THRESH`] (strict), ascending `x₀ ≤ … ≤ x_{N−1}`. Every index but the last
    /// is a candidate `x_min = xᵢ` (duplicates separately), with tail length `n = N − i` and
    /// `sᵢ = Σ_{j≥i} ln xⱼ − n·ln xᵢ`:
    /// * `N ≥ 20`: `α = 1 + n/sᵢ` (the continuous MLE);
    /// * `N < 20`: only tails with `n ≥ 8` and `sᵢ > 1e-12`, with the bias-corrected
    ///   `α = 1 + (n − 1)/sᵢ`; if none qualifies, the whole sample (`i = 0`).
    ///
    /// Each candidate's Kolmogorov–Smirnov distance is `D = max_k |1 − (x_{i+k}/xᵢ)^{1−α} − k/n|`;
    /// the first candidate with the smallest `D` wins, and `σ = (α − 1)/√n`. O(N²) time, no
    /// allocation. `None` when fewer than 2 eigenvalues pass the threshold or the fit is
    /// degenerate (α not finite or ≤ 1, e.g. all eigenvalues equal — where WeightWatcher reports
    /// α = ∞ or 0). Not scale-invariant: the threshold is absolute, as in WeightWatcher.
    ///
    /// ```
    /// use mlkern::spectrum::Spectrum;
    /// // λ = (100, 1): too few values for a tail, so the whole sample: α = 1 + 1/ln 100.
    /// let s = [10.0, 1.0];
    /// let fit = Spectrum::from_sorted(&s)?.power_law().unwrap();
    /// assert!((fit.alpha - (1.0 + 1.0 / 100f64.ln())).abs() < 1e-12);
    /// assert_eq!((fit.xmin, fit.xmax), (1.0, 100.0));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn power_law(&self) -> Option<PowerLawFit> {
        let sigma = self.singular_values();
        let big = sigma.iter().take_while(|&&s| s * s > EVALS_THRESH).count();
        if big < 2 {
            return None;
        }
        // Ascending view of the eigenvalues above the threshold (sigma is descending).
        let x = |i: usize| {
            let s = sigma[big - 1 - i];
            s * s
        };
        let ln = |i: usize| Float::ln(x(i));
        let small = big < 20;
        let total_ln: f64 = (0..big).map(ln).sum();
        let ks = |i: usize, alpha: f64| {
            let n = (big - i) as f64;
            let li = ln(i);
            (0..big - i).fold(0.0f64, |d, k| {
                // (x/xmin)^(1−α); IEEE pow(1, −∞) = 1 for α = ∞.
                let ratio = if alpha.is_finite() {
                    Float::exp((1.0 - alpha) * (ln(i + k) - li))
                } else if x(i + k) == x(i) {
                    1.0
                } else {
                    0.0
                };
                d.max((1.0 - ratio - k as f64 / n).abs())
            })
        };
        let tail_sum = |i: usize, prefix: f64| {
            if x(i) == x(big - 1) {
                0.0 // the whole tail is equal: exactly 0, not rounding
            } else {
                (total_ln - prefix) - (big - i) as f64 * ln(i)
            }
        };
        // (α, D, i) of the best candidate; WeightWatcher's arrays start at α = 0, D = 1.
        let mut best = (0.0, 1.0, 0usize);
        let mut consider = |alpha: f64, d: f64, i: usize| {
            if d < best.1 {
                best = (alpha, d, i);
            }
        };
        let mut prefix = 0.0;
        let mut any = false;
        for i in 0..big - 1 {
            let n = (big - i) as f64;
            let s = tail_sum(i, prefix);
            prefix += ln(i);
            if small {
                if big - i < 8 || s <= 1e-12 {
                    continue;
                }
                let alpha = 1.0 + (n - 1.0) / s;
                consider(alpha, ks(i, alpha), i);
                any = true;
            } else {
                let alpha = 1.0 + n / s; // s = 0 gives +∞, as in WeightWatcher
                if alpha > 1.0 {
                    consider(alpha, ks(i, alpha), i);
                }
            }
        }
        if small && !any {
            let s0 = tail_sum(0, 0.0);
            if s0 > 1e-12 {
                let alpha = 1.0 + (big as f64 - 1.0) / s0;
                consider(alpha, ks(0, alpha), 0);
            }
        }
        let (alpha, d, i) = best;
        if !(alpha.is_finite() && alpha > 1.0) {
            return None;
        }
        let xmin = x(i);
        Some(PowerLawFit {
            alpha,
            xmin,
            xmax: x(big - 1),
            ks_distance: d,
            sigma: (alpha - 1.0) / Float::sqrt((big - i) as f64),
            num_spikes: sigma.iter().take_while(|&&s| s * s >= xmin).count(),
        })
    }

    /// WeightWatcher's norm metrics of the eigenvalues `λ = σ²`, with the α-dependent ones when
    /// `alpha` is given (e.g. from [`power_law`](Self::power_law)). `None` for a zero spectrum.
    /// These are logarithms of norms, so not scale-invariant by design.
    ///
    /// ```
    /// use mlkern::spectrum::Spectrum;
    /// let s = [10.0, 1.0]; // λ = (100, 1)
    /// let ww = Spectrum::from_sorted(&s)?.ww_metrics(None).unwrap();
    /// assert!((ww.log_norm - 101f64.log10()).abs() < 1e-12 && ww.log_spectral_norm == 2.0);
    /// assert_eq!((ww.matrix_rank, ww.alpha_weighted), (2, None));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
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
