//! The f64 Gram matrix of (centered) samples, accumulated block by block: the shared kernel of
//! the Gram path ([`super::decomp`]) and the streaming accumulator ([`super::stream`]).
//!
//! Samples are converted to f64 and centered as they are copied into a k×[`block_len`] column-major
//! block, then `G += A·Aᵀ` runs as faer's lower-triangular product (half a GEMM; it scales with
//! threads for f64, unlike for f32 where `linalg::sym_product` is faster). Only the lower
//! triangle of `G` is ever written or read.
//! Products of f32 values are exact in f64, so f32 data loses nothing but the f64 summation error.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef};

use crate::Par;
use crate::base::apply_parts;
use crate::linalg::sym_product;
use crate::{Real, Result};

/// The map `x ↦ s·x − μ` applied while converting: `scale` is `s` as
/// [`pow2_parts`](crate::base::pow2_parts), `mean` is `μ` per column of `x` (of the
/// scaled values) or none.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine<'a> {
    pub(crate) mean: Option<&'a [f64]>,
    pub(crate) scale: [f64; 3],
}

/// Samples per block for k-dimensional samples: a long inner dimension keeps the symmetric
/// product efficient (and mirrors once per block), capped at 2²² f64 (32 MiB) of block.
pub(crate) fn block_len(k: usize, count: usize) -> usize {
    ((1usize << 22) / k.max(1))
        .clamp(256, 4096)
        .min(count.max(1))
}

/// Which way the samples run through the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Samples {
    /// Each row is a sample (k = cols): `G = XcᵀXc`.
    Rows,
    /// Each column is a sample (k = rows): `G = XcXcᵀ`; the means are still per column of `X`.
    Cols,
}

/// Lower triangle of `G ← G + Σ (s·x − μ)(s·x − μ)ᵀ` (or `=` when `accum` is `Replace`) over
/// the samples of `x`, with the exact power-of-two scale `s` given as
/// [`pow2_parts`](crate::base::pow2_parts) and `μ` (of the scaled values) per column
/// of `x`, or none.
/// `block` holds `k·b` values for some `b ≥ 1` samples per block ([`block_len`]). The products
/// run in `U`: f64 (faer's lower-triangular product, which scales with threads in f64) or f32
/// (mlkern's symmetric product, faster than faer's triangular one for f32).
pub(crate) fn accumulate<T: Real, U: Real>(
    mut g: MatMut<'_, U>,
    mut accum: Accum,
    x: MatRef<'_, T>,
    samples: Samples,
    affine: Affine<'_>,
    block: &mut [U],
    par: Par,
) -> Result<()> {
    let Affine { mean, scale } = affine;
    let sc = |v: T| apply_parts(v.as_f64(), scale);
    let (k, count) = match samples {
        Samples::Rows => (x.ncols(), x.nrows()),
        Samples::Cols => (x.nrows(), x.ncols()),
    };
    let mu = |j: usize| mean.map_or(0.0, |m| m[j]);
    let per = (block.len() / k.max(1)).max(1);
    let mut start = 0;
    while start < count {
        let bs = per.min(count - start);
        let buf = &mut block[..k * bs];
        for s in 0..bs {
            let col = &mut buf[s * k..(s + 1) * k];
            match samples {
                Samples::Rows => {
                    let row = x.row(start + s);
                    if let Some(r) = row.try_as_row_major() {
                        let r = r.as_slice();
                        match mean {
                            Some(m) => {
                                for ((c, &v), &mj) in col.iter_mut().zip(r).zip(m) {
                                    *c = U::from_f64(sc(v) - mj);
                                }
                            }
                            None => {
                                for (c, &v) in col.iter_mut().zip(r) {
                                    *c = U::from_f64(sc(v));
                                }
                            }
                        }
                    } else {
                        for (j, c) in col.iter_mut().enumerate() {
                            *c = U::from_f64(sc(x[(start + s, j)]) - mu(j));
                        }
                    }
                }
                Samples::Cols => {
                    let m = mu(start + s);
                    for (i, c) in col.iter_mut().enumerate() {
                        *c = U::from_f64(sc(x[(i, start + s)]) - m);
                    }
                }
            }
        }
        let a = MatRef::from_column_major_slice(buf, k, bs);
        if core::mem::size_of::<U>() == 4 {
            let beta = if accum == Accum::Replace {
                U::zero()
            } else {
                U::one()
            };
            sym_product(g.as_mut(), beta, a, U::one(), par)?;
        } else {
            triangular::matmul(
                g.as_mut(),
                BlockStructure::TriangularLower,
                accum,
                a,
                BlockStructure::Rectangular,
                a.transpose(),
                BlockStructure::Rectangular,
                U::one(),
                par.faer(),
            );
        }
        accum = Accum::Add;
        start += bs;
    }
    if count == 0 && accum == Accum::Replace {
        g.fill(U::zero());
    }
    Ok(())
}

/// Column means of `s·x` in f64 (`scale` as in [`accumulate`]).
pub(crate) fn column_means<T: Real>(x: MatRef<'_, T>, scale: [f64; 3], out: &mut [f64]) {
    let inv = 1.0 / x.nrows().max(1) as f64;
    out.fill(0.0);
    for i in 0..x.nrows() {
        match x.row(i).try_as_row_major() {
            Some(r) => {
                for (o, &v) in out.iter_mut().zip(r.as_slice()) {
                    *o += apply_parts(v.as_f64(), scale);
                }
            }
            None => {
                for (j, o) in out.iter_mut().enumerate() {
                    *o += apply_parts(x[(i, j)].as_f64(), scale);
                }
            }
        }
    }
    out.iter_mut().for_each(|o| *o *= inv);
}
