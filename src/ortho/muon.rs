//! One Muon step (Keller Jordan 2024; `torch.optim.Muon`) as a pure function over slices:
//! momentum, optional Nesterov, Newton–Schulz, update scale and decoupled weight decay.

use faer::{MatMut, MatRef};
use num_traits::Float;

use super::config::{NsConfig, NsReport};
use super::newton_schulz::{orthogonalize_into, orthogonalize_scratch_len};
use crate::Par;
use crate::{Error, Real, Result, Shape};

/// How the momentum buffer accumulates gradients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MomentumKind {
    /// `M ← β·M + (1−β)·g` (`lerp`; Keller Jordan's `muon.py`, `torch.optim.Muon`, DeepSpeed).
    /// Nesterov input: `(1−β)·g + β·M`.
    #[default]
    Ema,
    /// `M ← β·M + g` (Moonlight, Dion, burn, the first `muon.py`). Nesterov input: `g + β·M`.
    /// From a zero buffer it is the EMA buffer times `1/(1−β)`, so after normalization both give
    /// the same update up to the normalizer's `eps`.
    Sum,
}

/// The multiplier applied to the orthogonalized r×c update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum UpdateScale {
    /// `√max(1, r/c)` (Keller Jordan; `torch.optim.Muon` `"original"`).
    #[default]
    Keller,
    /// `0.2·√max(r, c)`: update RMS ≈ AdamW's (Moonlight; torch `"match_rms_adamw"`).
    Moonlight,
    /// `√(r/c)` (spectral-norm scaling; torch `"spectral_unclamped"`, Dion `spectral_norm`).
    Spectral,
    /// A fixed multiplier.
    Fixed(f64),
}

impl UpdateScale {
    /// The multiplier for an r×c update.
    ///
    /// ```
    /// use mlkern::ortho::UpdateScale;
    /// assert_eq!(UpdateScale::Keller.factor(8, 2), 2.0);
    /// assert_eq!(UpdateScale::Keller.factor(2, 8), 1.0);
    /// assert_eq!(UpdateScale::Spectral.factor(2, 8), 0.5);
    /// ```
    pub fn factor(self, rows: usize, cols: usize) -> f64 {
        let (r, c) = (rows as f64, cols as f64);
        match self {
            UpdateScale::Keller => Float::sqrt((r / c).max(1.0)),
            UpdateScale::Moonlight => 0.2 * Float::sqrt(r.max(c)),
            UpdateScale::Spectral => Float::sqrt(r / c),
            UpdateScale::Fixed(s) => s,
        }
    }
}

/// `start + w·(end − start)`, evaluated as ATen's `lerp` does (`end − (end − start)·(1 − w)` for
/// `w ≥ 0.5`), so the f64 results match `torch.optim.Muon` bit for bit.
pub(crate) fn lerp<T: Real>(start: T, end: T, w: T) -> T {
    let half = T::from_f64(0.5);
    if w.abs() < half {
        start + w * (end - start)
    } else {
        end - (end - start) * (T::one() - w)
    }
}

/// Hyper-parameters of [`muon_step`] that stay fixed over a run. `Default` is Keller Jordan's
/// Muon: β 0.95, Nesterov, EMA momentum, `√max(1, r/c)`, NS5 with `G/(‖G‖_F + 1e-7)`. For
/// `torch.optim.Muon` semantics use `ns.schedule.normalize = Normalize::PYTORCH`. The learning
/// rate and weight decay change per step (schedules) and are [`Hyper`] arguments of each call.
///
/// ```
/// use mlkern::ortho::{MomentumKind, MuonConfig, UpdateScale};
/// let cfg = MuonConfig::default().with_momentum(0.9).with_momentum_kind(MomentumKind::Sum)
///     .with_scale(UpdateScale::Moonlight);
/// assert!(cfg.nesterov && cfg.momentum == 0.9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct MuonConfig<'s> {
    /// Momentum coefficient β in `[0, 1)`.
    pub momentum: f64,
    /// Orthogonalize the Nesterov look-ahead instead of the buffer.
    pub nesterov: bool,
    /// EMA or sum momentum.
    pub momentum_kind: MomentumKind,
    /// Multiplier of the orthogonalized update.
    pub scale: UpdateScale,
    /// The Newton–Schulz configuration.
    pub ns: NsConfig<'s>,
}

impl Default for MuonConfig<'static> {
    fn default() -> Self {
        MuonConfig::new(NsConfig::default())
    }
}

impl<'s> MuonConfig<'s> {
    /// Keller Jordan's defaults (β 0.95, Nesterov, EMA, [`UpdateScale::Keller`]) with `ns`.
    pub const fn new(ns: NsConfig<'s>) -> Self {
        MuonConfig {
            momentum: 0.95,
            nesterov: true,
            momentum_kind: MomentumKind::Ema,
            scale: UpdateScale::Keller,
            ns,
        }
    }

    /// The same with momentum coefficient β.
    pub const fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The same with Nesterov on or off.
    pub const fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// The same with another momentum accumulation.
    pub const fn with_momentum_kind(mut self, kind: MomentumKind) -> Self {
        self.momentum_kind = kind;
        self
    }

    /// The same with another update scale.
    pub const fn with_scale(mut self, scale: UpdateScale) -> Self {
        self.scale = scale;
        self
    }

    /// The same with another Newton–Schulz configuration.
    pub const fn with_ns<'t>(self, ns: NsConfig<'t>) -> MuonConfig<'t> {
        MuonConfig {
            momentum: self.momentum,
            nesterov: self.nesterov,
            momentum_kind: self.momentum_kind,
            scale: self.scale,
            ns,
        }
    }
}

/// The per-step quantities of a Muon step: learning rate and decoupled weight decay. A small
/// `Copy` value rather than two `f64` arguments, so the two cannot be swapped silently and a
/// learning-rate schedule builds one per step for free.
///
/// ```
/// use mlkern::ortho::Hyper;
/// let h = Hyper::lr(0.02).with_weight_decay(0.1);
/// assert_eq!((h.lr, h.weight_decay), (0.02, 0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Hyper {
    /// Learning rate (the weight decay uses it unscaled, as torch does).
    pub lr: f64,
    /// Decoupled weight decay: `p ← p·(1 − lr·wd)` before the update.
    pub weight_decay: f64,
}

impl Hyper {
    /// Learning rate `lr`, no weight decay.
    pub const fn lr(lr: f64) -> Self {
        Hyper {
            lr,
            weight_decay: 0.0,
        }
    }

    /// The same with weight decay `wd`.
    pub const fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

/// What one Muon step did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MuonReport {
    /// The Newton–Schulz report (a zero gradient and buffer give `zero_input`: only weight decay
    /// applied).
    pub ns: NsReport,
    /// Rows of the matrix view (`shape[0]`).
    pub rows: usize,
    /// Columns of the matrix view (product of the remaining dimensions).
    pub cols: usize,
    /// The update multiplier `lr·scale` that was applied.
    pub step_size: f64,
}

/// Rows and columns of the matrix view of a parameter: `(d0, d1·d2·…)` (conv filters
/// `(C_out, C_in, kh, kw)` become `(C_out, C_in·kh·kw)`; unlike Keller Jordan's `muon.py`, the
/// scale uses these flattened dimensions).
pub(crate) fn matrix_view(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::InvalidParameter {
            name: "shape",
            reason: "Muon needs a parameter with at least 2 dimensions (use AdamW for vectors)",
        });
    }
    let cols = shape[1..]
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match cols.and_then(|c| c.checked_mul(shape[0]).map(|_| c)) {
        Some(c) => Ok((shape[0], c)),
        None => Err(Error::InvalidParameter {
            name: "shape",
            reason: "element count overflows usize",
        }),
    }
}

/// Scratch length (elements of `T`) for [`muon_step`] on a parameter of this shape: three
/// matrix-sized buffers (new momentum, Nesterov input, update) plus the Newton–Schulz scratch.
///
/// # Errors
/// [`Error::InvalidParameter`] for a shape with fewer than two dimensions or one whose element
/// count overflows `usize`; [`Error::OutOfMemory`] naming `shape` (bytes `usize::MAX`) when the
/// scratch length does not fit in `usize`.
///
/// ```
/// use mlkern::ortho::{muon_scratch_len, orthogonalize_scratch_len, MuonConfig};
/// let cfg = MuonConfig::default();
/// // A (64, 3, 3, 3) conv filter is the 64×27 matrix view.
/// let len = muon_scratch_len(&[64, 3, 3, 3], &cfg)?;
/// assert_eq!(len, 3 * 64 * 27 + orthogonalize_scratch_len(64, 27, &cfg.ns)?);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn muon_scratch_len(shape: &[usize], cfg: &MuonConfig<'_>) -> Result<usize> {
    let (r, c) = matrix_view(shape)?;
    scratch_len(r, c, orthogonalize_scratch_len(r, c, &cfg.ns)?)
}

/// `3·rows·cols + ns`: the three matrix-sized buffers of a step and the Newton–Schulz scratch.
pub(crate) fn scratch_len(rows: usize, cols: usize, ns: usize) -> Result<usize> {
    rows.checked_mul(cols)
        .and_then(|len| len.checked_mul(3))
        .and_then(|x| x.checked_add(ns))
        .ok_or(Error::OutOfMemory {
            name: "shape",
            bytes: usize::MAX,
        })
}

fn validate(hyper: Hyper, cfg: &MuonConfig<'_>) -> Result<()> {
    let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
    if !(hyper.lr.is_finite() && hyper.lr >= 0.0) {
        return bad("lr", "must be finite and >= 0");
    }
    if !(0.0..1.0).contains(&cfg.momentum) {
        return bad("momentum", "must be in [0, 1)");
    }
    if !(hyper.weight_decay.is_finite() && hyper.weight_decay >= 0.0) {
        return bad("weight_decay", "must be finite and >= 0");
    }
    if let UpdateScale::Fixed(s) = cfg.scale
        && !s.is_finite()
    {
        return bad("scale", "fixed scale must be finite");
    }
    cfg.ns.validate()
}

/// One Muon step on a parameter of `shape` (≥ 2-D, C order), in place (`param` and the
/// `momentum` buffer are the state; `grad` and `shape` the inputs; `hyper` the per-step learning
/// rate and weight decay; `scratch` sized by [`muon_scratch_len`]; never allocates):
///
/// 1. momentum: `M ← β·M + (1−β)·g` (EMA) or `M ← β·M + g` (sum);
/// 2. `U = ` the Nesterov look-ahead (`(1−β)·g + β·M` resp. `g + β·M`) or `M`;
/// 3. `O = NS(U)` on the `(d0, ∏rest)` matrix view;
/// 4. `p ← p·(1 − lr·wd)`, then `p ← p − lr·scale(r, c)·O`.
///
/// Nothing is modified unless the whole step succeeds: non-finite inputs, and updates that would
/// overflow, are errors and leave `param` and `momentum` untouched, so optimizer state is never
/// poisoned and a failed step can be retried. Matches `torch.optim.Muon` (≥ 2.9) step for step
/// with `Normalize::PYTORCH`, EMA momentum and [`UpdateScale::Keller`]/[`UpdateScale::Moonlight`]
/// (tested in f64 against a NumPy port of its documented semantics).
///
/// # Errors
/// [`Error::ShapeMismatch`] for slices that do not hold `shape`, or a short scratch
/// (`what: "muon_step: scratch"`);
/// [`Error::NonFinite`]; [`Error::InvalidParameter`] for bad hyper-parameters or a < 2-D shape;
/// [`Error::TooLarge`] for more than [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) Newton–Schulz
/// steps (all checked before any work).
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{muon_step, muon_scratch_len, Hyper, MuonConfig};
/// let cfg = MuonConfig::default();
/// let mut p = vec![1.0f32; 6];
/// let g = [3.0f32, 0.0, 0.0, 0.0, 4.0, 0.0];
/// let mut m = vec![0.0f32; 6];
/// let mut scratch = vec![0.0f32; muon_scratch_len(&[2, 3], &cfg)?];
/// let hyper = Hyper::lr(0.02).with_weight_decay(0.1);
/// let r = muon_step(&mut p, &mut m, &g, &[2, 3], hyper, &cfg, &mut scratch, Par::Seq)?;
/// assert_eq!((r.rows, r.cols), (2, 3));
/// assert!((m[0] - 0.15).abs() < 1e-7);          // (1 − 0.95)·3
/// assert!(p[2] == 1.0 * (1.0 - 0.02 * 0.1));     // zero column: weight decay only
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn muon_step<T: Real>(
    param: &mut [T],
    momentum: &mut [T],
    grad: &[T],
    shape: &[usize],
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<MuonReport> {
    let (rows, cols) = matrix_view(shape)?;
    check_inputs(
        param,
        momentum,
        grad,
        rows * cols,
        expected(shape, (rows, cols)),
        hyper,
        cfg,
    )?;
    let step = orthogonalized(
        momentum,
        grad,
        (rows, cols),
        hyper,
        cfg,
        scratch,
        "muon_step: scratch",
        par,
    )?;
    check_update(param, step.update, hyper, step.report.step_size)?;
    apply_update(
        param,
        momentum,
        step.new_momentum,
        step.update,
        hyper,
        step.report.step_size,
    );
    Ok(step.report)
}

/// The shape a step's slices are reported against: the parameter's, or its matrix view.
pub(crate) fn expected(shape: &[usize], (rows, cols): (usize, usize)) -> Shape {
    Shape::from_dims(shape).unwrap_or(Shape::d2(rows, cols))
}

/// Steps 1–3 of a step, computed in `scratch` only (after the caller's input checks): the new
/// momentum, the orthogonalized update and the report with the step size. An empty parameter
/// gives empty slices, a zero step size and `zero_input`.
pub(crate) struct Orthogonalized<'w, T> {
    /// `M_t`, to be committed with the update.
    pub new_momentum: &'w [T],
    /// `NS(M_t)` (or of the Nesterov input).
    pub update: &'w [T],
    /// The Newton–Schulz report, the matrix view and `lr·scale`.
    pub report: MuonReport,
}

/// Steps 1–3 of [`muon_step`] (shared with AMUSE) into `scratch`, checked for size first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn orthogonalized<'w, T: Real>(
    momentum: &[T],
    grad: &[T],
    (rows, cols): (usize, usize),
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
    scratch: &'w mut [T],
    what: &'static str,
    par: Par,
) -> Result<Orthogonalized<'w, T>> {
    let len = rows * cols;
    let need = scratch_len(rows, cols, orthogonalize_scratch_len(rows, cols, &cfg.ns)?)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    let mut report = MuonReport {
        rows,
        cols,
        ..MuonReport::default()
    };
    if len == 0 {
        report.ns.zero_input = true;
        return Ok(Orthogonalized {
            new_momentum: &[],
            update: &[],
            report,
        });
    }
    // Everything is computed in the scratch first and committed only when it is all finite.
    momentum_into(scratch, momentum, grad, cfg)?;
    let (mbuf, rest) = scratch.split_at_mut(len);
    let (ubuf, rest) = rest.split_at_mut(len);
    let (obuf, nsws) = rest.split_at_mut(len);
    let input: &[T] = if cfg.nesterov { ubuf } else { mbuf };
    report.ns = orthogonalize_into(
        MatMut::from_row_major_slice_mut(obuf, rows, cols),
        MatRef::from_row_major_slice(input, rows, cols),
        &cfg.ns,
        nsws,
        par,
    )?;
    report.step_size = hyper.lr * cfg.scale.factor(rows, cols);
    Ok(Orthogonalized {
        new_momentum: mbuf,
        update: obuf,
        report,
    })
}

/// The checks of a step that need no work: hyper-parameters, slice lengths, finiteness.
pub(crate) fn check_inputs<T: Real>(
    param: &[T],
    momentum: &[T],
    grad: &[T],
    len: usize,
    expected: Shape,
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
) -> Result<()> {
    validate(hyper, cfg)?;
    for (what, l) in [
        ("muon param", param.len()),
        ("muon grad", grad.len()),
        ("muon momentum", momentum.len()),
    ] {
        if l != len {
            return Err(Error::ShapeMismatch {
                what,
                expected,
                found: Shape::d1(l),
            });
        }
    }
    crate::simd::check_finite(grad, "muon grad")?;
    crate::simd::check_finite(momentum, "muon momentum")?;
    crate::simd::check_finite(param, "muon param")
}

/// Steps 1–2 into the first two `len`-blocks of `scratch` (`len = grad.len()`): the new
/// momentum, and the Nesterov input when `cfg.nesterov`.
pub(crate) fn momentum_into<T: Real>(
    scratch: &mut [T],
    momentum: &[T],
    grad: &[T],
    cfg: &MuonConfig<'_>,
) -> Result<()> {
    let len = grad.len();
    let beta = T::from_f64(cfg.momentum);
    let w = T::from_f64(1.0 - cfg.momentum);
    let (mbuf, rest) = scratch.split_at_mut(len);
    let ubuf = &mut rest[..len];
    for ((nm, &m), &g) in mbuf.iter_mut().zip(momentum.iter()).zip(grad) {
        *nm = match cfg.momentum_kind {
            MomentumKind::Ema => lerp(m, g, w),
            MomentumKind::Sum => beta * m + g,
        };
    }
    if let Some(index) = crate::simd::find_non_finite(mbuf) {
        return Err(Error::NonFinite {
            what: "muon momentum update (overflow)",
            index,
        });
    }
    if cfg.nesterov {
        for ((u, &g), &m) in ubuf.iter_mut().zip(grad).zip(mbuf.iter()) {
            *u = match cfg.momentum_kind {
                MomentumKind::Ema => lerp(g, m, beta),
                MomentumKind::Sum => g + beta * m,
            };
        }
        if let Some(index) = crate::simd::find_non_finite(ubuf) {
            return Err(Error::NonFinite {
                what: "muon Nesterov input (overflow)",
                index,
            });
        }
    }
    Ok(())
}

/// `p·(1 − lr·wd) − step·o`, the update of step 4.
fn updated<T: Real>(p: T, o: T, hyper: Hyper, step_size: f64) -> T {
    p * T::from_f64(1.0 - hyper.lr * hyper.weight_decay) + T::from_f64(-step_size) * o
}

/// Whether step 4 stays finite everywhere.
pub(crate) fn check_update<T: Real>(
    param: &[T],
    update: &[T],
    hyper: Hyper,
    step_size: f64,
) -> Result<()> {
    match param
        .iter()
        .zip(update)
        .position(|(&p, &o)| !updated(p, o, hyper, step_size).is_finite())
    {
        Some(index) => Err(Error::NonFinite {
            what: "muon parameter update (overflow)",
            index,
        }),
        None => Ok(()),
    }
}

/// Step 4 and the new momentum, committed.
pub(crate) fn apply_update<T: Real>(
    param: &mut [T],
    momentum: &mut [T],
    new_momentum: &[T],
    update: &[T],
    hyper: Hyper,
    step_size: f64,
) {
    for (p, &o) in param.iter_mut().zip(update) {
        *p = updated(*p, o, hyper, step_size);
    }
    momentum.copy_from_slice(new_momentum);
}
