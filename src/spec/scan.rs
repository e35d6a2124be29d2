//! Rows as distributions, and the fixed-order block scans behind every `O(V)` pass of the
//! verifier (residual and bonus sampling, the mixture rule's `TV(p, q)`).
//!
//! # Determinism
//!
//! A row is cut into blocks of [`BLOCK`] elements. Inside a block, element `i` is added to
//! accumulator `i mod 16` (in `f64`), and the 16 accumulators are combined as a fixed binary tree;
//! block sums are then added left to right. The order is written out in the source, not chosen by
//! the SIMD level, so every level computes the same bits: the loops run inside pulp's dispatch so
//! that LLVM vectorizes them at the detected level, but vectorizing a fixed association changes no
//! result. Elementwise work on probability rows is done in `f64` (exact IEEE operations, no
//! contraction); logit rows use mlkern's softmax-weight `exp` (f32: within 1 ulp on `[−87.33, 0]`,
//! weights below `e^−87.33` flushed to 0, which no sum of weights ≥ 1 can feel; f64: the full
//! `exp`), which gives the same bits on every level.
//!
//! # Sampling
//!
//! Inverse CDF with one uniform: `t = u·Σw`, the block whose running sum passes `t`, then a
//! sequential scan of that block. The in-block running sum is accumulated sequentially, so it can
//! differ from the block sum in the last bits; if the scan runs off the end of the block (only
//! possible when `t` is within rounding of the block's end), the block's last positive weight is
//! taken.

use pulp::{Simd, WithSimd};

use crate::Real;
use crate::simd::Isa;
use crate::simd::weights_into;

/// Elements per block.
pub(crate) const BLOCK: usize = 1024;
/// Fixed accumulators per block.
const ACC: usize = 16;

/// Number of blocks of a row of `v` elements.
#[inline]
pub(crate) fn blocks_for(v: usize) -> usize {
    v.div_ceil(BLOCK)
}

#[inline(always)]
fn tree(a: &[f64; ACC]) -> f64 {
    let p = [
        a[0] + a[1],
        a[2] + a[3],
        a[4] + a[5],
        a[6] + a[7],
        a[8] + a[9],
        a[10] + a[11],
        a[12] + a[13],
        a[14] + a[15],
    ];
    ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
}

/// One row as a distribution over token ids.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dist<'a, T> {
    /// Probabilities (non-negative weights) taken as given.
    Probs(&'a [T]),
    /// `p_i = w_i / z` with `w_i = exp((l_i − max)·inv_t)` computed in `T` and `z = Σ w_i` in `f64`.
    Logits {
        row: &'a [T],
        max: T,
        inv_t: T,
        z: f64,
    },
}

/// What is wrong with a row, found while scanning it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// NaN or ±Inf (probabilities) / NaN or +Inf (logits) at this index.
    NonFinite(usize),
    /// A negative probability at this index.
    Negative(usize),
    /// Every logit is −∞ (or the weights sum to zero).
    NoMass,
}

impl Bad {
    /// `Ok` for a finite, non-negative probability `x` at index `i`; otherwise what is wrong.
    #[inline]
    pub(crate) fn check(i: usize, x: f64) -> Result<(), Bad> {
        if x >= 0.0 && x.is_finite() {
            Ok(())
        } else if x.is_finite() {
            Err(Bad::Negative(i))
        } else {
            Err(Bad::NonFinite(i))
        }
    }

    /// The first entry of `row` that is not a finite, non-negative probability.
    pub(crate) fn first(row: &[f64]) -> Option<Bad> {
        row.iter()
            .enumerate()
            .find_map(|(i, &x)| Bad::check(i, x).err())
    }
}

impl<'a, T: Real> Dist<'a, T> {
    /// The row of logits `row` at temperature `t > 0`; fills `blocks` with the block sums of the
    /// weights (so the bonus draw can reuse them).
    pub(crate) fn logits(row: &'a [T], t: f64, isa: Isa, blocks: &mut [f64]) -> Result<Self, Bad> {
        let max = isa.max(row).map_err(|e| match e {
            crate::Error::NonFinite { index, .. } => Bad::NonFinite(index),
            _ => Bad::NoMass,
        })?;
        if max == T::infinity() {
            let i = row.iter().position(|x| *x == max).unwrap_or(0);
            return Err(Bad::NonFinite(i));
        }
        if max == T::neg_infinity() {
            return Err(Bad::NoMass);
        }
        let inv_t = T::from_f64(1.0 / t);
        let mut d = Dist::Logits {
            row,
            max,
            inv_t,
            z: 1.0,
        };
        let z = scan(&Weights::Dist(d), isa, blocks).map_err(|_| Bad::NoMass)?;
        if !(z > 0.0 && z.is_finite()) {
            return Err(Bad::NoMass);
        }
        if let Dist::Logits { z: zz, .. } = &mut d {
            *zz = z;
        }
        Ok(d)
    }

    /// Vocabulary size.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Dist::Probs(r) => r.len(),
            Dist::Logits { row, .. } => row.len(),
        }
    }

    /// `p_i` in `f64` (validated: `Err` for NaN, ±Inf or a negative probability).
    #[inline]
    pub(crate) fn prob(&self, i: usize, isa: Isa) -> Result<f64, Bad> {
        match *self {
            Dist::Probs(r) => {
                let x = r[i].as_f64();
                Bad::check(i, x).map(|()| x)
            }
            Dist::Logits { row, max, inv_t, z } => {
                let mut w = [T::zero()];
                weights_into(isa, &row[i..=i], max, inv_t, &mut w);
                Ok(w[0].as_f64() * (1.0 / z))
            }
        }
    }

    /// `p_i` as `f64` for `i ∈ start..start + out.len()` (`tmp` is scratch of the same length).
    #[inline(always)]
    pub(crate) fn fill(&self, start: usize, out: &mut [f64], tmp: &mut [T], isa: Isa) {
        match *self {
            Dist::Probs(r) => {
                for (o, x) in out.iter_mut().zip(&r[start..]) {
                    *o = x.as_f64();
                }
            }
            Dist::Logits { row, max, inv_t, z } => {
                let n = out.len();
                weights_into(isa, &row[start..start + n], max, inv_t, &mut tmp[..n]);
                let rz = 1.0 / z;
                for (o, t) in out.iter_mut().zip(&tmp[..n]) {
                    *o = t.as_f64() * rz;
                }
            }
        }
    }
}

/// The draft side of a residual: a full row, or a point mass `q_x` at the drafted token
/// (one-hot drafts, `q_x = 1`; conditional probabilities, `q_x` given).
#[derive(Clone, Copy, Debug)]
pub(crate) enum QSide<'a, T> {
    Row(Dist<'a, T>),
    Point { x: usize, qx: f64 },
}

/// Non-negative weights over the vocabulary, sampled by inverse CDF.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Weights<'a, T> {
    /// `p_i` itself (bonus draws, degenerate residuals, typical acceptance).
    Dist(Dist<'a, T>),
    /// `max(p_i − min(q_i, ω·p_i), 0)`: `(p − q)₊` for `ω ≥ 1`, the optimal residual
    /// `[p − q·f]₊` of COOL-SD for `ω < 1`.
    Residual {
        p: Dist<'a, T>,
        q: QSide<'a, T>,
        omega: f64,
    },
    /// `(q_i − p_i)₊` (its sum is `TV(p, q)`).
    Excess { p: Dist<'a, T>, q: Dist<'a, T> },
    /// An explicit `f64` row (LANTERN's reference residuals).
    Dense(&'a [f64]),
}

impl<T: Real> Weights<'_, T> {
    fn len(&self) -> usize {
        match self {
            Weights::Dist(d) | Weights::Residual { p: d, .. } | Weights::Excess { p: d, .. } => {
                d.len()
            }
            Weights::Dense(r) => r.len(),
        }
    }

    /// The weights of elements `start..start + out.len()`, and whether an input was bad.
    #[inline(always)]
    fn fill(&self, start: usize, out: &mut [f64], bufs: &mut Bufs<T>, isa: Isa) -> bool {
        let n = out.len();
        match *self {
            Weights::Dist(d) => {
                d.fill(start, out, &mut bufs.t, isa);
                !out.iter().all(|x| *x >= 0.0 && *x <= f64::MAX)
            }
            Weights::Residual { p, q, omega } => match (p, q) {
                (Dist::Probs(pr), QSide::Row(Dist::Probs(qr))) => {
                    let mut bad = false;
                    for ((o, &x), &y) in out.iter_mut().zip(&pr[start..]).zip(&qr[start..]) {
                        let (x, y) = (x.as_f64(), y.as_f64());
                        *o = residual_elem(x, y, omega);
                        bad |= !((0.0..=f64::MAX).contains(&x) && (0.0..=f64::MAX).contains(&y));
                    }
                    bad
                }
                (_, QSide::Row(qd)) => {
                    p.fill(start, out, &mut bufs.t, isa);
                    qd.fill(start, &mut bufs.f[..n], &mut bufs.t, isa);
                    let mut bad = false;
                    for (o, &y) in out.iter_mut().zip(&bufs.f[..n]) {
                        let x = *o;
                        bad |= !((0.0..=f64::MAX).contains(&x) && (0.0..=f64::MAX).contains(&y));
                        *o = residual_elem(x, y, omega);
                    }
                    bad
                }
                (_, QSide::Point { x, qx }) => {
                    p.fill(start, out, &mut bufs.t, isa);
                    let bad = !out.iter().all(|v| *v >= 0.0 && *v <= f64::MAX);
                    if (start..start + n).contains(&x) {
                        let px = out[x - start];
                        out[x - start] = residual_elem(px, qx, omega);
                    }
                    bad
                }
            },
            Weights::Excess { p, q } => {
                p.fill(start, out, &mut bufs.t, isa);
                q.fill(start, &mut bufs.f[..n], &mut bufs.t, isa);
                let mut bad = false;
                for (o, &y) in out.iter_mut().zip(&bufs.f[..n]) {
                    let x = *o;
                    bad |= !((0.0..=f64::MAX).contains(&x) && (0.0..=f64::MAX).contains(&y));
                    *o = if y > x { y - x } else { 0.0 };
                }
                bad
            }
            Weights::Dense(r) => {
                out.copy_from_slice(&r[start..start + n]);
                !out.iter().all(|x| *x >= 0.0 && *x <= f64::MAX)
            }
        }
    }

    /// The fixed-order sum of one block's weights, and whether an input was bad.
    #[inline(always)]
    fn block_sum(&self, b: usize, bufs: &mut Bufs<T>, isa: Isa) -> (f64, bool) {
        let start = b * BLOCK;
        let n = BLOCK.min(self.len() - start);
        match *self {
            // The hot path (probability rows): fused, no buffer.
            Weights::Residual {
                p: Dist::Probs(pr),
                q: QSide::Row(Dist::Probs(qr)),
                omega,
            } => {
                // For ω ≥ 1, max(p − min(q, ωp), 0) = max(p − q, 0) exactly (when q > ωp ≥ p
                // both are 0), so the common case skips the product.
                let (p, q) = (&pr[start..start + n], &qr[start..start + n]);
                if omega >= 1.0 {
                    fused_residual(p, q, |x, y| {
                        let d = x - y;
                        if d > 0.0 { d } else { 0.0 }
                    })
                } else {
                    fused_residual(p, q, |x, y| residual_elem(x, y, omega))
                }
            }
            Weights::Dist(Dist::Probs(pr)) => fused_probs(&pr[start..start + n]),
            // One-hot / conditional drafts: the residual is p except at x; blocks without x
            // are plain sums of p.
            Weights::Residual {
                p: Dist::Probs(pr),
                q: QSide::Point { x, .. },
                ..
            } if !(start..start + n).contains(&x) => fused_probs(&pr[start..start + n]),
            // Unnormalized logit weights (log-sum-exp and bonus draws): exp in `T`, summed
            // straight from the `T` buffer.
            Weights::Dist(Dist::Logits {
                row,
                max,
                inv_t,
                z: 1.0,
            }) => {
                let tmp = &mut bufs.t[..n];
                weights_into(isa, &row[start..start + n], max, inv_t, tmp);
                (fixed_sum_t(tmp), false)
            }
            _ => {
                let mut out = [0.0f64; BLOCK];
                let bad = self.fill(start, &mut out[..n], bufs, isa);
                (fixed_sum(&out[..n]), bad)
            }
        }
    }
}

/// `max(p − min(q, ω·p), 0)` in `f64`, written with comparisons so that it is the same
/// operation at every SIMD level.
#[inline(always)]
fn residual_elem(p: f64, q: f64, omega: f64) -> f64 {
    let wp = omega * p;
    let m = if q < wp { q } else { wp };
    let d = p - m;
    if d > 0.0 { d } else { 0.0 }
}

#[inline(always)]
fn fixed_sum(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; ACC];
    let (chunks, tail) = x.as_chunks::<ACC>();
    for c in chunks {
        for j in 0..ACC {
            acc[j] += c[j];
        }
    }
    for (a, t) in acc.iter_mut().zip(tail) {
        *a += *t;
    }
    tree(&acc)
}

/// [`fixed_sum`] of `T` values widened to `f64` (the same bits as widening first).
#[inline(always)]
fn fixed_sum_t<T: Real>(x: &[T]) -> f64 {
    let mut acc = [0.0f64; ACC];
    let (chunks, tail) = x.as_chunks::<ACC>();
    for c in chunks {
        for j in 0..ACC {
            acc[j] += c[j].as_f64();
        }
    }
    for (a, t) in acc.iter_mut().zip(tail) {
        *a += t.as_f64();
    }
    tree(&acc)
}

/// `(Σ max(p − min(q, ωp), 0), bad)` over one block, without a buffer, in `f64`. `bad` is set by
/// a NaN, ±Inf or negative entry in either row: `Σ (p + q)` is non-finite exactly when an entry
/// is (probabilities cannot overflow it), and the running minimum catches negatives.
#[inline(always)]
fn fused_residual<T: Real>(p: &[T], q: &[T], r: impl Fn(f64, f64) -> f64) -> (f64, bool) {
    let mut acc = [0.0f64; ACC];
    let mut chk = [0.0f64; ACC];
    let mut lo = [0.0f64; ACC];
    let (pc, pt) = p.as_chunks::<ACC>();
    let (qc, qt) = q.as_chunks::<ACC>();
    for (a, b) in pc.iter().zip(qc) {
        for j in 0..ACC {
            let (x, y) = (a[j].as_f64(), b[j].as_f64());
            acc[j] += r(x, y);
            chk[j] += x + y;
            let m = if x < y { x } else { y };
            lo[j] = if m < lo[j] { m } else { lo[j] };
        }
    }
    for (j, (&x, &y)) in pt.iter().zip(qt).enumerate() {
        let (x, y) = (x.as_f64(), y.as_f64());
        acc[j] += r(x, y);
        chk[j] += x + y;
        let m = if x < y { x } else { y };
        lo[j] = if m < lo[j] { m } else { lo[j] };
    }
    let bad = !tree(&chk).is_finite() || lo.iter().any(|l| *l < 0.0);
    (tree(&acc), bad)
}

/// `(Σ p, bad)` over one block of a probability row (a NaN or ±Inf makes the sum non-finite,
/// which [`scan`] reports; the running minimum catches negatives).
#[inline(always)]
fn fused_probs<T: Real>(p: &[T]) -> (f64, bool) {
    let mut acc = [0.0f64; ACC];
    let mut lo = [0.0f64; ACC];
    let (pc, pt) = p.as_chunks::<ACC>();
    for a in pc {
        for j in 0..ACC {
            let x = a[j].as_f64();
            acc[j] += x;
            lo[j] = if x < lo[j] { x } else { lo[j] };
        }
    }
    for (j, &x) in pt.iter().enumerate() {
        let x = x.as_f64();
        acc[j] += x;
        lo[j] = if x < lo[j] { x } else { lo[j] };
    }
    (tree(&acc), lo.iter().any(|l| *l < 0.0))
}

/// Scratch buffers of the buffered (logit) paths.
struct Bufs<T> {
    t: [T; BLOCK],
    f: [f64; BLOCK],
}

struct ScanOp<'w, 'b, T> {
    w: &'w Weights<'w, T>,
    blocks: &'b mut [f64],
    isa: Isa,
}

impl<T: Real> WithSimd for ScanOp<'_, '_, T> {
    type Output = (f64, bool);
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> (f64, bool) {
        let mut bufs = Bufs {
            t: [T::zero(); BLOCK],
            f: [0.0; BLOCK],
        };
        let mut total = 0.0f64;
        let mut bad = false;
        for (b, slot) in self.blocks.iter_mut().enumerate() {
            let (s, e) = self.w.block_sum(b, &mut bufs, self.isa);
            *slot = s;
            total += s;
            bad |= e;
        }
        (total, bad)
    }
}

/// Fills `blocks[..blocks_for(V)]` with the block sums of `w` and returns the total; `Err` names
/// the first bad input element.
pub(crate) fn scan<T: Real>(w: &Weights<'_, T>, isa: Isa, blocks: &mut [f64]) -> Result<f64, Bad> {
    let nb = blocks_for(w.len());
    let (total, bad) = isa.dispatch(ScanOp {
        w,
        blocks: &mut blocks[..nb],
        isa,
    });
    if bad || !total.is_finite() {
        return Err(locate(w, isa));
    }
    Ok(total)
}

/// The first bad element of the rows behind `w` (slow path, only after a scan failed).
fn locate<T: Real>(w: &Weights<'_, T>, isa: Isa) -> Bad {
    let rows: [Option<Dist<'_, T>>; 2] = match *w {
        Weights::Dist(d) => [Some(d), None],
        Weights::Residual { p, q, .. } => match q {
            QSide::Row(q) => [Some(p), Some(q)],
            QSide::Point { .. } => [Some(p), None],
        },
        Weights::Excess { p, q } => [Some(p), Some(q)],
        Weights::Dense(r) => {
            return Bad::first(r).unwrap_or(Bad::NoMass);
        }
    };
    for d in rows.into_iter().flatten() {
        for i in 0..d.len() {
            if let Err(b) = d.prob(i, isa) {
                return b;
            }
        }
    }
    Bad::NoMass
}

/// The index drawn by inverse CDF at `u ∈ (0, 1)` from weights `w` with block sums `blocks` and
/// total `total > 0` (both from [`scan`]).
pub(crate) fn pick<T: Real>(
    w: &Weights<'_, T>,
    isa: Isa,
    blocks: &[f64],
    total: f64,
    u: f64,
) -> usize {
    let nb = blocks_for(w.len());
    let target = u * total;
    let mut before = 0.0f64;
    let mut chosen = None;
    for (b, &s) in blocks[..nb].iter().enumerate() {
        if s > 0.0 {
            chosen = Some((b, before));
            if before + s > target {
                break;
            }
        }
        before += s;
    }
    let Some((b, before)) = chosen else { return 0 };
    let start = b * BLOCK;
    let n = BLOCK.min(w.len() - start);
    let mut bufs = Bufs {
        t: [T::zero(); BLOCK],
        f: [0.0; BLOCK],
    };
    let mut out = [0.0f64; BLOCK];
    w.fill(start, &mut out[..n], &mut bufs, isa);
    let rest = target - before;
    let mut cum = 0.0f64;
    let mut last = None;
    for (i, &x) in out[..n].iter().enumerate() {
        if x > 0.0 {
            cum += x;
            last = Some(i);
            if cum > rest {
                return start + i;
            }
        }
    }
    start + last.unwrap_or(0)
}
