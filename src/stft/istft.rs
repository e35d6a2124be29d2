//! The inverse STFT with `torch.istft` semantics: least-squares overlap-add.

use alloc::vec;
use alloc::vec::Vec;

use num_complex::Complex;

use super::stft::Stft;
use crate::Real;
use crate::error::{Error, Result, Shape};

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
    /// `n_fft + hop·(frames − 1)` minus `n_fft/2` on each side when centred.
    pub fn istft_len(&self, frames: usize, length: Option<usize>) -> usize {
        self.span(frames, length).len
    }

    fn span(&self, frames: usize, length: Option<usize>) -> Span {
        let expected = self.n_fft + self.hop * frames.saturating_sub(1);
        let start = if self.center { self.n_fft / 2 } else { 0 };
        let end = match length {
            Some(l) => start + l,
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

    /// Scratch elements [`Stft::istft_into`] needs for `frames` frames and `length`.
    pub fn istft_scratch_len(&self, frames: usize, length: Option<usize>) -> usize {
        self.scratch_len() + self.span(frames, length).covered
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
        Ok(self.span(frames, length))
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

    /// Inverse STFT of `batch` spectra (`[B, F, T]`, `F` = [`Stft::bins`], `T = frames`) into `out`
    /// (`[B, len]`, `len` = [`Stft::istft_len`]), allocation-free, as `torch.istft(…,
    /// return_complex=False)`: each frame's inverse real FFT (only bins `0..=n_fft/2` are read,
    /// also for a two-sided spectrum; the imaginary parts of bin 0 and, for even `n_fft`, bin
    /// `n_fft/2` are ignored) is windowed, overlap-added and divided by the overlap-added squared
    /// window. Samples past the overlap-added range (a `length` beyond it) are zero.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `batch == 0`, `frames == 0`, `hop > win_length`, a
    /// short scratch, or a window that fails NOLA over the output
    /// ([`NOLA_THRESHOLD`]); [`Error::ShapeMismatch`] for a spectrum that is not `B·F·T` long
    /// or a wrong `out` length;
    /// [`Error::NonFinite`] for NaN/±Inf in the spectrum.
    pub fn istft_into(
        &self,
        spec: &[Complex<T>],
        batch: usize,
        frames: usize,
        length: Option<usize>,
        out: &mut [T],
        scratch: &mut [Complex<T>],
    ) -> Result<()> {
        let span = self.check_spectrum(spec, batch, frames, length)?;
        self.check_istft_out(out.len(), batch, span.len)?;
        if scratch.len() < self.scratch_len() + span.covered {
            return Err(Error::InvalidParameter {
                name: "scratch",
                reason: "scratch is shorter than Stft::istft_scratch_len()",
            });
        }
        let (env, rest) = scratch.split_at_mut(span.covered);
        self.inverse_envelope(&span, env)?;
        let per = self.bins() * span.frames;
        for (s, o) in spec
            .chunks_exact(per)
            .zip(out.chunks_exact_mut(span.len.max(1)))
        {
            self.inverse_signal(s, &span, env, o, rest);
        }
        Ok(())
    }

    /// [`Stft::istft_into`] with the signals split over `threads` threads (std).
    ///
    /// # Errors
    /// As [`Stft::istft_into`] (without the scratch).
    #[cfg(feature = "std")]
    pub fn istft_par(
        &self,
        spec: &[Complex<T>],
        batch: usize,
        frames: usize,
        length: Option<usize>,
        out: &mut [T],
        threads: usize,
    ) -> Result<()> {
        let span = self.check_spectrum(spec, batch, frames, length)?;
        self.check_istft_out(out.len(), batch, span.len)?;
        let mut env = vec![Complex::new(T::zero(), T::zero()); span.covered];
        self.inverse_envelope(&span, &mut env)?;
        if span.len == 0 {
            return Ok(());
        }
        let per = self.bins() * span.frames;
        let groups = crate::jobs::job_count(batch, crate::Par::threads(threads));
        let chunk = batch.div_ceil(groups);
        let jobs: Vec<_> = spec
            .chunks(chunk * per)
            .zip(out.chunks_mut(chunk * span.len))
            .collect();
        let env = &env;
        crate::jobs::run_jobs(jobs, |(ss, os): (&[Complex<T>], &mut [T])| {
            let mut scratch = self.make_scratch();
            for (s, o) in ss.chunks_exact(per).zip(os.chunks_exact_mut(span.len)) {
                self.inverse_signal(s, &span, env, o, &mut scratch);
            }
        });
        Ok(())
    }

    /// The inverse STFT of `batch` spectra as a new `[B, len]` vector.
    ///
    /// # Errors
    /// As [`Stft::istft_into`].
    pub fn istft(
        &self,
        spec: &[Complex<T>],
        batch: usize,
        frames: usize,
        length: Option<usize>,
    ) -> Result<Vec<T>> {
        let span = self.check_spectrum(spec, batch, frames, length)?;
        let mut out = vec![T::zero(); batch * span.len];
        let mut scratch =
            vec![Complex::new(T::zero(), T::zero()); self.istft_scratch_len(frames, length)];
        self.istft_into(spec, batch, frames, length, &mut out, &mut scratch)?;
        Ok(out)
    }

    fn check_istft_out(&self, got: usize, batch: usize, len: usize) -> Result<()> {
        if got != batch * len {
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
