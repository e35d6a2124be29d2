//! Real-input transforms (`rfft` / `irfft`) on top of a complex [`Fft`]: a half-length complex
//! transform with an `O(n)` untangling pass for even `n`, a full-length one for odd `n`.

use alloc::vec::Vec;

use num_complex::Complex;

use super::fft::{Direction, Fft, FftBackend};
use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::limits::{MAX_FFT_LEN, check};

/// A planned real-input forward transform (`n` real samples → `n/2 + 1` bins, like
/// `numpy.fft.rfft`) and its inverse (`n/2 + 1` bins → `n` samples, like `numpy.fft.irfft`
/// without the `1/n`: the imaginary parts of bin 0 and, for even `n`, bin `n/2` are ignored).
///
/// For even `n` the samples are packed as `n/2` complex numbers `x₂ⱼ + i·x₂ⱼ₊₁`, transformed
/// at half length and untangled with `X_k = E_k + e^(−2πik/n)·O_k`, where
/// `E_k = (Z_k + conj Z_(n/2−k))/2` and `O_k = (Z_k − conj Z_(n/2−k))/(2i)` are the transforms
/// of the even and odd samples; the inverse runs the same steps backwards.
///
/// ```
/// use mlkern::stft::{Complex, RealFft};
/// let plan = RealFft::<f64>::new(4)?;
/// let mut bins = [Complex::new(0.0, 0.0); 3];
/// let mut scratch = plan.make_scratch()?;
/// plan.forward(&[1.0, 2.0, 3.0, 4.0], &mut bins, &mut scratch)?;
/// assert_eq!(bins, [Complex::new(10.0, 0.0), Complex::new(-2.0, 2.0), Complex::new(-2.0, 0.0)]);
/// let mut x = [0.0; 4];
/// plan.inverse(&bins, &mut x, &mut scratch)?;
/// assert_eq!(x, [4.0, 8.0, 12.0, 16.0]); // unnormalized: n·x
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RealFft<T: Real> {
    n: usize,
    fwd: Fft<T>,
    inv: Fft<T>,
    /// `e^(−2πik/n)` for `k < n/2` (even `n` only).
    tw: Vec<Complex<T>>,
}

impl<T: Real> RealFft<T> {
    /// Plans both directions for `n` samples on the default backend.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `n == 0`; [`Error::TooLarge`] if `n` exceeds
    /// [`MAX_FFT_LEN`](crate::limits::MAX_FFT_LEN); [`Error::OutOfMemory`] if the plans cannot
    /// be allocated.
    pub fn new(n: usize) -> Result<Self> {
        Self::with_backend(n, FftBackend::Auto)
    }

    /// Plans both directions for `n` samples on a chosen backend.
    ///
    /// # Errors
    /// As [`Fft::with_backend`] (the errors name `n`).
    ///
    /// ```
    /// use mlkern::stft::RealFft;
    /// assert!(RealFft::<f64>::new(1 << 40).is_err()); // over MAX_FFT_LEN, nothing allocated
    /// ```
    pub fn with_backend(n: usize, backend: FftBackend) -> Result<Self> {
        Self::plan(n, backend, "n")
    }

    /// [`RealFft::with_backend`] with the caller's name for `n` in the errors.
    pub(crate) fn plan(n: usize, backend: FftBackend, name: &'static str) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidParameter {
                name,
                reason: "an FFT length must be at least 1",
            });
        }
        check(n, MAX_FFT_LEN, name)?;
        let m = if n.is_multiple_of(2) { n / 2 } else { n };
        let fwd = Fft::plan(m, Direction::Forward, backend, name)?;
        let inv = Fft::plan(m, Direction::Inverse, backend, name)?;
        let tw = if n.is_multiple_of(2) {
            crate::base::from_fn(n / 2, name, |k| {
                let a = -2.0 * core::f64::consts::PI * (k as f64) / (n as f64);
                Complex::new(
                    T::from_f64(num_traits::Float::cos(a)),
                    T::from_f64(num_traits::Float::sin(a)),
                )
            })?
        } else {
            Vec::new()
        };
        Ok(RealFft { n, fwd, inv, tw })
    }

    /// The number of real samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always `false` (plans have `n ≥ 1`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `n/2 + 1`, the number of bins.
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    /// The backend of the underlying complex plans.
    pub fn backend(&self) -> FftBackend {
        self.fwd.backend()
    }

    /// Length of the packed work buffer of [`Self::forward_packed`] / [`Self::inverse_packed`]:
    /// `n/2 + 1` for even `n`, `n` for odd `n`.
    pub(crate) fn packed_len(&self) -> usize {
        if self.n.is_multiple_of(2) {
            self.n / 2 + 1
        } else {
            self.n
        }
    }

    /// Scratch for the packed transforms (the complex plans' scratch).
    pub(crate) fn fft_scratch_len(&self) -> usize {
        self.fwd.scratch_need().max(self.inv.scratch_need())
    }

    /// Scratch elements [`Self::forward`] and [`Self::inverse`] need, infallible
    /// (crate-internal sizing; cannot overflow: both terms are allocated plan sizes).
    fn scratch_need(&self) -> usize {
        self.packed_len().saturating_add(self.fft_scratch_len())
    }

    /// Scratch elements [`Self::forward`] and [`Self::inverse`] need.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] if the size overflows `usize`.
    ///
    /// ```
    /// use mlkern::stft::RealFft;
    /// let plan = RealFft::<f32>::new(10)?;
    /// assert!(plan.scratch_len()? >= 6); // at least the n/2 + 1 packed values
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn scratch_len(&self) -> Result<usize> {
        self.packed_len()
            .checked_add(self.fft_scratch_len())
            .ok_or(Error::OutOfMemory {
                name: "scratch",
                bytes: usize::MAX,
            })
    }

    /// A zeroed scratch buffer of [`Self::scratch_len`] elements.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] (`scratch`) if the size overflows or cannot be allocated.
    ///
    /// ```
    /// use mlkern::stft::RealFft;
    /// let plan = RealFft::<f64>::new(9)?;
    /// assert_eq!(plan.make_scratch()?.len(), plan.scratch_len()?);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn make_scratch(&self) -> Result<Vec<Complex<T>>> {
        crate::base::zeros(self.scratch_len()?, "scratch")
    }

    /// Sample `j` of a packed buffer.
    #[inline(always)]
    pub(crate) fn packed_get(&self, buf: &[Complex<T>], j: usize) -> T {
        if self.n.is_multiple_of(2) {
            let z = buf[j / 2];
            if j.is_multiple_of(2) { z.re } else { z.im }
        } else {
            buf[j].re
        }
    }

    /// Writes sample `j` into a packed buffer (odd `n`: also clears the imaginary part).
    #[inline(always)]
    pub(crate) fn packed_set(&self, buf: &mut [Complex<T>], j: usize, v: T) {
        if self.n.is_multiple_of(2) {
            let z = &mut buf[j / 2];
            if j.is_multiple_of(2) {
                z.re = v
            } else {
                z.im = v
            }
        } else {
            buf[j] = Complex::new(v, T::zero());
        }
    }

    /// Forward transform of the samples packed in `buf` (see [`Self::packed_set`]); the bins
    /// land in `buf[..n/2 + 1]`.
    #[inline(always)]
    pub(crate) fn forward_packed(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        let n = self.n;
        if n % 2 == 1 {
            self.fwd.run(&mut buf[..n], scratch);
            return;
        }
        let h = n / 2;
        let buf = &mut buf[..h + 1];
        self.fwd.run(&mut buf[..h], scratch);
        let half = T::from_f64(0.5);
        let z0 = buf[0];
        buf[0] = Complex::new(z0.re + z0.im, T::zero());
        buf[h] = Complex::new(z0.re - z0.im, T::zero());
        // Pairs (k, h − k) for 1 ≤ k < h − k; the middle bin k = h/2 (even h) pairs with itself.
        let (head, tail) = buf.split_at_mut(h / 2 + 1);
        let tail_len = tail.len() - 1;
        let pairs = head[1..]
            .iter_mut()
            .zip(tail[..tail_len].iter_mut().rev())
            .zip(self.tw[1..].iter().zip(self.tw[1..].iter().rev()));
        for ((a, b), (wk, whk)) in pairs {
            let (za, zb) = (*a, *b);
            *a = untangle(za, zb, *wk, half);
            *b = untangle(zb, za, *whk, half);
        }
        if h.is_multiple_of(2) && h > 0 {
            let m = h / 2;
            let z = head[m];
            head[m] = untangle(z, z, self.tw[m], half);
        }
    }

    /// Inverse transform of the bins in `buf[..n/2 + 1]`; the samples land packed in `buf`.
    pub(crate) fn inverse_packed(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        let n = self.n;
        if n % 2 == 1 {
            // Hermitian extension; the imaginary part of bin 0 is ignored.
            buf[0].im = T::zero();
            for k in 1..=n / 2 {
                buf[n - k] = buf[k].conj();
            }
            self.inv.run(&mut buf[..n], scratch);
            return;
        }
        let h = n / 2;
        let (x0, xh) = (buf[0].re, buf[h].re);
        // Z_0 = (X_0 + X_h) + i·(X_0 − X_h) with the imaginary parts dropped.
        buf[0] = Complex::new(x0 + xh, x0 - xh);
        let mut k = 1;
        while k <= h - k {
            let (a, b) = (buf[k], buf[h - k]);
            let zk = tangle(a, b, self.tw[k]);
            let zhk = tangle(b, a, self.tw[h - k]);
            buf[k] = zk;
            buf[h - k] = zhk;
            k += 1;
        }
        self.inv.run(&mut buf[..h], scratch);
    }

    /// `bins[..n/2 + 1]` ← the transform of the `n` samples `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for wrong lengths and for a scratch shorter than
    /// [`Self::scratch_len`] (`"real_fft: scratch"`).
    ///
    /// ```
    /// use mlkern::stft::{Complex, RealFft};
    /// let plan = RealFft::<f64>::new(2)?;
    /// let mut bins = [Complex::new(0.0, 0.0); 2];
    /// plan.forward(&[1.0, 3.0], &mut bins, &mut plan.make_scratch()?)?;
    /// assert_eq!(bins, [Complex::new(4.0, 0.0), Complex::new(-2.0, 0.0)]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn forward(
        &self,
        x: &[T],
        bins: &mut [Complex<T>],
        scratch: &mut [Complex<T>],
    ) -> Result<()> {
        self.check(x.len(), bins.len(), scratch.len(), "RealFft::forward")?;
        let (buf, rest) = scratch.split_at_mut(self.packed_len());
        for (j, &v) in x.iter().enumerate() {
            self.packed_set(buf, j, v);
        }
        self.forward_packed(buf, rest);
        bins.copy_from_slice(&buf[..self.bins()]);
        Ok(())
    }

    /// `x` ← the unnormalized inverse of `bins` (`n·irfft`).
    ///
    /// # Errors
    /// As [`Self::forward`].
    ///
    /// ```
    /// use mlkern::stft::{Complex, RealFft};
    /// let plan = RealFft::<f64>::new(2)?;
    /// let mut x = [0.0; 2];
    /// let bins = [Complex::new(4.0, 0.0), Complex::new(-2.0, 0.0)];
    /// plan.inverse(&bins, &mut x, &mut plan.make_scratch()?)?;
    /// assert_eq!(x, [2.0, 6.0]); // 2·[1, 3]: unnormalized
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn inverse(
        &self,
        bins: &[Complex<T>],
        x: &mut [T],
        scratch: &mut [Complex<T>],
    ) -> Result<()> {
        self.check(x.len(), bins.len(), scratch.len(), "RealFft::inverse")?;
        let (buf, rest) = scratch.split_at_mut(self.packed_len());
        buf[..self.bins()].copy_from_slice(bins);
        self.inverse_packed(buf, rest);
        for (j, v) in x.iter_mut().enumerate() {
            *v = self.packed_get(buf, j);
        }
        Ok(())
    }

    fn check(&self, x: usize, bins: usize, scratch: usize, what: &'static str) -> Result<()> {
        if x != self.n {
            return Err(Error::ShapeMismatch {
                what,
                expected: Shape::d1(self.n),
                found: Shape::d1(x),
            });
        }
        if bins != self.bins() {
            return Err(Error::ShapeMismatch {
                what,
                expected: Shape::d1(self.bins()),
                found: Shape::d1(bins),
            });
        }
        let need = self.scratch_need();
        if scratch < need {
            return Err(Error::ShapeMismatch {
                what: "real_fft: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch),
            });
        }
        Ok(())
    }
}

/// `X_k` from `a = Z_k`, `b = Z_(h−k)` and `w = e^(−2πik/n)`.
#[inline(always)]
fn untangle<T: Real>(a: Complex<T>, b: Complex<T>, w: Complex<T>, half: T) -> Complex<T> {
    let bc = b.conj();
    let e = (a + bc) * half;
    let d = (a - bc) * half;
    // O = d / i = −i·d.
    let o = Complex::new(d.im, -d.re);
    e + w * o
}

/// `2·(E_k + i·O_k)` from `a = X_k`, `b = X_(h−k)`, `w = e^(−2πik/n)`: the packed half-length
/// spectrum whose inverse transform is `n` times the packed samples.
#[inline(always)]
fn tangle<T: Real>(a: Complex<T>, b: Complex<T>, w: Complex<T>) -> Complex<T> {
    let bc = b.conj();
    let e2 = a + bc;
    let d = (a - bc) * w.conj();
    e2 + Complex::new(-d.im, d.re)
}
