//! The sealed [`Real`] trait: the two floating-point types every kernel is generic over.

use core::fmt::{Debug, Display};

use num_traits::{Float, FloatConst};

/// `f32` or `f64`: the element types mlkern's kernels accept.
///
/// Sealed: it cannot be implemented outside the crate, so kernels may rely on its SIMD tables.
/// Accuracy-sensitive kernels accumulate in `f64` through [`Real::as_f64`] / [`Real::from_f64`].
///
/// ```
/// use mlkern::Real;
/// fn half<T: Real>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(<f64 as Real>::NAME, "f64");
/// ```
pub trait Real:
    Float
    + FloatConst
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + crate::simd::Kernels
    + crate::simd::Elem
    + crate::dist::Element
    + sealed::LinalgScalar
    + sealed::FftScalar
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon (distance from 1.0 to the next larger value).
    const EPS: Self;
    /// Mantissa bits including the implicit one (24 or 53).
    const MANTISSA_DIGITS: u32;
    /// Widens to `f64` (exact).
    fn as_f64(self) -> f64;
    /// Rounds an `f64` to this type (round-to-nearest).
    fn from_f64(x: f64) -> Self;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const EPS: Self = f32::EPSILON;
    const MANTISSA_DIGITS: u32 = f32::MANTISSA_DIGITS;
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const EPS: Self = f64::EPSILON;
    const MANTISSA_DIGITS: u32 = f64::MANTISSA_DIGITS;
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// Sealed supertraits of [`Real`]: nameable inside the crate only, so users cannot implement `Real`.
pub(crate) mod sealed {
    /// With `alloc`, the faer scalar bound the linear-algebra layer needs; empty otherwise.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub trait LinalgScalar: faer::traits::RealField {}
    #[cfg(feature = "alloc")]
    impl<T: faer::traits::RealField> LinalgScalar for T {}
    /// With `alloc`, the faer scalar bound the linear-algebra layer needs; empty otherwise.
    #[cfg(not(feature = "alloc"))]
    pub trait LinalgScalar {}
    #[cfg(not(feature = "alloc"))]
    impl<T> LinalgScalar for T {}
    /// With `std`, the scalar bound of the rustfft backend; empty otherwise.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub trait FftScalar: crate::stft::rust_backend::RustFftScalar {}
    #[cfg(feature = "std")]
    impl<T: crate::stft::rust_backend::RustFftScalar> FftScalar for T {}
    /// With `std`, the scalar bound of the rustfft backend; empty otherwise.
    #[cfg(not(feature = "std"))]
    pub trait FftScalar {}
    #[cfg(not(feature = "std"))]
    impl<T> FftScalar for T {}
}
