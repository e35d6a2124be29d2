//! Sums and dot products: eight independent SIMD accumulators per block, blocks combined pairwise.
//!
//! # Algorithm and error bound
//!
//! The input is cut into blocks of [`BLOCK_VECS`] registers (`32·L` elements for `L` lanes, e.g.
//! 512 `f32` with AVX-512). Inside a block eight register accumulators take every eighth register
//! (so each lane of an accumulator adds at most 4 values in sequence, and the eight independent
//! chains hide the add/FMA latency); the accumulators are then combined as a tree of depth 3.
//! Block results are combined pairwise by a binary-counter cascade (a balanced binary tree over
//! each run of 256 blocks, and the same again over those trees); the tail (fewer than `L`
//! elements) is one more, zero-padded, block. Finally the `L` lanes are added.
//!
//! Every input element therefore passes through at most
//! `4 (chain) + 3 (accumulators) + ⌈log₂ N⌉ + 2 (cascade over N blocks) + (L − 1) (lanes)`
//! rounded additions (the lane count is conservative: pulp adds the lanes as a tree of depth
//! `log₂ L`). With `N ≤ n` and `L ≤ 16` this is at most `d = ⌈log₂ n⌉ + 24`, and the standard
//! analysis of summation trees (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
//! §4.2) gives
//!
//! `|ŝ − Σxᵢ| ≤ γ_d · Σ|xᵢ|`, with `γ_d = d·u / (1 − d·u)` and `u = ε/2`,
//!
//! and for the dot product the same with `d + 1` (one more rounding for each product) and
//! `Σ|xᵢ·yᵢ|` on the right.

use pulp::{Simd, WithSimd};

use super::isa::Isa;
use super::lanes::Elem;

/// Independent register accumulators per block (enough to cover add/FMA latency × throughput).
const ACCS: usize = 8;
/// Registers per block (eight accumulators × four steps).
pub(crate) const BLOCK_VECS: usize = 32;

/// `((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))`: three rounded additions per element.
#[inline(always)]
fn combine<V: Copy>(a: [V; ACCS], add: impl Fn(V, V) -> V) -> V {
    add(
        add(add(a[0], a[1]), add(a[2], a[3])),
        add(add(a[4], a[5]), add(a[6], a[7])),
    )
}

/// Blocks per inner cascade: the inner tree covers `2^INNER_LEVELS` blocks (small, so that its
/// stack is cheap to set up for short inputs); the outer cascade, created only for longer inputs,
/// combines the inner trees pairwise in turn.
const INNER_LEVELS: u32 = 8;

/// The pairwise combination of block sums: `stack[i]` holds the sum of `2^level` blocks, where
/// the levels decrease from the bottom of the stack to its top (binary-counter carry).
struct Cascade<V, const CAP: usize> {
    stack: [V; CAP],
    top: usize,
    count: u64,
}

impl<V: Copy, const CAP: usize> Cascade<V, CAP> {
    #[inline(always)]
    fn new(zero: V) -> Self {
        Self {
            stack: [zero; CAP],
            top: 0,
            count: 0,
        }
    }

    /// Pushes the sum of one block, merging equal-sized partial sums.
    #[inline(always)]
    fn push(&mut self, mut v: V, add: impl Fn(V, V) -> V) {
        let mut c = self.count;
        while c & 1 == 1 {
            self.top -= 1;
            v = add(self.stack[self.top], v);
            c >>= 1;
        }
        self.stack[self.top] = v;
        self.top += 1;
        self.count += 1;
    }

    /// Adds the remaining partial sums, smallest (latest) first; `None` if nothing was pushed.
    #[inline(always)]
    fn finish(&self, add: impl Fn(V, V) -> V) -> Option<V> {
        let mut i = self.top.checked_sub(1)?;
        let mut acc = self.stack[i];
        while i > 0 {
            i -= 1;
            acc = add(self.stack[i], acc);
        }
        Some(acc)
    }
}

/// Combines a stream of block sums pairwise (a balanced binary tree over the blocks, up to the
/// final combination of the at most `⌈log₂ N⌉ + 1` partial trees). Returns zero for no blocks.
#[inline(always)]
fn pairwise<V: Copy>(
    zero: V,
    blocks: impl Iterator<Item = V>,
    add: impl Fn(V, V) -> V + Copy,
) -> V {
    // CAP: at most INNER_LEVELS entries are live before the 2^INNER_LEVELS-th push merges them.
    let mut inner = Cascade::<V, { INNER_LEVELS as usize + 1 }>::new(zero);
    // Levels beyond: 64 covers any slice length.
    let mut outer: Option<Cascade<V, 64>> = None;
    for b in blocks {
        inner.push(b, add);
        if inner.count == 1 << INNER_LEVELS {
            // The inner tree is complete: a single entry holds it.
            let full = inner.stack[0];
            inner.top = 0;
            inner.count = 0;
            outer
                .get_or_insert_with(|| Cascade::new(zero))
                .push(full, add);
        }
    }
    let last = inner.finish(add);
    match (outer, last) {
        (None, last) => last.unwrap_or(zero),
        (Some(mut outer), last) => {
            if let Some(v) = last {
                outer.push(v, add);
            }
            outer.finish(add).unwrap_or(zero)
        }
    }
}

/// A lane-wise transformation applied to every register before it is summed.
pub(crate) trait VecMap<T: Elem>: Copy {
    /// Loads the tail (`< L` elements), padding the unused lanes with a value that maps to zero.
    #[inline(always)]
    fn load_tail<S: Simd>(self, s: S, tail: &[T]) -> T::V<S> {
        T::partial_load(s, tail)
    }
    /// The transformation.
    fn apply<S: Simd>(self, s: S, v: T::V<S>) -> T::V<S>;
}

/// The identity map (plain summation).
#[derive(Clone, Copy)]
pub(crate) struct Identity;

impl<T: Elem> VecMap<T> for Identity {
    #[inline(always)]
    fn apply<S: Simd>(self, _s: S, v: T::V<S>) -> T::V<S> {
        v
    }
}

/// `Σ f(xᵢ)` with the blocked pairwise scheme described in the module docs.
#[inline(always)]
pub(crate) fn sum_mapped_simd<S: Simd, T: Elem, F: VecMap<T>>(s: S, x: &[T], f: F) -> T {
    let zero = T::v_splat(s, T::zero());
    let add = move |a, b| T::v_add(s, a, b);
    let (head, tail) = T::as_simd::<S>(x);
    let blocks = head.chunks(BLOCK_VECS).map(|block| {
        let mut acc = [zero; ACCS];
        let mut groups = block.chunks_exact(ACCS);
        for g in &mut groups {
            for k in 0..ACCS {
                acc[k] = T::v_add(s, acc[k], f.apply(s, g[k]));
            }
        }
        for (k, &v) in groups.remainder().iter().enumerate() {
            acc[k] = T::v_add(s, acc[k], f.apply(s, v));
        }
        combine(acc, add)
    });
    // The tail (< L elements) is one more block, padded so that the unused lanes add zero.
    let tail_block = (!tail.is_empty()).then(|| f.apply(s, f.load_tail(s, tail)));
    T::reduce_sum(s, pairwise(zero, blocks.chain(tail_block), add))
}

/// `Σ xᵢ·yᵢ` (equal lengths), same scheme with one (possibly fused) multiply-add per register.
#[inline(always)]
pub(crate) fn dot_simd<S: Simd, T: Elem>(s: S, x: &[T], y: &[T]) -> T {
    debug_assert_eq!(x.len(), y.len());
    let zero = T::v_splat(s, T::zero());
    let add = move |a, b| T::v_add(s, a, b);
    let (xh, xt) = T::as_simd::<S>(x);
    let (yh, yt) = T::as_simd::<S>(y);
    let blocks = xh
        .chunks(BLOCK_VECS)
        .zip(yh.chunks(BLOCK_VECS))
        .map(|(bx, by)| {
            let mut acc = [zero; ACCS];
            let mut gx = bx.chunks_exact(ACCS);
            let mut gy = by.chunks_exact(ACCS);
            for (px, py) in (&mut gx).zip(&mut gy) {
                for k in 0..ACCS {
                    acc[k] = T::v_fma_fast(s, px[k], py[k], acc[k]);
                }
            }
            for (k, (&a, &b)) in gx.remainder().iter().zip(gy.remainder()).enumerate() {
                acc[k] = T::v_fma_fast(s, a, b, acc[k]);
            }
            combine(acc, add)
        });
    let tail_block =
        (!xt.is_empty()).then(|| T::v_mul(s, T::partial_load(s, xt), T::partial_load(s, yt)));
    T::reduce_sum(s, pairwise(zero, blocks.chain(tail_block), add))
}

struct SumOp<'a, T, F> {
    x: &'a [T],
    f: F,
}

impl<T: Elem, F: VecMap<T>> WithSimd for SumOp<'_, T, F> {
    type Output = T;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> T {
        sum_mapped_simd(s, self.x, self.f)
    }
}

struct DotOp<'a, T> {
    x: &'a [T],
    y: &'a [T],
}

impl<T: Elem> WithSimd for DotOp<'_, T> {
    type Output = T;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> T {
        dot_simd(s, self.x, self.y)
    }
}

/// `Σ f(xᵢ)` at level `isa`.
#[inline]
pub(crate) fn sum_mapped<T: Elem, F: VecMap<T>>(isa: Isa, x: &[T], f: F) -> T {
    isa.dispatch(SumOp { x, f })
}

/// `Σ xᵢ` at level `isa`.
#[inline]
pub(crate) fn sum<T: Elem>(isa: Isa, x: &[T]) -> T {
    sum_mapped(isa, x, Identity)
}

/// `Σ xᵢ·yᵢ` at level `isa`; the caller has checked `x.len() == y.len()`.
#[inline]
pub(crate) fn dot<T: Elem>(isa: Isa, x: &[T], y: &[T]) -> T {
    isa.dispatch(DotOp { x, y })
}
