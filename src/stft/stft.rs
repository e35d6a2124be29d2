//! The STFT plan ([`Stft`]) and the forward transform, with `torch.stft` semantics.

use alloc::vec::Vec;

use num_complex::Complex;

use super::fft::FftBackend;
use super::real_fft::RealFft;
use super::spectrogram::Spectrogram;
use super::window::{WindowKind, window};
use crate::error::{Error, Result, Shape};
use crate::jobs::{job_count, run_jobs};
use crate::limits::{MAX_FFT_LEN, check};
use crate::{Par, Real};

/// How `center` pads the signal (`torch.nn.functional.pad` modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PadMode {
    /// Mirror without repeating the edge sample (`[a b c] → [c b | a b c | b a]`); needs
    /// `n_fft/2 < len` (torch's default).
    #[default]
    Reflect,
    /// Zeros.
    Constant,
    /// Repeat the edge sample.
    Replicate,
    /// Wrap around; needs `n_fft/2 ≤ len`.
    Circular,
}

/// The analysis window of an [`StftConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Window<'w, T> {
    /// A built-in shape of length `win_length`, periodic or symmetric per
    /// [`StftConfig::periodic`].
    Kind(WindowKind),
    /// User-supplied values; the length must equal `win_length` (finite values).
    Custom(&'w [T]),
}

/// STFT/ISTFT parameters, named as in `torch.stft` / `torch.istft`.
///
/// [`StftConfig::new`] gives torch's defaults except the window: a **periodic Hann** window
/// instead of torch's rectangular one (torch warns when no window is given; pass
/// `Window::Kind(WindowKind::Rect)` for torch's behaviour).
///
/// The struct is `#[non_exhaustive]`: build it with [`StftConfig::new`] and the `with_…`
/// methods (or assign the public fields of a value).
///
/// ```
/// use mlkern::stft::{PadMode, StftConfig, Window, WindowKind};
/// let cfg = StftConfig::<f32>::new(64)
///     .with_hop(16)
///     .with_window(Window::Kind(WindowKind::Hamming))
///     .with_pad_mode(PadMode::Constant);
/// assert_eq!((cfg.n_fft, cfg.hop, cfg.pad_mode), (64, Some(16), PadMode::Constant));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct StftConfig<'w, T> {
    /// FFT length (≥ 1).
    pub n_fft: usize,
    /// Frame step; `None` is `n_fft / 4` (which must then be ≥ 1).
    pub hop: Option<usize>,
    /// Window length `≤ n_fft`; `None` is `n_fft`. A shorter window is zero-padded on both sides
    /// to `n_fft`, with `(n_fft − win_length) / 2` zeros on the left.
    pub win_length: Option<usize>,
    /// The window.
    pub window: Window<'w, T>,
    /// Periodic (torch's default) or symmetric built-in windows; ignored for custom windows.
    pub periodic: bool,
    /// Pad `n_fft / 2` samples on both sides so that frame `t` is centred on sample `t·hop`.
    pub center: bool,
    /// How to pad when `center` is set.
    pub pad_mode: PadMode,
    /// Scale the transform by `n_fft^(−1/2)` (and the inverse to match).
    pub normalized: bool,
    /// `n_fft/2 + 1` bins (real input's Hermitian half) instead of `n_fft`.
    pub onesided: bool,
    /// FFT implementation.
    pub backend: FftBackend,
}

impl<'w, T> StftConfig<'w, T> {
    /// torch's defaults for `n_fft` (hop `n_fft/4`, full-length window, `center`, reflect
    /// padding, one-sided, not normalized) with a periodic Hann window.
    ///
    /// ```
    /// use mlkern::stft::StftConfig;
    /// let cfg = StftConfig::<f64>::new(400);
    /// assert!(cfg.center && cfg.onesided && cfg.hop.is_none()); // hop n_fft/4 = 100
    /// ```
    pub fn new(n_fft: usize) -> Self {
        StftConfig {
            n_fft,
            hop: None,
            win_length: None,
            window: Window::Kind(WindowKind::Hann),
            periodic: true,
            center: true,
            pad_mode: PadMode::Reflect,
            normalized: false,
            onesided: true,
            backend: FftBackend::Auto,
        }
    }

    /// Sets the frame step ([`StftConfig::hop`]).
    pub fn with_hop(mut self, hop: usize) -> Self {
        self.hop = Some(hop);
        self
    }

    /// Sets the window length ([`StftConfig::win_length`]).
    pub fn with_win_length(mut self, win_length: usize) -> Self {
        self.win_length = Some(win_length);
        self
    }

    /// Sets the window ([`StftConfig::window`]).
    pub fn with_window(mut self, window: Window<'w, T>) -> Self {
        self.window = window;
        self
    }

    /// Periodic or symmetric built-in windows ([`StftConfig::periodic`]).
    pub fn with_periodic(mut self, periodic: bool) -> Self {
        self.periodic = periodic;
        self
    }

    /// Centre the frames ([`StftConfig::center`]).
    pub fn with_center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Sets the padding mode ([`StftConfig::pad_mode`]).
    pub fn with_pad_mode(mut self, pad_mode: PadMode) -> Self {
        self.pad_mode = pad_mode;
        self
    }

    /// Scale by `n_fft^(−1/2)` ([`StftConfig::normalized`]).
    pub fn with_normalized(mut self, normalized: bool) -> Self {
        self.normalized = normalized;
        self
    }

    /// One- or two-sided output ([`StftConfig::onesided`]).
    pub fn with_onesided(mut self, onesided: bool) -> Self {
        self.onesided = onesided;
        self
    }

    /// Sets the FFT implementation ([`StftConfig::backend`]).
    pub fn with_backend(mut self, backend: FftBackend) -> Self {
        self.backend = backend;
        self
    }
}

/// A planned STFT/ISTFT: the zero-padded window and the real FFT of one configuration.
///
/// Shapes (row-major): a batch of `B` signals of length `L` is `[B, L]`; its transform is
/// `[B, F, T]` with `F` = [`Stft::bins`] and `T` = [`Stft::frames`]`(L)`, as
/// `torch.stft(x, …, return_complex=True)` returns it.
///
/// ```
/// use mlkern::Par;
/// use mlkern::stft::{Stft, StftConfig};
/// let plan = Stft::<f64>::new(&StftConfig::new(8))?; // hop 2, periodic Hann, centred
/// let x: Vec<f64> = (0..20).map(|j| (0.3 * j as f64).sin()).collect();
/// let spec = plan.stft(&x, 1, Par::Seq)?; // one signal: batch 1
/// assert_eq!((plan.bins(), plan.frames(20)?), (5, 11));
/// assert_eq!((spec.batch(), spec.bins(), spec.frames()), (1, 5, 11));
/// let back = plan.istft(&spec, Par::Seq)?; // the original length, 20
/// assert_eq!(back.len(), 20);
/// assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Stft<T: Real> {
    pub(super) n_fft: usize,
    pub(super) hop: usize,
    pub(super) win_length: usize,
    /// The window zero-padded to `n_fft`.
    pub(super) window: Vec<T>,
    /// `[left, left + win_length)`: where the padded window may be non-zero.
    pub(super) left: usize,
    pub(super) center: bool,
    pub(super) pad_mode: PadMode,
    pub(super) normalized: bool,
    pub(super) onesided: bool,
    pub(super) fft: RealFft<T>,
}

fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

impl<T: Real> Stft<T> {
    /// Validates `cfg` and plans the transforms.
    ///
    /// `n_fft` and `win_length` are limited to [`MAX_FFT_LEN`] (2²⁸), checked before anything
    /// is allocated; the window and the FFT plans are reserved fallibly. The hop has no limit:
    /// it only divides the frame count (and [`Stft::istft_into`] needs `hop ≤ win_length`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_fft == 0`, a zero hop (also the default `n_fft/4`
    /// for `n_fft < 4`), `win_length` outside `1..=n_fft`, a custom window whose length is not
    /// `win_length`; [`Error::TooLarge`] for `n_fft` or `win_length` above [`MAX_FFT_LEN`];
    /// [`Error::OutOfMemory`] (`n_fft`) if the window or the FFT plans cannot be allocated;
    /// [`Error::NonFinite`] for a custom window with NaN/±Inf.
    ///
    /// ```
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(16).with_win_length(8))?;
    /// assert_eq!((plan.n_fft(), plan.hop(), plan.win_length(), plan.bins()), (16, 4, 8, 9));
    /// assert!(Stft::<f32>::new(&StftConfig::new(3)).is_err()); // default hop 3/4 = 0
    /// assert!(Stft::<f32>::new(&StftConfig::new(1 << 40)).is_err()); // over MAX_FFT_LEN
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// [`MAX_FFT_LEN`]: crate::limits::MAX_FFT_LEN
    pub fn new(cfg: &StftConfig<'_, T>) -> Result<Self> {
        let n_fft = cfg.n_fft;
        if n_fft == 0 {
            return Err(invalid("n_fft", "must be at least 1"));
        }
        check(n_fft, MAX_FFT_LEN, "n_fft")?;
        let hop = cfg.hop.unwrap_or(n_fft / 4);
        if hop == 0 {
            return Err(invalid(
                "hop",
                "must be at least 1 (the default n_fft/4 is 0 for n_fft < 4: pass a hop)",
            ));
        }
        let win_length = cfg.win_length.unwrap_or(n_fft);
        check(win_length, MAX_FFT_LEN, "win_length")?;
        if win_length == 0 || win_length > n_fft {
            return Err(invalid("win_length", "must be in 1..=n_fft"));
        }
        if let Window::Custom(values) = cfg.window {
            if values.len() != win_length {
                return Err(invalid(
                    "window",
                    "a custom window must have win_length (default n_fft) values",
                ));
            }
            if let Some(index) = crate::simd::find_non_finite(values) {
                return Err(Error::NonFinite {
                    what: "stft: window",
                    index,
                });
            }
        }
        let left = (n_fft - win_length) / 2;
        let mut padded = crate::base::zeros(n_fft, "n_fft")?;
        let w = &mut padded[left..left + win_length];
        match cfg.window {
            Window::Kind(kind) => window(kind, cfg.periodic, w),
            Window::Custom(values) => w.copy_from_slice(values),
        }
        Ok(Stft {
            n_fft,
            hop,
            win_length,
            window: padded,
            left,
            center: cfg.center,
            pad_mode: cfg.pad_mode,
            normalized: cfg.normalized,
            onesided: cfg.onesided,
            fft: RealFft::plan(n_fft, cfg.backend, "n_fft")?,
        })
    }

    /// The FFT length.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// The frame step.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The window length before zero-padding.
    pub fn win_length(&self) -> usize {
        self.win_length
    }

    /// The window zero-padded to `n_fft`.
    pub fn window(&self) -> &[T] {
        &self.window
    }

    /// The FFT backend in use.
    pub fn backend(&self) -> FftBackend {
        self.fft.backend()
    }

    /// Frequency bins per frame: `n_fft/2 + 1` one-sided, `n_fft` two-sided.
    pub fn bins(&self) -> usize {
        if self.onesided {
            self.n_fft / 2 + 1
        } else {
            self.n_fft
        }
    }

    /// Samples added on each side by `center`.
    fn pad(&self) -> usize {
        if self.center { self.n_fft / 2 } else { 0 }
    }

    /// Frames of a signal of `len` samples: `1 + ⌊(len + 2·pad − n_fft)/hop⌋`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the (padded) signal is shorter than
    /// `n_fft`, or if the padding mode needs a longer signal (reflect: `n_fft/2 < len`;
    /// circular: `n_fft/2 ≤ len`; replicate: `len ≥ 1`). An empty signal with constant
    /// padding gives frames of zeros, as in torch.
    ///
    /// ```
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(8).with_hop(2))?;
    /// assert_eq!(plan.frames(20)?, 11); // 1 + (20 + 8 − 8)/2
    /// assert!(plan.frames(4).is_err()); // reflect padding needs n_fft/2 < len
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn frames(&self, len: usize) -> Result<usize> {
        let pad = self.pad();
        match self.pad_mode {
            PadMode::Replicate if len == 0 => {
                return Err(invalid(
                    "signal",
                    "replicate padding needs a non-empty signal",
                ));
            }
            PadMode::Reflect if self.center && pad >= len => {
                return Err(invalid(
                    "signal",
                    "reflect padding needs n_fft/2 < signal length (use constant padding)",
                ));
            }
            PadMode::Circular if self.center && pad > len => {
                return Err(invalid(
                    "signal",
                    "circular padding needs n_fft/2 <= signal length",
                ));
            }
            _ => {}
        }
        let padded = len.saturating_add(2 * pad);
        if padded < self.n_fft {
            return Err(invalid(
                "signal",
                "the signal (after centre padding) is shorter than n_fft",
            ));
        }
        Ok(1 + (padded - self.n_fft) / self.hop)
    }

    /// Scratch elements one worker of [`Stft::stft_into`] / [`Stft::istft_into`] uses
    /// (cannot overflow: both terms are sizes of allocated plan buffers).
    pub(super) fn worker_scratch(&self) -> usize {
        FRAME_BLOCK
            .saturating_mul(self.fft.packed_len())
            .saturating_add(self.fft.fft_scratch_len())
    }

    /// `worker_scratch · jobs` or the overflow error.
    pub(super) fn workers_scratch(&self, jobs: usize) -> Result<usize> {
        self.worker_scratch()
            .checked_mul(jobs)
            .ok_or(Error::OutOfMemory {
                name: "scratch",
                bytes: usize::MAX,
            })
    }

    /// Scratch elements [`Stft::stft_into`] needs for `par`: one block per job that `par` may
    /// run (one block for [`Par::Seq`] and without `std`).
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] if the size overflows `usize`.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(64))?;
    /// let one = plan.scratch_len(Par::Seq)?;
    /// assert!(plan.scratch_len(Par::threads(4))? >= one);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn scratch_len(&self, par: Par) -> Result<usize> {
        self.workers_scratch(job_count(usize::MAX, par))
    }

    /// A zeroed scratch buffer of [`Stft::scratch_len`]`(par)` elements.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] (`scratch`) if the size overflows or cannot be allocated.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f64>::new(&StftConfig::new(32))?;
    /// assert_eq!(plan.make_scratch(Par::Seq)?.len(), plan.scratch_len(Par::Seq)?);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn make_scratch(&self, par: Par) -> Result<Vec<Complex<T>>> {
        crate::base::zeros(self.scratch_len(par)?, "scratch")
    }

    /// Checks a batch of `batch` signals in `x` and returns `(len, frames)`.
    fn check_signals(&self, x: &[T], batch: usize) -> Result<(usize, usize)> {
        if batch == 0 {
            return Err(invalid("batch", "must be at least 1"));
        }
        if !x.len().is_multiple_of(batch) {
            return Err(invalid(
                "x",
                "the input length must be a multiple of the batch size",
            ));
        }
        let len = x.len() / batch;
        let frames = self.frames(len)?;
        if let Some(index) = crate::simd::find_non_finite(x) {
            return Err(Error::NonFinite {
                what: "stft: signal",
                index,
            });
        }
        Ok((len, frames))
    }

    /// STFT of `batch` signals stored back to back in `x` (`[B, L]`) into `out` (`[B, F, T]`,
    /// `F` = [`Stft::bins`], `T` = [`Stft::frames`]`(L)`), without allocating scratch or output.
    ///
    /// Signals are the unit of work: with [`Par::threads`] (std) the batch is split over
    /// as many jobs as it allows, each with its own block of `scratch`; a single signal runs on one
    /// thread. Bit-identical for every `par`. With [`Par::Seq`] nothing is allocated; with
    /// threads only the small job list is.
    ///
    /// # Errors
    /// Those of [`Stft::frames`]; [`Error::InvalidParameter`] for `batch == 0` or an input length
    /// that is not a multiple of `batch`; [`Error::ShapeMismatch`] for a wrong `out` length or a
    /// scratch shorter than [`Stft::scratch_len`]`(par)` asks (`"stft: scratch"`);
    /// [`Error::NonFinite`] (index into `x`) for NaN/±Inf samples. Nothing is written on error.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Complex, Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(8))?;
    /// let x = vec![0.5f32; 3 * 20]; // [3, 20]
    /// let mut out = vec![Complex::new(0.0, 0.0); 3 * plan.bins() * plan.frames(20)?];
    /// let par = Par::threads(2);
    /// let mut scratch = plan.make_scratch(par)?;
    /// plan.stft_into(&mut out, &x, 3, &mut scratch, par)?;
    /// assert!((out[0].re - 2.0).abs() < 1e-6); // bin 0 of frame 0: Σ hann·0.5 = 2
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn stft_into(
        &self,
        out: &mut [Complex<T>],
        x: &[T],
        batch: usize,
        scratch: &mut [Complex<T>],
        par: Par,
    ) -> Result<()> {
        let (len, frames) = self.check_signals(x, batch)?;
        self.check_out(out.len(), batch, frames)?;
        let jobs = job_count(batch, par);
        let need = self.workers_scratch(jobs)?;
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "stft: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        let per = self.bins() * frames;
        let worker = self.worker_scratch();
        if jobs == 1 {
            let scratch = &mut scratch[..worker];
            for (b, o) in out.chunks_exact_mut(per).enumerate() {
                self.signal(&x[b * len..(b + 1) * len], frames, o, scratch);
            }
            return Ok(());
        }
        let chunk = batch.div_ceil(jobs);
        let work: Vec<_> = out
            .chunks_mut(chunk * per)
            .zip(scratch.chunks_mut(worker))
            .enumerate()
            .collect();
        run_jobs(work, |(c, (os, scratch))| {
            for (k, o) in os.chunks_exact_mut(per).enumerate() {
                let b = c * chunk + k;
                self.signal(&x[b * len..(b + 1) * len], frames, o, scratch);
            }
        });
        Ok(())
    }

    /// The STFT of `batch` signals (`[B, L]` in `x`; a single signal is `batch = 1`) as a
    /// [`Spectrogram`] (`[B, F, T]`, remembering `L` for [`Stft::istft`]).
    ///
    /// # Errors
    /// As [`Stft::stft_into`]; [`Error::OutOfMemory`] (`x`: the `[B, F, T]` output, `scratch`)
    /// if a buffer cannot be allocated (or its size overflows).
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f64>::new(&StftConfig::new(16).with_hop(4))?;
    /// let x: Vec<f64> = (0..2 * 64).map(|j| (0.1 * j as f64).cos()).collect();
    /// let spec = plan.stft(&x, 2, Par::threads(2))?;
    /// assert_eq!((spec.batch(), spec.bins(), spec.frames(), spec.length()), (2, 9, 17, Some(64)));
    /// assert_eq!(spec.as_slice().len(), 2 * 9 * 17);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn stft(&self, x: &[T], batch: usize, par: Par) -> Result<Spectrogram<T>> {
        let (len, frames) = self.check_signals(x, batch)?;
        let total = batch
            .checked_mul(self.bins())
            .and_then(|v| v.checked_mul(frames))
            .ok_or(Error::OutOfMemory {
                name: "x",
                bytes: usize::MAX,
            })?;
        let mut out = crate::base::zeros(total, "x")?;
        let mut scratch =
            crate::base::zeros(self.workers_scratch(job_count(batch, par))?, "scratch")?;
        self.stft_into(&mut out, x, batch, &mut scratch, par)?;
        Ok(Spectrogram::from_parts(
            out,
            batch,
            self.bins(),
            frames,
            Some(len),
        ))
    }

    fn check_out(&self, got: usize, batch: usize, frames: usize) -> Result<()> {
        let want = batch
            .checked_mul(self.bins())
            .and_then(|v| v.checked_mul(frames));
        if want != Some(got) {
            return Err(Error::ShapeMismatch {
                what: "stft: out [B, F, T]",
                expected: Shape::d3(batch, self.bins(), frames),
                found: Shape::d1(got),
            });
        }
        Ok(())
    }

    /// Sample `p` of the centre-padded signal.
    #[inline]
    fn padded_sample(&self, x: &[T], p: usize) -> T {
        let len = x.len() as isize;
        let i = p as isize - self.pad() as isize;
        if (0..len).contains(&i) {
            return x[i as usize];
        }
        let j = match self.pad_mode {
            PadMode::Constant => return T::zero(),
            PadMode::Reflect => {
                if i < 0 {
                    -i
                } else {
                    2 * (len - 1) - i
                }
            }
            PadMode::Replicate => i.clamp(0, len - 1),
            PadMode::Circular => i.rem_euclid(len),
        };
        x[j as usize]
    }

    /// One signal: frames windowed into packed buffers [`FRAME_BLOCK`] at a time, transformed,
    /// and scattered into the `[F, T]` output (each bin's block of frames is contiguous there).
    fn signal(&self, x: &[T], frames: usize, out: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        crate::simd::Isa::detect().dispatch(Signal {
            plan: self,
            x,
            frames,
            out,
            scratch,
        });
    }

    #[inline(always)]
    fn signal_inline(
        &self,
        x: &[T],
        frames: usize,
        out: &mut [Complex<T>],
        scratch: &mut [Complex<T>],
    ) {
        let pl = self.fft.packed_len();
        let (bufs, fs) = scratch.split_at_mut(FRAME_BLOCK * pl);
        let n = self.n_fft;
        let pad = self.pad();
        let scale = if self.normalized {
            Some(T::from_f64(1.0 / num_traits::Float::sqrt(n as f64)))
        } else {
            None
        };
        let half = n / 2 + 1;
        let (lo, hi) = (self.left, self.left + self.win_length);
        let pairs = n.is_multiple_of(2) && lo % 2 == 0 && hi % 2 == 0;
        let mut t0 = 0;
        while t0 < frames {
            let nb = FRAME_BLOCK.min(frames - t0);
            for (b, buf) in bufs.chunks_exact_mut(pl).take(nb).enumerate() {
                let p0 = (t0 + b) * self.hop;
                // Frame t covers padded samples p0..p0 + n; only the window's support matters.
                if p0 + lo >= pad && p0 + hi <= pad + x.len() {
                    let seg = &x[p0 + lo - pad..p0 + hi - pad];
                    if pairs {
                        self.fill_pairs(buf, seg);
                    } else {
                        self.fill(buf, |j| seg[j - lo]);
                    }
                } else {
                    self.fill(buf, |j| self.padded_sample(x, p0 + j));
                }
                self.fft.forward_packed(buf, fs);
            }
            for f in 0..half {
                let row = &mut out[f * frames + t0..f * frames + t0 + nb];
                for (o, buf) in row.iter_mut().zip(bufs.chunks_exact(pl)) {
                    *o = buf[f];
                }
            }
            if !self.onesided {
                for f in half..n {
                    let row = &mut out[f * frames + t0..f * frames + t0 + nb];
                    for (o, buf) in row.iter_mut().zip(bufs.chunks_exact(pl)) {
                        *o = buf[n - f].conj();
                    }
                }
            }
            t0 += nb;
        }
        if let Some(s) = scale {
            for z in out.iter_mut() {
                *z *= s;
            }
        }
    }

    /// Packs `window[j]·sample(j)` for `j` in the window's support and zeros elsewhere.
    #[inline(always)]
    fn fill(&self, buf: &mut [Complex<T>], sample: impl Fn(usize) -> T) {
        let (lo, hi) = (self.left, self.left + self.win_length);
        if self.n_fft % 2 == 1 {
            buf.fill(Complex::new(T::zero(), T::zero()));
        }
        for j in 0..lo {
            self.fft.packed_set(buf, j, T::zero());
        }
        for j in lo..hi {
            self.fft.packed_set(buf, j, self.window[j] * sample(j));
        }
        for j in hi..self.n_fft {
            self.fft.packed_set(buf, j, T::zero());
        }
    }

    /// [`Self::fill`] for an even `n_fft` and an even window placement, from the signal segment
    /// under the window: two samples per complex slot.
    #[inline(always)]
    fn fill_pairs(&self, buf: &mut [Complex<T>], seg: &[T]) {
        let (lo, hi) = (self.left / 2, (self.left + self.win_length) / 2);
        let zero = Complex::new(T::zero(), T::zero());
        buf[..lo].fill(zero);
        buf[hi..self.n_fft / 2].fill(zero);
        let w = &self.window[self.left..self.left + self.win_length];
        for ((z, s), w) in buf[lo..hi]
            .iter_mut()
            .zip(seg.chunks_exact(2))
            .zip(w.chunks_exact(2))
        {
            *z = Complex::new(w[0] * s[0], w[1] * s[1]);
        }
    }
}

/// Frames transformed per scatter pass: the output row of each bin gets this many contiguous
/// values at once instead of one strided store per frame.
const FRAME_BLOCK: usize = 8;

struct Signal<'p, 'a, T: Real> {
    plan: &'p Stft<T>,
    x: &'a [T],
    frames: usize,
    out: &'a mut [Complex<T>],
    scratch: &'a mut [Complex<T>],
}

impl<T: Real> pulp::WithSimd for Signal<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        self.plan
            .signal_inline(self.x, self.frames, self.out, self.scratch);
    }
}
