//! [`Elem`]: the lane-generic view of `f32`/`f64` that every kernel is written against.
//!
//! pulp names its operations per element type (`add_f32s`, `add_f64s`, …). This crate-private trait
//! maps one spelling onto both so that each kernel is written once, generic over the element type
//! `T` and the instruction set `S`. Every method is `#[inline(always)]`: the kernels run inside
//! pulp's `#[target_feature]` trampolines and must be inlined there to use the wide registers.

use core::fmt::Debug;

use num_traits::Float;
use pulp::Simd;

/// Bound on the lane count of any pulp register type we dispatch to (AVX-512 `f32`: 16), with
/// room to spare.
pub(crate) const MAX_LANES: usize = 64;

/// `f32` or `f64` seen through a pulp SIMD token `S`.
pub trait Elem: Float + Debug + Default + Send + Sync + 'static {
    /// A full register of lanes.
    type V<S: Simd>: Copy;
    /// A lane mask produced by comparisons.
    type M<S: Simd>: Copy;

    /// Lanes per register.
    fn lanes<S: Simd>() -> usize;
    /// Head (whole registers) / tail split of a slice.
    fn as_simd<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]);
    /// Mutable head / tail split of a slice.
    fn as_mut_simd<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]);
    /// Loads `x.len() <= lanes` values; the remaining lanes are zero.
    fn partial_load<S: Simd>(s: S, x: &[Self]) -> Self::V<S>;
    /// Stores the first `x.len() <= lanes` lanes.
    fn partial_store<S: Simd>(s: S, x: &mut [Self], v: Self::V<S>);

    /// Every lane `a`.
    fn v_splat<S: Simd>(s: S, a: Self) -> Self::V<S>;
    /// `a + b`.
    fn v_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// `a - b`.
    fn v_sub<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// `a * b`.
    fn v_mul<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// `a * b + c` with a single rounding on every level (software FMA on the scalar level).
    fn v_fma<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// `a * b + c`, fused where the level has FMA hardware, two roundings otherwise (fast).
    fn v_fma_fast<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// Lane-wise maximum (NaN behaviour is level-dependent: callers screen NaN separately).
    fn v_max<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// `|a|`.
    fn v_abs<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S>;
    /// `a == b` (false when either is NaN).
    fn v_eq<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    /// `a < b` (false when either is NaN).
    fn v_lt<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S>;
    /// Lane-wise `a && b`.
    fn v_and<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S>;
    /// Lane-wise `a || b`.
    fn v_or<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S>;
    /// Lane-wise `if m { a } else { b }`.
    fn v_select<S: Simd>(s: S, m: Self::M<S>, a: Self::V<S>, b: Self::V<S>) -> Self::V<S>;
    /// Sum of the lanes.
    fn reduce_sum<S: Simd>(s: S, a: Self::V<S>) -> Self;
    /// Maximum of the lanes (NaN-free input).
    fn reduce_max<S: Simd>(s: S, a: Self::V<S>) -> Self;

    /// `e^v` lane-wise, the crate's own algorithm (see `exp.rs`); bit-identical on every level.
    fn v_exp<S: Simd>(s: S, v: Self::V<S>) -> Self::V<S>;
    /// Softmax weights `e^v` for `v ≤ 0` (see `exp.rs`: `f32` ≤ 1 ulp with weights below
    /// `e^−87.33` flushed to 0; `f64` is [`v_exp`](Self::v_exp)); bit-identical on every level.
    fn v_exp_weight<S: Simd>(s: S, v: Self::V<S>) -> Self::V<S>;

    /// An all-true mask (`0 == 0`).
    #[inline(always)]
    fn mask_true<S: Simd>(s: S) -> Self::M<S> {
        let z = Self::v_splat(s, Self::zero());
        Self::v_eq(s, z, z)
    }
    /// An all-false mask (`0 < 0`).
    #[inline(always)]
    fn mask_false<S: Simd>(s: S) -> Self::M<S> {
        let z = Self::v_splat(s, Self::zero());
        Self::v_lt(s, z, z)
    }
    /// Whether any lane of `m` is set.
    #[inline(always)]
    fn any<S: Simd>(s: S, m: Self::M<S>) -> bool {
        let v = Self::v_select(
            s,
            m,
            Self::v_splat(s, Self::one()),
            Self::v_splat(s, Self::zero()),
        );
        Self::reduce_max(s, v) > Self::zero()
    }
    /// Whether every lane of `m` is set.
    #[inline(always)]
    fn all<S: Simd>(s: S, m: Self::M<S>) -> bool {
        let v = Self::v_select(
            s,
            m,
            Self::v_splat(s, Self::zero()),
            Self::v_splat(s, Self::one()),
        );
        Self::reduce_max(s, v) == Self::zero()
    }
    /// Loads `x.len() <= lanes` values; the remaining lanes are `pad`.
    #[inline(always)]
    fn load_padded<S: Simd>(s: S, x: &[Self], pad: Self) -> Self::V<S> {
        let lanes = Self::lanes::<S>();
        debug_assert!(x.len() <= lanes && lanes <= MAX_LANES);
        let mut buf = [pad; MAX_LANES];
        buf[..x.len()].copy_from_slice(x);
        Self::partial_load(s, &buf[..lanes.min(MAX_LANES)])
    }
}

macro_rules! impl_elem {
    ($t:ty, $v:ident, $m:ident, $lanes:ident,
     $as_simd:ident, $as_mut_simd:ident, $pload:ident, $pstore:ident, $splat:ident,
     $add:ident, $sub:ident, $mul:ident, $fma:ident, $fma_e:ident, $max:ident,
     $abs:ident, $eq:ident, $lt:ident, $and:ident, $or:ident, $select:ident,
     $rsum:ident, $rmax:ident, $exp:path, $exp_w:path) => {
        impl Elem for $t {
            type V<S: Simd> = S::$v;
            type M<S: Simd> = S::$m;

            #[inline(always)]
            fn lanes<S: Simd>() -> usize {
                S::$lanes
            }
            #[inline(always)]
            fn as_simd<S: Simd>(x: &[Self]) -> (&[Self::V<S>], &[Self]) {
                S::$as_simd(x)
            }
            #[inline(always)]
            fn as_mut_simd<S: Simd>(x: &mut [Self]) -> (&mut [Self::V<S>], &mut [Self]) {
                S::$as_mut_simd(x)
            }
            #[inline(always)]
            fn partial_load<S: Simd>(s: S, x: &[Self]) -> Self::V<S> {
                s.$pload(x)
            }
            #[inline(always)]
            fn partial_store<S: Simd>(s: S, x: &mut [Self], v: Self::V<S>) {
                s.$pstore(x, v)
            }
            #[inline(always)]
            fn v_splat<S: Simd>(s: S, a: Self) -> Self::V<S> {
                s.$splat(a)
            }
            #[inline(always)]
            fn v_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$add(a, b)
            }
            #[inline(always)]
            fn v_sub<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$sub(a, b)
            }
            #[inline(always)]
            fn v_mul<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$mul(a, b)
            }
            #[inline(always)]
            fn v_fma<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S> {
                s.$fma(a, b, c)
            }
            #[inline(always)]
            fn v_fma_fast<S: Simd>(
                s: S,
                a: Self::V<S>,
                b: Self::V<S>,
                c: Self::V<S>,
            ) -> Self::V<S> {
                s.$fma_e(a, b, c)
            }
            #[inline(always)]
            fn v_max<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$max(a, b)
            }
            #[inline(always)]
            fn v_abs<S: Simd>(s: S, a: Self::V<S>) -> Self::V<S> {
                s.$abs(a)
            }
            #[inline(always)]
            fn v_eq<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                s.$eq(a, b)
            }
            #[inline(always)]
            fn v_lt<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>) -> Self::M<S> {
                s.$lt(a, b)
            }
            #[inline(always)]
            fn v_and<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S> {
                s.$and(a, b)
            }
            #[inline(always)]
            fn v_or<S: Simd>(s: S, a: Self::M<S>, b: Self::M<S>) -> Self::M<S> {
                s.$or(a, b)
            }
            #[inline(always)]
            fn v_select<S: Simd>(s: S, m: Self::M<S>, a: Self::V<S>, b: Self::V<S>) -> Self::V<S> {
                s.$select(m, a, b)
            }
            #[inline(always)]
            fn reduce_sum<S: Simd>(s: S, a: Self::V<S>) -> Self {
                s.$rsum(a)
            }
            #[inline(always)]
            fn reduce_max<S: Simd>(s: S, a: Self::V<S>) -> Self {
                s.$rmax(a)
            }
            #[inline(always)]
            fn v_exp<S: Simd>(s: S, v: Self::V<S>) -> Self::V<S> {
                $exp(s, v)
            }
            #[inline(always)]
            fn v_exp_weight<S: Simd>(s: S, v: Self::V<S>) -> Self::V<S> {
                $exp_w(s, v)
            }
        }
    };
}

impl_elem!(
    f32,
    f32s,
    m32s,
    F32_LANES,
    as_simd_f32s,
    as_mut_simd_f32s,
    partial_load_f32s,
    partial_store_f32s,
    splat_f32s,
    add_f32s,
    sub_f32s,
    mul_f32s,
    mul_add_f32s,
    mul_add_e_f32s,
    max_f32s,
    abs_f32s,
    equal_f32s,
    less_than_f32s,
    and_m32s,
    or_m32s,
    select_f32s,
    reduce_sum_f32s,
    reduce_max_f32s,
    super::exp::exp_f32s,
    super::exp::exp_weight_f32s
);
impl_elem!(
    f64,
    f64s,
    m64s,
    F64_LANES,
    as_simd_f64s,
    as_mut_simd_f64s,
    partial_load_f64s,
    partial_store_f64s,
    splat_f64s,
    add_f64s,
    sub_f64s,
    mul_f64s,
    mul_add_f64s,
    mul_add_e_f64s,
    max_f64s,
    abs_f64s,
    equal_f64s,
    less_than_f64s,
    and_m64s,
    or_m64s,
    select_f64s,
    reduce_sum_f64s,
    reduce_max_f64s,
    super::exp::exp_f64s,
    super::exp::exp_f64s
);
