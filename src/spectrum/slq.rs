//! Spectral sums with confidence intervals by stochastic Lanczos quadrature (SLQ): effective
//! ranks, participation ratio, nuclear ratio and RankMe of a covariance or Gram operator at
//! widths where the exact spectrum costs seconds to minutes.
//!
//! The estimator of `tr f(C)` (all sums on `C/tr C`, whose eigenvalues lie in `[0, 1]`):
//! 1. **Deflation.** The top Ritz pairs of a block Krylov run ([`top_eigenvalues`]) whose
//!    residuals meet the tolerance are summed exactly, `Σ f(θᵢ)`; the probes only see the
//!    orthogonal complement `C⊥`. On the decaying spectra of trained networks the few largest
//!    eigenvalues carry most of the variance of Hutchinson's estimator.
//! 2. **Probes.** Seeded Rademacher vectors projected onto the complement, one Lanczos run
//!    each (full reorthogonalization, all probes of a batch multiplied as one block), giving
//!    per probe a Gauss and a Gauss–Radau (node at 0) quadrature of `zᵀf(C⊥)z`.
//! 3. **Control variate.** `xᵢ = zᵢᵀC⊥zᵢ − tr C⊥` has mean 0 exactly (the trace is known), so
//!    each sum regresses its per-probe values on `xᵢ` (Lavenberg–Welch).
//! 4. **Interval.** The quadrature bias is bracketed by the two rules (Gauss ≤ exact ≤ Radau for
//!    `x ln x`, reversed for `√x`); the statistical error is a Student-t interval on the
//!    jackknife standard error over probes. The reported interval is
//!    `[min(Gauss, Radau) − t·se, max(Gauss, Radau) + t·se]`.
//!
//! Probes are added in batches until every interval's statistical half-width (`t·se`) is
//! within `rtol` of its value; the Lanczos depth grows on the first batch (up to `max_steps`)
//! until the bracket's half-width is within `rtol/2`. The reported half-width is the sum of
//! the two, so ≈ 1.5·`rtol` at most when both limits bind.
//!
//! [`top_eigenvalues`]: super::top_eigenvalues

use alloc::vec::Vec;

use faer::{MatMut, MatRef};
use num_traits::Float;

use super::interval::{jackknife_se, t_quantile};
use super::krylov::{Rule, Stream, axpy, dot, gauss_radau, project_out, rademacher};
use super::metrics::RANKME_EPS;
use super::operator::SymOperator;
use super::topk::{TopKConfig, block_krylov};
use crate::base::{mul_pow2, zeros};
use crate::{Error, Par, Result};

/// Options of [`estimate`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SlqConfig {
    /// Seed of the probes and the deflation block (default 0).
    pub seed: u64,
    /// Target relative half-width of every interval (default 0.01).
    pub rtol: f64,
    /// Confidence level of the intervals (default 0.95).
    pub confidence: f64,
    /// Probes before the first stopping check (default 16).
    pub min_probes: usize,
    /// At most this many probes (default 128).
    pub max_probes: usize,
    /// Probes multiplied together as one block (default 16: wide enough that the products
    /// are compute-bound, not bound by reading the data).
    pub batch: usize,
    /// Initial Lanczos steps per probe (default 16).
    pub steps: usize,
    /// At most this many Lanczos steps per probe (default 64).
    pub max_steps: usize,
    /// Largest eigenpairs to deflate exactly (default 32; 0 turns deflation off).
    pub deflate: usize,
    /// Krylov blocks (of `max(deflate/2, 8)` vectors) spent on the deflation (default 12).
    pub deflate_blocks: usize,
    /// The `eps` of RankMe (default [`RANKME_EPS`]).
    pub rankme_eps: f64,
    /// Let only the energy-weighted metrics (entropy, effective rank, participation ratio)
    /// drive the depth and the probe count (default false). The σ-weighted ones (σ-erank,
    /// nuclear ratio, RankMe) need `√x` quadrature, which converges in ≈ √κ Lanczos steps on
    /// spectra spread over κ orders: with this set they are still reported, with honest but
    /// wider intervals, at a fraction of the cost.
    pub energy_only: bool,
}

impl Default for SlqConfig {
    fn default() -> Self {
        SlqConfig {
            seed: 0,
            rtol: 0.01,
            confidence: 0.95,
            min_probes: 16,
            max_probes: 128,
            batch: 16,
            steps: 16,
            max_steps: 64,
            deflate: 32,
            deflate_blocks: 12,
            rankme_eps: RANKME_EPS,
            energy_only: false,
        }
    }
}

impl SlqConfig {
    /// The same with this seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same with a fixed probe count (`min_probes = max_probes = probes`).
    pub fn with_probes(mut self, probes: usize) -> Self {
        self.min_probes = probes;
        self.max_probes = probes;
        self
    }

    /// The same with a fixed Lanczos depth (`steps = max_steps = steps`).
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self.max_steps = steps;
        self
    }

    /// The same with this many eigenpairs deflated (0: none).
    pub fn with_deflate(mut self, deflate: usize) -> Self {
        self.deflate = deflate;
        self
    }

    /// The same with [`energy_only`](Self::energy_only) set.
    pub fn with_energy_only(mut self, energy_only: bool) -> Self {
        self.energy_only = energy_only;
        self
    }

    /// Whether metric `m` (in [`METRICS`] order) steers the depth and the probe count.
    fn steers(&self, m: usize) -> bool {
        !self.energy_only || ENERGY.contains(&m)
    }

    /// The same with this target relative half-width.
    pub fn with_rtol(mut self, rtol: f64) -> Self {
        self.rtol = rtol;
        self
    }

    fn check(&self) -> Result<()> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        if !(self.rtol > 0.0 && self.rtol.is_finite()) {
            return bad("rtol", "must be positive and finite");
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence", "must lie in (0, 1)");
        }
        if self.min_probes < 3 || self.max_probes < self.min_probes {
            return bad("probes", "need 3 ≤ min_probes ≤ max_probes");
        }
        if self.batch == 0 {
            return bad("batch", "must be at least 1");
        }
        if self.steps < 2 || self.max_steps < self.steps {
            return bad("steps", "need 2 ≤ steps ≤ max_steps");
        }
        if self.deflate > 0 && self.deflate_blocks == 0 {
            return bad("deflate_blocks", "must be at least 1 when deflating");
        }
        if !(self.rankme_eps >= 0.0 && self.rankme_eps.is_finite()) {
            return bad("rankme_eps", "must be finite and non-negative");
        }
        Ok(())
    }
}

/// A value with a confidence interval `lo ≤ value ≤ hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
}

impl Estimate {
    fn exact(v: f64) -> Self {
        Estimate {
            value: v,
            lo: v,
            hi: v,
        }
    }

    /// `hi − lo` over twice the value: the relative half-width.
    pub fn rel_half_width(&self) -> f64 {
        0.5 * (self.hi - self.lo) / self.value.abs()
    }

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// The estimated metrics (same definitions as [`Spectrum`](super::Spectrum)'s, with
/// `λ = σ²` the operator's eigenvalues) and what it cost.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SlqReport {
    /// Energy-weighted spectral entropy `−Σ pᵢ ln pᵢ`, `pᵢ = λᵢ/Σλ` (nats).
    pub entropy: Estimate,
    /// Energy effective rank `exp(entropy)` ([`Weighting::Energy`](super::Weighting)).
    pub erank: Estimate,
    /// σ-weighted effective rank (Roy & Vetterli; [`Weighting::Sigma`](super::Weighting)).
    pub sigma_erank: Estimate,
    /// Stable rank `Σλ/λ_max` (from [`lambda_max`](Self::lambda_max)).
    pub stable_rank: Estimate,
    /// Participation ratio `(Σλ)²/Σλ²`.
    pub participation_ratio: Estimate,
    /// Nuclear ratio `Σσ/σ₁`.
    pub nuclear_ratio: Estimate,
    /// RankMe with [`SlqConfig::rankme_eps`] over the operator's `d` eigenvalues.
    pub rankme: Estimate,
    /// The largest eigenvalue: the best Ritz value (block Krylov or any probe's Lanczos run) as
    /// value and lower end, `θ₁ + r₁` above (see [`TopK::values`](super::TopK)).
    pub lambda_max: Estimate,
    /// `tr C = Σλ` (exact).
    pub trace: f64,
    /// The operator's order `d`.
    pub dim: usize,
    /// Probes used.
    pub probes: usize,
    /// Lanczos steps per probe.
    pub steps: usize,
    /// Eigenpairs deflated exactly.
    pub deflated: usize,
    /// Operator products (vectors multiplied), deflation included.
    pub products: usize,
}

/// One probe's quadratures.
struct Sample {
    /// `‖z⊥‖²`.
    norm2: f64,
    /// `(zᵢᵀC⊥zᵢ − tr C⊥)/tr C`: the control variate, mean 0 exactly.
    cv: f64,
    gauss: Rule,
    radau: Rule,
}

/// Lanczos runs of one batch of probes, extendable.
struct Batch {
    d: usize,
    /// Per probe: its basis vectors, `d` each.
    basis: Vec<Vec<f64>>,
    alpha: Vec<Vec<f64>>,
    beta: Vec<Vec<f64>>,
    done: Vec<bool>,
    norm2: Vec<f64>,
}

impl Batch {
    fn new(d: usize, first: usize, count: usize, seed: u64, defl: &[f64]) -> Result<Self> {
        let mut b = Batch {
            d,
            basis: Vec::new(),
            alpha: Vec::new(),
            beta: Vec::new(),
            done: Vec::new(),
            norm2: Vec::new(),
        };
        for p in first..first + count {
            let mut z = zeros(d, "probe")?;
            rademacher(seed, Stream::Probe, p as u64, &mut z);
            project_out(defl, d, &mut z);
            let n2 = dot(&z, &z);
            let done = n2.is_nan() || n2 <= 0.0;
            if !done {
                let inv = 1.0 / Float::sqrt(n2);
                z.iter_mut().for_each(|v| *v *= inv);
            }
            b.basis.push(z);
            b.alpha.push(Vec::new());
            b.beta.push(Vec::new());
            b.done.push(done);
            b.norm2.push(n2);
        }
        Ok(b)
    }

    /// Runs every unfinished probe to `steps` Lanczos steps (α₁…α_steps and β₁…β_steps).
    fn run(
        &mut self,
        op: &dyn SymOperator,
        steps: usize,
        defl: &[f64],
        scale: f64,
        par: Par,
    ) -> Result<()> {
        let d = self.d;
        loop {
            let active: Vec<usize> = (0..self.basis.len())
                .filter(|&i| !self.done[i] && self.alpha[i].len() < steps)
                .collect();
            if active.is_empty() {
                return Ok(());
            }
            let mut q = zeros::<f64>(d * active.len(), "Lanczos block")?;
            for (c, &i) in active.iter().enumerate() {
                let j = self.alpha[i].len();
                q[c * d..(c + 1) * d].copy_from_slice(&self.basis[i][j * d..(j + 1) * d]);
            }
            let mut w = zeros::<f64>(d * active.len(), "Lanczos block")?;
            op.apply(
                MatRef::from_column_major_slice(&q, d, active.len()),
                MatMut::from_column_major_slice_mut(&mut w, d, active.len()),
                par,
            );
            for (c, &i) in active.iter().enumerate() {
                let w = &mut w[c * d..(c + 1) * d];
                if let Some(k) = w.iter().position(|v| !v.is_finite()) {
                    return Err(Error::NonFinite {
                        what: "operator product",
                        index: k,
                    });
                }
                let j = self.alpha[i].len();
                let qj = &self.basis[i][j * d..(j + 1) * d];
                let a = dot(qj, w);
                axpy(-a, qj, w);
                if j > 0 {
                    let prev = &self.basis[i][(j - 1) * d..j * d];
                    axpy(-self.beta[i][j - 1], prev, w);
                }
                project_out(defl, d, w);
                project_out(&self.basis[i], d, w);
                let b = Float::sqrt(dot(w, w));
                self.alpha[i].push(a);
                self.beta[i].push(b);
                if b.is_nan() || b <= 1e-12 * scale {
                    // The Krylov space is invariant: the quadrature is exact from here on.
                    self.beta[i][j] = 0.0;
                    self.done[i] = true;
                } else {
                    // Kept even after the last step, so that the run can be extended.
                    let inv = 1.0 / b;
                    self.basis[i].extend(w.iter().map(|v| v * inv));
                }
            }
        }
    }

    /// The quadratures of every probe; `trace_perp` and `total` are `tr C⊥` and `tr C`.
    fn samples(&self, trace_perp: f64, total: f64) -> Result<Vec<Sample>> {
        let mut out = Vec::new();
        for i in 0..self.basis.len() {
            if self.alpha[i].is_empty() {
                // A probe with nothing left after deflation: contributes zero.
                out.push(Sample {
                    norm2: 0.0,
                    cv: -trace_perp / total,
                    gauss: Rule::default(),
                    radau: Rule::default(),
                });
                continue;
            }
            let (a, b) = (&self.alpha[i], &self.beta[i]);
            let k = a.len();
            let (mut g, mut r) = gauss_radau(a, &b[..k - 1], b[k - 1])?;
            // Nodes on C/tr C, whose eigenvalues lie in [0, 1].
            for rule in [&mut g, &mut r] {
                rule.nodes.iter_mut().for_each(|x| *x /= total);
            }
            out.push(Sample {
                norm2: self.norm2[i],
                cv: (self.norm2[i] * a[0] - trace_perp) / total,
                gauss: g,
                radau: r,
            });
        }
        Ok(out)
    }
}

/// Which quadrature rule of each probe a metric evaluation uses.
#[derive(Clone, Copy, PartialEq)]
enum Which {
    Gauss,
    Radau,
}

/// What the metrics need besides the probes: the normalized deflated values.
struct Fixed<'a> {
    /// Deflated Ritz values over `tr C`.
    defl: &'a [f64],
    rankme_eps: f64,
}

/// `x ln x` with the limit 0 at 0.
fn xlnx(x: f64) -> f64 {
    if x > 0.0 { x * Float::ln(x) } else { 0.0 }
}

/// `√x ln x` with the limit 0 at 0.
fn sqrt_lnx(x: f64) -> f64 {
    if x > 0.0 {
        Float::sqrt(x) * Float::ln(x)
    } else {
        0.0
    }
}

/// `tr f(C/tr C)`: the deflated part exactly plus the control-variate-adjusted probe mean over
/// the samples except `skip`.
fn trace_of(
    samples: &[Sample],
    skip: Option<usize>,
    which: Which,
    fx: &Fixed<'_>,
    f: &dyn Fn(f64) -> f64,
) -> f64 {
    let exact: f64 = fx.defl.iter().map(|&t| f(t)).sum();
    let mut ys = Vec::with_capacity(samples.len());
    let mut xs = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        let rule = if which == Which::Gauss {
            &s.gauss
        } else {
            &s.radau
        };
        ys.push(s.norm2 * rule.apply(|x| f(x.max(0.0))));
        xs.push(s.cv);
    }
    let n = ys.len();
    if n == 0 {
        return exact;
    }
    let (ym, xm) = (mean(&ys), mean(&xs));
    let sxx: f64 = xs.iter().map(|x| (x - xm) * (x - xm)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - xm) * (y - ym)).sum();
    let slope = if sxx > 0.0 && n > 2 { sxy / sxx } else { 0.0 };
    exact + ym - slope * xm
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Number of probe-estimated quantities: entropy, erank, σ-erank, participation ratio,
/// `tr √(C/tr C)` (the nuclear ratio's numerator), RankMe.
const METRICS: usize = 6;

/// The energy-weighted ones among them: entropy, erank, participation ratio.
const ENERGY: [usize; 3] = [0, 1, 3];

/// The metrics from the samples except `skip`, with one rule.
fn metrics(
    samples: &[Sample],
    skip: Option<usize>,
    which: Which,
    fx: &Fixed<'_>,
) -> [f64; METRICS] {
    let ent = -trace_of(samples, skip, which, fx, &xlnx);
    let sq = trace_of(samples, skip, which, fx, &|x| x * x);
    let s = trace_of(samples, skip, which, fx, &|x: f64| Float::sqrt(x));
    let sl = trace_of(samples, skip, which, fx, &sqrt_lnx);
    // σ-weighted entropy: pᵢ = √λᵢ/S ⇒ H = ln S − Σ√λ ln √λ / S.
    let h_sigma = Float::ln(s) - 0.5 * sl / s;
    let eps = fx.rankme_eps;
    let rm = trace_of(samples, skip, which, fx, &|x: f64| {
        let p = Float::sqrt(x) / s + eps;
        if p > 0.0 { -p * Float::ln(p) } else { 0.0 }
    });
    // RankMe counts K = min(n, p) values, exactly the operator's d: the probes see every one,
    // zeros included (each adds −ε ln ε).
    [
        ent,
        Float::exp(ent),
        Float::exp(h_sigma),
        1.0 / sq,
        s,
        Float::exp(rm),
    ]
}

/// Point values and intervals of the probe metrics, and the statistical half-widths `t·se`.
fn intervals(
    samples: &[Sample],
    fx: &Fixed<'_>,
    confidence: f64,
) -> ([Estimate; METRICS], [f64; METRICS]) {
    let g = metrics(samples, None, Which::Gauss, fx);
    let r = metrics(samples, None, Which::Radau, fx);
    let n = samples.len();
    let mut loo: Vec<[f64; METRICS]> = Vec::with_capacity(n);
    if n >= 3 {
        for i in 0..n {
            let a = metrics(samples, Some(i), Which::Gauss, fx);
            let b = metrics(samples, Some(i), Which::Radau, fx);
            loo.push(core::array::from_fn(|m| 0.5 * (a[m] + b[m])));
        }
    }
    let t = t_quantile(0.5 + 0.5 * confidence, n.saturating_sub(2).max(1));
    let half: [f64; METRICS] = core::array::from_fn(|m| {
        let col: Vec<f64> = loo.iter().map(|v| v[m]).collect();
        if n >= 3 { t * jackknife_se(&col) } else { 0.0 }
    });
    let est = core::array::from_fn(|m| Estimate {
        value: 0.5 * (g[m] + r[m]),
        lo: g[m].min(r[m]) - half[m],
        hi: g[m].max(r[m]) + half[m],
    });
    (est, half)
}

/// Estimates the spectral metrics of a symmetric positive semidefinite operator (a covariance
/// or Gram matrix, formed or not) with confidence intervals, by stochastic Lanczos quadrature
/// with deflation and a control variate: the top eigenpairs that converge in a block Krylov
/// run are summed exactly; seeded Rademacher probes on the rest each give a Gauss and a
/// Gauss–Radau (node 0) quadrature, which bracket the quadrature bias; `zᵀCz − tr C`
/// (known mean 0) is regressed out; the interval adds a Student-t half-width on the jackknife
/// error over probes to the bracket. Probes and Lanczos depth grow until every steering metric
/// is within [`SlqConfig::rtol`] (see [`SlqConfig::energy_only`]).
/// Deterministic for a given seed: the probes are counter-based and every product is tiled
/// independently of `par`, so any thread count gives the same bits.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout};
/// use mlkern::spectrum::{estimate, singular_values, GramOperator, SlqConfig, SpectrumConfig,
///                        Centering, Method, Weighting};
/// // 400 samples of a 120-dimensional signal with a decaying spectrum.
/// let (n, p) = (400, 120);
/// let x: Vec<f64> = (0..n * p)
///     .map(|k| { let (i, j) = (k / p, k % p); ((i * 7919 + j * 104729) % 1009) as f64 / 1009.0 - 0.5 })
///     .enumerate().map(|(k, v)| v / (1.0 + (k % p) as f64).sqrt()).collect();
/// let xv = view(&x, n, p, Layout::RowMajor)?;
/// let report = estimate(&GramOperator::new(xv, true)?, &SlqConfig::default(), Par::Seq)?;
/// let exact = singular_values(xv, &SpectrumConfig::new(Centering::ColumnMean, Method::Svd), Par::Seq)?;
/// let erank = exact.spectrum().erank(Weighting::Energy).unwrap();
/// assert!((report.erank.value / erank - 1.0).abs() < 0.02);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for an invalid configuration, or when the operator turns out
/// not to be positive semidefinite (a quadrature node below `−10⁻³·λ_max`); [`Error::Empty`]
/// for an operator of order 0; [`Error::Degenerate`] when its trace is 0 (every metric is
/// undefined); [`Error::NonFinite`] when its products or trace are not finite;
/// [`Error::NoConvergence`] if a projected eigenproblem fails.
pub fn estimate(op: &dyn SymOperator, cfg: &SlqConfig, par: Par) -> Result<SlqReport> {
    cfg.check()?;
    let d = op.dim();
    if d == 0 {
        return Err(Error::Empty {
            what: "spectrum estimate: operator of order 0",
        });
    }
    let total = op.trace();
    if !total.is_finite() {
        return Err(Error::NonFinite {
            what: "operator trace",
            index: 0,
        });
    }
    if total <= 0.0 {
        return Err(Error::Degenerate {
            what: "spectrum estimate: the operator's trace is not positive (zero matrix)",
            index: 0,
        });
    }
    // Deflation (and λ_max, which stable rank and the nuclear ratio need in any case).
    let k = cfg.deflate.clamp(1, d);
    let tcfg = TopKConfig {
        k,
        block: (k / 2).max(8),
        tol: None,
        max_blocks: cfg.deflate_blocks.max(1),
        seed: cfg.seed,
        vectors: true,
    };
    let tol = if op.epsilon() > 1e-10 { 1e-4 } else { 1e-6 };
    let ritz = block_krylov(op, k, &tcfg, tol, par)?;
    let theta1 = ritz.values[0];
    let r1 = ritz.residuals[0];
    if theta1.is_nan() || theta1 <= 0.0 {
        return Err(Error::Degenerate {
            what: "spectrum estimate: no positive eigenvalue found",
            index: 0,
        });
    }
    let kept = if cfg.deflate == 0 {
        0
    } else if ritz.converged && ritz.products >= d {
        ritz.values.len()
    } else {
        ritz.residuals
            .iter()
            .take_while(|&&r| r <= tol * theta1)
            .count()
    };
    let mut defl = zeros::<f64>(d * kept, "deflation basis")?;
    for c in 0..kept {
        for i in 0..d {
            defl[c * d + i] = ritz.vectors[(i, c)];
        }
    }
    let defl_vals: Vec<f64> = ritz.values[..kept]
        .iter()
        .map(|&t| t.max(0.0) / total)
        .collect();
    let trace_perp = total - ritz.values[..kept].iter().sum::<f64>();
    let fx = Fixed {
        defl: &defl_vals,
        rankme_eps: cfg.rankme_eps,
    };
    let scale = op.scale_log2();
    let mut products = ritz.products;
    let mut samples: Vec<Sample> = Vec::new();
    let mut steps = cfg.steps.min(d);
    let full = kept >= d;
    let mut est = [Estimate::exact(0.0); METRICS];
    if full {
        est = intervals(&[], &fx, cfg.confidence).0;
    } else {
        let mut first = true;
        while samples.len() < cfg.max_probes {
            let count = cfg.batch.min(cfg.max_probes - samples.len());
            let mut batch = Batch::new(d, samples.len(), count, cfg.seed, &defl)?;
            loop {
                batch.run(op, steps, &defl, theta1, par)?;
                if !first || steps >= cfg.max_steps.min(d) {
                    break;
                }
                // The first batch sets the depth: deepen until the quadrature bracket's
                // half-width is within rtol/2 of the value.
                let s = batch.samples(trace_perp, total)?;
                let (g, r) = (
                    metrics(&s, None, Which::Gauss, &fx),
                    metrics(&s, None, Which::Radau, &fx),
                );
                let gap = (0..METRICS)
                    .filter(|&m| cfg.steers(m))
                    .map(|m| (g[m] - r[m]).abs() / (0.5 * (g[m] + r[m])).abs())
                    .fold(0.0, f64::max);
                if gap.is_nan() || gap <= cfg.rtol {
                    break;
                }
                steps = (steps + 8).min(cfg.max_steps).min(d);
            }
            first = false;
            products += batch.alpha.iter().map(Vec::len).sum::<usize>();
            samples.extend(batch.samples(trace_perp, total)?);
            check_psd(&samples, theta1 / total)?;
            if samples.len() >= cfg.min_probes {
                let (e, stat) = intervals(&samples, &fx, cfg.confidence);
                est = e;
                // More probes only shrink the statistical part: stop once it is within rtol
                // (the bracket's part was settled by the depth).
                if (0..METRICS)
                    .filter(|&m| cfg.steers(m))
                    .all(|m| stat[m] <= cfg.rtol * est[m].value.abs())
                {
                    break;
                }
            }
        }
        if samples.len() < cfg.min_probes {
            est = intervals(&samples, &fx, cfg.confidence).0;
        }
    }
    let [entropy, erank, sigma_erank, pr, root, rankme] = est;
    // λ_max: every Ritz value is a lower bound — θ₁ of the block Krylov run, and the largest
    // Gauss node of every probe's Lanczos run (a Ritz value of C⊥, whose eigenvalues are at most
    // λ_max), often the better one when the top of the spectrum is clustered. Above: θ₁ + r₁,
    // the residual bound, valid when the eigenvalue within r₁ of θ₁ is the largest (the case
    // once the Krylov space has found the top direction). The slack covers the rounding of the
    // products and of the trace (≈ √d·ε relative).
    let probe_top = samples
        .iter()
        .flat_map(|s| s.gauss.nodes.last())
        .fold(0.0f64, |a, &b| a.max(b))
        * total;
    let low = theta1.max(probe_top);
    let high = (theta1 + r1).max(low);
    let slack = 32.0 * op.epsilon() * Float::sqrt(d as f64);
    let stable = Estimate {
        value: total / low,
        lo: total / high * (1.0 - slack),
        hi: total / low * (1.0 + slack),
    };
    let lambda_max = Estimate {
        value: mul_pow2(low, scale),
        lo: mul_pow2(low * (1.0 - slack), scale),
        hi: mul_pow2(high * (1.0 + slack), scale),
    };
    // Nuclear ratio Σσ/σ₁ = tr √(C/T) / √(λ_max/T), with both intervals.
    let (top_lo, top_hi) = (low / total, high / total);
    let nuclear = Estimate {
        value: root.value / Float::sqrt(top_lo),
        lo: root.lo / Float::sqrt(top_hi) * (1.0 - slack),
        hi: root.hi / Float::sqrt(top_lo) * (1.0 + slack),
    };
    Ok(SlqReport {
        entropy,
        erank,
        sigma_erank,
        stable_rank: stable,
        participation_ratio: pr,
        nuclear_ratio: nuclear,
        rankme,
        lambda_max,
        trace: mul_pow2(total, scale),
        dim: d,
        probes: samples.len(),
        steps,
        deflated: kept,
        products,
    })
}

/// [`Error::InvalidParameter`] when a quadrature node is clearly negative (below `−10⁻³·λ_max`,
/// far outside rounding): the operator is not positive semidefinite.
fn check_psd(samples: &[Sample], top: f64) -> Result<()> {
    let min = samples
        .iter()
        .flat_map(|s| s.gauss.nodes.iter().chain(&s.radau.nodes))
        .fold(f64::INFINITY, |a, &b| a.min(b));
    if min < -1e-3 * top {
        return Err(Error::InvalidParameter {
            name: "operator",
            reason: "must be positive semidefinite (a Lanczos node is negative)",
        });
    }
    Ok(())
}
