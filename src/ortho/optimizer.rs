//! A stateful Muon optimizer for one parameter: configuration, momentum buffer and scratch,
//! built on [`muon_step`].

use alloc::vec::Vec;

use super::muon::{Hyper, MuonConfig, MuonReport, muon_scratch_len, muon_step};
use crate::base::{try_vec, zeros};
use crate::{Par, Real, Result};

/// Muon for one parameter of a fixed shape: owns the momentum buffer and the scratch, so a
/// training loop only passes the parameter, its gradient and the step's learning rate. Allocates
/// once in [`new`](Self::new); [`step`](Self::step) never allocates and gives exactly
/// [`muon_step`]'s result.
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{Muon, MuonConfig};
/// let mut opt = Muon::<f32>::new(&[2, 3], MuonConfig::default())?.with_weight_decay(0.1);
/// let mut p = vec![1.0f32; 6];
/// let g = [3.0f32, 0.0, 0.0, 0.0, 4.0, 0.0];
/// for step in 0..3 {
///     let lr = 0.02 / (1.0 + step as f64); // a schedule: no config to rebuild
///     let report = opt.step(&mut p, &g, lr, Par::Seq)?;
///     assert_eq!((report.rows, report.cols), (2, 3));
/// }
/// assert!(opt.momentum()[0] > 0.0 && p[2] < 1.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Muon<'s, T> {
    cfg: MuonConfig<'s>,
    shape: Vec<usize>,
    weight_decay: f64,
    momentum: Vec<T>,
    scratch: Vec<T>,
}

impl<'s, T: Real> Muon<'s, T> {
    /// An optimizer for a parameter of `shape` (≥ 2-D, C order) with a zero momentum buffer and
    /// no weight decay.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a shape with fewer than two
    /// dimensions or an invalid schedule; [`Error::TooLarge`](crate::Error::TooLarge) for more
    /// than [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) Newton–Schulz steps (both checked before
    /// anything is allocated); [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `shape`
    /// when the momentum buffer or the scratch cannot be allocated.
    pub fn new(shape: &[usize], cfg: MuonConfig<'s>) -> Result<Self> {
        cfg.ns.validate()?;
        let need = muon_scratch_len(shape, &cfg)?;
        // `muon_scratch_len` has checked that the element count fits in `usize`.
        let len = shape.iter().product();
        let mut dims = try_vec(shape.len(), "shape")?;
        dims.extend_from_slice(shape);
        Ok(Muon {
            cfg,
            shape: dims,
            weight_decay: 0.0,
            momentum: zeros(len, "shape")?,
            scratch: zeros(need, "shape")?,
        })
    }

    /// The same with decoupled weight decay `wd` (checked at each step).
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the decoupled weight decay (checked at each step).
    pub fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }

    /// The weight decay.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// The configuration.
    pub fn config(&self) -> &MuonConfig<'s> {
        &self.cfg
    }

    /// The parameter's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The momentum buffer (C order, the parameter's shape).
    pub fn momentum(&self) -> &[T] {
        &self.momentum
    }

    /// Zeroes the momentum buffer.
    pub fn reset(&mut self) {
        self.momentum.fill(T::zero());
    }

    /// One Muon step with learning rate `lr`: [`muon_step`] on this optimizer's state. On an
    /// error `param` and the momentum are unchanged.
    ///
    /// # Errors
    /// As [`muon_step`].
    pub fn step(&mut self, param: &mut [T], grad: &[T], lr: f64, par: Par) -> Result<MuonReport> {
        muon_step(
            param,
            &mut self.momentum,
            grad,
            &self.shape,
            Hyper::lr(lr).with_weight_decay(self.weight_decay),
            &self.cfg,
            &mut self.scratch,
            par,
        )
    }
}
