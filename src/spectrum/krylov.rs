//! Shared pieces of the Krylov estimators: seeded Rademacher vectors, Gram–Schmidt against a
//! basis, and the small symmetric eigenproblems (Rayleigh–Ritz, Gauss and Gauss–Radau
//! quadrature from a Lanczos tridiagonal).

use alloc::vec::Vec;

use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{Mat, MatRef};

use crate::spec::Philox;
use crate::{Error, Result};

/// Which random stream a vector comes from, so probes and starting blocks never share bits.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    /// The starting block of [`top_eigenvalues`](super::top_eigenvalues).
    TopK = 0x746f_706b,
    /// The Hutchinson probes of [`estimate`](super::estimate).
    Probe = 0x736c_7170,
    /// Replacements for columns lost to rank deficiency.
    Refill = 0x7265_6669,
}

/// `out[i] = ±1`, the signs of Philox4x32-10 keyed by `seed` with counter
/// (word index, `column`, `stream`): the same vector for the same key on every machine and
/// thread count.
pub(crate) fn rademacher(seed: u64, stream: Stream, column: u64, out: &mut [f64]) {
    let key = [seed as u32, (seed >> 32) as u32];
    for (chunk, o) in out.chunks_mut(128).enumerate() {
        let c = chunk as u64;
        let ctr = [
            c as u32,
            (c >> 32) as u32 ^ (column >> 32) as u32,
            column as u32,
            stream as u32,
        ];
        let bits = Philox::block(ctr, key);
        for (i, v) in o.iter_mut().enumerate() {
            let word = bits[i / 32];
            *v = if (word >> (i % 32)) & 1 == 1 {
                1.0
            } else {
                -1.0
            };
        }
    }
}

/// `Σ aᵢbᵢ` by the crate's SIMD dot ([`crate::simd::dot`]); the lengths always match here.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::simd::dot(a, b).unwrap_or(f64::NAN)
}

/// `y ← y + a·x` by the crate's SIMD axpy ([`crate::simd::axpy`]); the lengths always match.
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    if crate::simd::axpy(a, x, y).is_err() {
        y.fill(f64::NAN);
    }
}

/// `w ← (I − QQᵀ)w` twice (classical Gram–Schmidt with one reorthogonalization) against the
/// orthonormal columns of `basis` (`d` values each, column-major).
pub(crate) fn project_out(basis: &[f64], d: usize, w: &mut [f64]) {
    if d == 0 {
        return;
    }
    for _ in 0..2 {
        let coef: Vec<f64> = basis.chunks_exact(d).map(|q| dot(q, w)).collect();
        for (q, c) in basis.chunks_exact(d).zip(coef) {
            axpy(-c, q, w);
        }
    }
}

/// Eigenvalues (ascending) and eigenvectors of a small dense symmetric matrix.
pub(crate) fn small_eigh(h: MatRef<'_, f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    let m = h.nrows();
    let mut u = Mat::<f64>::zeros(m, m);
    let mut s = Mat::<f64>::zeros(m, 1);
    let req = self_adjoint_evd_scratch::<f64>(
        m,
        ComputeEigenvectors::Yes,
        faer::Par::Seq,
        Default::default(),
    );
    let mut mem = faer::dyn_stack::MemBuffer::try_new(req).map_err(|_| Error::OutOfMemory {
        name: "Rayleigh–Ritz scratch",
        bytes: req.unaligned_bytes_required(),
    })?;
    self_adjoint_evd(
        h,
        s.as_mut().col_mut(0).as_diagonal_mut(),
        Some(u.as_mut()),
        faer::Par::Seq,
        faer::dyn_stack::MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| Error::NoConvergence {
        algorithm: "symmetric eigensolver (Krylov projection)",
        iterations: 0,
    })?;
    Ok(((0..m).map(|i| s[(i, 0)]).collect(), u))
}

/// A quadrature rule `Σ wⱼ f(xⱼ)` (weights sum to 1).
#[derive(Clone, Debug, Default)]
pub(crate) struct Rule {
    pub(crate) nodes: Vec<f64>,
    pub(crate) weights: Vec<f64>,
}

impl Rule {
    pub(crate) fn apply(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&x, &w)| w * f(x))
            .sum()
    }
}

/// The Gauss rule of the Lanczos tridiagonal `(α, β)` (`β[j]` couples `j` and `j+1`): nodes are
/// its eigenvalues, weights the squared first components of its eigenvectors (Golub–Welsch).
fn gauss(alpha: &[f64], beta: &[f64]) -> Result<Rule> {
    let k = alpha.len();
    let mut t = Mat::<f64>::zeros(k, k);
    for j in 0..k {
        t[(j, j)] = alpha[j];
        if j + 1 < k {
            t[(j + 1, j)] = beta[j];
            t[(j, j + 1)] = beta[j];
        }
    }
    let (nodes, u) = small_eigh(t.as_ref())?;
    let weights = (0..k).map(|j| u[(0, j)] * u[(0, j)]).collect();
    Ok(Rule { nodes, weights })
}

/// The Gauss rule of `T_k` and the Gauss–Radau rule with a node fixed at 0 (Golub–Meurant:
/// append `β_k` and `φ = β_k²/d_k`, `d_k` the last pivot of `T_k = LDLᵀ`). For a positive
/// semidefinite operator and `f` with `f⁽²ʲ⁾ ≥ 0 ≥ f⁽²ʲ⁺¹⁾` (such as `x ln x`),
/// Gauss ≤ `zᵀf(C)z` ≤ Radau; with the signs reversed (`√x`) the bounds swap. When the Krylov
/// space is invariant (`β_k` = 0) both rules are exact and equal.
pub(crate) fn gauss_radau(alpha: &[f64], beta: &[f64], beta_k: f64) -> Result<(Rule, Rule)> {
    let g = gauss(alpha, beta)?;
    let mut d = alpha[0];
    for j in 1..alpha.len() {
        d = alpha[j] - beta[j - 1] * beta[j - 1] / d;
    }
    let pivot_ok = d.is_finite() && d > 0.0;
    if beta_k == 0.0 || !pivot_ok {
        return Ok((g.clone(), g));
    }
    let phi = beta_k * beta_k / d;
    let (mut a2, mut b2) = (alpha.to_vec(), beta.to_vec());
    a2.push(phi);
    b2.push(beta_k);
    let r = gauss(&a2, &b2)?;
    Ok((g, r))
}
