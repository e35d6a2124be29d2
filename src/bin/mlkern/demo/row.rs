//! The demo's row type and the deterministic data every family's rows are built from.

use mlkern::Par;

use crate::CliError;
use crate::timing::Timing;

/// One line of the demo table.
pub(crate) struct Row {
    pub kernel: &'static str,
    pub shape: String,
    pub summary: String,
    pub ok: bool,
    pub timing: Timing,
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift64*).
pub(crate) fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let x = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
            (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

pub(crate) fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// Relative error `|got − want| / max(|want|, tiny)`.
pub(crate) fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}

/// The f64 sum of `terms` and the f32 accuracy budget `1e-5·Σ|terms|` a reduction must meet.
pub(crate) fn reference_sum(terms: impl Iterator<Item = f64>) -> (f64, f64) {
    let (sum, abs) = terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
    (sum, abs * 1e-5)
}

pub(crate) type Step = Box<dyn Fn(u32, Par) -> Result<Row, CliError>>;
