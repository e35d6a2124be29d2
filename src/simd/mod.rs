//! SIMD primitives for `f32` and `f64`: sums, dot products, maxima, `axpy`, `exp`, softmax.
//!
//! Every primitive exists twice: as a free function that runs at the widest instruction set this
//! CPU supports ([`Isa::detect`], re-detected on each call, which is cheap and needs no `std`),
//! and as a method of [`Isa`] that runs at an explicitly chosen level, so that tests and
//! benchmarks can compare the scalar, AVX2 (`x86-v3`) and AVX-512 (`x86-v4`) code paths
//! ([`Isa::supported`] lists those that run here). All kernels are written once against pulp's
//! safe, lane-generic `Simd` API; there is no `unsafe` code. Slices of any length are accepted
//! (the tail that does not fill a register is handled with partial loads and stores).
//!
//! | function | computes | errors |
//! |---|---|---|
//! | [`sum`] | `Σ xᵢ` (blocked pairwise, error `≤ γ_d·Σ|xᵢ|`) | — |
//! | [`dot`] | `Σ xᵢ·yᵢ` | `ShapeMismatch` |
//! | [`max`], [`argmax`] | largest value / its first index | `Empty`, `NonFinite` (NaN) |
//! | [`scale`], [`axpy`] | `x ← α·x`, `y ← α·x + y` | `ShapeMismatch` (`axpy`) |
//! | [`exp_in_place`], [`exp_into`] | `eˣ` (≤ 1 ulp, same bits on every level) | `ShapeMismatch` |
//! | [`log_sum_exp`] | `m + ln Σ e^(xᵢ − m)` | `Empty`, `NonFinite` (NaN) |
//! | [`softmax_in_place`] | `e^(xᵢ − m) / Σ e^(xⱼ − m)` | `Empty`, `NonFinite`, `InvalidParam…` |
//! | [`find_non_finite`], [`check_finite`] | first NaN/±Inf | `NonFinite` (`check_finite`) |
//!
//! # Accuracy notation
//!
//! `ε` is the type's machine epsilon ([`crate::Real::EPS`]), `u = ε/2` the unit roundoff,
//! `γ_k = k·u / (1 − k·u)`, and `d = ⌈log₂ n⌉ + 24` bounds the number of rounded additions any
//! element passes through in the blocked pairwise summation used by [`sum`], [`dot`],
//! [`log_sum_exp`] and [`softmax_in_place`] (see the `reduce` module source for the derivation).
//!
//! ```
//! use mlkern::simd;
//! let x = [1.0f32, 2.0, 3.0, 4.0];
//! assert_eq!(simd::sum(&x), 10.0);
//! assert_eq!(simd::argmax(&x)?, (3, 4.0));
//! let mut p = x;
//! simd::softmax_in_place(&mut p)?;
//! assert!((simd::sum(&p) - 1.0).abs() < 1e-6);
//! # Ok::<(), mlkern::Error>(())
//! ```

mod axpy;
mod exp;
mod extremum;
mod finite;
mod isa;
mod kernels;
mod lanes;
mod reduce;
mod softmax;

pub(crate) use exp::weights_into;
pub use isa::Isa;
pub(crate) use kernels::Kernels;
pub(crate) use lanes::Elem;

use crate::Real;
use crate::error::{Error, Result};

/// `Σ xᵢ` (`0` for an empty slice), summed in SIMD registers with four independent accumulators
/// per block and blocks combined pairwise.
///
/// Error bound: `|ŝ − Σxᵢ| ≤ γ_d · Σ|xᵢ|` with `d = ⌈log₂ n⌉ + 24` (see the [module docs](self));
/// for comparison, a naive loop only guarantees `γ_{n−1}`. The result depends on the level (the
/// association order differs) but always satisfies the bound. NaN and ±Inf propagate as in IEEE
/// arithmetic.
///
/// ```
/// assert_eq!(mlkern::simd::sum(&[1.0f32, 2.0]), 3.0);
/// assert_eq!(mlkern::simd::sum::<f64>(&[]), 0.0);
/// ```
#[inline]
pub fn sum<T: Real>(x: &[T]) -> T {
    Isa::detect().sum(x)
}

/// `Σ xᵢ·yᵢ`, with the same blocked pairwise scheme as [`sum`].
///
/// Error bound: `|d̂ − Σxᵢyᵢ| ≤ γ_{d+1} · Σ|xᵢ·yᵢ|`. Products are fused into the accumulation
/// where the level has FMA.
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what = "dot: y"`) if `x.len() != y.len()`.
///
/// ```
/// assert_eq!(mlkern::simd::dot(&[1.0f32, 2.0], &[3.0, 4.0])?, 11.0);
/// assert!(mlkern::simd::dot(&[1.0f32], &[1.0, 2.0]).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn dot<T: Real>(x: &[T], y: &[T]) -> Result<T> {
    Isa::detect().dot(x, y)
}

/// `max xᵢ`; ±Inf are ordinary values. Exact (no rounding); when the maximum is zero the sign of
/// the returned zero is unspecified.
///
/// # Errors
/// [`Error::Empty`] for an empty slice; [`Error::NonFinite`] with the index of the first NaN.
///
/// ```
/// assert_eq!(mlkern::simd::max(&[1.0f32, 3.0, 2.0])?, 3.0);
/// assert!(mlkern::simd::max(&[1.0f32, f32::NAN]).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn max<T: Real>(x: &[T]) -> Result<T> {
    Isa::detect().max(x)
}

/// `(i, xᵢ)` for the first `i` with `xᵢ = max x` (ties resolve to the smallest index; `+0` and
/// `−0` tie; ±Inf are ordinary values).
///
/// # Errors
/// [`Error::Empty`] for an empty slice; [`Error::NonFinite`] with the index of the first NaN.
///
/// ```
/// assert_eq!(mlkern::simd::argmax(&[1.0f32, 3.0, 3.0])?, (1, 3.0));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn argmax<T: Real>(x: &[T]) -> Result<(usize, T)> {
    Isa::detect().argmax(x)
}

/// `xᵢ ← α·xᵢ` (one rounding per element; bit-identical on every level).
///
/// ```
/// let mut x = [1.0f32, 2.0];
/// mlkern::simd::scale(2.0, &mut x);
/// assert_eq!(x, [2.0, 4.0]);
/// ```
#[inline]
pub fn scale<T: Real>(alpha: T, x: &mut [T]) {
    Isa::detect().scale(alpha, x)
}

/// `yᵢ ← α·xᵢ + yᵢ`, one fused multiply-add per element (a single rounding; bit-identical on
/// every level).
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what = "axpy: y"`) if `x.len() != y.len()`; `y` is then unchanged.
///
/// ```
/// let mut y = [1.0f32, 1.0];
/// mlkern::simd::axpy(2.0, &[1.0, 2.0], &mut y)?;
/// assert_eq!(y, [3.0, 5.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) -> Result<()> {
    Isa::detect().axpy(alpha, x, y)
}

/// `xᵢ ← e^(xᵢ)`, vectorized.
///
/// Accuracy (the documented guarantee is 2 ulp; the tests check ≤ 1 ulp):
/// * `f32`: at most 1 ulp from the correctly rounded result on `[−87, 88]`, checked on every
///   97th bit pattern of the range plus dense and random samples (observed: ≤ 0.71 ulp from the
///   exact value);
/// * `f64`: at most 1 ulp from the exact value, checked against a double-double reference on
///   random and dense samples of `[−708, 709]` (observed: ≤ 0.68 ulp).
///
/// Subnormal results are computed, not flushed, with an absolute error of at most one smallest
/// subnormal (`2^−149` / `2^−1074`). `exp(NaN) = NaN`, `exp(+∞) = +∞`, `exp(−∞) = 0`,
/// `exp(±0) = 1`, overflow (`x > 88.72` / `709.78`) gives `+∞`, and deep underflow gives `+0`.
/// The scalar level runs the very same algorithm (every step is an exactly specified IEEE
/// operation), so results are bit-identical on every [`Isa`]. The price is paid on the scalar
/// level, which needs a correctly rounded FMA per polynomial step and gets it from a library call
/// (about 23 ns per `f32` element on the development machine, versus 0.4 ns with AVX-512 and
/// 2.6 ns for `f32::exp`).
///
/// ```
/// let mut x = [0.0f32, 1.0, f32::NEG_INFINITY];
/// mlkern::simd::exp_in_place(&mut x);
/// assert_eq!(x, [1.0, std::f32::consts::E, 0.0]);
/// ```
#[inline]
pub fn exp_in_place<T: Real>(x: &mut [T]) {
    Isa::detect().exp_in_place(x)
}

/// `outᵢ ← e^(xᵢ)`, with the accuracy and special values of [`exp_in_place`].
///
/// # Errors
/// [`Error::ShapeMismatch`] (`what = "exp_into: out"`) if `out.len() != x.len()`.
///
/// ```
/// let mut out = [0.0f64; 2];
/// mlkern::simd::exp_into(&[0.0, 1.0], &mut out)?;
/// assert_eq!(out, [1.0, std::f64::consts::E]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn exp_into<T: Real>(x: &[T], out: &mut [T]) -> Result<()> {
    Isa::detect().exp_into(x, out)
}

/// `ln Σ e^(xᵢ)`, computed as `m + ln Σ e^(xᵢ − m)` with `m = max xᵢ` (no overflow).
///
/// Special values: all `−∞` gives `−∞`; any `+∞` gives `+∞`.
/// Accuracy: absolute error `≤ ε·(|result| + d + 4 + R)` with `R = max |xᵢ − m|` over the
/// non-`−∞` elements (relative error of the pairwise sum `γ_d`, of each exponential 2 ulp plus
/// `u·R` from rounding `xᵢ − m`, turned into absolute error by `ln`; plus the final rounding).
///
/// # Errors
/// [`Error::Empty`] for an empty slice; [`Error::NonFinite`] with the index of the first NaN.
///
/// ```
/// let l = mlkern::simd::log_sum_exp(&[0.0f64, 0.0])?;
/// assert!((l - std::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn log_sum_exp<T: Real>(x: &[T]) -> Result<T> {
    Isa::detect().log_sum_exp(x)
}

/// `xᵢ ← e^(xᵢ − m) / Σⱼ e^(xⱼ − m)` with `m = max x`.
///
/// The exponentials are bit-identical on every level; the sum is pairwise, and the division is a
/// multiplication by the rounded reciprocal. Because every output is normalized by the computed
/// sum of the same computed exponentials, the exponentials' own error cancels in the total:
/// `|Σŷᵢ − 1| ≤ γ_{d+2}` (sum, reciprocal, product; about `2.0e−6` for `f32` at `n = 130`).
/// Each `ŷᵢ` has relative error `≤ (d + 4 + |xᵢ − m|)·ε` against the exact softmax.
/// `−∞` entries (masked logits) give exactly `0`.
///
/// # Errors
/// Checked before anything is written, so `x` is unchanged on error:
/// [`Error::Empty`] for an empty slice; [`Error::NonFinite`] with the index of the first NaN or
/// `+∞`; [`Error::InvalidParameter`] if every element is `−∞` (0/0).
///
/// ```
/// let mut x = [1.0f32, 1.0, f32::NEG_INFINITY];
/// mlkern::simd::softmax_in_place(&mut x)?;
/// assert_eq!(x, [0.5, 0.5, 0.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[inline]
pub fn softmax_in_place<T: Real>(x: &mut [T]) -> Result<()> {
    Isa::detect().softmax_in_place(x)
}

/// The index of the first NaN or ±Inf, if any.
///
/// ```
/// assert_eq!(mlkern::simd::find_non_finite(&[1.0f32, f32::INFINITY, f32::NAN]), Some(1));
/// assert_eq!(mlkern::simd::find_non_finite(&[1.0f64]), None);
/// ```
#[inline]
pub fn find_non_finite<T: Real>(x: &[T]) -> Option<usize> {
    Isa::detect().find_non_finite(x)
}

/// `Ok(())` if every element is finite.
///
/// # Errors
/// [`Error::NonFinite`] `{ what, index }` with the index of the first NaN or ±Inf.
///
/// ```
/// use mlkern::Error;
/// assert!(mlkern::simd::check_finite(&[1.0f32], "weights").is_ok());
/// assert_eq!(
///     mlkern::simd::check_finite(&[1.0f32, f32::NAN], "weights"),
///     Err(Error::NonFinite { what: "weights", index: 1 })
/// );
/// ```
#[inline]
pub fn check_finite<T: Real>(x: &[T], what: &'static str) -> Result<()> {
    Isa::detect().check_finite(x, what)
}

/// The primitives at an explicit level; each behaves exactly like the free function of the same
/// name in [`crate::simd`], which calls it with [`Isa::detect`].
impl Isa {
    /// [`sum`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().sum(&[1.0f32, 2.0]), 3.0);
    /// ```
    #[inline]
    pub fn sum<T: Real>(self, x: &[T]) -> T {
        T::simd_sum(self, x)
    }

    /// [`dot`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().dot(&[1.0f32, 2.0], &[3.0, 4.0])?, 11.0);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn dot<T: Real>(self, x: &[T], y: &[T]) -> Result<T> {
        T::simd_dot(self, x, y)
    }

    /// [`max`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().max(&[1.0f32, 2.0])?, 2.0);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn max<T: Real>(self, x: &[T]) -> Result<T> {
        T::simd_max(self, x)
    }

    /// [`argmax`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().argmax(&[1.0f32, 2.0])?, (1, 2.0));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn argmax<T: Real>(self, x: &[T]) -> Result<(usize, T)> {
        T::simd_argmax(self, x)
    }

    /// [`scale`] at this level.
    ///
    /// ```
    /// let mut x = [1.0f32, 2.0];
    /// mlkern::simd::Isa::scalar().scale(3.0, &mut x);
    /// assert_eq!(x, [3.0, 6.0]);
    /// ```
    #[inline]
    pub fn scale<T: Real>(self, alpha: T, x: &mut [T]) {
        T::simd_scale(self, alpha, x)
    }

    /// [`axpy`] at this level.
    ///
    /// ```
    /// let mut y = [1.0f32, 1.0];
    /// mlkern::simd::Isa::scalar().axpy(2.0, &[1.0, 2.0], &mut y)?;
    /// assert_eq!(y, [3.0, 5.0]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn axpy<T: Real>(self, alpha: T, x: &[T], y: &mut [T]) -> Result<()> {
        T::simd_axpy(self, alpha, x, y)
    }

    /// [`exp_in_place`] at this level (bit-identical results on every level).
    ///
    /// ```
    /// let mut x = [0.0f32];
    /// mlkern::simd::Isa::scalar().exp_in_place(&mut x);
    /// assert_eq!(x, [1.0]);
    /// ```
    #[inline]
    pub fn exp_in_place<T: Real>(self, x: &mut [T]) {
        T::simd_exp_in_place(self, x)
    }

    /// [`exp_into`] at this level (bit-identical results on every level).
    ///
    /// ```
    /// let mut out = [0.0f32];
    /// mlkern::simd::Isa::scalar().exp_into(&[0.0], &mut out)?;
    /// assert_eq!(out, [1.0]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn exp_into<T: Real>(self, x: &[T], out: &mut [T]) -> Result<()> {
        T::simd_exp_into(self, x, out)
    }

    /// [`log_sum_exp`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().log_sum_exp(&[0.0f32])?, 0.0);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn log_sum_exp<T: Real>(self, x: &[T]) -> Result<T> {
        T::simd_log_sum_exp(self, x)
    }

    /// [`softmax_in_place`] at this level.
    ///
    /// ```
    /// let mut x = [0.0f32, 0.0];
    /// mlkern::simd::Isa::scalar().softmax_in_place(&mut x)?;
    /// assert_eq!(x, [0.5, 0.5]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    #[inline]
    pub fn softmax_in_place<T: Real>(self, x: &mut [T]) -> Result<()> {
        T::simd_softmax_in_place(self, x)
    }

    /// [`find_non_finite`] at this level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().find_non_finite(&[f32::NAN]), Some(0));
    /// ```
    #[inline]
    pub fn find_non_finite<T: Real>(self, x: &[T]) -> Option<usize> {
        T::simd_find_non_finite(self, x)
    }

    /// [`check_finite`] at this level.
    ///
    /// ```
    /// assert!(mlkern::simd::Isa::scalar().check_finite(&[1.0f32], "x").is_ok());
    /// ```
    #[inline]
    pub fn check_finite<T: Real>(self, x: &[T], what: &'static str) -> Result<()> {
        match self.find_non_finite(x) {
            None => Ok(()),
            Some(index) => Err(Error::NonFinite { what, index }),
        }
    }
}
