//! Dense Prim spanning trees over a `p×p` weight matrix: O(p²) time, O(p) scratch (core tier).

use crate::{Error, Result, Shape};

/// Which spanning tree [`spanning_tree_into`] finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Maximum total weight (Chow–Liu on mutual information).
    Maximum,
    /// Minimum total weight (spanning trees of information distances).
    Minimum,
}

/// Prim's algorithm on the dense symmetric matrix `w` (row-major `p×p`, the diagonal is
/// ignored). On return `parent[v]` is the tree neighbour through which `v` joined (`parent[0] =
/// usize::MAX`): the edges are `(parent[v], v)` for `v` in `1..p`, with weight
/// `w[parent[v]·p + v]`. `key` is scratch of length `p`.
///
/// **Deterministic tie-break.** The tree grows from node 0. At each step the unvisited node with
/// the best connection to the tree joins, the smallest id among equals; a node's connection is
/// only replaced by a strictly better one, so among equal connections the endpoint that joined
/// first is kept. The result is an optimal tree for any input; when weights tie, it is this
/// specific one, so equivariance under relabelling holds only for tie-free weights.
///
/// `±∞` weights are allowed (e.g. `−∞` for "never use this edge" in a maximum tree: it is used
/// only if nothing else connects).
///
/// # Errors
/// [`Error::ShapeMismatch`] for buffer lengths, [`Error::NonFinite`] for NaN weights,
/// [`Error::InvalidParameter`] for an asymmetric `w` (beyond `1e−10` relative; within that,
/// the entries read are those of the row of the node that joined first).
///
/// ```
/// use mlkern::tree::{spanning_tree_into, Objective};
/// let w = [0.0, 0.9, 0.1,
///          0.9, 0.0, 0.5,
///          0.1, 0.5, 0.0];
/// let (mut parent, mut key) = ([0usize; 3], [0.0f64; 3]);
/// spanning_tree_into(&w, 3, Objective::Maximum, &mut parent, &mut key)?;
/// assert_eq!(&parent[1..], &[0, 1]); // edges 0–1 and 1–2
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn spanning_tree_into(
    w: &[f64],
    p: usize,
    objective: Objective,
    parent: &mut [usize],
    key: &mut [f64],
) -> Result<()> {
    let Some(pp) = p.checked_mul(p) else {
        return Err(Error::InvalidParameter {
            name: "spanning_tree: p",
            reason: "p·p overflows usize",
        });
    };
    for (what, len, want) in [
        ("spanning_tree: w", w.len(), pp),
        ("spanning_tree: parent", parent.len(), p),
        ("spanning_tree: key", key.len(), p),
    ] {
        if len != want {
            return Err(Error::ShapeMismatch {
                what,
                expected: Shape::d1(want),
                found: Shape::d1(len),
            });
        }
    }
    check_symmetric(w, p, "spanning_tree: w")?;
    if p == 0 {
        return Ok(());
    }
    // Minimize s·w: exact negation keeps ties.
    let s = match objective {
        Objective::Maximum => -1.0,
        Objective::Minimum => 1.0,
    };
    parent.fill(0);
    parent[0] = usize::MAX;
    // key[v] = best connection of unvisited v; visited nodes are marked by NaN keys.
    key[0] = f64::NAN;
    let row0 = &w[..p];
    for v in 1..p {
        key[v] = s * row0[v];
    }
    for _ in 1..p {
        let mut best = usize::MAX;
        let mut best_key = f64::INFINITY;
        for (v, &k) in key.iter().enumerate() {
            // NaN (visited) never compares; +∞ keys are taken when nothing better is left.
            if k < best_key || (best == usize::MAX && k == f64::INFINITY) {
                best = v;
                best_key = k;
            }
        }
        let u = best;
        key[u] = f64::NAN;
        let row = &w[u * p..(u + 1) * p];
        for v in 0..p {
            let c = s * row[v];
            if c < key[v] {
                key[v] = c;
                parent[v] = u;
            }
        }
    }
    Ok(())
}

/// `w` must be free of NaN and symmetric to within `1e−10` relative (matrices summed in
/// different orders, e.g. tree path lengths, are not bit-symmetric).
pub(crate) fn check_symmetric(w: &[f64], p: usize, what: &'static str) -> Result<()> {
    if let Some(i) = w.iter().position(|x| x.is_nan()) {
        return Err(Error::NonFinite { what, index: i });
    }
    for i in 0..p {
        for j in 0..i {
            let (a, b) = (w[i * p + j], w[j * p + i]);
            if a != b
                && (!a.is_finite()
                    || !b.is_finite()
                    || (a - b).abs() > 1e-10 * a.abs().max(b.abs()))
            {
                return Err(Error::InvalidParameter {
                    name: what,
                    reason: "the matrix must be symmetric",
                });
            }
        }
    }
    Ok(())
}

/// The spanning tree of `w` as a [`Tree`](super::Tree) on `p` observed nodes, edge weights
/// taken from `w` (alloc tier). Tie-break and errors as [`spanning_tree_into`].
///
/// ```
/// use mlkern::tree::{spanning_tree, Objective};
/// let d = [0.0, 1.0, 3.0,
///          1.0, 0.0, 2.0,
///          3.0, 2.0, 0.0];
/// let t = spanning_tree(&d, 3, Objective::Minimum)?;
/// assert_eq!(t.total_weight(), 3.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn spanning_tree(w: &[f64], p: usize, objective: Objective) -> Result<super::Tree> {
    if p.checked_mul(p) != Some(w.len()) {
        return Err(Error::ShapeMismatch {
            what: "spanning_tree: w",
            expected: Shape::d2(p, p),
            found: Shape::d1(w.len()),
        });
    }
    let mut parent = crate::base::zeros::<usize>(p, "spanning_tree: p")?;
    let mut key = crate::base::zeros::<f64>(p, "spanning_tree: p")?;
    spanning_tree_into(w, p, objective, &mut parent, &mut key)?;
    let edges = crate::base::collect(
        (1..p).map(|v| super::Edge {
            a: parent[v],
            b: v,
            weight: w[parent[v] * p + v],
        }),
        "spanning_tree: p",
    )?;
    super::Tree::new(p, p, edges)
}
