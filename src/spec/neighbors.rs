//! LANTERN's latent neighbourhoods: the table of each token's nearest codebook neighbours, the
//! absorbed mass `m_x`, and (alloc tier) the table builder.

use crate::Real;
use crate::error::{Error, Result, Shape};

use super::scan::{Bad, Dist};
use crate::simd::Isa;

/// For each token `x < V`, its `K` nearest other tokens, nearest first: row `x` of a row-major
/// `[V, K]` table of token ids (LANTERN's `top_{V−1}_indices.npy`, cut to `K` columns).
///
/// Entries are checked when they are read (an id `≥ V` is an error for the request that reads it).
///
/// ```
/// use mlkern::spec::NeighborTable;
/// let ids = [1u32, 2, 0, 2, 1, 0]; // V = 3, K = 2
/// let t = NeighborTable::new(&ids, 3, 2)?;
/// assert_eq!(t.row(1), Some(&[0u32, 2][..]));
/// assert!(NeighborTable::new(&ids, 4, 2).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NeighborTable<'a> {
    ids: &'a [u32],
    vocab: usize,
    width: usize,
}

impl<'a> NeighborTable<'a> {
    /// Wraps `ids` (`vocab × width`, row-major).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `ids.len() != vocab·width`.
    pub fn new(ids: &'a [u32], vocab: usize, width: usize) -> Result<Self> {
        if vocab.checked_mul(width) != Some(ids.len()) {
            return Err(Error::ShapeMismatch {
                what: "spec::NeighborTable: ids",
                expected: Shape::d2(vocab, width),
                found: Shape::d1(ids.len()),
            });
        }
        Ok(Self { ids, vocab, width })
    }

    /// Vocabulary size `V`.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// Neighbours per token `K`.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The neighbours of `x`, nearest first (`None` for `x ≥ V`).
    pub fn row(&self, x: usize) -> Option<&'a [u32]> {
        (x < self.vocab).then(|| &self.ids[x * self.width..(x + 1) * self.width])
    }
}

/// The neighbour mass LANTERN absorbs into a drafted token: `m_x = S_{j*}` with
/// `S_j = Σ_{i≤j} p(n_i)` over the `k` nearest neighbours `n_1, n_2, …` of `x` and
/// `j* = max{ j ≤ k : S_j ≤ budget }` (a prefix, since `S_j` does not decrease; `m_x = 0`,
/// `count = 0` when even `p(n_1)` exceeds the budget).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Absorbed {
    /// `m_x`, so that `p̃(x) = p(x) + m_x` and `TV(p, p̃_x) = m_x ≤ budget`.
    pub mass: f64,
    /// `j*`, the number of neighbours absorbed.
    pub count: usize,
}

/// [`Absorbed`] mass of token `x` under the probability row `p` (`f64` cumulative sum, LANTERN's
/// `≤` test): budget `δ` for LANTERN, `(λ − 1)·p(x)` for LANTERN++.
///
/// Cost: `j* + 1` gathers from `p` (≤ `k + 1`), one dependent `f64` addition each.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the table's vocabulary differs from `p.len()`;
/// [`Error::InvalidParameter`] for `x ≥ V`, `k` above the table width, a negative or NaN budget
/// or a neighbour id `≥ V`; [`Error::NonFinite`] for a NaN/±Inf neighbour probability.
///
/// ```
/// use mlkern::spec::{absorbed_mass, NeighborTable};
/// // The reference note's counterexample: p = [.1, .2, .3, .4], token 0's neighbours 1, 2, 3.
/// let p = [0.1f64, 0.2, 0.3, 0.4];
/// let ids = [1u32, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];
/// let t = NeighborTable::new(&ids, 4, 3)?;
/// let a = absorbed_mass(&p, &t, 0, 3, 0.25)?;
/// assert_eq!((a.mass, a.count), (0.2, 1)); // 0.2 ≤ 0.25 < 0.2 + 0.3
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn absorbed_mass<T: Real>(
    p: &[T],
    table: &NeighborTable<'_>,
    x: usize,
    k: usize,
    budget: f64,
) -> Result<Absorbed> {
    if table.vocab != p.len() {
        return Err(Error::ShapeMismatch {
            what: "spec::absorbed_mass: neighbour table",
            expected: Shape::d1(p.len()),
            found: Shape::d2(table.vocab, table.width),
        });
    }
    check_lantern(table, x, k, budget)?;
    absorb(&Dist::Probs(p), table, x, k, budget, Isa::detect()).map_err(|e| e.into_error(p))
}

/// Checks of the LANTERN arguments that do not depend on the row.
pub(crate) fn check_lantern(
    table: &NeighborTable<'_>,
    x: usize,
    k: usize,
    budget: f64,
) -> Result<()> {
    if x >= table.vocab {
        return Err(Error::InvalidParameter {
            name: "x",
            reason: "a token id below the vocabulary size",
        });
    }
    if k > table.width {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "at most the neighbour table's width",
        });
    }
    if !(budget >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "budget",
            reason: "non-negative",
        });
    }
    Ok(())
}

/// Why absorption failed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AbsorbError {
    /// A neighbour id `≥ V`.
    BadId,
    /// A bad probability.
    Row(Bad),
}

impl AbsorbError {
    pub(crate) fn into_error<T>(self, _p: &[T]) -> Error {
        match self {
            AbsorbError::BadId => Error::InvalidParameter {
                name: "neighbors",
                reason: "token ids below the vocabulary size",
            },
            AbsorbError::Row(Bad::Negative(_)) => Error::InvalidParameter {
                name: "p",
                reason: "non-negative probabilities",
            },
            AbsorbError::Row(Bad::NonFinite(i)) => Error::NonFinite {
                what: "spec::absorbed_mass: p",
                index: i,
            },
            AbsorbError::Row(Bad::NoMass) => Error::InvalidParameter {
                name: "p",
                reason: "positive total mass",
            },
        }
    }
}

/// The cumulative sum behind [`absorbed_mass`], over any row representation.
pub(crate) fn absorb<T: Real>(
    p: &Dist<'_, T>,
    table: &NeighborTable<'_>,
    x: usize,
    k: usize,
    budget: f64,
    isa: Isa,
) -> Result<Absorbed, AbsorbError> {
    let row = match table.row(x) {
        Some(r) => &r[..k.min(table.width)],
        None => return Err(AbsorbError::BadId),
    };
    let v = p.len();
    let mut s = 0.0f64;
    let mut count = 0;
    match *p {
        Dist::Probs(pr) => {
            for &n in row {
                let n = n as usize;
                if n >= v {
                    return Err(AbsorbError::BadId);
                }
                let pn = pr[n].as_f64();
                if !pn.is_finite() {
                    return Err(AbsorbError::Row(Bad::NonFinite(n)));
                }
                if pn < 0.0 {
                    return Err(AbsorbError::Row(Bad::Negative(n)));
                }
                let next = s + pn;
                if next > budget {
                    break;
                }
                s = next;
                count += 1;
            }
        }
        Dist::Logits { .. } => {
            for &n in row {
                let n = n as usize;
                if n >= v {
                    return Err(AbsorbError::BadId);
                }
                let next = s + p.prob(n, isa).map_err(AbsorbError::Row)?;
                if next > budget {
                    break;
                }
                s = next;
                count += 1;
            }
        }
    }
    Ok(Absorbed { mass: s, count })
}

/// LANTERN's neighbour table from a codebook: for each of the `V` codebook vectors (rows of the
/// row-major `V × dim` `codebook`), the `k` nearest other vectors by Euclidean distance, nearest
/// first, itself excluded; ties (equal computed distances) go to the smaller id. `k ≤ V − 1`.
///
/// Distances are `‖a‖² + ‖b‖² − 2·a·b` with the inner products from one GEMM per block of 256
/// rows (memory `O(256·V)`), accumulated in `T`; the norms and the sum are formed in `f64`.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `codebook.len() != vocab·dim`; [`Error::InvalidParameter`] for
/// `k ≥ vocab` (with `vocab > 0`), `dim = 0`, `vocab > u32::MAX`; [`Error::NonFinite`] for a NaN/±Inf entry;
/// [`Error::OutOfMemory`] naming `k` (the `vocab·k` table) or `vocab` (the `O(256·V)` work
/// space) when it cannot be allocated.
///
/// ```
/// use mlkern::spec::nearest_neighbors;
/// use mlkern::Par;
/// // Four points on a line: 0, 1, 3, 7.
/// let cb = [0.0f32, 1.0, 3.0, 7.0];
/// let nb = nearest_neighbors(&cb, 4, 1, 2, Par::Seq)?;
/// assert_eq!(nb, [1, 2, 0, 2, 1, 0, 2, 1]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn nearest_neighbors<T: Real>(
    codebook: &[T],
    vocab: usize,
    dim: usize,
    k: usize,
    par: crate::Par,
) -> Result<alloc::vec::Vec<u32>> {
    use crate::base::{checked_len, collect, try_vec, zeros};
    use crate::linalg::{Accum, Layout, matmul, view, view_mut};
    use alloc::vec::Vec;

    if vocab.checked_mul(dim) != Some(codebook.len()) {
        return Err(Error::ShapeMismatch {
            what: "spec::nearest_neighbors: codebook",
            expected: Shape::d2(vocab, dim),
            found: Shape::d1(codebook.len()),
        });
    }
    if dim == 0 && vocab > 0 {
        return Err(Error::InvalidParameter {
            name: "dim",
            reason: "at least 1 (codebook vectors need coordinates)",
        });
    }
    if vocab > u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "vocab",
            reason: "at most u32::MAX tokens",
        });
    }
    if vocab > 0 && k >= vocab {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "below the vocabulary size (a token is not its own neighbour)",
        });
    }
    crate::simd::check_finite(codebook, "spec::nearest_neighbors: codebook")?;
    // `vocab ≤ codebook.len()` (dim ≥ 1), but the table is `vocab·k` ids with `k < vocab`:
    // quadratic in the codebook, so it is sized with checked arithmetic and reserved fallibly.
    let mut out = zeros::<u32>(checked_len(&[vocab, k], "k")?, "k")?;
    if vocab == 0 || k == 0 {
        return Ok(out);
    }
    let norms = collect(
        codebook
            .chunks_exact(dim)
            .map(|r| r.iter().map(|x| x.as_f64() * x.as_f64()).sum::<f64>())
            .take(vocab),
        "vocab",
    )?;
    const ROWS: usize = 256;
    let mut g = zeros::<T>(checked_len(&[ROWS.min(vocab), vocab], "vocab")?, "vocab")?;
    let mut cand: Vec<(f64, u32)> = try_vec(vocab, "vocab")?;
    let ct = view(codebook, dim, vocab, Layout::ColMajor)?;
    for i0 in (0..vocab).step_by(ROWS) {
        let rows = ROWS.min(vocab - i0);
        let a = view(
            &codebook[i0 * dim..(i0 + rows) * dim],
            rows,
            dim,
            Layout::RowMajor,
        )?;
        let gm = view_mut(&mut g[..rows * vocab], rows, vocab, Layout::RowMajor)?;
        matmul(gm, Accum::Replace, a, ct, T::one(), par)?;
        for r in 0..rows {
            let i = i0 + r;
            cand.clear();
            let gr = &g[r * vocab..(r + 1) * vocab];
            cand.extend(
                gr.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(j, gij)| {
                        let d = norms[i] + norms[j] - 2.0 * gij.as_f64();
                        (d, j as u32)
                    }),
            );
            let cmp = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if k < cand.len() {
                cand.select_nth_unstable_by(k - 1, cmp);
            }
            let best = &mut cand[..k];
            best.sort_unstable_by(cmp);
            for (o, c) in out[i * k..(i + 1) * k].iter_mut().zip(best.iter()) {
                *o = c.1;
            }
        }
    }
    Ok(out)
}
