//! TiARA's ρ engine: the validated per-call plan ([`Kernel`]) over the caller's scratch, the
//! motion intensity ρ of each row from a short windowed DFT, the probability-row checks;
//! compiled at the CPU's widest SIMD level (pulp dispatch, LLVM vectorizes the fixed-width
//! loops). The diagonal edit that uses ρ is in `tiara_edit`.
//!
//! Layout of the scratch (caller-provided, so the core tier allocates nothing): the `L` window
//! taps, then the `L × 2φ2` table `[r][2k + {0, 1}] = (cos, sin)(2π·k·r/N)`.
//!
//! ρ is computed for [`LANES`] rows at once (lanes over rows: the window's samples of eight rows
//! are gathered, then every multiply-add is a vector operation), for windows up to
//! [`MAX_FAST_TAPS`] taps and bands up to [`MAX_FAST_COLS`]/2 bins; larger configurations take a
//! per-row loop. Both add the same terms in the same order for a given row.

// `Real` has no compound-assignment operators in the core tier (without faer's bounds).
#![allow(clippy::assign_op_pattern)]

use num_traits::Float;
use pulp::{Simd, WithSimd};

use super::tiara::{TiaraConfig, TiaraInput, TiaraWindow};
use super::window::window;
use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::simd::Isa;

pub(super) fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

/// Row width of the cosine/sine table for a band of `phi2` bins.
pub(super) fn stride(phi2: usize) -> usize {
    2 * phi2
}

/// Scratch elements for `l` taps and a band of `phi2` bins: `l·(1 + 2·phi2)`, or the overflow
/// error.
pub(super) fn scratch_need(l: usize, phi2: usize) -> Result<usize> {
    stride(phi2)
        .checked_add(1)
        .and_then(|c| c.checked_mul(l))
        .ok_or(invalid("scratch", "the scratch size overflows usize"))
}

/// Checks that a data length holds whole `N × N` matrices (`N·N` does not overflow: the
/// configuration check bounds `N`).
pub(super) fn check_len(n: usize, len: usize) -> Result<()> {
    if !len.is_multiple_of(n * n) {
        return Err(invalid(
            "input",
            "tiara: the data length must be a multiple of N*N ([..., N, N] matrices)",
        ));
    }
    Ok(())
}

/// Rows whose ρ is computed together (lanes of the fixed-width loops).
pub(super) const LANES: usize = 16;
/// The lane-blocked ρ handles windows up to this many taps …
const MAX_FAST_TAPS: usize = 64;
/// … and bands up to this many (cos, sin) columns; wider ones take the per-row loop.
const MAX_FAST_COLS: usize = 128;

/// Per-thread work arrays of the lane-blocked ρ (kept out of the row loop so that they are not
/// zeroed per block).
pub(super) struct Work<T> {
    pub(super) y: [[T; LANES]; MAX_FAST_TAPS],
    pub(super) acc: [[T; LANES]; MAX_FAST_COLS],
}

/// A validated plan over a borrowed table.
pub(super) struct Kernel<'s, T> {
    pub(super) n: usize,
    pub(super) alpha: T,
    pub(super) adaptive: bool,
    pub(super) far: Option<(usize, T)>,
    /// −β of the far-frame bias (0 without one), for the log-domain fallback.
    pub(super) far_log: f64,
    pub(super) logits: bool,
    pub(super) l: usize,
    pub(super) half: usize,
    pub(super) phi1: usize,
    pub(super) phi2: usize,
    pub(super) taps: &'s [T],
    pub(super) table: &'s [T],
}

impl<'s, T: Real> Kernel<'s, T> {
    /// Builds the plan; `(phi1, phi2)` come from the validated configuration.
    pub(super) fn new(
        cfg: &TiaraConfig<'_>,
        n: usize,
        (phi1, phi2): (usize, usize),
        scratch: &'s mut [T],
    ) -> Result<Self> {
        let l = cfg.window_len;
        let c = stride(phi2);
        let need = scratch_need(l, phi2)?;
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "tiara: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        let (taps, rest) = scratch.split_at_mut(l);
        let table = &mut rest[..l * c];
        match cfg.window {
            TiaraWindow::Kind { kind, periodic } => window(kind, periodic, taps),
            TiaraWindow::Custom(w) => {
                // ρ does not change when the window is scaled, so custom taps are divided by
                // their largest magnitude (in f64, before rounding): tap·p then cannot overflow.
                let top = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let s = if top > 0.0 { 1.0 / top } else { 0.0 };
                for (t, &v) in taps.iter_mut().zip(w) {
                    *t = T::from_f64(v * s);
                }
            }
        }
        table.fill(T::zero());
        for r in 0..l {
            for k in 0..phi2 {
                let a = 2.0 * core::f64::consts::PI * ((k * r) % n) as f64 / n as f64;
                table[r * c + 2 * k] = T::from_f64(Float::cos(a));
                table[r * c + 2 * k + 1] = T::from_f64(Float::sin(a));
            }
        }
        Ok(Kernel {
            n,
            alpha: T::from_f64(cfg.alpha),
            adaptive: cfg.adaptive,
            far: cfg
                .far
                .map(|f| (f.distance, T::from_f64(Float::exp(-f.beta)))),
            far_log: cfg.far.map_or(0.0, |f| -f.beta),
            logits: cfg.input == TiaraInput::Logits,
            l,
            half: l / 2,
            phi1,
            phi2,
            taps,
            table,
        })
    }

    /// Index of tap 0 for row `i`: `(i − ⌊L/2⌋) mod N` without a division.
    #[inline(always)]
    fn first_tap(&self, i: usize) -> usize {
        if i >= self.half {
            i - self.half
        } else {
            i + self.n - self.half
        }
    }

    /// Whether the lane-blocked ρ applies.
    #[inline(always)]
    fn fast(&self) -> bool {
        self.l <= MAX_FAST_TAPS && 2 * self.phi2 <= MAX_FAST_COLS
    }

    /// ρ of rows `i0..i0 + nr` (`nr ≤ LANES`) of the matrix `m` (non-negative weights) into
    /// `rho[..nr]`, lanes over rows.
    #[inline(always)]
    fn rho_block<S: Simd>(
        &self,
        simd: S,
        m: &[T],
        i0: usize,
        nr: usize,
        w: &mut Work<T>,
        rho: &mut [T; LANES],
    ) {
        let (n, l, c2) = (self.n, self.l, 2 * self.phi2);
        let mut top = [T::zero(); LANES];
        for yr in w.y[..l].iter_mut() {
            *yr = [T::zero(); LANES];
        }
        for (lane, tl) in top.iter_mut().enumerate().take(nr) {
            let i = i0 + lane;
            let row = &m[i * n..(i + 1) * n];
            let mut j = self.first_tap(i);
            // The weights are validated (≥ 0, finite), so |v| ≤ |tap|·p and a plain comparison
            // finds the largest magnitude.
            let mut t = T::zero();
            for (r, yr) in w.y[..l].iter_mut().enumerate() {
                let v = self.taps[r] * row[j];
                yr[lane] = v;
                let a = v.abs();
                t = if a > t { a } else { t };
                j = j + 1;
                if j == n {
                    j = 0;
                }
            }
            *tl = t;
        }
        // Scale each row's samples by their largest magnitude: the energies then neither
        // underflow (rows of tiny probabilities) nor overflow.
        let mut inv = [T::zero(); LANES];
        for (v, t) in inv.iter_mut().zip(&top) {
            *v = if *t > T::zero() {
                T::one() / *t
            } else {
                T::zero()
            };
        }
        for yr in w.y[..l].iter_mut() {
            for (v, s) in yr.iter_mut().zip(&inv) {
                *v = *v * *s;
            }
        }
        for a in w.acc[..c2].iter_mut() {
            *a = [T::zero(); LANES];
        }
        // acc[c] += y[r]·table[r][c], whole registers of rows at a time (mul then add, as in
        // the per-row loop, so both paths round alike).
        for (r, yr) in w.y[..l].iter().enumerate() {
            let trow = &self.table[r * c2..(r + 1) * c2];
            let yv = T::as_simd::<S>(yr).0;
            for (a, &t) in w.acc[..c2].iter_mut().zip(trow) {
                let tv = T::v_splat(simd, t);
                for (av, &y) in T::as_mut_simd::<S>(a).0.iter_mut().zip(yv) {
                    *av = T::v_add(simd, *av, T::v_mul(simd, y, tv));
                }
            }
        }
        let (mut lo, mut all) = ([T::zero(); LANES], [T::zero(); LANES]);
        for k in 0..self.phi2 {
            let (re, im) = (
                T::as_simd::<S>(&w.acc[2 * k]).0,
                T::as_simd::<S>(&w.acc[2 * k + 1]).0,
            );
            let band = k < self.phi1;
            for (v, (a, (x, y))) in T::as_mut_simd::<S>(&mut all).0.iter_mut().zip(
                T::as_mut_simd::<S>(&mut lo)
                    .0
                    .iter_mut()
                    .zip(re.iter().zip(im)),
            ) {
                let e = T::v_add(simd, T::v_mul(simd, *x, *x), T::v_mul(simd, *y, *y));
                *v = T::v_add(simd, *v, e);
                if band {
                    *a = T::v_add(simd, *a, e);
                }
            }
        }
        for lane in 0..LANES {
            rho[lane] = ratio(all[lane] - lo[lane], all[lane]);
        }
    }

    /// ρ of one row for the configurations the lane-blocked loop does not take.
    #[inline(always)]
    fn rho_row(&self, p: &[T], i: usize, y: &mut [T]) -> T {
        let c2 = 2 * self.phi2;
        let mut j = self.first_tap(i);
        let mut top = T::zero();
        for (r, yr) in y.iter_mut().enumerate() {
            let v = self.taps[r] * p[j];
            *yr = v;
            top = top.max(v.abs());
            j = j + 1;
            if j == self.n {
                j = 0;
            }
        }
        if top == T::zero() {
            return T::zero();
        }
        let inv = T::one() / top;
        for v in y.iter_mut() {
            *v = *v * inv;
        }
        let (mut lo, mut all) = (T::zero(), T::zero());
        for k in 0..self.phi2 {
            let (mut re, mut im) = (T::zero(), T::zero());
            for (r, &v) in y.iter().enumerate() {
                re = re + v * self.table[r * c2 + 2 * k];
                im = im + v * self.table[r * c2 + 2 * k + 1];
            }
            let e = re * re + im * im;
            all = all + e;
            if k < self.phi1 {
                lo = lo + e;
            }
        }
        ratio(all - lo, all)
    }

    /// ρ of rows `i0..i0 + nr` of `m` by whichever path applies.
    #[inline(always)]
    pub(super) fn rhos_of<S: Simd>(
        &self,
        simd: S,
        m: &[T],
        (i0, nr): (usize, usize),
        w: &mut Work<T>,
        y: &mut [T],
        rho: &mut [T; LANES],
    ) {
        if self.fast() {
            self.rho_block(simd, m, i0, nr, w, rho);
        } else {
            for (lane, r) in rho.iter_mut().enumerate().take(nr) {
                let i = i0 + lane;
                *r = self.rho_row(&m[i * self.n..(i + 1) * self.n], i, y);
            }
        }
    }

    /// Checks a probability row; `Err` names the first bad element.
    #[inline(always)]
    pub(super) fn check_probs(&self, p: &[T], base: usize) -> Result<()> {
        let mut bad = false;
        for &v in p {
            bad |= !(v >= T::zero() && v <= T::max_value());
        }
        if !bad {
            return Ok(());
        }
        for (j, &v) in p.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    what: "tiara: probabilities",
                    index: base + j,
                });
            }
            if v < T::zero() {
                return Err(invalid("input", "tiara: probabilities must be >= 0"));
            }
        }
        Ok(())
    }

    /// ρ of every row of `p` (probabilities; checked).
    pub(super) fn rhos(&self, p: &[T], rho: &mut [T]) -> Result<()> {
        Isa::detect().dispatch(Rhos { k: self, p, rho })
    }
}

/// Runs `f` with the work arrays and a tap buffer of `l` values (reserved fallibly when it does
/// not fit the stack array).
#[inline(always)]
pub(super) fn with_work<T: Real>(
    l: usize,
    f: impl FnOnce(&mut Work<T>, &mut [T]) -> Result<()>,
) -> Result<()> {
    let mut w = Work {
        y: [[T::zero(); LANES]; MAX_FAST_TAPS],
        acc: [[T::zero(); LANES]; MAX_FAST_COLS],
    };
    let mut heap;
    let mut stack = [T::zero(); MAX_FAST_TAPS];
    let y: &mut [T] = if l <= MAX_FAST_TAPS {
        &mut stack[..l]
    } else {
        heap = TapBuffer::new(l)?;
        heap.as_mut()
    };
    f(&mut w, y)
}

struct Rhos<'k, 's, 'a, T> {
    k: &'k Kernel<'s, T>,
    p: &'a [T],
    rho: &'a mut [T],
}

impl<T: Real> WithSimd for Rhos<'_, '_, '_, T> {
    type Output = Result<()>;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Result<()> {
        let k = self.k;
        let n = k.n;
        with_work(k.l, |w, y| {
            for (m, (mat, out)) in self
                .p
                .chunks_exact(n * n)
                .zip(self.rho.chunks_exact_mut(n))
                .enumerate()
            {
                for (i, row) in mat.chunks_exact(n).enumerate() {
                    k.check_probs(row, m * n * n + i * n)?;
                }
                let mut rho = [T::zero(); LANES];
                let mut i0 = 0;
                while i0 < n {
                    let nr = LANES.min(n - i0);
                    k.rhos_of(simd, mat, (i0, nr), w, y, &mut rho);
                    out[i0..i0 + nr].copy_from_slice(&rho[..nr]);
                    i0 = i0 + nr;
                }
            }
            Ok(())
        })
    }
}

/// Tap buffer for windows longer than the stack array (only with `alloc`; without it such
/// windows use a per-tap loop that needs no buffer).
struct TapBuffer<T> {
    #[cfg(feature = "alloc")]
    v: alloc::vec::Vec<T>,
    #[cfg(not(feature = "alloc"))]
    v: [T; 0],
}

impl<T: Real> TapBuffer<T> {
    fn new(l: usize) -> Result<Self> {
        #[cfg(feature = "alloc")]
        {
            Ok(TapBuffer {
                v: crate::base::zeros(l, "window_len")?,
            })
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = l;
            Ok(TapBuffer { v: [] })
        }
    }
    fn as_mut(&mut self) -> &mut [T] {
        &mut self.v
    }
}

/// `hi / all`, 0 when `all` is 0 (assumption A7), clamped to `[0, 1]` against rounding.
#[inline(always)]
fn ratio<T: Real>(hi: T, all: T) -> T {
    if all > T::zero() {
        (hi / all).max(T::zero()).min(T::one())
    } else {
        T::zero()
    }
}
