//! Complex FFT plans over two backends: rustfft (with `std`) and the in-crate transform.

use alloc::vec::Vec;

use num_complex::Complex;

use super::builtin::Builtin;
use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::limits::{MAX_FFT_LEN, check};

/// Which implementation runs a transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FftBackend {
    /// rustfft (SIMD, any length) with the `std` feature; [`FftBackend::Builtin`] without it.
    #[default]
    Auto,
    /// The in-crate transform: mixed-radix Stockham (radices 4, 2 and odd primes ≤ 61) and
    /// Bluestein's algorithm for lengths with a larger prime factor. Needs only `alloc`.
    Builtin,
    /// rustfft. Only with the `std` feature; without it, planning returns
    /// [`Error::BackendUnavailable`].
    RustFft,
}

/// Sign of the exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// `X_k = Σ x_j e^(−2πi·jk/n)`.
    Forward,
    /// `x_j = Σ X_k e^(+2πi·jk/n)`, unnormalized (no `1/n`).
    Inverse,
}

#[derive(Clone)]
enum Imp<T: Real> {
    Builtin(Builtin<T>),
    #[cfg(feature = "std")]
    RustFft(super::rust_backend::RustPlan),
}

/// A planned complex FFT of one length and direction, unnormalized.
///
/// Plans are immutable and `Sync`: one plan serves any number of threads, each with its own
/// scratch ([`Fft::scratch_len`]). Accuracy (both backends): the error of each output is about
/// `ε·log₂n·‖x‖₂` (`ε` the type's machine epsilon); twiddles are rounded once from `f64`.
///
/// ```
/// use mlkern::stft::{Complex, Direction, Fft, FftBackend};
/// let plan = Fft::<f64>::with_backend(3, Direction::Forward, FftBackend::Builtin)?;
/// let mut x = [Complex::new(1.0, 0.0), Complex::new(2.0, 0.0), Complex::new(3.0, 0.0)];
/// let mut scratch = vec![Complex::new(0.0, 0.0); plan.scratch_len()?];
/// plan.process(&mut x, &mut scratch)?;
/// assert!((x[0].re - 6.0).abs() < 1e-12);
/// assert!((x[1].re + 1.5).abs() < 1e-12 && (x[1].im - 0.75f64.sqrt()).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone)]
pub struct Fft<T: Real> {
    n: usize,
    direction: Direction,
    imp: Imp<T>,
}

impl<T: Real> core::fmt::Debug for Fft<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fft")
            .field("n", &self.n)
            .field("direction", &self.direction)
            .field("backend", &self.backend())
            .finish()
    }
}

impl<T: Real> Fft<T> {
    /// Plans a transform of length `n` on the default backend ([`FftBackend::Auto`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `n == 0`; [`Error::TooLarge`] if `n` exceeds
    /// [`MAX_FFT_LEN`](crate::limits::MAX_FFT_LEN); [`Error::OutOfMemory`] if the plan's tables
    /// cannot be allocated.
    pub fn new(n: usize, direction: Direction) -> Result<Self> {
        Self::with_backend(n, direction, FftBackend::Auto)
    }

    /// Plans a transform of length `n` on a chosen backend.
    ///
    /// `n` is limited to [`MAX_FFT_LEN`](crate::limits::MAX_FFT_LEN) (2²⁸); every table of the
    /// plan is reserved fallibly (rustfft, which allocates infallibly, is preceded by a fallible
    /// probe reservation of the bytes its plan will take), so a length the machine cannot hold
    /// is an error, never an abort.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `n == 0`; [`Error::TooLarge`] (`n`) above the limit;
    /// [`Error::OutOfMemory`] (`n`) if the plan cannot be allocated;
    /// [`Error::BackendUnavailable`] for [`FftBackend::RustFft`] without the `std` feature.
    ///
    /// ```
    /// use mlkern::stft::{Direction, Fft, FftBackend};
    /// assert!(Fft::<f32>::with_backend(1 << 40, Direction::Forward, FftBackend::Builtin).is_err());
    /// ```
    pub fn with_backend(n: usize, direction: Direction, backend: FftBackend) -> Result<Self> {
        Self::plan(n, direction, backend, "n")
    }

    /// [`Fft::with_backend`] with the caller's name for `n` in the errors.
    pub(crate) fn plan(
        n: usize,
        direction: Direction,
        backend: FftBackend,
        name: &'static str,
    ) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidParameter {
                name,
                reason: "an FFT length must be at least 1",
            });
        }
        check(n, MAX_FFT_LEN, name)?;
        let imp = match backend {
            #[cfg(feature = "std")]
            FftBackend::Auto | FftBackend::RustFft => {
                super::rust_backend::probe::<T>(n, name)?;
                Imp::RustFft(<T as super::rust_backend::RustFftScalar>::plan(
                    n, direction,
                ))
            }
            #[cfg(not(feature = "std"))]
            FftBackend::RustFft => {
                return Err(Error::BackendUnavailable {
                    backend: "rustfft",
                    reason: "rustfft needs the `std` feature",
                });
            }
            #[cfg(not(feature = "std"))]
            FftBackend::Auto => Imp::Builtin(Builtin::new(n, name)?),
            FftBackend::Builtin => Imp::Builtin(Builtin::new(n, name)?),
        };
        Ok(Fft { n, direction, imp })
    }

    /// The transform length.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always `false`: plans have length ≥ 1 (present for API symmetry with `len`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The direction this plan computes.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The backend that runs this plan ([`FftBackend::Builtin`] or [`FftBackend::RustFft`]).
    pub fn backend(&self) -> FftBackend {
        match self.imp {
            Imp::Builtin(_) => FftBackend::Builtin,
            #[cfg(feature = "std")]
            Imp::RustFft(_) => FftBackend::RustFft,
        }
    }

    /// Whether the in-crate backend runs Bluestein's algorithm for this length (a prime factor
    /// above 61); `false` for rustfft plans.
    pub fn is_bluestein(&self) -> bool {
        matches!(&self.imp, Imp::Builtin(b) if b.is_bluestein())
    }

    /// Scratch elements [`Fft::process`] needs.
    ///
    /// # Errors
    /// None today (the size cannot overflow); `Result` for the crate-wide scratch convention.
    ///
    /// ```
    /// use mlkern::stft::{Direction, Fft};
    /// let plan = Fft::<f32>::new(12, Direction::Inverse)?;
    /// let scratch = plan.make_scratch()?;
    /// assert_eq!(scratch.len(), plan.scratch_len()?);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn scratch_len(&self) -> Result<usize> {
        Ok(self.scratch_need())
    }

    /// The scratch length, infallible (crate-internal sizing).
    pub(crate) fn scratch_need(&self) -> usize {
        match &self.imp {
            Imp::Builtin(b) => b.scratch_len(),
            #[cfg(feature = "std")]
            Imp::RustFft(p) => p.scratch_len(),
        }
    }

    /// A zeroed scratch buffer of [`Fft::scratch_len`] elements.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] (`scratch`) if the buffer cannot be allocated.
    ///
    /// ```
    /// use mlkern::stft::{Direction, Fft};
    /// let plan = Fft::<f64>::new(7, Direction::Forward)?;
    /// assert_eq!(plan.make_scratch()?.len(), plan.scratch_len()?);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn make_scratch(&self) -> Result<Vec<Complex<T>>> {
        crate::base::zeros(self.scratch_need(), "scratch")
    }

    /// Transforms `buf` in place: one or more length-`n` transforms stored back to back.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `buf.len()` is not a multiple of `n`;
    /// [`Error::ShapeMismatch`] (`"fft: scratch"`) if `scratch` is shorter than
    /// [`Fft::scratch_len`]. Non-finite input is not an error: it propagates.
    ///
    /// ```
    /// use mlkern::stft::{Complex, Direction, Fft};
    /// let plan = Fft::<f64>::new(2, Direction::Forward)?;
    /// let mut x = [Complex::new(1.0, 0.0), Complex::new(3.0, 0.0)];
    /// plan.process(&mut x, &mut plan.make_scratch()?)?;
    /// assert_eq!(x, [Complex::new(4.0, 0.0), Complex::new(-2.0, 0.0)]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn process(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) -> Result<()> {
        if !buf.len().is_multiple_of(self.n) {
            return Err(Error::InvalidParameter {
                name: "buf",
                reason: "the buffer length must be a multiple of the FFT length",
            });
        }
        let need = self.scratch_need();
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "fft: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        self.run(buf, &mut scratch[..need]);
        Ok(())
    }

    /// [`Fft::process`] without the checks (crate-internal callers size their buffers).
    pub(crate) fn run(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        if buf.is_empty() {
            return;
        }
        match &self.imp {
            Imp::Builtin(b) => {
                let inverse = self.direction == Direction::Inverse;
                for chunk in buf.chunks_exact_mut(self.n) {
                    if inverse {
                        conj(chunk);
                    }
                    b.forward(chunk, scratch);
                    if inverse {
                        conj(chunk);
                    }
                }
            }
            #[cfg(feature = "std")]
            Imp::RustFft(p) => <T as super::rust_backend::RustFftScalar>::run(p, buf, scratch),
        }
    }
}

fn conj<T: Real>(x: &mut [Complex<T>]) {
    for v in x {
        v.im = -v.im;
    }
}
