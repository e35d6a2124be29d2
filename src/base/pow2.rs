//! Exact scaling by powers of two (core tier): exponents, `2ᵏ` as exact factors, and
//! products that never overflow or underflow before their result does.

/// `e` with `2ᵉ ≤ x < 2ᵉ⁺¹` for finite `x > 0` (subnormals included).
pub(crate) fn exponent(x: f64) -> i32 {
    let biased = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: renormalize by 2⁶⁴ first.
        exponent(x * 18446744073709551616.0) - 64
    } else {
        biased - 1023
    }
}

/// `2ᵏ` for `|k| ≤ 1022` (exact).
pub(crate) fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `2ᵏ` as up to three exact factors, so that `x·2ᵏ` never passes through overflow or a spurious
/// subnormal for any finite `x` and `|k| ≤ 2200`.
pub(crate) fn pow2_parts(k: i32) -> [f64; 3] {
    let k = k.clamp(-2200, 2200);
    let a = (k / 3).clamp(-1022, 1022);
    let b = ((k - a) / 2).clamp(-1022, 1022);
    let c = (k - a - b).clamp(-1022, 1022);
    [pow2(a), pow2(b), pow2(c)]
}

/// `x·2ᵏ` for the factors `s` of [`pow2_parts`]`(k)`.
pub(crate) fn apply_parts(x: f64, s: [f64; 3]) -> f64 {
    // The factors share one sign of exponent, so the partial products move monotonically from x
    // to the result: no intermediate overflows or underflows unless the result does.
    x * s[0] * s[1] * s[2]
}

/// `x·2ᵏ` without intermediate overflow or spurious underflow.
pub(crate) fn mul_pow2(x: f64, k: i32) -> f64 {
    apply_parts(x, pow2_parts(k))
}
