//! Helpers shared by the integration tests: fixture files, `.npy` and JSON fixture reading.
//!
//! Each test binary that declares `mod common;` compiles its own copy and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mlkern::io::npy::{self, NpyArray};

/// The path of `tests/fixtures/<rel>` (`rel` such as `"npy/f64_0d.npy"`).
pub fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The bytes of `tests/fixtures/<rel>`; panics naming the file if it cannot be read.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixture_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `.npy` file at `path`, parsed; panics naming the file if it cannot be read or parsed.
pub fn read_npy(path: &Path) -> NpyArray {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    npy::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `.npy` fixture `tests/fixtures/<rel>` as `f64` values (C order) and its shape.
pub fn npy_fixture_f64(rel: &str) -> (Vec<f64>, Vec<usize>) {
    let a = read_npy(&fixture_path(rel));
    let data = a
        .to_f64_vec()
        .unwrap_or_else(|e| panic!("{rel}: not real data: {e}"));
    (data, a.shape)
}

/// The largest absolute elementwise difference of two equally long slices (0 for empty ones).
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "max_abs_diff: lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The JSON fixture `tests/fixtures/<rel>`, parsed; panics naming the file if it cannot be read
/// or parsed.
pub fn fixture_json(rel: &str) -> serde_json::Value {
    let path = fixture_path(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Deterministic values in [−1, 1) from a 64-bit LCG (the same stream for every test that asks
/// for this `seed`).
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}
