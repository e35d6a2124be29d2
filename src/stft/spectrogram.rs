//! [`Spectrogram`]: the owned STFT result, a `[B, F, T]` complex array that carries its shape.

use alloc::vec::Vec;

use num_complex::Complex;

use crate::error::{Error, Result, Shape};

/// An owned STFT result: `batch × bins × frames` complex values, row-major (`[B, F, T]`, as
/// `torch.stft(…, return_complex=True)` returns them), plus the signal length that
/// [`Stft::istft`](super::Stft::istft) restores (`torch.istft`'s `length`).
///
/// [`Stft::stft`](super::Stft::stft) records the length of the analysed signals; a spectrogram
/// built with [`Spectrogram::new`] has none (the inverse then returns
/// `n_fft + hop·(T − 1)` samples, minus the centre padding), and
/// [`Spectrogram::with_length`] sets or clears it. A single signal has `batch() == 1`.
///
/// ```
/// use mlkern::stft::{Complex, Spectrogram};
/// let s = Spectrogram::new(vec![Complex::new(1.0f32, 0.0); 2 * 3 * 4], 2, 3, 4)?;
/// assert_eq!((s.batch(), s.bins(), s.frames(), s.length()), (2, 3, 4, None));
/// let s = s.with_length(Some(10));
/// assert_eq!(s.length(), Some(10));
/// assert_eq!(s.get(1, 2, 3), Some(Complex::new(1.0, 0.0)));
/// assert_eq!(s.into_vec().len(), 24);
/// assert!(Spectrogram::new(vec![Complex::new(0.0f32, 0.0); 5], 1, 2, 3).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrogram<T> {
    data: Vec<Complex<T>>,
    batch: usize,
    bins: usize,
    frames: usize,
    length: Option<usize>,
}

impl<T> Spectrogram<T> {
    /// Wraps `[B, F, T]` data (e.g. a spectrum from torch) without a signal length.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `data.len() != batch·bins·frames`.
    ///
    /// ```
    /// use mlkern::stft::{Complex, Spectrogram};
    /// let s = Spectrogram::new(vec![Complex::new(0.0f64, 0.0); 6], 1, 3, 2)?;
    /// assert_eq!(s.shape(), (1, 3, 2));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn new(data: Vec<Complex<T>>, batch: usize, bins: usize, frames: usize) -> Result<Self> {
        if batch.checked_mul(bins).and_then(|v| v.checked_mul(frames)) != Some(data.len()) {
            return Err(Error::ShapeMismatch {
                what: "spectrogram: data [B, F, T]",
                expected: Shape::d3(batch, bins, frames),
                found: Shape::d1(data.len()),
            });
        }
        Ok(Self::from_parts(data, batch, bins, frames, None))
    }

    /// Unchecked constructor for the STFT, which sized `data` itself.
    pub(super) fn from_parts(
        data: Vec<Complex<T>>,
        batch: usize,
        bins: usize,
        frames: usize,
        length: Option<usize>,
    ) -> Self {
        Spectrogram {
            data,
            batch,
            bins,
            frames,
            length,
        }
    }

    /// Sets (or clears, with `None`) the signal length the inverse returns.
    pub fn with_length(mut self, length: Option<usize>) -> Self {
        self.length = length;
        self
    }

    /// `B`, the number of signals.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// `F`, frequency bins per frame.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// `T`, frames per signal.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// `(B, F, T)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.batch, self.bins, self.frames)
    }

    /// The signal length the inverse restores, if known.
    pub fn length(&self) -> Option<usize> {
        self.length
    }

    /// The value of signal `b`, bin `f`, frame `t` (`None` out of range).
    pub fn get(&self, b: usize, f: usize, t: usize) -> Option<Complex<T>>
    where
        T: Copy,
    {
        if b >= self.batch || f >= self.bins || t >= self.frames {
            return None;
        }
        Some(self.data[(b * self.bins + f) * self.frames + t])
    }

    /// The `[B, F, T]` data.
    pub fn as_slice(&self) -> &[Complex<T>] {
        &self.data
    }

    /// The `[B, F, T]` data, mutable (the shape stays).
    pub fn as_mut_slice(&mut self) -> &mut [Complex<T>] {
        &mut self.data
    }

    /// The `[B, F, T]` data as a vector.
    pub fn into_vec(self) -> Vec<Complex<T>> {
        self.data
    }
}
