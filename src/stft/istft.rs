//! The inverse STFT with `torch.istft` semantics: least-squares overlap-add.

use alloc::vec::Vec;

use num_complex::Complex;

use super::spectrogram::Spectrogram;
use super::stft::Stft;
use crate::error::{Error, Result, Shape};
use crate::jobs::{job_count, run_jobs};
use crate::limits::{ISTFT_LENGTH_SPANS, check};
use crate::{Par, Real};

/// torch's NOLA threshold: the overlap-added squared window must stay above it everywhere in
/// the output range.
pub const NOLA_THRESHOLD: f64 = 1e-11;

/// Geometry of one inverse transform.
#[derive(Clone, Copy, Debug)]
struct Span {
    frames: usize,
    /// First kept sample of the overlap-added signal.
    start: usize,
    /// Output length.
    len: usize,
    /// Samples of the output that overlap-add reaches (`len` minus the zero tail).
    covered: usize,
}

impl<T: Real> Stft<T> {
    /// Output length of [`Stft::istft_into`] for `frames` frames: `length` if given, else
    /// `n_fft + hop·(frames − 1)` minus `n_fft/2` on each side when centred (saturating).
    ///
    /// This only computes the size; it does not validate `length`. Ask
    /// [`Stft::istft_scratch_len`] first (it rejects a `length` the frames cannot back) before
    /// allocating an output of this size.
    ///
    /// ```
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(8).with_hop(2))?;
    /// assert_eq!(plan.istft_len(11, None), 20); // 8 + 2·10 − 2·4
    /// assert_eq!(plan.istft_len(11, Some(17)), 17);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn istft_len(&self, frames: usize, length: Option<usize>) -> usize {
        self.span(frames, length).len
    }

    fn span(&self, frames: usize, length: Option<usize>) -> Span {
        let expected = self
            .n_fft
            .saturating_add(self.hop.saturating_mul(frames.saturating_sub(1)));
        let start = if self.center { self.n_fft / 2 } else { 0 };
        let end = match length {
            Some(l) => start.saturating_add(l),
            None if self.center => expected.saturating_sub(self.n_fft / 2),
            None => expected,
        };
        let len = end.saturating_sub(start);
        let covered = end.min(expected).saturating_sub(start);
        Span {
            frames,
            start,
            len,
            covered,
        }
    }

    /// Checks the geometry of an inverse transform of `frames` frames to `length` samples
    /// (everything [`Stft::istft_into`] checks that does not need the data) and returns it.
    fn checked_span(&self, frames: usize, length: Option<usize>) -> Result<Span> {
        if self.hop > self.win_length {
            return Err(Error::InvalidParameter {
                name: "hop",
                reason: "istft needs hop <= win_length (as torch.istft)",
            });
        }
        if frames == 0 {
            return Err(Error::InvalidParameter {
                name: "frames",
                reason: "istft needs at least one frame",
            });
        }
        if let Some(l) = length {
            // The overlap-add span n_fft + hop·(frames − 1); saturating: a span past usize
            // allows any length.
            let reach = self
                .n_fft
                .saturating_add(self.hop.saturating_mul(frames - 1))
                .saturating_mul(ISTFT_LENGTH_SPANS);
            check(l, reach, "length")?;
        }
        Ok(self.span(frames, length))
    }

    /// Scratch elements [`Stft::istft_into`] needs for `frames` frames, `length` and `par`: the
    /// inverse envelope of the covered output plus one block per job that `par` may run.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `frames == 0` or `hop > win_length`;
    /// [`Error::TooLarge`] for a `length` beyond [`ISTFT_LENGTH_SPANS`] overlap-add spans (see
    /// [`Stft::istft_into`]); [`Error::OutOfMemory`] if the size overflows `usize`.
    ///
    /// [`ISTFT_LENGTH_SPANS`]: crate::limits::ISTFT_LENGTH_SPANS
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f64>::new(&StftConfig::new(8))?;
    /// let need = plan.istft_scratch_len(11, Some(20), Par::Seq)?;
    /// assert_eq!(need, plan.scratch_len(Par::Seq)? + 20);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn istft_scratch_len(
        &self,
        frames: usize,
        length: Option<usize>,
        par: Par,
    ) -> Result<usize> {
        self.istft_scratch_for(
            &self.checked_span(frames, length)?,
            job_count(usize::MAX, par),
        )
    }

    /// Scratch for `jobs` workers: the envelope, then one block per worker.
    fn istft_scratch_for(&self, span: &Span, jobs: usize) -> Result<usize> {
        self.workers_scratch(jobs)?
            .checked_add(span.covered)
            .ok_or(Error::OutOfMemory {
                name: "scratch",
                bytes: usize::MAX,
            })
    }

    /// Checks a spectrum and returns its geometry.
    fn check_spectrum(
        &self,
        spec: &[Complex<T>],
        batch: usize,
        frames: usize,
        length: Option<usize>,
    ) -> Result<Span> {
        if batch == 0 {
            return Err(Error::InvalidParameter {
                name: "batch",
                reason: "must be at least 1",
            });
        }
        let span = self.checked_span(frames, length)?;
        let f = self.bins();
        if Some(spec.len()) != batch.checked_mul(f).and_then(|v| v.checked_mul(frames)) {
            return Err(Error::ShapeMismatch {
                what: "istft: spectrum [B, F, T] (F = n_fft/2+1 one-sided, n_fft two-sided)",
                expected: Shape::d3(batch, f, frames),
                found: Shape::d1(spec.len()),
            });
        }
        if let Some(i) = spec
            .iter()
            .position(|z| !z.re.is_finite() || !z.im.is_finite())
        {
            return Err(Error::NonFinite {
                what: "istft: spectrum",
                index: i,
            });
        }
        Ok(span)
    }

    /// `1 / Σ_t w²[p − t·hop]` for the covered output samples, or the NOLA error.
    fn inverse_envelope(&self, span: &Span, env: &mut [Complex<T>]) -> Result<()> {
        env.fill(Complex::new(T::zero(), T::zero()));
        for t in 0..span.frames {
            self.for_covered(span, t, |o, j| {
                let w = self.window[j];
                env[o].re += w * w;
            });
        }
        for e in env.iter_mut() {
            if e.re.as_f64().abs() < NOLA_THRESHOLD {
                return Err(Error::InvalidParameter {
                    name: "window",
                    reason: "istft: the window fails the NOLA condition (its overlap-added square is below 1e-11 somewhere in the output): use a smaller hop or a window without zeros there",
                });
            }
            e.re = T::one() / e.re;
        }
        Ok(())
    }

    /// Calls `f(output index, window index)` for the samples of frame `t` inside the covered
    /// output range and the window's support.
    #[inline(always)]
    fn for_covered(&self, span: &Span, t: usize, mut f: impl FnMut(usize, usize)) {
        let p0 = t * self.hop;
        let lo = self.left.max(span.start.saturating_sub(p0));
        let hi = (self.left + self.win_length).min((span.start + span.covered).saturating_sub(p0));
        for j in lo..hi {
            f(p0 + j - span.start, j);
        }
    }

    /// Inverse STFT of `batch` spectra (`spec`: `[B, F, T]`, `F` = [`Stft::bins`],
    /// `T = frames`) into `out` (`[B, len]`, `len` = [`Stft::istft_len`]), without allocating
    /// scratch or output, as `torch.istft(…, length, return_complex=False)`: each frame's inverse
    /// real FFT (only bins `0..=n_fft/2` are read, also for a two-sided spectrum; the imaginary
    /// parts of bin 0 and, for even `n_fft`, bin `n_fft/2` are ignored) is windowed,
    /// overlap-added and divided by the overlap-added squared window. Samples past the
    /// overlap-added range (a `length` beyond it) are zero, as in torch, up to a limit: `length`
    /// may be at most [`ISTFT_LENGTH_SPANS`] (2) times the overlap-add span
    /// `n_fft + hop·(frames − 1)`, which restores any analysed signal length with room to spare;
    /// a longer output would be zeros that no spectrum backs (2⁴⁰ samples from a few frames).
    ///
    /// With [`Par::threads`] (std) the signals are split over jobs, each with its own block of
    /// `scratch`; bit-identical for every `par`. With [`Par::Seq`] nothing is allocated.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `batch == 0`, `frames == 0`, `hop > win_length`, or a
    /// window that fails NOLA over the output ([`NOLA_THRESHOLD`]); [`Error::TooLarge`]
    /// (`length`) beyond [`ISTFT_LENGTH_SPANS`] overlap-add spans;
    /// [`Error::ShapeMismatch`] for a spectrum that is not `B·F·T` long (a wrong bin count), a
    /// wrong `out` length, or a scratch shorter than [`Stft::istft_scratch_len`]`(…, par)` asks
    /// (`"istft: scratch"`); [`Error::NonFinite`] for NaN/±Inf in the spectrum.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Complex, Stft, StftConfig};
    /// let plan = Stft::<f64>::new(&StftConfig::new(8))?;
    /// let x: Vec<f64> = (0..20).map(|j| (0.5 * j as f64).sin()).collect();
    /// let frames = plan.frames(20)?;
    /// let mut spec = vec![Complex::new(0.0, 0.0); plan.bins() * frames];
    /// plan.stft_into(&mut spec, &x, 1, &mut plan.make_scratch(Par::Seq)?, Par::Seq)?;
    /// let mut back = vec![0.0; plan.istft_len(frames, Some(20))];
    /// let mut scratch = vec![Complex::new(0.0, 0.0); plan.istft_scratch_len(frames, Some(20), Par::Seq)?];
    /// plan.istft_into(&mut back, &spec, 1, frames, Some(20), &mut scratch, Par::Seq)?;
    /// assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// [`ISTFT_LENGTH_SPANS`]: crate::limits::ISTFT_LENGTH_SPANS
    #[allow(clippy::too_many_arguments)]
    pub fn istft_into(
        &self,
        out: &mut [T],
        spec: &[Complex<T>],
        batch: usize,
        frames: usize,
        length: Option<usize>,
        scratch: &mut [Complex<T>],
        par: Par,
    ) -> Result<()> {
        let span = self.check_spectrum(spec, batch, frames, length)?;
        self.check_istft_out(out.len(), batch, span.len)?;
        let jobs = job_count(batch, par);
        let need = self.istft_scratch_for(&span, jobs)?;
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "istft: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        let (env, rest) = scratch.split_at_mut(span.covered);
        self.inverse_envelope(&span, env)?;
        if span.len == 0 {
            return Ok(());
        }
        let env = &*env;
        let per = self.bins() * span.frames;
        let worker = self.worker_scratch();
        if jobs == 1 {
            let rest = &mut rest[..worker];
            for (s, o) in spec.chunks_exact(per).zip(out.chunks_exact_mut(span.len)) {
                self.inverse_signal(s, &span, env, o, rest);
            }
            return Ok(());
        }
        let chunk = batch.div_ceil(jobs);
        let work: Vec<_> = spec
            .chunks(chunk * per)
            .zip(out.chunks_mut(chunk * span.len))
            .zip(rest.chunks_mut(worker))
            .collect();
        run_jobs(work, |((ss, os), scratch)| {
            for (s, o) in ss.chunks_exact(per).zip(os.chunks_exact_mut(span.len)) {
                self.inverse_signal(s, &span, env, o, scratch);
            }
        });
        Ok(())
    }

    /// The inverse STFT of a [`Spectrogram`] as a new `[B, len]` vector, `len` =
    /// [`Stft::istft_len`]`(spec.frames(), spec.length())`: the analysed length for a
    /// spectrogram from [`Stft::stft`].
    ///
    /// # Errors
    /// As [`Stft::istft_into`] (the spectrogram's [`length`](Spectrogram::length) is checked
    /// against the frames before anything is allocated); [`Error::ShapeMismatch`] if
    /// `spec.bins()` is not [`Stft::bins`]; [`Error::OutOfMemory`] (`length`, `scratch`) if a
    /// buffer cannot be allocated.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::stft::{Stft, StftConfig};
    /// let plan = Stft::<f32>::new(&StftConfig::new(16).with_hop(4))?;
    /// let x: Vec<f32> = (0..3 * 50).map(|j| ((j % 13) as f32 - 6.0) / 6.0).collect();
    /// let spec = plan.stft(&x, 3, Par::Seq)?;
    /// let back = plan.istft(&spec, Par::threads(2))?;
    /// assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn istft(&self, spec: &Spectrogram<T>, par: Par) -> Result<Vec<T>> {
        let (batch, bins, frames) = spec.shape();
        if bins != self.bins() {
            return Err(Error::ShapeMismatch {
                what: "istft: spectrum [B, F, T] (F = n_fft/2+1 one-sided, n_fft two-sided)",
                expected: Shape::d3(batch, self.bins(), frames),
                found: Shape::d3(batch, bins, frames),
            });
        }
        let length = spec.length();
        let span = self.check_spectrum(spec.as_slice(), batch, frames, length)?;
        let total = crate::base::checked_len(&[batch, span.len], "length")?;
        let mut out = crate::base::zeros(total, "length")?;
        let mut scratch = crate::base::zeros(
            self.istft_scratch_for(&span, job_count(batch, par))?,
            "scratch",
        )?;
        self.istft_into(
            &mut out,
            spec.as_slice(),
            batch,
            frames,
            length,
            &mut scratch,
            par,
        )?;
        Ok(out)
    }

    fn check_istft_out(&self, got: usize, batch: usize, len: usize) -> Result<()> {
        if batch.checked_mul(len) != Some(got) {
            return Err(Error::ShapeMismatch {
                what: "istft: out [B, len]",
                expected: Shape::d2(batch, len),
                found: Shape::d1(got),
            });
        }
        Ok(())
    }

    fn inverse_signal(
        &self,
        spec: &[Complex<T>],
        span: &Span,
        env: &[Complex<T>],
        out: &mut [T],
        scratch: &mut [Complex<T>],
    ) {
        out.fill(T::zero());
        if span.len == 0 {
            return;
        }
        let (buf, fs) = scratch.split_at_mut(self.fft.packed_len());
        let n = self.n_fft;
        let half = n / 2 + 1;
        let scale = T::from_f64(if self.normalized {
            1.0 / num_traits::Float::sqrt(n as f64)
        } else {
            1.0 / n as f64
        });
        for t in 0..span.frames {
            for (f, z) in buf[..half].iter_mut().enumerate() {
                *z = spec[f * span.frames + t];
            }
            self.fft.inverse_packed(buf, fs);
            self.for_covered(span, t, |o, j| {
                out[o] += self.window[j] * (self.fft.packed_get(buf, j) * scale);
            });
        }
        for (o, e) in out[..span.covered].iter_mut().zip(env) {
            *o *= e.re;
        }
    }
}
