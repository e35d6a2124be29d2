//! Information distances between vector variables (blocks of columns) from a covariance matrix
//! (Zhang & Tan 2021): `d_ij = −Σ_k ln κ_k`, with `κ_k` the canonical correlations between the
//! blocks (alloc tier).

use alloc::vec::Vec;

use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::{Mat, Par, Side};
use num_traits::Float;

use super::info::MAX_DISTANCE;
use crate::{Error, Result, Shape};

/// The `B×B` information distances between the vector variables formed by consecutive blocks of
/// `dims` columns of the `dim×dim` covariance `cov` (row-major; plain or
/// [robust](super::robust_covariance)).
///
/// `d_ij = −Σ_{k ≤ min(l_i, l_j)} ln κ_k`, where `κ_k ∈ (0, 1]` are the singular values of
/// `L_i⁻¹ Σ_ij L_j⁻ᵀ` (`Σ_ii = L_i L_iᵀ`), i.e. the canonical correlations. For equal
/// dimensions this is `−ln|det Σ_ij| + ½ ln det Σ_ii + ½ ln det Σ_jj`, the additive tree
/// metric of Gaussian trees with vector nodes; scalar blocks give `−ln|ρ|`. For blocks of
/// **unequal** dimensions it is a natural extension but **not additive** along tree paths (a
/// 1-, 2-, 1-dimensional chain breaks it), so feed latent learners equal-dimension blocks. It is invariant to
/// invertible linear maps of each block. Each term is capped so that `d ≤ MAX_DISTANCE` per
/// canonical pair.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `cov` is not `dim×dim` or `Σ dims ≠ dim`;
/// [`Error::InvalidParameter`] for a zero-width block; [`Error::NonFinite`];
/// [`Error::Degenerate`] when a diagonal block is not positive definite (its index).
///
/// ```
/// // Two scalar blocks: the Gaussian distance −ln|ρ|.
/// let d = mlkern::tree::vector_distances(&[1.0, 0.5, 0.5, 1.0], 2, &[1, 1])?;
/// assert!((d[1] - 2f64.ln()).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn vector_distances(cov: &[f64], dim: usize, dims: &[usize]) -> Result<Vec<f64>> {
    if dim.checked_mul(dim) != Some(cov.len()) {
        return Err(Error::ShapeMismatch {
            what: "vector_distances: cov",
            expected: Shape::d2(dim, dim),
            found: Shape::d1(cov.len()),
        });
    }
    if dims.contains(&0) {
        return Err(Error::InvalidParameter {
            name: "vector_distances: dims",
            reason: "every block needs at least one column",
        });
    }
    let total = dims.iter().try_fold(0usize, |s, &l| s.checked_add(l));
    if total != Some(dim) {
        return Err(Error::ShapeMismatch {
            what: "vector_distances: dims (their sum)",
            expected: Shape::d1(dim),
            found: Shape::d1(total.unwrap_or(usize::MAX)),
        });
    }
    crate::simd::check_finite(cov, "vector_distances: cov")?;
    let mut starts = crate::base::try_vec::<usize>(dims.len(), "vector_distances: dims")?;
    starts.extend(dims.iter().scan(0, |s, &l| {
        let at = *s;
        *s += l;
        Some(at)
    }));
    let block = |i: usize, j: usize| {
        Mat::<f64>::from_fn(dims[i], dims[j], |r, c| {
            cov[(starts[i] + r) * dim + starts[j] + c]
        })
    };
    let mut chol = crate::base::try_vec(dims.len(), "vector_distances: dims")?;
    for i in 0..dims.len() {
        let llt = block(i, i)
            .llt(Side::Lower)
            .map_err(|_| Error::Degenerate {
                what: "vector_distances: a diagonal block is not positive definite",
                index: i,
            })?;
        chol.push(llt.L().to_owned());
    }
    let b = dims.len();
    let mut out = crate::base::zeros(
        crate::base::checked_len(&[b, b], "vector_distances: dims")?,
        "vector_distances: dims",
    )?;
    for i in 0..b {
        for j in i + 1..b {
            // W = L_i⁻¹ Σ_ij L_j⁻ᵀ: solve L_i X = Σ_ij, then L_j Wᵀ = Xᵀ.
            let mut x = block(i, j);
            solve_lower_triangular_in_place(chol[i].as_ref(), x.as_mut(), Par::Seq);
            let mut wt = x.transpose().to_owned();
            solve_lower_triangular_in_place(chol[j].as_ref(), wt.as_mut(), Par::Seq);
            let sv = wt.singular_values().map_err(|_| Error::NoConvergence {
                algorithm: "vector_distances: SVD of the whitened cross-covariance",
                iterations: 0,
            })?;
            let d: f64 = sv
                .iter()
                .take(dims[i].min(dims[j]))
                .map(|&k| {
                    let k = k.min(1.0);
                    if k <= 1e-300 {
                        MAX_DISTANCE
                    } else {
                        -Float::ln(k)
                    }
                })
                .sum();
            out[i * b + j] = d;
            out[j * b + i] = d;
        }
    }
    Ok(out)
}
