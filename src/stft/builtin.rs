//! The in-crate FFT used without `std` (and on request with it): a mixed-radix Stockham
//! (autosort) transform with radix-4, radix-2 and odd-prime butterflies for lengths whose prime
//! factors are at most [`MAX_DIRECT_PRIME`], and Bluestein's chirp-z algorithm (on a
//! power-of-two Stockham transform) for the others. Forward only, unnormalized; the inverse is
//! `conj ∘ forward ∘ conj` in [`super::fft`].
//!
//! Stage `s` of a Stockham transform of length `n = r₀·r₁·…` with current length `len`, radix
//! `r`, `m = len / r` and stride `stride = n / len` maps `x → y` by
//! `y[q + stride·(r·j + t)] = W_len^(j·t) · Σ_u x[q + stride·(j + m·u)] · ω_r^(u·t)` for
//! `j < m`, `q < stride`, `t < r`, where `W_len = e^(−2πi/len)`, `ω_r = e^(−2πi/r)`. The stages
//! alternate between the buffer and the scratch, and the result lands in natural order.
//! Twiddles are computed in `f64` from the exact residue `(j·t) mod len` and rounded once.

use alloc::boxed::Box;
use alloc::vec::Vec;

use num_complex::Complex;
use num_traits::Float;

use crate::Real;
use crate::base::{collect, filled, try_vec, zeros};
use crate::error::Result;

/// Largest prime factor handled by a direct butterfly; lengths with a larger one use Bluestein.
pub(crate) const MAX_DIRECT_PRIME: usize = 61;

/// One Stockham pass.
#[derive(Clone, Debug)]
struct Stage {
    radix: usize,
    len: usize,
    /// Offset of this stage's `m·(radix − 1)` twiddles in [`Builtin::twiddles`].
    tw: usize,
    /// Offset of `cos/sin(2π·u/radix)` for `u < radix` in [`Builtin::roots`] (odd radices).
    roots: usize,
}

/// Chirp-z state for lengths with a large prime factor.
#[derive(Clone, Debug)]
struct Bluestein<T> {
    /// Power-of-two transform of length `m ≥ 2n − 1`.
    inner: Builtin<T>,
    /// `e^(−πi·k²/n)` for `k < n`.
    chirp: Vec<Complex<T>>,
    /// The transform of the conjugate chirp, already divided by `m`.
    kernel: Vec<Complex<T>>,
}

/// A planned forward transform of one length (see the [module docs](self)).
#[derive(Clone, Debug)]
pub(crate) struct Builtin<T> {
    n: usize,
    stages: Vec<Stage>,
    twiddles: Vec<Complex<T>>,
    roots: Vec<(T, T)>,
    bluestein: Option<Box<Bluestein<T>>>,
}

/// `e^(−2πi·num/den)` with the angle reduced exactly before rounding.
fn unit<T: Real>(num: u128, den: u128) -> Complex<T> {
    let r = (num % den) as f64 / den as f64;
    let a = -2.0 * core::f64::consts::PI * r;
    Complex::new(T::from_f64(Float::cos(a)), T::from_f64(Float::sin(a)))
}

/// The radices of `n` (4s first, then 2, then odd primes ascending), or `None` if a prime
/// factor exceeds [`MAX_DIRECT_PRIME`].
fn factor(mut n: usize) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    while n.is_multiple_of(4) {
        out.push(4);
        n /= 4;
    }
    if n.is_multiple_of(2) {
        out.push(2);
        n /= 2;
    }
    let mut p = 3;
    while n > 1 {
        if p > MAX_DIRECT_PRIME {
            return None;
        }
        while n.is_multiple_of(p) {
            out.push(p);
            n /= p;
        }
        p += 2;
    }
    Some(out)
}

impl<T: Real> Builtin<T> {
    /// Plans a forward transform of length `n ≥ 1`; every table is reserved fallibly
    /// ([`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `name`).
    pub(crate) fn new(n: usize, name: &'static str) -> Result<Self> {
        match factor(n) {
            Some(radices) => Self::stockham(n, &radices, name),
            None => Self::bluestein(n, name),
        }
    }

    fn stockham(n: usize, radices: &[usize], name: &'static str) -> Result<Self> {
        let mut stages = try_vec(radices.len(), name)?;
        // Σ_stages m·(r − 1) = Σ (len − len/r) telescopes to n − 1 twiddles.
        let mut twiddles = try_vec(n - 1, name)?;
        let odd_roots: usize = radices.iter().filter(|&&r| r % 2 == 1).sum();
        let mut roots = try_vec(odd_roots, name)?;
        let mut len = n;
        for &radix in radices {
            let m = len / radix;
            let tw = twiddles.len();
            for j in 0..m {
                for t in 1..radix {
                    twiddles.push(unit::<T>((j * t) as u128, len as u128));
                }
            }
            let r0 = roots.len();
            if radix % 2 == 1 {
                for u in 0..radix {
                    let w = unit::<T>(u as u128, radix as u128);
                    // (cos, sin) of +2πu/r: the butterfly applies the sign itself.
                    roots.push((w.re, -w.im));
                }
            }
            stages.push(Stage {
                radix,
                len,
                tw,
                roots: r0,
            });
            len = m;
        }
        debug_assert_eq!(twiddles.len(), n - 1);
        Ok(Builtin {
            n,
            stages,
            twiddles,
            roots,
            bluestein: None,
        })
    }

    fn bluestein(n: usize, name: &'static str) -> Result<Self> {
        // n ≤ MAX_FFT_LEN (checked by the callers), so 2n − 1 and its power of two fit.
        let m = (2 * n - 1).next_power_of_two();
        let inner = Self::new(m, name)?;
        let two_n = 2 * n as u128;
        // e^(−πi k²/n) = e^(−2πi k²/(2n)).
        let chirp: Vec<Complex<T>> = collect(
            (0..n).map(|k| unit::<T>((k as u128) * (k as u128), two_n)),
            name,
        )?;
        let mut kernel = zeros::<Complex<T>>(m, name)?;
        let scale = T::from_f64(1.0 / m as f64);
        for k in 0..n {
            let c = chirp[k].conj() * scale;
            kernel[k] = c;
            if k > 0 {
                kernel[m - k] = c;
            }
        }
        let mut scratch = filled(
            inner.scratch_len(),
            Complex::new(T::zero(), T::zero()),
            name,
        )?;
        inner.forward(&mut kernel, &mut scratch);
        Ok(Builtin {
            n,
            stages: Vec::new(),
            twiddles: Vec::new(),
            roots: Vec::new(),
            bluestein: Some(Box::new(Bluestein {
                inner,
                chirp,
                kernel,
            })),
        })
    }

    /// Whether this plan runs Bluestein's algorithm.
    pub(crate) fn is_bluestein(&self) -> bool {
        self.bluestein.is_some()
    }

    /// Scratch elements [`Self::forward`] needs.
    pub(crate) fn scratch_len(&self) -> usize {
        match &self.bluestein {
            Some(b) => b.kernel.len() + b.inner.scratch_len(),
            None => self.n,
        }
    }

    /// In-place forward DFT of `buf` (length `n`); `scratch` holds at least
    /// [`Self::scratch_len`] elements. Runs at the CPU's widest SIMD level (the passes are
    /// plain loops that LLVM vectorizes under the enabled target features).
    pub(crate) fn forward(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        crate::simd::Isa::detect().dispatch(Forward {
            plan: self,
            buf,
            scratch,
        });
    }

    #[inline(always)]
    fn forward_inline(&self, buf: &mut [Complex<T>], scratch: &mut [Complex<T>]) {
        debug_assert_eq!(buf.len(), self.n);
        if let Some(b) = &self.bluestein {
            let m = b.kernel.len();
            let (work, rest) = scratch.split_at_mut(m);
            for ((w, x), c) in work.iter_mut().zip(buf.iter()).zip(&b.chirp) {
                *w = *x * *c;
            }
            work[self.n..].fill(Complex::new(T::zero(), T::zero()));
            b.inner.forward(work, rest);
            // Inverse transform through conjugation: conj(F(conj(A·K))).
            for (w, k) in work.iter_mut().zip(&b.kernel) {
                *w = (*w * *k).conj();
            }
            b.inner.forward(work, rest);
            for ((x, w), c) in buf.iter_mut().zip(work.iter()).zip(&b.chirp) {
                *x = w.conj() * *c;
            }
            return;
        }
        let scratch = &mut scratch[..self.n];
        let mut in_buf = true;
        for st in &self.stages {
            if in_buf {
                self.pass(st, buf, scratch);
            } else {
                self.pass(st, scratch, buf);
            }
            in_buf = !in_buf;
        }
        if !in_buf {
            buf.copy_from_slice(scratch);
        }
    }

    #[inline(always)]
    fn pass(&self, st: &Stage, x: &[Complex<T>], y: &mut [Complex<T>]) {
        let r = st.radix;
        let m = st.len / r;
        let stride = self.n / st.len;
        let tw = &self.twiddles[st.tw..st.tw + m * (r - 1)];
        match r {
            4 => radix4(x, y, m, stride, tw),
            2 => radix2(x, y, m, stride, tw),
            _ => odd(x, y, m, stride, r, tw, &self.roots[st.roots..st.roots + r]),
        }
    }
}

#[inline(always)]
fn radix2<T: Real>(x: &[Complex<T>], y: &mut [Complex<T>], m: usize, s: usize, tw: &[Complex<T>]) {
    for (j, yj) in y.chunks_exact_mut(2 * s).enumerate() {
        let w = tw[j];
        let (y0, y1) = yj.split_at_mut(s);
        let x0 = &x[s * j..s * j + s];
        let x1 = &x[s * (j + m)..s * (j + m) + s];
        for (((a, b), o0), o1) in x0.iter().zip(x1).zip(y0).zip(y1) {
            *o0 = *a + *b;
            *o1 = (*a - *b) * w;
        }
    }
}

#[inline(always)]
fn radix4<T: Real>(x: &[Complex<T>], y: &mut [Complex<T>], m: usize, s: usize, tw: &[Complex<T>]) {
    for (j, yj) in y.chunks_exact_mut(4 * s).enumerate() {
        let (w1, w2, w3) = (tw[3 * j], tw[3 * j + 1], tw[3 * j + 2]);
        let (y0, rest) = yj.split_at_mut(s);
        let (y1, rest) = rest.split_at_mut(s);
        let (y2, y3) = rest.split_at_mut(s);
        let x0 = &x[s * j..s * j + s];
        let x1 = &x[s * (j + m)..s * (j + m) + s];
        let x2 = &x[s * (j + 2 * m)..s * (j + 2 * m) + s];
        let x3 = &x[s * (j + 3 * m)..s * (j + 3 * m) + s];
        for q in 0..s {
            let (a0, a1, a2, a3) = (x0[q], x1[q], x2[q], x3[q]);
            let t0 = a0 + a2;
            let t1 = a0 - a2;
            let t2 = a1 + a3;
            let d = a1 - a3;
            let t3 = Complex::new(d.im, -d.re); // −i·(a1 − a3)
            y0[q] = t0 + t2;
            y1[q] = (t1 + t3) * w1;
            y2[q] = (t0 - t2) * w2;
            y3[q] = (t1 - t3) * w3;
        }
    }
}

/// Odd radix `r ≤ MAX_DIRECT_PRIME`: pairs `u, r − u` share a cosine and an opposite sine, so a
/// butterfly costs `(r − 1)²/2` real-by-complex products.
#[inline(always)]
fn odd<T: Real>(
    x: &[Complex<T>],
    y: &mut [Complex<T>],
    m: usize,
    s: usize,
    r: usize,
    tw: &[Complex<T>],
    roots: &[(T, T)],
) {
    let zero = Complex::new(T::zero(), T::zero());
    let h = r / 2;
    let mut a = [zero; MAX_DIRECT_PRIME];
    let mut sum = [zero; MAX_DIRECT_PRIME / 2 + 1];
    let mut dif = [zero; MAX_DIRECT_PRIME / 2 + 1];
    for j in 0..m {
        let twj = &tw[j * (r - 1)..(j + 1) * (r - 1)];
        for q in 0..s {
            for (u, au) in a[..r].iter_mut().enumerate() {
                *au = x[q + s * (j + m * u)];
            }
            let mut b0 = a[0];
            for u in 1..=h {
                sum[u] = a[u] + a[r - u];
                dif[u] = a[u] - a[r - u];
                b0 += sum[u];
            }
            let base = q + s * r * j;
            y[base] = b0;
            for t in 1..=h {
                let mut re = a[0];
                let mut im = zero;
                for u in 1..=h {
                    let (c, sn) = roots[(u * t) % r];
                    re += sum[u] * c;
                    im += dif[u] * sn;
                }
                // b_t = re − i·im, b_(r−t) = re + i·im.
                let iim = Complex::new(-im.im, im.re);
                y[base + s * t] = (re - iim) * twj[t - 1];
                y[base + s * (r - t)] = (re + iim) * twj[r - t - 1];
            }
        }
    }
}

struct Forward<'p, 'a, T> {
    plan: &'p Builtin<T>,
    buf: &'a mut [Complex<T>],
    scratch: &'a mut [Complex<T>],
}

impl<T: Real> pulp::WithSimd for Forward<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        self.plan.forward_inline(self.buf, self.scratch);
    }
}
