//! AMUSE — Anytime Muon with Stable gradient Evaluation (Kim et al., arXiv 2605.22432): Muon's
//! orthogonalized momentum on a fast sequence `Z`, Schedule-Free averaging into `X`, and gradients
//! evaluated at `Y = (1 − β_t)·Z + β_t·X` with `β_t` rising from `β₁` after a warmup `T₀`.
//!
//! Per step `t = 1, 2, …` (reference note `amuse.md`), with the gradient `g = ∇L(Y_t)`:
//!
//! ```text
//! M_t     = μ·M_{t−1} + g                       (the Muon configuration's momentum; sum by default)
//! Z_{t+1} = Z_t − η·wd·Y_t − η·s(r, c)·NS(M_t)  (weight decay decoupled at the evaluation point)
//! X_{t+1} = X_t + (Z_{t+1} − X_t)/(t + 1)       (the uniform running mean of Z_1 … Z_{t+1})
//! Y_{t+1} = (1 − β_{t+1})·Z_{t+1} + β_{t+1}·X_{t+1}
//! β_t     = β₁ for t < T₀,  1 − ((T₀ − 1)/(t − 1))^ρ·(1 − β₁) for t ≥ T₀
//! ```
//!
//! Initial state: `Z_1 = X_1 = Y_1` = the initial weights, `M_0 = 0`. The choices the paper leaves
//! open (β before `T₀`, the update scale, Nesterov, where weight decay acts, plain `1/(t+1)`
//! averaging) are the note's defaults and are documented on [`AmuseConfig`].

use num_traits::Float;

use super::muon::{self, Hyper, MomentumKind, MuonConfig, MuonReport};
use crate::Par;
use crate::{Error, Real, Result, Shape};

/// AMUSE's hyper-parameters besides the per-step learning rate and weight decay ([`Hyper`]).
///
/// The paper publishes no defaults for `β₁`, `T₀` and `ρ`; ours are `β₁ = 0.9` (Schedule-Free's
/// interpolation), `T₀ = 1000`, `ρ = 1`. The Muon part defaults to sum momentum `μ = 0.95`
/// without Nesterov (the paper's equations), Keller Jordan's NS5 and update scale.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct AmuseConfig<'s> {
    /// Momentum, Newton–Schulz configuration and update scale.
    pub muon: MuonConfig<'s>,
    /// `β₁ ∈ [0, 1]`: the interpolation before and at the end of the warmup.
    pub beta1: f64,
    /// `T₀ ≥ 2`: the step from which `β_t` rises (`u64::MAX`: never).
    pub warmup: u64,
    /// `ρ > 0`: how fast `β_t` approaches 1 after the warmup.
    pub rho: f64,
}

impl Default for AmuseConfig<'static> {
    fn default() -> Self {
        AmuseConfig::new(
            MuonConfig::default()
                .with_momentum_kind(MomentumKind::Sum)
                .with_nesterov(false),
        )
    }
}

impl<'s> AmuseConfig<'s> {
    /// `muon` with `β₁ = 0.9`, `T₀ = 1000`, `ρ = 1`.
    pub const fn new(muon: MuonConfig<'s>) -> Self {
        AmuseConfig {
            muon,
            beta1: 0.9,
            warmup: 1000,
            rho: 1.0,
        }
    }

    /// The same configuration with another `β₁`, `T₀` and `ρ`.
    pub const fn with_schedule(mut self, beta1: f64, warmup: u64, rho: f64) -> Self {
        self.beta1 = beta1;
        self.warmup = warmup;
        self.rho = rho;
        self
    }

    /// `β_t` of step `t ≥ 1`: `β₁` before `T₀`, then `1 − ((T₀ − 1)/(t − 1))^ρ·(1 − β₁)`
    /// (equal to `β₁` at `t = T₀`, non-decreasing, → 1).
    ///
    /// ```
    /// use mlkern::ortho::AmuseConfig;
    /// let cfg = AmuseConfig::default().with_schedule(0.5, 11, 1.0);
    /// assert_eq!((cfg.beta(1), cfg.beta(11)), (0.5, 0.5));
    /// assert_eq!(cfg.beta(21), 0.75); // 1 − (10/20)·0.5
    /// ```
    pub fn beta(&self, t: u64) -> f64 {
        if t <= self.warmup {
            return self.beta1; // the formula gives β₁ at T₀ too, up to rounding
        }
        let ratio = (self.warmup - 1) as f64 / (t - 1) as f64;
        1.0 - Float::powf(ratio, self.rho) * (1.0 - self.beta1)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        if !(0.0..=1.0).contains(&self.beta1) {
            return bad("beta1", "must be in [0, 1]");
        }
        if self.warmup < 2 {
            return bad(
                "warmup",
                "T0 must be at least 2 (β_t's formula divides by t − 1)",
            );
        }
        if !(self.rho.is_finite() && self.rho > 0.0) {
            return bad("rho", "must be finite and > 0");
        }
        Ok(())
    }
}

/// The state buffers of one parameter, all of its shape: the fast sequence `Z`, the average `X`
/// and the momentum `M`.
#[derive(Debug)]
pub struct AmuseState<'a, T> {
    /// `Z_t`, the fast (Muon) sequence.
    pub z: &'a mut [T],
    /// `X_t`, the running average of `Z`: the weights to evaluate and checkpoint.
    pub x: &'a mut [T],
    /// `M_{t−1}`, the momentum.
    pub m: &'a mut [T],
}

/// Scratch length (elements of `T`) for [`amuse_step`]: as [`muon_scratch_len`](super::muon_scratch_len).
///
/// # Errors
/// As [`muon_scratch_len`](super::muon_scratch_len).
pub fn amuse_scratch_len(shape: &[usize], cfg: &AmuseConfig<'_>) -> Result<usize> {
    super::muon_scratch_len(shape, &cfg.muon)
}

/// One AMUSE step `t ≥ 1` on a parameter of `shape` (≥ 2-D, C order), in place: `y` holds the
/// evaluation point `Y_t` on entry (the weights the gradient `grad` was taken at) and `Y_{t+1}` on
/// return; `state` holds `Z_t, X_t, M_{t−1}` and receives `Z_{t+1}, X_{t+1}, M_t`. Never allocates.
///
/// Nothing is modified unless the whole step succeeds (non-finite inputs, an update that would
/// overflow), as [`muon_step`](super::muon_step). With `β ≡ 0` (`β₁ = 0`, `T₀ = u64::MAX`) and no
/// weight decay, `Z` and `Y` follow [`muon_step`](super::muon_step) bit for bit.
///
/// # Errors
/// As [`muon_step`](super::muon_step); [`Error::InvalidParameter`] for `t = 0` or a bad
/// `β₁`/`T₀`/`ρ`.
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{amuse_scratch_len, amuse_step, AmuseConfig, AmuseState, Hyper};
/// let cfg = AmuseConfig::default();
/// let w0 = [1.0f64, 0.0, 0.0, 0.0, 2.0, 0.0]; // 2×3
/// let (mut y, mut z, mut x, mut m) = (w0, w0, w0, [0.0; 6]);
/// let mut scratch = vec![0.0; amuse_scratch_len(&[2, 3], &cfg)?];
/// let g = [0.5, 0.0, 0.0, 0.0, 0.5, 0.0];
/// let state = AmuseState { z: &mut z, x: &mut x, m: &mut m };
/// amuse_step(&mut y, state, &g, &[2, 3], 1, Hyper::lr(0.1), &cfg, &mut scratch, Par::Seq)?;
/// // X_2 is the mean of Z_1 and Z_2; Y_2 lies between them.
/// assert!((x[0] - (w0[0] + z[0]) / 2.0).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn amuse_step<T: Real>(
    y: &mut [T],
    state: AmuseState<'_, T>,
    grad: &[T],
    shape: &[usize],
    t: u64,
    hyper: Hyper,
    cfg: &AmuseConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<MuonReport> {
    let AmuseState { z, x, m } = state;
    let (rows, cols) = muon::matrix_view(shape)?;
    let expected = muon::expected(shape, (rows, cols));
    check_inputs(y, z, x, m, grad, rows * cols, expected, t, hyper, cfg)?;
    let step = muon::orthogonalized(
        m,
        grad,
        (rows, cols),
        hyper,
        &cfg.muon,
        scratch,
        "amuse_step: scratch",
        par,
    )?;
    let next = Next::new(t, hyper, step.report.step_size, cfg);
    next.check(z, x, y, step.update)?;
    next.apply(y, z, x, step.update);
    m.copy_from_slice(step.new_momentum);
    Ok(step.report)
}

/// The checks of an AMUSE step that need no work: its own parameters and `t`, the Muon checks on
/// `Z`, `M` and the gradient, and `Y`, `X` (length, finite).
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_inputs<T: Real>(
    y: &[T],
    z: &[T],
    x: &[T],
    m: &[T],
    grad: &[T],
    len: usize,
    expected: Shape,
    t: u64,
    hyper: Hyper,
    cfg: &AmuseConfig<'_>,
) -> Result<()> {
    cfg.validate()?;
    if t == 0 {
        return Err(Error::InvalidParameter {
            name: "t",
            reason: "steps count from 1",
        });
    }
    muon::check_inputs(z, m, grad, len, expected, hyper, &cfg.muon)?;
    for (what, s) in [("amuse y", y), ("amuse x", x)] {
        if s.len() != len {
            return Err(Error::ShapeMismatch {
                what,
                expected,
                found: Shape::d1(s.len()),
            });
        }
        crate::simd::check_finite(s, what)?;
    }
    Ok(())
}

/// The per-element update of `Z`, `X` and `Y` for one step.
pub(crate) struct Next<T> {
    decay: T,
    neg_step: T,
    c: T,
    beta: T,
}

impl<T: Real> Next<T> {
    pub(crate) fn new(t: u64, hyper: Hyper, step_size: f64, cfg: &AmuseConfig<'_>) -> Self {
        Next {
            decay: T::from_f64(hyper.lr * hyper.weight_decay),
            neg_step: T::from_f64(-step_size),
            c: T::from_f64(1.0 / (t as f64 + 1.0)),
            beta: T::from_f64(cfg.beta(t + 1)),
        }
    }

    /// `(Z_{t+1}, X_{t+1}, Y_{t+1})` from `Z_t, X_t, Y_t` and the orthogonalized update `o`.
    fn at(&self, z: T, x: T, y: T, o: T) -> (T, T, T) {
        // Z − η·wd·Y − step·O; with wd = 0 this is Muon's `z·1 + (−step)·o` exactly.
        let zn = (z - self.decay * y) + self.neg_step * o;
        let xn = x + (zn - x) * self.c;
        let yn = muon::lerp(zn, xn, self.beta);
        (zn, xn, yn)
    }

    /// Whether every new value of the step is finite (checked before anything is written).
    pub(crate) fn check(&self, z: &[T], x: &[T], y: &[T], update: &[T]) -> Result<()> {
        for i in 0..update.len() {
            let (zn, xn, yn) = self.at(z[i], x[i], y[i], update[i]);
            if !(zn.is_finite() && xn.is_finite() && yn.is_finite()) {
                return Err(Error::NonFinite {
                    what: "amuse update (overflow)",
                    index: i,
                });
            }
        }
        Ok(())
    }

    /// Writes `Z_{t+1}`, `X_{t+1}` and `Y_{t+1}`.
    pub(crate) fn apply(&self, y: &mut [T], z: &mut [T], x: &mut [T], update: &[T]) {
        for (i, &o) in update.iter().enumerate() {
            (z[i], x[i], y[i]) = self.at(z[i], x[i], y[i], o);
        }
    }
}
