//! The element-wise updates of the parameters that do not take the matrix step (biases, norms,
//! embeddings, heads): AdamW (for [`Muon`](crate::Muon)) and Schedule-Free AdamW (for
//! [`Amuse`](crate::Amuse)).

pub use candle_nn::ParamsAdamW;

use crate::host::HostFloat;

/// Schedule-Free AdamW (Defazio et al., "The Road Less Scheduled", NeurIPS 2024), the fallback
/// of [`Amuse`](crate::Amuse), in its plain form with the same uniform average as AMUSE:
///
/// ```text
/// v ← β₂·v + (1 − β₂)·g²,  v̂ = v/(1 − β₂ᵗ)
/// z ← z − lr·(g/(√v̂ + eps) + wd·y)           (weight decay at the evaluation point y)
/// x ← x + (z − x)/(t + 1)                     (the mean of z₁ … z_{t+1})
/// y ← (1 − β₁)·z + β₁·x                       (the weights the model trains with)
/// ```
///
/// No warmup and no learning-rate weighting of the average (the reference implementation's
/// `warmup_steps = 0`, and `weight_lr_power` has no effect with a constant learning rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamsSfAdamW {
    /// Learning rate (default 0.0025, the reference implementation's).
    pub lr: f64,
    /// The interpolation β₁ between z and x (default 0.9).
    pub beta1: f64,
    /// The second-moment decay β₂ (default 0.999).
    pub beta2: f64,
    /// Added to √v̂ (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay at y (default 0).
    pub weight_decay: f64,
}

impl Default for ParamsSfAdamW {
    fn default() -> Self {
        ParamsSfAdamW {
            lr: 0.0025,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

fn bad(name: &'static str, reason: &'static str) -> mlkern::Error {
    mlkern::Error::InvalidParameter { name, reason }
}

/// Checks learning rate, betas, eps and weight decay of either fallback.
fn validate(lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64) -> mlkern::Result<()> {
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(bad("lr", "must be finite and >= 0"));
    }
    if !((0.0..=1.0).contains(&beta1) && (0.0..1.0).contains(&beta2)) {
        return Err(bad("beta", "beta1 must be in [0, 1] and beta2 in [0, 1)"));
    }
    if !(eps.is_finite() && eps >= 0.0 && wd.is_finite() && wd >= 0.0) {
        return Err(bad("eps/weight_decay", "must be finite and >= 0"));
    }
    Ok(())
}

/// `i32` exponent for the bias corrections (`t` beyond `i32::MAX` saturates: `βᵗ` is 0 long
/// before).
fn power(beta: f64, t: u64) -> f64 {
    beta.powi(i32::try_from(t).unwrap_or(i32::MAX))
}

fn c<T: HostFloat>(x: f64) -> T {
    <T as mlkern::Real>::from_f64(x)
}

/// One AdamW step `t ≥ 1` in place, element for element the arithmetic of candle-nn's `AdamW`
/// (bias-corrected moments, `θ·(1 − lr·wd) − lr·m̂/(√v̂ + eps)`).
pub(crate) fn adamw<T: HostFloat>(
    w: &mut [T],
    m: &mut [T],
    v: &mut [T],
    g: &[T],
    t: u64,
    p: &ParamsAdamW,
) -> mlkern::Result<()> {
    validate(p.lr, p.beta1, p.beta2, p.eps, p.weight_decay)?;
    let (b1, b2, one_b1, one_b2) = (
        c::<T>(p.beta1),
        c::<T>(p.beta2),
        c::<T>(1.0 - p.beta1),
        c::<T>(1.0 - p.beta2),
    );
    let scale_m = c::<T>(1.0 / (1.0 - power(p.beta1, t)));
    let scale_v = c::<T>(1.0 / (1.0 - power(p.beta2, t)));
    let (decay, lr, eps) = (
        c::<T>(1.0 - p.lr * p.weight_decay),
        c::<T>(p.lr),
        c::<T>(p.eps),
    );
    for i in 0..w.len() {
        let gi = g[i];
        let next_m = m[i] * b1 + gi * one_b1;
        let next_v = v[i] * b2 + gi * gi * one_b2;
        let adjusted = (next_m * scale_m) / ((next_v * scale_v).sqrt() + eps);
        let next_w = w[i] * decay - adjusted * lr;
        if !next_w.is_finite() {
            return Err(mlkern::Error::NonFinite {
                what: "adamw update (overflow)",
                index: i,
            });
        }
        (w[i], m[i], v[i]) = (next_w, next_m, next_v);
    }
    Ok(())
}

/// One Schedule-Free AdamW step `t ≥ 1` in place: `y` is the evaluation point (the variable),
/// `z`, `x`, `v` the state.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sf_adamw<T: HostFloat>(
    y: &mut [T],
    z: &mut [T],
    x: &mut [T],
    v: &mut [T],
    g: &[T],
    t: u64,
    p: &ParamsSfAdamW,
) -> mlkern::Result<()> {
    validate(p.lr, p.beta1, p.beta2, p.eps, p.weight_decay)?;
    let (b2, one_b2) = (c::<T>(p.beta2), c::<T>(1.0 - p.beta2));
    let scale_v = c::<T>(1.0 / (1.0 - power(p.beta2, t)));
    let (lr, eps, wd) = (c::<T>(p.lr), c::<T>(p.eps), c::<T>(p.weight_decay));
    let avg = c::<T>(1.0 / (t as f64 + 1.0));
    let (b1, one_b1) = (c::<T>(p.beta1), c::<T>(1.0 - p.beta1));
    for i in 0..y.len() {
        let gi = g[i];
        let next_v = v[i] * b2 + gi * gi * one_b2;
        let step = gi / ((next_v * scale_v).sqrt() + eps) + wd * y[i];
        let next_z = z[i] - lr * step;
        let next_x = x[i] + (next_z - x[i]) * avg;
        let next_y = one_b1 * next_z + b1 * next_x;
        if !(next_y.is_finite() && next_z.is_finite() && next_x.is_finite()) {
            return Err(mlkern::Error::NonFinite {
                what: "schedule-free adamw update (overflow)",
                index: i,
            });
        }
        (y[i], z[i], x[i], v[i]) = (next_y, next_z, next_x, next_v);
    }
    Ok(())
}
