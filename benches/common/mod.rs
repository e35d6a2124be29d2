//! Shared by the criterion benches (`mod common;`): deterministic inputs.

use mlkern::Real;

/// `n` values in [−0.5, 0.5) from a xorshift64 stream seeded by `seed`.
pub fn data<T: Real>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect()
}
