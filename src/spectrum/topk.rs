//! The top of the spectrum: randomized block Krylov (block Lanczos with full
//! reorthogonalization) and Rayleigh–Ritz from the stored products, stopped by residuals.

use alloc::vec::Vec;

use num_traits::Float;

use faer::{Accum, Mat, MatMut, MatRef};

use super::krylov::{Stream, dot, project_out, rademacher, small_eigh};
use super::operator::SymOperator;
use crate::base::{mul_pow2, zeros};
use crate::{Error, Par, Result};

/// Options of [`top_eigenvalues`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct TopKConfig {
    /// How many of the largest eigenvalues (default 1).
    pub k: usize,
    /// Columns per Krylov block; 0 (default) picks `max(k, 8)`.
    pub block: usize,
    /// Stop when every residual `‖C·vᵢ − θᵢvᵢ‖ ≤ tol·θ₁`; `None` (default) picks 1e-6 for f64
    /// operators and 1e-4 for f32 ones (their products carry ≈ √d·ε₃₂ relative error).
    pub tol: Option<f64>,
    /// At most this many blocks (default 24); the result says whether it converged.
    pub max_blocks: usize,
    /// Seed of the starting block (default 0).
    pub seed: u64,
    /// Also return the Ritz vectors (default false).
    pub vectors: bool,
}

impl Default for TopKConfig {
    fn default() -> Self {
        TopKConfig {
            k: 1,
            block: 0,
            tol: None,
            max_blocks: 24,
            seed: 0,
            vectors: false,
        }
    }
}

impl TopKConfig {
    /// The default configuration for the `k` largest eigenvalues.
    pub fn new(k: usize) -> Self {
        TopKConfig {
            k,
            ..Default::default()
        }
    }

    /// The same with Ritz vectors returned.
    pub fn with_vectors(mut self, vectors: bool) -> Self {
        self.vectors = vectors;
        self
    }

    /// The same with this residual tolerance (relative to the largest eigenvalue).
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = Some(tol);
        self
    }

    /// The same with this seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// The largest eigenvalues of a [`SymOperator`] with certificates.
#[derive(Clone, Debug, PartialEq)]
pub struct TopK {
    /// Ritz values `θ₁ ≥ θ₂ ≥ …` (`k` of them). Each is a lower bound of the eigenvalue of the
    /// same rank (`θᵢ ≤ λᵢ`, Cauchy interlacing) and some eigenvalue lies in
    /// `[θᵢ − rᵢ, θᵢ + rᵢ]`; once the Krylov space has found the top directions (the usual case
    /// from a random start, and certain when `converged` with well separated values) that
    /// eigenvalue is `λᵢ`, so `λ_max ∈ [θ₁, θ₁ + r₁]`.
    pub values: Vec<f64>,
    /// Residual norms `rᵢ = ‖C·vᵢ − θᵢvᵢ‖` (same units as the values).
    pub residuals: Vec<f64>,
    /// The Ritz vectors (`d×k`, orthonormal columns) when asked for.
    pub vectors: Option<Mat<f64>>,
    /// Every residual met the tolerance (or the Krylov space filled the whole space).
    pub converged: bool,
    /// Operator products used (vectors multiplied).
    pub products: usize,
}

/// The `cfg.k` largest eigenvalues of a symmetric positive semidefinite operator (optionally
/// with vectors), by randomized block Krylov iteration: each block is multiplied once, the
/// Rayleigh quotient `KᵀCK` is read off the stored products, and iteration stops when every
/// requested Ritz pair's residual is below `tol·θ₁`. Costs `O(k·blocks)` products instead of a
/// full eigendecomposition; seeded, and bit-identical for every `par`.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout};
/// use mlkern::spectrum::{top_eigenvalues, DenseOperator, TopKConfig};
/// let g = [4.0f64, 1.0, 0.0, 1.0, 3.0, 0.0, 0.0, 0.0, 1.0];
/// let op = DenseOperator::new(view(&g, 3, 3, Layout::RowMajor)?)?;
/// let top = top_eigenvalues(&op, &TopKConfig::new(2), Par::Seq)?;
/// let l1 = 3.5 + 5f64.sqrt() / 2.0;
/// assert!((top.values[0] - l1).abs() < 1e-9 && top.converged);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] when `k` exceeds the order, `tol` is negative or not finite,
/// or `max_blocks` is 0; [`Error::NonFinite`] when the operator returns NaN/±∞ (or its trace
/// is not finite); [`Error::NoConvergence`] if a projected eigenproblem fails.
pub fn top_eigenvalues(op: &dyn SymOperator, cfg: &TopKConfig, par: Par) -> Result<TopK> {
    let d = op.dim();
    if cfg.k > d {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "must not exceed the operator's order",
        });
    }
    if cfg.max_blocks == 0 {
        return Err(Error::InvalidParameter {
            name: "max_blocks",
            reason: "must be at least 1",
        });
    }
    let tol = cfg
        .tol
        .unwrap_or(if op.epsilon() > 1e-10 { 1e-4 } else { 1e-6 });
    if !(tol >= 0.0 && tol.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "tol",
            reason: "must be finite and non-negative",
        });
    }
    if !op.trace().is_finite() {
        return Err(Error::NonFinite {
            what: "operator trace",
            index: 0,
        });
    }
    if cfg.k == 0 {
        return Ok(TopK {
            values: Vec::new(),
            residuals: Vec::new(),
            vectors: cfg.vectors.then(|| Mat::zeros(d, 0)),
            converged: true,
            products: 0,
        });
    }
    let ritz = block_krylov(op, cfg.k, cfg, tol, par)?;
    let s = op.scale_log2();
    Ok(TopK {
        values: ritz.values.iter().map(|&v| mul_pow2(v, s)).collect(),
        residuals: ritz.residuals.iter().map(|&v| mul_pow2(v, s)).collect(),
        vectors: cfg.vectors.then_some(ritz.vectors),
        converged: ritz.converged,
        products: ritz.products,
    })
}

/// Ritz pairs in the operator's own units.
pub(crate) struct Ritz {
    pub(crate) values: Vec<f64>,
    pub(crate) residuals: Vec<f64>,
    pub(crate) vectors: Mat<f64>,
    pub(crate) converged: bool,
    pub(crate) products: usize,
}

/// Orthonormalizes columns `from..to` of `basis` (each `d` long) against all earlier columns and
/// each other; a column that vanishes (the Krylov space became invariant) is replaced by a fresh
/// random vector, orthogonalized the same way. Returns false when no direction is left.
fn orthonormalize(basis: &mut [f64], d: usize, from: usize, to: usize, seed: u64) -> bool {
    for c in from..to {
        let (done, rest) = basis.split_at_mut(c * d);
        let col = &mut rest[..d];
        let mut tries = 0u64;
        loop {
            let before = Float::sqrt(dot(col, col));
            project_out(done, d, col);
            let after = Float::sqrt(dot(col, col));
            if after > 1e-10 * before && after > 0.0 {
                col.iter_mut().for_each(|v| *v /= after);
                break;
            }
            tries += 1;
            if tries > 4 {
                return false;
            }
            rademacher(seed, Stream::Refill, (c as u64) << 3 | tries, col);
        }
    }
    true
}

/// Block Krylov iteration for the `k` largest Ritz pairs of `op` (own units).
pub(crate) fn block_krylov(
    op: &dyn SymOperator,
    k: usize,
    cfg: &TopKConfig,
    tol: f64,
    par: Par,
) -> Result<Ritz> {
    let d = op.dim();
    let l = if cfg.block == 0 { k.max(8) } else { cfg.block }
        .min(d)
        .max(1);
    let cap = l.saturating_mul(cfg.max_blocks).min(d);
    let mut basis: Vec<f64> = zeros(d.saturating_mul(cap), "Krylov basis")?;
    let mut prods: Vec<f64> = zeros(d.saturating_mul(cap), "Krylov products")?;
    for c in 0..l {
        rademacher(
            cfg.seed,
            Stream::TopK,
            c as u64,
            &mut basis[c * d..(c + 1) * d],
        );
    }
    let mut m = 0; // columns multiplied so far
    let mut next = if orthonormalize(&mut basis, d, 0, l, cfg.seed) {
        l
    } else {
        0
    };
    let mut h = Mat::<f64>::zeros(cap, cap);
    loop {
        // Multiply the new block.
        {
            let q = MatRef::from_column_major_slice(&basis[m * d..next * d], d, next - m);
            let z = MatMut::from_column_major_slice_mut(&mut prods[m * d..next * d], d, next - m);
            op.apply(q, z, par);
        }
        if let Some(i) = prods[m * d..next * d].iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "operator product",
                index: m * d + i,
            });
        }
        // Rayleigh quotient columns m..next: Kᵀ·Z_new, symmetrized.
        {
            let kmat = MatRef::from_column_major_slice(&basis[..next * d], d, next);
            let znew = MatRef::from_column_major_slice(&prods[m * d..next * d], d, next - m);
            let mut cols = Mat::<f64>::zeros(next, next - m);
            faer::linalg::matmul::matmul(
                cols.as_mut(),
                Accum::Replace,
                kmat.transpose(),
                znew,
                1.0,
                faer::Par::Seq,
            );
            for j in m..next {
                for i in 0..next {
                    let v = cols[(i, j - m)];
                    if i < m {
                        h[(i, j)] = v;
                        h[(j, i)] = v;
                    } else if i <= j {
                        let s = 0.5 * (v + cols[(j, i - m)]);
                        h[(i, j)] = s;
                        h[(j, i)] = s;
                    }
                }
            }
        }
        let blocks_done = next.div_ceil(l);
        let start = m;
        m = next;
        let kk = k.min(m);
        let (theta, s) = small_eigh(h.as_ref().submatrix(0, 0, m, m))?;
        // Top kk pairs, descending.
        let sel: Vec<usize> = (0..kk).map(|i| m - 1 - i).collect();
        let mut st = Mat::<f64>::zeros(m, kk);
        for (c, &j) in sel.iter().enumerate() {
            for i in 0..m {
                st[(i, c)] = s[(i, j)];
            }
        }
        let kmat = MatRef::from_column_major_slice(&basis[..m * d], d, m);
        let zmat = MatRef::from_column_major_slice(&prods[..m * d], d, m);
        let mut v = Mat::<f64>::zeros(d, kk);
        let mut cv = Mat::<f64>::zeros(d, kk);
        faer::linalg::matmul::matmul(
            v.as_mut(),
            Accum::Replace,
            kmat,
            st.as_ref(),
            1.0,
            faer::Par::Seq,
        );
        faer::linalg::matmul::matmul(
            cv.as_mut(),
            Accum::Replace,
            zmat,
            st.as_ref(),
            1.0,
            faer::Par::Seq,
        );
        let values: Vec<f64> = sel.iter().map(|&j| theta[j]).collect();
        let residuals: Vec<f64> = (0..kk)
            .map(|c| {
                (0..d)
                    .map(|i| {
                        let r = cv[(i, c)] - values[c] * v[(i, c)];
                        r * r
                    })
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let top = values.first().copied().unwrap_or(0.0).max(0.0);
        let full = m >= d;
        let converged = full || (kk == k && residuals.iter().all(|&r| r <= tol * top));
        if converged || blocks_done >= cfg.max_blocks || m >= cap {
            return Ok(Ritz {
                values,
                residuals,
                vectors: v,
                converged,
                products: m,
            });
        }
        // Next block: the new products, orthogonalized against everything so far.
        let nb = l.min(cap - m);
        let new = &mut basis[m * d..];
        for c in 0..nb {
            let src = start + c % (m - start);
            new[c * d..(c + 1) * d].copy_from_slice(&prods[src * d..(src + 1) * d]);
        }
        next = m + nb;
        if !orthonormalize(&mut basis, d, m, next, cfg.seed) {
            // No direction left: the basis spans an invariant subspace, the pairs are exact.
            return Ok(Ritz {
                values,
                residuals,
                vectors: v,
                converged: true,
                products: m,
            });
        }
    }
}
