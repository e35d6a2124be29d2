//! A stateful AMUSE optimizer for one parameter: configuration, the `Z`, `X` and momentum
//! buffers, the step counter and the scratch, built on [`amuse_step`].

use alloc::vec::Vec;

use super::amuse::{AmuseConfig, AmuseState, amuse_scratch_len, amuse_step};
use super::muon::{Hyper, MuonReport};
use crate::base::{try_vec, zeros};
use crate::{Error, Par, Real, Result, Shape};

/// AMUSE for one parameter of a fixed shape: owns `Z` (the fast Muon sequence), `X` (its running
/// average, the weights to evaluate and checkpoint), the momentum, the step counter and the
/// scratch. The caller owns the evaluation point `Y` (the weights the model trains with) and
/// passes it with its gradient to [`step`](Self::step). Allocates once in [`new`](Self::new);
/// `step` never allocates and gives exactly [`amuse_step`]'s result.
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{Amuse, AmuseConfig};
/// let mut y = vec![1.0f32, 0.0, 0.0, 0.0, 2.0, 0.0]; // 2×3, the initial weights
/// let mut opt = Amuse::new(&y, &[2, 3], AmuseConfig::default())?;
/// for _ in 0..3 {
///     let g: Vec<f32> = y.iter().map(|w| 2.0 * w).collect(); // ∇‖Y‖²
///     opt.step(&mut y, &g, 0.05, Par::Seq)?;
/// }
/// assert_eq!(opt.t(), 4); // the next step's number
/// let x = opt.averaged(); // X_4 = mean(Z_1 … Z_4): evaluate or save these
/// assert!(x[0] < 1.0 && x[0] > opt.fast()[0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Amuse<'s, T> {
    cfg: AmuseConfig<'s>,
    shape: Vec<usize>,
    weight_decay: f64,
    t: u64,
    z: Vec<T>,
    x: Vec<T>,
    m: Vec<T>,
    scratch: Vec<T>,
}

impl<'s, T: Real> Amuse<'s, T> {
    /// An optimizer for a parameter of `shape` (≥ 2-D, C order) whose initial weights are
    /// `initial` (`Z_1 = X_1 = Y_1`), zero momentum, step 1 and no weight decay.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad configuration or a shape with fewer than two
    /// dimensions; [`Error::ShapeMismatch`] when `initial` does not hold `shape`;
    /// [`Error::NonFinite`] for non-finite initial weights; [`Error::TooLarge`] for too many
    /// Newton–Schulz steps; [`Error::OutOfMemory`] naming `shape` when a buffer cannot be
    /// allocated. All but the last are checked before anything is allocated.
    pub fn new(initial: &[T], shape: &[usize], cfg: AmuseConfig<'s>) -> Result<Self> {
        cfg.validate()?;
        cfg.muon.ns.validate()?;
        let need = amuse_scratch_len(shape, &cfg)?;
        // `amuse_scratch_len` has checked that the element count fits in `usize`.
        let len: usize = shape.iter().product();
        check_len("amuse initial weights", initial, len, shape)?;
        crate::simd::check_finite(initial, "amuse initial weights")?;
        let mut dims = try_vec(shape.len(), "shape")?;
        dims.extend_from_slice(shape);
        let mut z = try_vec(len, "shape")?;
        z.extend_from_slice(initial);
        let mut x = try_vec(len, "shape")?;
        x.extend_from_slice(initial);
        Ok(Amuse {
            cfg,
            shape: dims,
            weight_decay: 0.0,
            t: 1,
            z,
            x,
            m: zeros(len, "shape")?,
            scratch: zeros(need, "shape")?,
        })
    }

    /// The same with decoupled weight decay `wd`, applied at the evaluation point (checked at
    /// each step).
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
    pub fn config(&self) -> &AmuseConfig<'s> {
        &self.cfg
    }

    /// The parameter's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of the next step (1 before the first).
    pub fn t(&self) -> u64 {
        self.t
    }

    /// `Z_t`, the fast (Muon) sequence.
    pub fn fast(&self) -> &[T] {
        &self.z
    }

    /// `X_t`, the running average of `Z_1 … Z_t`: the weights to evaluate and checkpoint.
    pub fn averaged(&self) -> &[T] {
        &self.x
    }

    /// The momentum buffer `M_{t−1}`.
    pub fn momentum(&self) -> &[T] {
        &self.m
    }

    /// Replaces the state by a checkpoint's: `Z`, `X`, the momentum and the next step's number.
    /// On an error nothing changes.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a buffer that does not hold the shape, [`Error::NonFinite`]
    /// for non-finite values, [`Error::InvalidParameter`] for `t = 0`.
    pub fn restore(&mut self, z: &[T], x: &[T], m: &[T], t: u64) -> Result<()> {
        if t == 0 {
            return Err(Error::InvalidParameter {
                name: "t",
                reason: "steps count from 1",
            });
        }
        for (what, s) in [("amuse z", z), ("amuse x", x), ("amuse momentum", m)] {
            check_len(what, s, self.z.len(), &self.shape)?;
            crate::simd::check_finite(s, what)?;
        }
        self.z.copy_from_slice(z);
        self.x.copy_from_slice(x);
        self.m.copy_from_slice(m);
        self.t = t;
        Ok(())
    }

    /// One AMUSE step with learning rate `lr`: `y` holds `Y_t` (the weights `grad` was taken at)
    /// and receives `Y_{t+1}`. [`amuse_step`] on this optimizer's state; the step counter
    /// advances only on success, and on an error nothing changes.
    ///
    /// # Errors
    /// As [`amuse_step`].
    pub fn step(&mut self, y: &mut [T], grad: &[T], lr: f64, par: Par) -> Result<MuonReport> {
        let state = AmuseState {
            z: &mut self.z,
            x: &mut self.x,
            m: &mut self.m,
        };
        let hyper = Hyper::lr(lr).with_weight_decay(self.weight_decay);
        let report = amuse_step(
            y,
            state,
            grad,
            &self.shape,
            self.t,
            hyper,
            &self.cfg,
            &mut self.scratch,
            par,
        )?;
        self.t = self.t.saturating_add(1);
        Ok(report)
    }
}

fn check_len<T>(what: &'static str, s: &[T], len: usize, shape: &[usize]) -> Result<()> {
    if s.len() == len {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        what,
        expected: Shape::from_dims(shape).unwrap_or(Shape::d1(len)),
        found: Shape::d1(s.len()),
    })
}
