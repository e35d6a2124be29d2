//! TiARA's per-row engine: ρ from a short windowed DFT, the closed-form diagonal edit, input
//! checks; compiled at the CPU's widest SIMD level (pulp dispatch, LLVM vectorizes the
//! fixed-width loops).
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
use crate::error::{Error, Result};
use crate::simd::Isa;

pub(super) fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

/// Row width of the cosine/sine table for a band of `phi2` bins.
pub(super) fn stride(phi2: usize) -> usize {
    2 * phi2
}

/// Rows whose ρ is computed together (lanes of the fixed-width loops).
const LANES: usize = 16;
/// The lane-blocked ρ handles windows up to this many taps …
const MAX_FAST_TAPS: usize = 64;
/// … and bands up to this many (cos, sin) columns; wider ones take the per-row loop.
const MAX_FAST_COLS: usize = 128;

/// Per-thread work arrays of the lane-blocked ρ (kept out of the row loop so that they are not
/// zeroed per block).
struct Work<T> {
    y: [[T; LANES]; MAX_FAST_TAPS],
    acc: [[T; LANES]; MAX_FAST_COLS],
}

/// How one row is edited: `out_j = p_j·g_j·inv` with `out_i = diag`.
#[derive(Clone, Copy)]
enum Edit<T> {
    /// `div` is 1 unless the row's normalizer over- or underflows: then the weights are
    /// divided by their largest value first (a division, as `1/max` itself may overflow for
    /// subnormal weights).
    Scale { div: T, inv: T, diag: T },
    /// The fallback when even the rescaled terms underflow: `out_j = ((p_j/div)·g_j)/total`.
    Divide { div: T, total: T, diag: T },
    /// All the mass on one frame: the only one with weight (the diagonal of a row without
    /// off-diagonal mass: softmax keeps it at 1 whatever the bias), or the dominant one when
    /// every normalized term underflows.
    OneHot(usize),
}

/// A validated plan over a borrowed table.
pub(super) struct Kernel<'s, T> {
    n: usize,
    alpha: T,
    adaptive: bool,
    far: Option<(usize, T)>,
    /// −β of the far-frame bias (0 without one), for the log-domain fallback.
    far_log: f64,
    logits: bool,
    l: usize,
    half: usize,
    phi1: usize,
    phi2: usize,
    taps: &'s [T],
    table: &'s [T],
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
        if scratch.len() < l * (1 + c) {
            return Err(invalid(
                "scratch",
                "scratch is shorter than tiara_scratch_len()",
            ));
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

    /// Checks that a data length holds whole `N × N` matrices.
    pub(super) fn check_len(&self, len: usize) -> Result<()> {
        if !len.is_multiple_of(self.n * self.n) {
            return Err(invalid(
                "input",
                "tiara: the data length must be a multiple of N*N ([..., N, N] matrices)",
            ));
        }
        Ok(())
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
    fn rhos_of<S: Simd>(
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

    /// Replaces a logit row by `e^(l − max)` in place.
    #[inline(always)]
    fn exp_logits(&self, row: &mut [T], base: usize) -> Result<()> {
        let mut m = T::neg_infinity();
        let mut bad = false;
        for &v in row.iter() {
            bad |= v.is_nan() || v == T::infinity();
            m = m.max(v);
        }
        if bad {
            let j = row
                .iter()
                .position(|v| v.is_nan() || *v == T::infinity())
                .unwrap_or(0);
            return Err(Error::NonFinite {
                what: "tiara: logits (NaN or +Inf)",
                index: base + j,
            });
        }
        if m == T::neg_infinity() {
            return Err(invalid(
                "input",
                "tiara: a logit row is entirely -inf (no key to attend to)",
            ));
        }
        for v in row.iter_mut() {
            *v = *v - m;
        }
        crate::simd::exp_in_place(row);
        Ok(())
    }

    /// [`Self::off_mass`] of the row divided by `div` (the over/underflow path).
    fn off_mass_scaled(&self, p: &[T], i: usize, div: T) -> T {
        let mut s = T::zero();
        for (j, &v) in p.iter().enumerate() {
            if j != i {
                let v = v / div;
                s = s + match self.far {
                    Some((dist, eb)) if i.abs_diff(j) >= dist => v * eb,
                    _ => v,
                };
            }
        }
        s
    }

    /// `Σ_{j≠i} p_j·g_j` (`g_j = e^(−β)` for far frames, else 1).
    #[inline(always)]
    fn off_mass(&self, p: &[T], i: usize) -> T {
        match self.far {
            None => off_diagonal_sum(p, i),
            Some((dist, eb)) => {
                let mut s = T::zero();
                for (j, &v) in p.iter().enumerate() {
                    if j != i {
                        s = s + if i.abs_diff(j) >= dist { v * eb } else { v };
                    }
                }
                s
            }
        }
    }

    /// Writes the edited row `dst` from the weights `src` (`dst` may hold the weights too:
    /// then `src` is `None`).
    #[inline(always)]
    fn apply(&self, src: Option<&[T]>, dst: &mut [T], i: usize, edit: Edit<T>) {
        match edit {
            Edit::OneHot(j) => {
                dst.fill(T::zero());
                dst[j] = T::one();
            }
            Edit::Divide { div, total, diag } => {
                let one = T::one();
                for (j, o) in dst.iter_mut().enumerate() {
                    let v = src.map_or(*o, |s| s[j]) / div;
                    let g = match self.far {
                        Some((dist, eb)) if j != i && i.abs_diff(j) >= dist => eb,
                        _ => one,
                    };
                    *o = ((v * g) / total).min(one);
                }
                dst[i] = diag.min(one);
            }
            Edit::Scale { div, inv, diag } => {
                // min(·, 1): when one weight holds (almost) all the mass, `v·(1/total)` can round
                // one ulp above 1.
                let one = T::one();
                if let Some((dist, eb)) = self.far {
                    for (j, o) in dst.iter_mut().enumerate() {
                        let v = src.map_or(*o, |s| s[j]) / div;
                        let g = if j != i && i.abs_diff(j) >= dist {
                            eb
                        } else {
                            one
                        };
                        *o = ((v * g) * inv).min(one);
                    }
                } else {
                    match src {
                        Some(s) if div == one => {
                            for (o, &v) in dst.iter_mut().zip(s) {
                                *o = (v * inv).min(one);
                            }
                        }
                        Some(s) => {
                            for (o, &v) in dst.iter_mut().zip(s) {
                                *o = ((v / div) * inv).min(one);
                            }
                        }
                        None => {
                            for o in dst.iter_mut() {
                                *o = ((*o / div) * inv).min(one);
                            }
                        }
                    }
                }
                dst[i] = diag.min(one);
            }
        }
    }

    /// One matrix from `src` into `dst` (or in place when `src` is `None`).
    #[inline(always)]
    fn matrix<S: Simd>(
        &self,
        simd: S,
        src: Option<&[T]>,
        dst: &mut [T],
        base: usize,
        w: &mut Work<T>,
        y: &mut [T],
    ) -> Result<()> {
        let n = self.n;
        // Validate (probabilities) or exponentiate (logits) every row before anything is written.
        let src = if self.logits {
            if let Some(s) = src {
                dst.copy_from_slice(s);
            }
            for (i, row) in dst.chunks_exact_mut(n).enumerate() {
                self.exp_logits(row, base + i * n)?;
            }
            None
        } else {
            let m: &[T] = src.unwrap_or(dst);
            for (i, row) in m.chunks_exact(n).enumerate() {
                self.check_probs(row, base + i * n)?;
            }
            src
        };
        let adaptive = self.adaptive && self.alpha != T::zero();
        let mut rho = [T::zero(); LANES];
        let mut g = [T::zero(); LANES];
        let mut i0 = 0;
        while i0 < n {
            let nr = LANES.min(n - i0);
            if adaptive {
                self.rhos_of(simd, src.unwrap_or(dst), (i0, nr), w, y, &mut rho);
            }
            for (gl, r) in g.iter_mut().zip(&rho) {
                *gl = -self.alpha * (T::one() - *r);
            }
            crate::simd::exp_in_place(&mut g[..nr]);
            // Per row: the diagonal d and the off-diagonal mass (far frames scaled), then
            // inv = 1/(off + d·e^λ) and the new diagonal for the whole block at once.
            let m: &[T] = src.unwrap_or(dst);
            let (mut d, mut off) = ([T::zero(); LANES], [T::one(); LANES]);
            for lane in 0..nr {
                let i = i0 + lane;
                let row = &m[i * n..(i + 1) * n];
                d[lane] = row[i];
                off[lane] = self.off_mass(row, i);
            }
            let (mut inv, mut diag) = ([T::zero(); LANES], [T::zero(); LANES]);
            for lane in 0..LANES {
                let dg = d[lane] * g[lane];
                let v = T::one() / (off[lane] + dg);
                inv[lane] = v;
                diag[lane] = dg * v;
            }
            for lane in 0..nr {
                let i = i0 + lane;
                let row = i * n..(i + 1) * n;
                let edit = if off[lane] == T::zero() {
                    if d[lane] == T::zero() {
                        return Err(invalid("input", "tiara: a probability row sums to 0"));
                    }
                    Edit::OneHot(i)
                } else if inv[lane] > T::zero() && inv[lane].is_finite() && diag[lane].is_finite() {
                    Edit::Scale {
                        div: T::one(),
                        inv: inv[lane],
                        diag: diag[lane],
                    }
                } else {
                    // The row's normalizer over- or underflows: redo the sums on the row divided
                    // by its largest weight.
                    let r = match src {
                        Some(s) => &s[row.clone()],
                        None => &dst[row.clone()],
                    };
                    let top = r.iter().fold(T::zero(), |a, &v| if v > a { v } else { a });
                    let dg = (d[lane] / top) * g[lane];
                    let total = self.off_mass_scaled(r, i, top) + dg;
                    if total > T::zero() && total.is_finite() {
                        Edit::Divide {
                            div: top,
                            total,
                            diag: dg / total,
                        }
                    } else {
                        // Every normalized term underflows: the largest of ln p_j + Λ_ij takes
                        // all the mass (softmax's limit).
                        let lam = -self.alpha.as_f64() * (1.0 - rho[lane].as_f64());
                        let mut best = (f64::NEG_INFINITY, i);
                        for (j, &v) in r.iter().enumerate() {
                            if v > T::zero() {
                                let bias = if j == i {
                                    lam
                                } else if self.far.is_some_and(|(dist, _)| i.abs_diff(j) >= dist) {
                                    self.far_log
                                } else {
                                    0.0
                                };
                                let score = Float::ln(v.as_f64()) + bias;
                                if score > best.0 {
                                    best = (score, j);
                                }
                            }
                        }
                        Edit::OneHot(best.1)
                    }
                };
                match src {
                    Some(s) => self.apply(Some(&s[row.clone()]), &mut dst[row], i, edit),
                    None => self.apply(None, &mut dst[row], i, edit),
                }
            }
            i0 = i0 + nr;
        }
        Ok(())
    }

    /// Every matrix of `dst` (from `src`, or in place), at the widest SIMD level.
    /// `base` is the flat index of `dst[0]` in the caller's whole array (for errors).
    pub(super) fn run(&self, src: Option<&[T]>, dst: &mut [T], base: usize) -> Result<()> {
        Isa::detect().dispatch(Run {
            k: self,
            src,
            dst,
            base,
        })
    }

    /// ρ of every row of `p` (probabilities; checked).
    pub(super) fn rhos(&self, p: &[T], rho: &mut [T]) -> Result<()> {
        Isa::detect().dispatch(Rhos { k: self, p, rho })
    }
}

/// Runs `f` with the work arrays and a tap buffer of `l` values.
#[inline(always)]
fn with_work<T: Real, R>(l: usize, f: impl FnOnce(&mut Work<T>, &mut [T]) -> R) -> R {
    let mut w = Work {
        y: [[T::zero(); LANES]; MAX_FAST_TAPS],
        acc: [[T::zero(); LANES]; MAX_FAST_COLS],
    };
    let mut heap;
    let mut stack = [T::zero(); MAX_FAST_TAPS];
    let y: &mut [T] = if l <= MAX_FAST_TAPS {
        &mut stack[..l]
    } else {
        heap = TapBuffer::new(l);
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
    fn new(l: usize) -> Self {
        #[cfg(feature = "alloc")]
        {
            TapBuffer {
                v: alloc::vec![T::zero(); l],
            }
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = l;
            TapBuffer { v: [] }
        }
    }
    fn as_mut(&mut self) -> &mut [T] {
        &mut self.v
    }
}

struct Run<'k, 's, 'a, T> {
    k: &'k Kernel<'s, T>,
    src: Option<&'a [T]>,
    dst: &'a mut [T],
    base: usize,
}

impl<T: Real> WithSimd for Run<'_, '_, '_, T> {
    type Output = Result<()>;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Result<()> {
        let k = self.k;
        let nn = k.n * k.n;
        let (src, dst, base) = (self.src, self.dst, self.base);
        with_work(k.l, |w, y| {
            for (m, d) in dst.chunks_exact_mut(nn).enumerate() {
                let s = src.map(|s| &s[m * nn..(m + 1) * nn]);
                k.matrix(simd, s, d, base + m * nn, w, y)?;
            }
            Ok(())
        })
    }
}

/// `Σ_{j≠i} p_j` with eight independent accumulators (vectorizable, and exact in the sense
/// that the diagonal never enters, so a dominant diagonal causes no cancellation).
#[inline(always)]
fn off_diagonal_sum<T: Real>(p: &[T], i: usize) -> T {
    let mut acc = [T::zero(); 8];
    let mut chunks = p.chunks_exact(8);
    let mut j0 = 0;
    for c in &mut chunks {
        for (l, &v) in c.iter().enumerate() {
            acc[l] = acc[l] + if j0 + l == i { T::zero() } else { v };
        }
        j0 = j0 + 8;
    }
    for (l, &v) in chunks.remainder().iter().enumerate() {
        acc[l] = acc[l] + if j0 + l == i { T::zero() } else { v };
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
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
