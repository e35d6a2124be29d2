//! TiARA's edit: each row becomes `softmax(logits + Λ)` in closed form from its weights, ρ
//! (`tiara_rho`) and the far-frame bias, with the over/underflow fallbacks; the matrix loop and
//! its SIMD dispatch.

// `Real` has no compound-assignment operators in the core tier (without faer's bounds).
#![allow(clippy::assign_op_pattern)]

use num_traits::Float;
use pulp::{Simd, WithSimd};

use super::tiara_rho::{Kernel, LANES, Work, invalid, with_work};
use crate::Real;
use crate::error::{Error, Result};
use crate::simd::Isa;

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

impl<T: Real> Kernel<'_, T> {
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
