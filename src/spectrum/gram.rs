//! The f64 Gram matrix of (centered) samples, accumulated block by block: the shared kernel of
//! the Gram path ([`super::decomp`]) and the streaming accumulator ([`super::stream`]).
//!
//! Samples are converted to f64 and centered as they are copied into a k×`BLOCK` column-major
//! block, then `G += A·Aᵀ` runs as mlkern's symmetric product (one triangle, about half a GEMM).
//! Products of f32 values are exact in f64, so f32 data loses nothing but the f64 summation error.

use faer::{MatMut, MatRef, Par};
use num_traits::Float;

use crate::linalg::sym_product;
use crate::{Real, Result};

/// Samples per block: large enough for GEMM efficiency, small enough to stay in cache.
pub(crate) const BLOCK: usize = 256;

/// Which way the samples run through the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Samples {
    /// Each row is a sample (k = cols): `G = XcᵀXc`.
    Rows,
    /// Each column is a sample (k = rows): `G = XcXcᵀ`; the means are still per column of `X`.
    Cols,
}

/// `G ← beta·G + Σ (x − μ)(x − μ)ᵀ` over the samples of `x` (`mean` per column of `x`, or none).
/// `block` holds at least `k·BLOCK` f64.
pub(crate) fn accumulate<T: Real>(
    mut g: MatMut<'_, f64>,
    mut beta: f64,
    x: MatRef<'_, T>,
    samples: Samples,
    mean: Option<&[f64]>,
    block: &mut [f64],
    par: Par,
) -> Result<()> {
    let (k, count) = match samples {
        Samples::Rows => (x.ncols(), x.nrows()),
        Samples::Cols => (x.nrows(), x.ncols()),
    };
    let mu = |j: usize| mean.map_or(0.0, |m| m[j]);
    let mut start = 0;
    while start < count {
        let bs = BLOCK.min(count - start);
        let buf = &mut block[..k * bs];
        for s in 0..bs {
            let col = &mut buf[s * k..(s + 1) * k];
            match samples {
                Samples::Rows => {
                    for (j, c) in col.iter_mut().enumerate() {
                        *c = x[(start + s, j)].as_f64() - mu(j);
                    }
                }
                Samples::Cols => {
                    let m = mu(start + s);
                    for (i, c) in col.iter_mut().enumerate() {
                        *c = x[(i, start + s)].as_f64() - m;
                    }
                }
            }
        }
        let a = MatRef::from_column_major_slice(buf, k, bs);
        sym_product(g.as_mut(), beta, a, 1.0, par)?;
        beta = 1.0;
        start += bs;
    }
    if count == 0 && beta != 1.0 {
        g.fill(0.0);
    }
    Ok(())
}

/// Column means of `x` in f64.
pub(crate) fn column_means<T: Real>(x: MatRef<'_, T>, out: &mut [f64]) {
    let inv = 1.0 / x.nrows().max(1) as f64;
    out.fill(0.0);
    for i in 0..x.nrows() {
        for (j, o) in out.iter_mut().enumerate() {
            *o += x[(i, j)].as_f64();
        }
    }
    out.iter_mut().for_each(|o| *o *= inv);
}

/// The first non-finite element of `x`, as a row-major flat index.
pub(crate) fn first_non_finite<T: Real>(x: MatRef<'_, T>) -> Option<usize> {
    let n = x.ncols();
    (0..x.nrows()).find_map(|i| {
        (0..n)
            .find(|&j| !Float::is_finite(x[(i, j)].as_f64()))
            .map(|j| i * n + j)
    })
}
