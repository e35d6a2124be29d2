//! Metrics over a given spectrum (core tier: no allocation).
//!
//! A [`Spectrum`] is a borrowed, validated list of singular values in descending order. Every
//! metric works on `σᵢ/σ₁` (scale invariance is then exact up to one rounding, and `σ²` cannot
//! overflow or underflow for any finite spectrum), accumulates in f64, and returns `None` for an
//! empty or all-zero spectrum — never NaN.

use num_traits::Float;

use crate::simd::check_finite;
use crate::{Error, Result};

/// Which distribution an entropy-based metric is taken over. There is no default: the two
/// conventions differ a lot (e.g. 94.1 vs 98.5 on one matrix) and both are called "effective
/// rank (Roy & Vetterli 2007)".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Weighting {
    /// `pᵢ = σᵢ/Σσ` — Roy & Vetterli's original definition (EUSIPCO 2007).
    Sigma,
    /// `qᵢ = σᵢ²/Σσ²` — the energy form used by the Muon papers (arXiv 2509.26030, 2606.09658);
    /// equal to the eigenvalue distribution of `AᵀA` or of the covariance.
    Energy,
}

/// Which singular values count as non-zero.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum RankTol {
    /// NumPy's `matrix_rank` default: `σ > σ₁·max(M, N)·ε`, with the shape and `ε` the spectrum
    /// carries ([`Spectrum::with_shape`]; a bare spectrum uses `M = N = len`, `ε = f64::EPSILON`).
    Numpy,
    /// `σ > tol`.
    Abs(f64),
    /// `σ > tol·σ₁`.
    Rel(f64),
}

/// RankMe's `ε` (Garrido et al., ICML 2023: "suitable for float32").
pub const RANKME_EPS: f64 = 1e-7;

/// A spectrum: finite, non-negative singular values in descending order, borrowed.
///
/// ```
/// use mlkern::spectrum::{Spectrum, Weighting};
/// // σ = (3, 3, 0): two equal non-zero values → effective rank exactly 2 in both weightings.
/// let mut s = [0.0, 3.0, 3.0];
/// let sp = Spectrum::from_singular_values(&mut s)?;
/// assert_eq!(sp.singular_values(), &[3.0, 3.0, 0.0]);
/// assert!((sp.erank(Weighting::Sigma).unwrap() - 2.0).abs() < 1e-15);
/// assert_eq!(sp.numerical_rank(mlkern::spectrum::RankTol::Numpy)?, 2);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spectrum<'a> {
    sigma: &'a [f64],
    max_dim: usize,
    eps: f64,
}

/// Negative eigenvalues down to `−NEG_EIG_TOL·λ_max` are rounding (Gram products, covariance
/// accumulation) and are clamped to 0; below that the input is not a PSD spectrum.
const NEG_EIG_TOL: f64 = 1.5e-8;

impl<'a> Spectrum<'a> {
    /// Validates singular values (finite, ≥ 0) and sorts them into descending order in place.
    ///
    /// ```
    /// use mlkern::spectrum::Spectrum;
    /// let mut s = [1.0, 2.0];
    /// assert_eq!(Spectrum::from_singular_values(&mut s)?.singular_values(), &[2.0, 1.0]);
    /// assert!(Spectrum::from_singular_values(&mut [-1.0]).is_err());
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/±∞ (index in the given order), [`Error::InvalidParameter`]
    /// for a negative value.
    pub fn from_singular_values(values: &'a mut [f64]) -> Result<Self> {
        check_finite(values, "spectrum: singular values")?;
        if values.iter().any(|&v| v < 0.0) {
            return Err(Error::InvalidParameter {
                name: "spectrum: singular values",
                reason: "must be ≥ 0",
            });
        }
        values.sort_unstable_by(|a, b| b.total_cmp(a));
        Ok(Spectrum::trusted(values))
    }

    /// Converts eigenvalues of a PSD matrix (`AᵀA`, `AAᵀ`, a covariance) into the singular values
    /// `σ = √λ` in place, descending. Negative eigenvalues down to `−1.5e-8·λ_max` are treated as
    /// rounding and become 0.
    ///
    /// ```
    /// use mlkern::spectrum::{Spectrum, Weighting};
    /// let mut lambda = [4.0, 1.0, -1e-17];
    /// let sp = Spectrum::from_eigenvalues(&mut lambda)?;
    /// assert_eq!(sp.singular_values(), &[2.0, 1.0, 0.0]);
    /// // Energy weights are the eigenvalues: q = (0.8, 0.2).
    /// let h = -(0.8f64 * 0.8f64.ln() + 0.2 * 0.2f64.ln());
    /// assert!((sp.entropy(Weighting::Energy).unwrap() - h).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/±∞, [`Error::InvalidParameter`] for an eigenvalue below the
    /// rounding allowance.
    pub fn from_eigenvalues(values: &'a mut [f64]) -> Result<Self> {
        check_finite(values, "spectrum: eigenvalues")?;
        let top = values.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
        for v in values.iter_mut() {
            if *v < -NEG_EIG_TOL * top {
                return Err(Error::InvalidParameter {
                    name: "spectrum: eigenvalues",
                    reason: "must be ≥ 0 (a PSD matrix's); found a negative one beyond rounding (−1.5e-8·λ_max)",
                });
            }
            *v = Float::sqrt(v.max(0.0));
        }
        values.sort_unstable_by(|a, b| b.total_cmp(a));
        Ok(Spectrum::trusted(values))
    }

    /// Borrows singular values that are already in descending order (no copy, no mutation).
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert_eq!(sp.len(), 3);
    /// assert!(Spectrum::from_sorted(&[1.0, 2.0]).is_err()); // not descending
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_singular_values`](Self::from_singular_values); also
    /// [`Error::InvalidParameter`] when the values are not in descending order.
    pub fn from_sorted(sigma: &'a [f64]) -> Result<Self> {
        check_finite(sigma, "spectrum: singular values")?;
        if sigma.last().is_some_and(|&v| v < 0.0) {
            return Err(Error::InvalidParameter {
                name: "spectrum: singular values",
                reason: "must be ≥ 0",
            });
        }
        if sigma.windows(2).any(|w| w[0] < w[1]) {
            return Err(Error::InvalidParameter {
                name: "spectrum: singular values",
                reason: "must be in descending order (use from_singular_values to sort)",
            });
        }
        Ok(Spectrum::trusted(sigma))
    }

    /// For callers that produced descending, finite, non-negative values themselves.
    pub(crate) fn trusted(sigma: &'a [f64]) -> Self {
        Spectrum {
            sigma,
            max_dim: sigma.len(),
            eps: f64::EPSILON,
        }
    }

    /// Records the matrix shape and the machine epsilon of its dtype, for [`RankTol::Numpy`]
    /// (`max(rows, cols)·ε·σ₁`). Use `f32::EPSILON as f64` for f32 data, as NumPy does.
    pub fn with_shape(mut self, rows: usize, cols: usize, eps: f64) -> Self {
        self.max_dim = rows.max(cols);
        self.eps = eps;
        self
    }

    /// The singular values, descending.
    pub fn singular_values(&self) -> &'a [f64] {
        self.sigma
    }

    /// Number of values (zeros included).
    pub fn len(&self) -> usize {
        self.sigma.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.sigma.is_empty()
    }

    /// `σ₁`, or `None` for an empty or all-zero spectrum (where every ratio metric is undefined).
    pub fn sigma_max(&self) -> Option<f64> {
        self.sigma.first().copied().filter(|&s| s > 0.0)
    }

    /// The non-zero values scaled by `σ₁`, raised to the weighting's power (1 or 2).
    fn scaled(&self, w: Weighting) -> Option<impl Iterator<Item = f64> + '_> {
        let top = self.sigma_max()?;
        Some(self.sigma.iter().map(move |&s| {
            let x = s / top;
            match w {
                Weighting::Sigma => x,
                Weighting::Energy => x * x,
            }
        }))
    }

    /// Shannon entropy `H = −Σ rᵢ ln rᵢ` (nats) of `rᵢ = wᵢ/Σw` (`0·ln 0 = 0`), computed as
    /// `ln S − (Σ w ln w)/S` on `w = (σ/σ₁)^k`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// // Energy weights (4, 1, 1)/6.
    /// let h = -(2.0 / 3.0 * (2.0f64 / 3.0).ln() + 2.0 / 6.0 * (1.0f64 / 6.0).ln());
    /// assert!((sp.entropy(Weighting::Energy).unwrap() - h).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn entropy(&self, w: Weighting) -> Option<f64> {
        entropy_of(self.scaled(w)?)
    }

    /// Effective rank `exp(H)` (Roy & Vetterli with [`Weighting::Sigma`], the Muon papers' form
    /// with [`Weighting::Energy`]); in `[1, #non-zero]`.
    ///
    /// ```
    /// use mlkern::spectrum::{Spectrum, Weighting};
    /// let s = [2.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// let (p, q) = (2.0 / 3.0, 0.8); // σ and σ² weights of the first value
    /// let h = |x: f64| -(x * x.ln() + (1.0 - x) * (1.0 - x).ln());
    /// assert!((sp.erank(Weighting::Sigma).unwrap() - h(p).exp()).abs() < 1e-15);
    /// assert!((sp.erank(Weighting::Energy).unwrap() - h(q).exp()).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn erank(&self, w: Weighting) -> Option<f64> {
        let h = self.entropy(w)?;
        let nonzero = self.sigma.iter().filter(|&&s| s > 0.0).count() as f64;
        Some(Float::exp(h).clamp(1.0, nonzero))
    }

    /// Entropy divided by `ln n`, `n` = the number of non-zero values under `tol`, over those `n`
    /// values (the associative-memory paper's normalized SVD entropy, in `[0, 1]`); `None` when
    /// `n ≤ 1`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// let h = sp.entropy(Weighting::Energy).unwrap();
    /// let n = sp.normalized_entropy(Weighting::Energy, RankTol::Numpy)?.unwrap();
    /// assert!((n - h / 3f64.ln()).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite tolerance.
    pub fn normalized_entropy(&self, w: Weighting, tol: RankTol) -> Result<Option<f64>> {
        let n = self.numerical_rank(tol)?;
        if n <= 1 {
            return Ok(None);
        }
        let head = Spectrum::trusted(&self.sigma[..n]);
        Ok(head
            .entropy(w)
            .map(|h| (h / Float::ln(n as f64)).clamp(0.0, 1.0)))
    }

    /// Rényi effective rank `exp(ln(Σ rᵢ^α)/(1 − α))` of order `α ≥ 0` over the non-zero values:
    /// α = 0 counts them, α = 1 is [`erank`](Self::erank), α = 2 with energy weights is the
    /// participation ratio, α = ∞ (`f64::INFINITY`) is `Σw/max w` (stable rank for energy
    /// weights, nuclear ratio for σ). Non-increasing in α.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// let count = sp.renyi_erank(0.0, Weighting::Sigma)?.unwrap(); // counts the non-zero values
    /// assert!((count - 3.0).abs() < 1e-12);
    /// let pr = sp.renyi_erank(2.0, Weighting::Energy)?.unwrap();
    /// assert!((pr - sp.participation_ratio().unwrap()).abs() < 1e-12);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or NaN `alpha`.
    pub fn renyi_erank(&self, alpha: f64, w: Weighting) -> Result<Option<f64>> {
        if alpha.is_nan() || alpha < 0.0 {
            return Err(Error::InvalidParameter {
                name: "renyi_erank: alpha",
                reason: "must be ≥ 0 (f64::INFINITY allowed)",
            });
        }
        let Some(ws) = self.scaled(w) else {
            return Ok(None);
        };
        let nonzero = self.sigma.iter().filter(|&&s| s > 0.0).count() as f64;
        if alpha == 1.0 {
            return Ok(self.erank(w));
        }
        if alpha == 0.0 {
            return Ok(Some(nonzero));
        }
        let (s, sa) = ws
            .filter(|&x| x > 0.0)
            .fold((0.0, 0.0), |(s, sa), x| (s + x, sa + Float::powf(x, alpha)));
        if alpha.is_infinite() {
            return Ok(Some(s.clamp(1.0, nonzero))); // max w = 1 after scaling
        }
        // Σ (w/S)^α = S^{−α}·Σ w^α; the w ≤ 1 keep w^α in range for every α.
        let v = Float::exp((Float::ln(sa) - alpha * Float::ln(s)) / (1.0 - alpha));
        Ok(Some(v.clamp(1.0, nonzero)))
    }

    /// Stable rank `Σσ²/σ₁² = ‖A‖_F²/‖A‖₂²`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert_eq!(sp.stable_rank(), Some(1.5)); // (4 + 1 + 1)/4
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn stable_rank(&self) -> Option<f64> {
        Some(self.scaled(Weighting::Energy)?.sum())
    }

    /// Participation ratio `(Σλ)²/Σλ²` with `λ = σ²`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert_eq!(sp.participation_ratio(), Some(2.0)); // 6²/(16 + 1 + 1)
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn participation_ratio(&self) -> Option<f64> {
        let (s, s2) = self
            .scaled(Weighting::Energy)?
            .fold((0.0, 0.0), |(s, s2), l| (s + l, s2 + l * l));
        Some(s * s / s2)
    }

    /// Nuclear ratio `Σσ/σ₁ = ‖A‖_*/‖A‖₂`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert_eq!(sp.nuclear_ratio(), Some(2.0)); // (2 + 1 + 1)/2
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn nuclear_ratio(&self) -> Option<f64> {
        Some(self.scaled(Weighting::Sigma)?.sum())
    }

    /// Number of values above the tolerance (strict `>`, as NumPy and PyTorch).
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert_eq!(sp.numerical_rank(RankTol::Numpy)?, 3);
    /// assert_eq!(sp.numerical_rank(RankTol::Rel(0.6))?, 1);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite tolerance.
    pub fn numerical_rank(&self, tol: RankTol) -> Result<usize> {
        let top = self.sigma.first().copied().unwrap_or(0.0);
        let threshold = match tol {
            RankTol::Numpy => top * self.max_dim as f64 * self.eps,
            RankTol::Abs(t) => checked_tol(t)?,
            RankTol::Rel(r) => checked_tol(r)? * top,
        };
        // Descending: the count is the first index at or below the threshold.
        Ok(self.sigma.partition_point(|&s| s > threshold))
    }

    /// Fraction of the energy in the top `k` values, `Σ_{i≤k} σᵢ²/Σσ²`.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// assert!((sp.top_k_energy(1).unwrap() - 4.0 / 6.0).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn top_k_energy(&self, k: usize) -> Option<f64> {
        let ws = self.scaled(Weighting::Energy)?;
        let (head, all) = ws.enumerate().fold((0.0, 0.0), |(h, a), (i, l)| {
            (if i < k { h + l } else { h }, a + l)
        });
        Some(head / all)
    }

    /// Ratio of the `hi` and `lo` quantiles (in `[0, 1]`; 0.75 and 0.25 for the paper's
    /// `Q₇₅/Q₂₅`) of the eigenvalues `σ²` of the values that are non-zero under
    /// [`RankTol::Numpy`], with NumPy's default linear interpolation. `f64::INFINITY` when the
    /// `lo` quantile is 0 (it cannot be for non-zero values, but a caller's `lo = 0` on a
    /// one-value spectrum…); `None` without non-zero values.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// // Eigenvalues (1, 1, 4): Q₇₅ = 2.5, Q₂₅ = 1 (NumPy's linear interpolation).
    /// assert!((sp.quantile_ratio(0.75, 0.25)?.unwrap() - 2.5).abs() < 1e-12);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a quantile outside `[0, 1]`.
    pub fn quantile_ratio(&self, hi: f64, lo: f64) -> Result<Option<f64>> {
        for q in [hi, lo] {
            if !(0.0..=1.0).contains(&q) {
                return Err(Error::InvalidParameter {
                    name: "quantile_ratio: quantile",
                    reason: "must be in [0, 1]",
                });
            }
        }
        let n = self.numerical_rank(RankTol::Numpy)?;
        let Some(top) = self.sigma_max().filter(|_| n > 0) else {
            return Ok(None);
        };
        let lambda = |asc: usize| {
            let x = self.sigma[n - 1 - asc] / top;
            x * x
        };
        let quantile = |q: f64| {
            let pos = q * (n - 1) as f64;
            let i = Float::floor(pos) as usize;
            let frac = pos - i as f64;
            let lo_v = lambda(i);
            if i + 1 < n {
                lo_v + frac * (lambda(i + 1) - lo_v)
            } else {
                lo_v
            }
        };
        let (qh, ql) = (quantile(hi), quantile(lo));
        Ok(Some(if ql == 0.0 { f64::INFINITY } else { qh / ql }))
    }

    /// RankMe (Garrido et al., ICML 2023): `exp(−Σ pᵢ ln pᵢ)` with `pᵢ = σᵢ/Σσ + eps` over all
    /// values ([`RANKME_EPS`] = 1e-7 in the paper). A parity metric: with `eps > 0` the `p` do
    /// not sum to 1, so it can leave `[1, rank]` slightly (a 1×1 spectrum gives 0.9999999).
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// // p = (1/2, 1/4, 1/4) without eps: exp(H) = 2^1.5.
    /// assert!((sp.rankme(0.0)?.unwrap() - 2f64.powf(1.5)).abs() < 1e-12);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `eps`.
    pub fn rankme(&self, eps: f64) -> Result<Option<f64>> {
        let eps = checked_tol(eps)?;
        let Some(ws) = self.scaled(Weighting::Sigma) else {
            return Ok(None);
        };
        let total: f64 = ws.sum();
        let h: f64 = self
            .sigma
            .iter()
            .map(|&s| {
                let p = s / self.sigma[0] / total + eps;
                if p > 0.0 { -p * Float::ln(p) } else { 0.0 }
            })
            .sum();
        Ok(Some(Float::exp(h)))
    }

    /// The four isotropy metrics of the associative-memory paper (arXiv 2509.26030) over the `n`
    /// values that are non-zero under [`RankTol::Numpy`]: normalized energy entropy, energy
    /// effective rank, top-`k` energy and `Q₇₅/Q₂₅` of the eigenvalues. `None` for a zero spectrum.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// let iso = sp.isotropy(1).unwrap();
    /// assert!((iso.top_k_energy - 4.0 / 6.0).abs() < 1e-15 && (iso.quantile_ratio - 2.5).abs() < 1e-12);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn isotropy(&self, k: usize) -> Option<Isotropy> {
        let n = self.numerical_rank(RankTol::Numpy).ok()?;
        let head = Spectrum::trusted(&self.sigma[..n]).with_shape(self.max_dim, 1, self.eps);
        Some(Isotropy {
            normalized_entropy: self
                .normalized_entropy(Weighting::Energy, RankTol::Numpy)
                .ok()?,
            erank: head.erank(Weighting::Energy)?,
            top_k_energy: head.top_k_energy(k)?,
            quantile_ratio: self.quantile_ratio(0.75, 0.25).ok()??,
        })
    }

    /// The metric set the CLI reports, from one pass over the values (one logarithm each) plus
    /// RankMe's pass.
    ///
    /// ```
    /// use mlkern::spectrum::{RankTol, Spectrum, Weighting};
    /// let s = [2.0, 1.0, 1.0];
    /// let sp = Spectrum::from_sorted(&s)?;
    /// let summary = sp.summary().unwrap();
    /// assert_eq!(summary.numerical_rank, 3);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn summary(&self) -> Option<Summary> {
        let top = self.sigma_max()?;
        let (mut s1, mut s1l, mut s2, mut s2l, mut s4) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut nonzero = 0usize;
        for &v in self.sigma {
            let x = v / top;
            if x > 0.0 {
                let l = Float::ln(x);
                let x2 = x * x;
                s1 += x;
                s1l += x * l;
                s2 += x2;
                s2l += 2.0 * x2 * l;
                s4 += x2 * x2;
                nonzero += 1;
            }
        }
        let n = nonzero as f64;
        let entropy_sigma = (Float::ln(s1) - s1l / s1).max(0.0);
        let entropy_energy = (Float::ln(s2) - s2l / s2).max(0.0);
        Some(Summary {
            erank_sigma: Float::exp(entropy_sigma).clamp(1.0, n),
            erank_energy: Float::exp(entropy_energy).clamp(1.0, n),
            entropy_sigma,
            entropy_energy,
            stable_rank: s2,
            participation_ratio: s2 * s2 / s4,
            nuclear_ratio: s1,
            numerical_rank: self.numerical_rank(RankTol::Numpy).ok()?,
            rankme: self.rankme(RANKME_EPS).ok()??,
        })
    }
}

/// The associative-memory paper's isotropy metrics ([`Spectrum::isotropy`]); larger entropy and
/// effective rank, smaller top-k energy and quantile ratio mean "more isotropic".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Isotropy {
    /// Energy entropy over `ln n` (`None` when `n = 1`).
    pub normalized_entropy: Option<f64>,
    /// Energy effective rank.
    pub erank: f64,
    /// Top-k energy fraction.
    pub top_k_energy: f64,
    /// `Q₇₅/Q₂₅` of the eigenvalues.
    pub quantile_ratio: f64,
}

/// The metrics of [`Spectrum::summary`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Roy–Vetterli effective rank (σ weights).
    pub erank_sigma: f64,
    /// Energy effective rank (σ² weights).
    pub erank_energy: f64,
    /// Entropy of the σ weights, nats.
    pub entropy_sigma: f64,
    /// Entropy of the σ² weights, nats.
    pub entropy_energy: f64,
    /// `Σσ²/σ₁²`.
    pub stable_rank: f64,
    /// `(Σσ²)²/Σσ⁴`.
    pub participation_ratio: f64,
    /// `Σσ/σ₁`.
    pub nuclear_ratio: f64,
    /// Count of `σ > σ₁·max(M, N)·ε` (NumPy's rule).
    pub numerical_rank: usize,
    /// RankMe with `ε = 1e-7`.
    pub rankme: f64,
}

fn checked_tol(t: f64) -> Result<f64> {
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err(Error::InvalidParameter {
            name: "spectrum: tolerance",
            reason: "must be finite and ≥ 0",
        })
    }
}

/// `ln S − (Σ w ln w)/S` over the positive `w`.
fn entropy_of(ws: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, wl) = ws
        .filter(|&w| w > 0.0)
        .fold((0.0, 0.0), |(s, wl), w| (s + w, wl + w * Float::ln(w)));
    if s > 0.0 {
        Some((Float::ln(s) - wl / s).max(0.0))
    } else {
        None
    }
}
