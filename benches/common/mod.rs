//! Shared by the criterion benches (`mod common;`): deterministic inputs and the thread count.

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

/// `Par::threads(n)` with `n` from `MLKERN_BENCH_THREADS` (default 2), or `Par::Seq` without the
/// `rayon` feature or for `n ≤ 1`.
#[allow(dead_code)] // not every bench is parallel
pub fn threads() -> mlkern::Par {
    #[cfg(feature = "rayon")]
    {
        let n = std::env::var("MLKERN_BENCH_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2);
        if n > 1 {
            return mlkern::Par::threads(n);
        }
    }
    mlkern::Par::Seq
}
