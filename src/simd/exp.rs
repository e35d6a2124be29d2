//! Vectorized `e^x` for `f32` and `f64`, written once against pulp's safe lane API.
//!
//! # Algorithm (the same for both types; constants differ)
//!
//! 1. Clamp `x` to `[X_MIN, X_MAX]`, just outside the range where the result is neither `0` nor
//!    `+∞` (NaN is restored at the end), so that every later integer fits its field.
//! 2. `n = round(x·log₂e)`: one FMA computes `x·LOG2E + 1.5·2^p` (`p` = 23 or 52) with a single
//!    rounding, which rounds the exact product to the nearest integer; subtracting `1.5·2^p` gives
//!    `n` exactly. (The rounding of the constant `LOG2E` can only move `n` by one near a
//!    half-integer, which widens the reduced range below by a negligible amount.)
//! 3. Cody–Waite reduction `r = x − n·ln2` with `ln2 = LN2_HI + LN2_LO`: `LN2_HI` has few enough
//!    significant bits that `n·LN2_HI` and `x − n·LN2_HI` are exact (the latter by Sterbenz'
//!    lemma), then Knuth's branch-free TwoSum gives `r + c = (x − n·LN2_HI) − n·LN2_LO` with `c`
//!    the exact rounding error of `r`. `|r| ≤ ln2/2 + tiny`.
//! 4. `e^(r+c) ≈ 1 + r + (c + r²·Q(r))`, `Q` the Taylor polynomial `Σ_{k≥2} r^(k−2)/k!` up to
//!    degree 7 (`f32`) / 13 (`f64`) in total, whose truncation error at `|r| = ln2/2` is below
//!    0.06 ulp.
//!    `1 + r` is split exactly (Fast2Sum) so that only the final addition rounds at full weight.
//! 5. Scale by `2^n` as `(p·2^⌊n/2⌉)·2^(n−⌊n/2⌉)`: both factors are normal powers of two built by
//!    integer arithmetic on their bit patterns, the first product is exact, and the second rounds
//!    once, which yields overflow to `+∞` and gradual underflow to subnormals and `0` for free.
//! 6. NaN inputs are passed through.
//!
//! Every step is an exactly specified IEEE operation (add, mul, fused multiply-add — on the scalar
//! level a correctly rounded library call, `mul_add` / `libm::fma` —, min/max, integer add/shift,
//! select), so every level computes bit-identical results. (min/max treat NaN differently on
//! different levels, but NaN lanes are overwritten in step 6.)
//!
//! # Accuracy (verified by `tests/simd.rs`)
//!
//! * `f32`: ≤ 1 ulp from the correctly rounded result on `[−87, 88]` (normal results), by a
//!   sweep over every 97th bit pattern plus dense and random samples; observed ≤ 0.71 ulp from
//!   the exact value.
//! * `f64`: ≤ 1 ulp from a double-double reference over `[−708, 709]` (random and dense
//!   samples); observed ≤ 0.68 ulp.
//! * Subnormal results are computed (not flushed); there the error is at most one unit of the
//!   smallest subnormal (`2^−149` / `2^−1074`) because the last step rounds twice.
//! * `exp(NaN) = NaN`, `exp(+∞) = +∞`, `exp(−∞) = +0`, `exp(±0) = 1`, overflow gives `+∞`, deep
//!   underflow `+0`.

use pulp::{Simd, WithSimd};

use super::isa::Isa;
use super::lanes::Elem;
use super::reduce::VecMap;

// ---------------------------------------------------------------------------------------------
// f32

/// `log₂ e` rounded to `f32`.
const LOG2E_32: f32 = core::f32::consts::LOG2_E;
/// High part of ln 2 (Cody & Waite 1980): `355/512`, 9 significant bits, so `n·LN2_HI` is exact
/// for `|n| < 2^15`.
const LN2_HI_32: f32 = 355.0 / 512.0;
/// `ln 2 − LN2_HI_32` rounded to `f32` (bit pattern `0xB95E8083`; representation error ≈ 1.6e−12).
const LN2_LO_32: f32 = -2.121_944_4e-4;
/// `1.5·2^23`: adding it rounds an `f32` of magnitude `< 2^22` to an integer held in the low
/// mantissa bits.
const ROUND_32: f32 = 12_582_912.0;
/// Above `ln(f32::MAX) ≈ 88.7228`, so `exp` overflows; `n ≤ 128` after clamping.
const X_MAX_32: f32 = 88.8;
/// Below `ln(2^−150) ≈ −103.972`, so `exp` rounds to `0`; `n ≥ −150` after clamping.
const X_MIN_32: f32 = -104.0;

/// Taylor coefficients `1/k!` (each one correctly rounded quotient).
const C2_32: f32 = 1.0 / 2.0;
const C3_32: f32 = 1.0 / 6.0;
const C4_32: f32 = 1.0 / 24.0;
const C5_32: f32 = 1.0 / 120.0;
const C6_32: f32 = 1.0 / 720.0;
const C7_32: f32 = 1.0 / 5040.0;

/// `2^k` for an integral `k ∈ [−126, 127]`, given `t = k + ROUND_32` (so that
/// `bits(t) = 0x4B40_0000 + k`): `(bits(t) + 127) << 23`, where the wrapping shift discards the
/// bits of `0x4B40_0000`.
#[inline(always)]
fn pow2_from_rounded_32<S: Simd>(s: S, t: S::f32s) -> S::f32s {
    let u = s.transmute_u32s_f32s(t);
    let u = s.add_u32s(u, s.splat_u32s(127));
    let u = s.wrapping_dyn_shl_u32s(u, s.splat_u32s(23));
    s.transmute_f32s_u32s(u)
}

/// `e^x` lane-wise for `f32` (see the module docs).
#[inline(always)]
pub(crate) fn exp_f32s<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    let sp = |v: f32| s.splat_f32s(v);
    let xc = s.min_f32s(s.max_f32s(x, sp(X_MIN_32)), sp(X_MAX_32));

    // n = round(x·log2 e), exactly.
    let t = s.mul_add_f32s(xc, sp(LOG2E_32), sp(ROUND_32));
    let n = s.sub_f32s(t, sp(ROUND_32));

    // r + c = x − n·ln2.
    let hi = s.mul_add_f32s(n, sp(-LN2_HI_32), xc); // exact
    let lo = s.mul_f32s(n, sp(-LN2_LO_32)); // error ≤ 2^−30
    let r = s.add_f32s(hi, lo);
    let lo_r = s.sub_f32s(r, hi);
    let hi_r = s.sub_f32s(r, lo_r);
    let c = s.add_f32s(s.sub_f32s(hi, hi_r), s.sub_f32s(lo, lo_r));

    // p = e^(r+c) = (1 + r) + (c + r²·Q(r)).
    let q = s.mul_add_f32s(sp(C7_32), r, sp(C6_32));
    let q = s.mul_add_f32s(q, r, sp(C5_32));
    let q = s.mul_add_f32s(q, r, sp(C4_32));
    let q = s.mul_add_f32s(q, r, sp(C3_32));
    let q = s.mul_add_f32s(q, r, sp(C2_32));
    let r2 = s.mul_f32s(r, r);
    let tail = s.mul_add_f32s(r2, q, c);
    let one_r = s.add_f32s(sp(1.0), r);
    let one_r_err = s.add_f32s(s.sub_f32s(sp(1.0), one_r), r); // Fast2Sum, 1 ≥ |r|
    let p = s.add_f32s(one_r, s.add_f32s(one_r_err, tail));

    // p·2^n1·2^n2 with n1 = round(n/2), n2 = n − n1, both in [−75, 64].
    let t1 = s.mul_add_f32s(n, sp(0.5), sp(ROUND_32));
    let n1 = s.sub_f32s(t1, sp(ROUND_32));
    let t2 = s.add_f32s(s.sub_f32s(n, n1), sp(ROUND_32));
    let y = s.mul_f32s(
        s.mul_f32s(p, pow2_from_rounded_32(s, t1)),
        pow2_from_rounded_32(s, t2),
    );

    s.select_f32s(s.equal_f32s(x, x), y, x)
}

// ---------------------------------------------------------------------------------------------
// f32 softmax weights

/// Below this a softmax weight `e^x` is flushed to `0`: `round(W_MIN_32·log₂e) = −126`, so every
/// weight that is kept is `p·2^n` with a normal `2^n`. What is dropped is below `1.2e−38` per
/// element, which the weights' sum (≥ 1: the row maximum contributes `e^0`) cannot feel.
const W_MIN_32: f32 = -87.33;
/// Above this the weight would overflow; weights are evaluated at `x ≤ 0`, the clamp only keeps
/// other inputs finite.
const W_MAX_32: f32 = 88.0;

/// `e^x` for softmax weights, `x ≤ 0` (`x = (l − max)/T`), lane-wise for `f32`: the reduction and
/// scaling of [`exp_f32s`] without the compensation and the two-step scaling that only matter
/// for a correctly rounded-class result and subnormal outputs — 17 operations instead of 40.
///
/// `n = round(x·log₂e) ∈ [−126, 0]`, `r = (x − n·LN2_HI) − n·LN2_LO` (the first step exact, the
/// second one rounding, ≤ 2^−25·|r|), `e^r` by Horner's rule on the degree-7 Taylor polynomial
/// (truncation < 0.05 ulp at `|r| = ln2/2`), times `2^n` built from the bits of `n`. Error ≤ 1
/// ulp of the exact value on `[W_MIN_32, 0]` (a sweep of 30 M values; observed 0.91); `0` below
/// `W_MIN_32`, for `−∞` and for NaN (validated rows contain none). Every operation is an exactly
/// specified IEEE operation, so every level computes the same bits.
#[inline(always)]
pub(crate) fn exp_weight_f32s<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    let sp = |v: f32| s.splat_f32s(v);
    let xc = s.min_f32s(s.max_f32s(x, sp(W_MIN_32)), sp(W_MAX_32));
    let t = s.mul_add_f32s(xc, sp(LOG2E_32), sp(ROUND_32));
    let n = s.sub_f32s(t, sp(ROUND_32));
    let r = s.mul_add_f32s(n, sp(-LN2_HI_32), xc); // exact
    let r = s.mul_add_f32s(n, sp(-LN2_LO_32), r);
    let q = s.mul_add_f32s(sp(C7_32), r, sp(C6_32));
    let q = s.mul_add_f32s(q, r, sp(C5_32));
    let q = s.mul_add_f32s(q, r, sp(C4_32));
    let q = s.mul_add_f32s(q, r, sp(C3_32));
    let q = s.mul_add_f32s(q, r, sp(C2_32));
    let q = s.mul_add_f32s(q, r, sp(1.0));
    let p = s.mul_add_f32s(q, r, sp(1.0));
    let y = s.mul_f32s(p, pow2_from_rounded_32(s, t));
    // `x ≥ W_MIN_32` is false for NaN and below the range: both give 0.
    s.select_f32s(s.greater_than_or_equal_f32s(x, sp(W_MIN_32)), y, sp(0.0))
}

// ---------------------------------------------------------------------------------------------
// f64

/// `log₂ e` rounded to `f64`.
const LOG2E_64: f64 = core::f64::consts::LOG2_E;
/// ln 2 rounded to a multiple of `2^−32` (29 significant bits, `0x3FE62E42FF000000`), so `n·LN2_HI`
/// is exact for `|n| < 2^24`.
const LN2_HI_64: f64 = f64::from_bits(0x3FE6_2E42_FF00_0000);
/// `ln 2 − LN2_HI_64` rounded to `f64` (representation error ≈ 1.3e−27).
const LN2_LO_64: f64 = -4.200_915_072_681_084_6e-11;
/// `1.5·2^52`, the rounding constant for `f64`.
const ROUND_64: f64 = 6_755_399_441_055_744.0;
/// Above `ln(f64::MAX) ≈ 709.7827`; `n ≤ 1024` after clamping.
const X_MAX_64: f64 = 709.9;
/// Below `ln(2^−1075) ≈ −745.1332`; `n ≥ −1075` after clamping.
const X_MIN_64: f64 = -745.2;

const D2: f64 = 1.0 / 2.0;
const D3: f64 = 1.0 / 6.0;
const D4: f64 = 1.0 / 24.0;
const D5: f64 = 1.0 / 120.0;
const D6: f64 = 1.0 / 720.0;
const D7: f64 = 1.0 / 5_040.0;
const D8: f64 = 1.0 / 40_320.0;
const D9: f64 = 1.0 / 362_880.0;
const D10: f64 = 1.0 / 3_628_800.0;
const D11: f64 = 1.0 / 39_916_800.0;
const D12: f64 = 1.0 / 479_001_600.0;
const D13: f64 = 1.0 / 6_227_020_800.0;

/// `2^k` for an integral `k ∈ [−1022, 1023]`.
///
/// `k·2^32 + 1.5·2^52` is exact (`|k·2^32| < 2^51`, and the sum's ulp is 1), so its bit pattern is
/// `0x4338_0000_0000_0000 + (k << 32)`: `k` lands in the high 32-bit word. Adding `1023 << 32` and
/// shifting left by 20 (as two 32-bit words on SIMD levels, where pulp has 32-bit shifts only;
/// as one 64-bit multiply by `2^20` on the scalar level — the same bits either way, since the low
/// word is zero and the high word's bits above bit 11 are shifted out) leaves `(k + 1023) << 52`.
#[inline(always)]
fn pow2_64<S: Simd>(s: S, k: S::f64s) -> S::f64s {
    let t = s.mul_add_f64s(k, s.splat_f64s(4_294_967_296.0), s.splat_f64s(ROUND_64));
    let u = s.add_u64s(s.transmute_u64s_f64s(t), s.splat_u64s(1023 << 32));
    let u = if size_of::<S::u32s>() == size_of::<S::u64s>() {
        let w: S::u32s = pulp::bytemuck::cast(u);
        let w = s.wrapping_dyn_shl_u32s(w, s.splat_u32s(20));
        pulp::bytemuck::cast::<S::u32s, S::u64s>(w)
    } else {
        s.mul_u64s(u, s.splat_u64s(1 << 20))
    };
    s.transmute_f64s_u64s(u)
}

/// `e^x` lane-wise for `f64` (see the module docs).
#[inline(always)]
pub(crate) fn exp_f64s<S: Simd>(s: S, x: S::f64s) -> S::f64s {
    let sp = |v: f64| s.splat_f64s(v);
    let xc = s.min_f64s(s.max_f64s(x, sp(X_MIN_64)), sp(X_MAX_64));

    let t = s.mul_add_f64s(xc, sp(LOG2E_64), sp(ROUND_64));
    let n = s.sub_f64s(t, sp(ROUND_64));

    let hi = s.mul_add_f64s(n, sp(-LN2_HI_64), xc); // exact
    let lo = s.mul_f64s(n, sp(-LN2_LO_64));
    let r = s.add_f64s(hi, lo);
    let lo_r = s.sub_f64s(r, hi);
    let hi_r = s.sub_f64s(r, lo_r);
    let c = s.add_f64s(s.sub_f64s(hi, hi_r), s.sub_f64s(lo, lo_r));

    let q = s.mul_add_f64s(sp(D13), r, sp(D12));
    let q = s.mul_add_f64s(q, r, sp(D11));
    let q = s.mul_add_f64s(q, r, sp(D10));
    let q = s.mul_add_f64s(q, r, sp(D9));
    let q = s.mul_add_f64s(q, r, sp(D8));
    let q = s.mul_add_f64s(q, r, sp(D7));
    let q = s.mul_add_f64s(q, r, sp(D6));
    let q = s.mul_add_f64s(q, r, sp(D5));
    let q = s.mul_add_f64s(q, r, sp(D4));
    let q = s.mul_add_f64s(q, r, sp(D3));
    let q = s.mul_add_f64s(q, r, sp(D2));
    let r2 = s.mul_f64s(r, r);
    let tail = s.mul_add_f64s(r2, q, c);
    let one_r = s.add_f64s(sp(1.0), r);
    let one_r_err = s.add_f64s(s.sub_f64s(sp(1.0), one_r), r);
    let p = s.add_f64s(one_r, s.add_f64s(one_r_err, tail));

    let t1 = s.mul_add_f64s(n, sp(0.5), sp(ROUND_64));
    let n1 = s.sub_f64s(t1, sp(ROUND_64));
    let n2 = s.sub_f64s(n, n1);
    let y = s.mul_f64s(s.mul_f64s(p, pow2_64(s, n1)), pow2_64(s, n2));

    s.select_f64s(s.equal_f64s(x, x), y, x)
}

// ---------------------------------------------------------------------------------------------
// Slice kernels

/// `x ↦ e^(x − shift)`; with `shift = 0` this is plain `exp` (`x − 0` is `x`, bit for bit).
#[derive(Clone, Copy)]
pub(crate) struct ExpShift<T> {
    pub(crate) shift: T,
}

impl<T: Elem> VecMap<T> for ExpShift<T> {
    /// Pads with `−∞`: `e^(−∞ − shift) = 0` for finite `shift`, so padded lanes add nothing.
    #[inline(always)]
    fn load_tail<S: Simd>(self, s: S, tail: &[T]) -> T::V<S> {
        T::load_padded(s, tail, T::neg_infinity())
    }
    #[inline(always)]
    fn apply<S: Simd>(self, s: S, v: T::V<S>) -> T::V<S> {
        T::v_exp(s, T::v_sub(s, v, T::v_splat(s, self.shift)))
    }
}

struct ExpInPlaceOp<'a, T> {
    x: &'a mut [T],
    f: ExpShift<T>,
}

impl<T: Elem> WithSimd for ExpInPlaceOp<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let (head, tail) = T::as_mut_simd::<S>(self.x);
        for v in head {
            *v = self.f.apply(s, *v);
        }
        if !tail.is_empty() {
            let v = self.f.apply(s, T::partial_load(s, tail));
            T::partial_store(s, tail, v);
        }
    }
}

struct ExpIntoOp<'a, T> {
    x: &'a [T],
    out: &'a mut [T],
}

impl<T: Elem> WithSimd for ExpIntoOp<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let (xh, xt) = T::as_simd::<S>(self.x);
        let (oh, ot) = T::as_mut_simd::<S>(self.out);
        for (o, &v) in oh.iter_mut().zip(xh) {
            *o = T::v_exp(s, v);
        }
        if !ot.is_empty() {
            T::partial_store(s, ot, T::v_exp(s, T::partial_load(s, xt)));
        }
    }
}

struct WeightsOp<'a, T> {
    row: &'a [T],
    out: &'a mut [T],
    max: T,
    inv_t: T,
}

impl<T: Elem> WithSimd for WeightsOp<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // A function, not a closure: a closure need not be inlined into the target-feature
        // context, and out of it every lane operation becomes a call.
        #[inline(always)]
        fn w<T: Elem, S: Simd>(s: S, v: T::V<S>, m: T::V<S>, it: T::V<S>) -> T::V<S> {
            T::v_exp_weight(s, T::v_mul(s, T::v_sub(s, v, m), it))
        }
        let (m, it) = (T::v_splat(s, self.max), T::v_splat(s, self.inv_t));
        let (xh, xt) = T::as_simd::<S>(self.row);
        let (oh, ot) = T::as_mut_simd::<S>(self.out);
        for (o, &v) in oh.iter_mut().zip(xh) {
            *o = w::<T, S>(s, v, m, it);
        }
        if !ot.is_empty() {
            T::partial_store(s, ot, w::<T, S>(s, T::partial_load(s, xt), m, it));
        }
    }
}

/// Softmax weights `outᵢ ← e^((rowᵢ − max)·inv_t)` at level `isa` (`f32`: [`exp_weight_f32s`];
/// `f64`: the full-accuracy `exp`); the caller has checked the lengths.
#[inline]
pub(crate) fn weights_into<T: Elem>(isa: Isa, row: &[T], max: T, inv_t: T, out: &mut [T]) {
    debug_assert_eq!(row.len(), out.len());
    isa.dispatch(WeightsOp {
        row,
        out,
        max,
        inv_t,
    })
}

/// `xᵢ ← e^(xᵢ − shift)` at level `isa`.
#[inline]
pub(crate) fn exp_shift_in_place<T: Elem>(isa: Isa, x: &mut [T], shift: T) {
    isa.dispatch(ExpInPlaceOp {
        x,
        f: ExpShift { shift },
    })
}

/// `outᵢ ← e^(xᵢ)` at level `isa`; the caller has checked the lengths.
#[inline]
pub(crate) fn exp_into<T: Elem>(isa: Isa, x: &[T], out: &mut [T]) {
    debug_assert_eq!(x.len(), out.len());
    isa.dispatch(ExpIntoOp { x, out })
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::{W_MIN_32, weights_into};
    use crate::simd::Isa;

    /// The f32 softmax weight against `exp` in f64 (exact to 2^−29 f32 ulp), in ulps of the
    /// f32 result: every 37th bit pattern of `[W_MIN_32, 0]` (≈ 29 M values) plus the edges,
    /// through `(l − max)·inv_t` with `max = 0`, `inv_t = 1`; every level gives the same bits.
    #[test]
    fn f32_weights_within_one_ulp_and_level_independent() {
        let mut xs: Vec<f32> = (0..=W_MIN_32.to_bits() - 0x8000_0000)
            .step_by(37)
            .map(|b| f32::from_bits(0x8000_0000 + b))
            .collect();
        xs.extend([
            0.0,
            -0.0,
            W_MIN_32,
            -1e-30,
            -0.346,
            -0.347,
            -87.0,
            f32::MIN_POSITIVE,
        ]);
        let want: Vec<f64> = xs.iter().map(|&x| f64::from(x).exp()).collect();
        let mut got = vec![0.0f32; xs.len()];
        let mut worst = 0.0f64;
        for (k, isa) in Isa::supported().enumerate() {
            let mut y = vec![0.0f32; xs.len()];
            weights_into(isa, &xs, 0.0, 1.0, &mut y);
            if k == 0 {
                got = y;
            } else {
                assert!(
                    got.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{}",
                    isa.name()
                );
            }
        }
        for ((&x, &g), &e) in xs.iter().zip(&got).zip(&want) {
            let ulp = f64::from(f32::from_bits((e as f32).to_bits() & 0x7f80_0000))
                * f64::from(f32::EPSILON);
            let err = (f64::from(g) - e).abs() / ulp.max(f64::from(f32::from_bits(1)));
            worst = worst.max(err);
            assert!(err <= 1.0, "x {x:e}: {g:e} vs {e:e} ({err} ulp)");
        }
        assert!(worst > 0.0); // 0.91 ulp when this was written
    }

    /// Below the range, `−∞` and NaN give 0; max/inv_t are applied as `(l − max)·inv_t`.
    #[test]
    fn f32_weights_flush_and_shift() {
        let row = [f32::NEG_INFINITY, f32::NAN, -88.0 * 2.0, 5.0, 3.0, -1e30];
        for isa in Isa::supported() {
            let mut y = [1.0f32; 6];
            weights_into(isa, &row, 5.0, 0.5, &mut y);
            assert_eq!(y[..3], [0.0, 0.0, 0.0]);
            assert_eq!(y[3], 1.0);
            assert!((f64::from(y[4]) - (-1.0f64).exp()).abs() < 1.2e-7);
            assert_eq!(y[5], 0.0);
        }
    }
}
