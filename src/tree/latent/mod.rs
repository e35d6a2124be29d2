//! Latent-tree learners over an information-distance matrix of the observed nodes: recursive
//! grouping, CLRG, neighbour joining and spectral neighbour joining (alloc tier).

mod clrg;
mod nj;
mod rg;
mod snj;

use alloc::vec;
use alloc::vec::Vec;

use super::{Edge, Tree};
use crate::{Error, Result, Shape};

pub use clrg::clrg;
pub use nj::{NjConfig, neighbor_joining};
pub use rg::{RgConfig, recursive_grouping};
pub use snj::{SnjConfig, spectral_nj};

/// Checks an `m×m` information-distance matrix: shape, finite, symmetric, zero diagonal,
/// non-negative.
pub(crate) fn check_distances(d: &[f64], m: usize, what: &'static str) -> Result<()> {
    if m.checked_mul(m) != Some(d.len()) {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d2(m, m),
            found: Shape::d1(d.len()),
        });
    }
    crate::simd::check_finite(d, what)?;
    super::mst::check_symmetric(d, m, what)?;
    for i in 0..m {
        if d[i * m + i] != 0.0 {
            return Err(Error::InvalidParameter {
                name: what,
                reason: "the diagonal of a distance matrix must be 0",
            });
        }
    }
    if d.iter().any(|&v| v < 0.0) {
        return Err(Error::InvalidParameter {
            name: what,
            reason: "distances must be non-negative",
        });
    }
    Ok(())
}

/// `len` copies of `value` in `buf` (cleared first), fallibly reserved: an
/// [`Error::OutOfMemory`] naming `name` instead of an abort.
pub(crate) fn refill<T: Clone>(
    buf: &mut Vec<T>,
    len: usize,
    value: T,
    name: &'static str,
) -> Result<()> {
    buf.clear();
    crate::base::reserve(buf, len, name)?;
    buf.resize(len, value);
    Ok(())
}

/// The `(2m)×(2m)` distance table of a learner that adds at most `m` hidden nodes to `m`
/// observed ones, zeroed, fallibly allocated.
pub(crate) fn node_table(m: usize, name: &'static str) -> Result<Vec<f64>> {
    let cap = crate::base::checked_len(&[2, m], name)?;
    crate::base::zeros(crate::base::checked_len(&[cap, cap], name)?, name)
}

/// A tree under construction: observed nodes `0..m`, hidden nodes appended.
pub(crate) struct Builder {
    pub(crate) n_observed: usize,
    pub(crate) n_nodes: usize,
    pub(crate) edges: Vec<Edge>,
}

impl Builder {
    pub(crate) fn new(m: usize) -> Self {
        Builder {
            n_observed: m,
            n_nodes: m,
            edges: Vec::new(),
        }
    }

    pub(crate) fn hidden(&mut self) -> usize {
        self.n_nodes += 1;
        self.n_nodes - 1
    }

    pub(crate) fn edge(&mut self, a: usize, b: usize, w: f64) {
        self.edges.push(Edge {
            a,
            b,
            weight: if w.is_finite() { w.max(0.0) } else { 0.0 },
        });
    }

    /// Contracts every edge of length ≤ `contract` that touches a hidden node (the hidden end
    /// merges into the other, or the larger hidden id into the smaller; lengths of its other
    /// edges grow by the contracted length), splices out hidden nodes of degree 2, drops hidden
    /// leaves, and renumbers hidden nodes `m, m+1, …` in order of first appearance.
    pub(crate) fn finish(self, contract: f64) -> Result<Tree> {
        let m = self.n_observed;
        let n = self.n_nodes;
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for e in &self.edges {
            adj[e.a].push((e.b, e.weight));
            adj[e.b].push((e.a, e.weight));
        }
        let mut alive = vec![true; n];
        let remove = |adj: &mut Vec<Vec<(usize, f64)>>, a: usize, b: usize| {
            adj[a].retain(|&(x, _)| x != b);
            adj[b].retain(|&(x, _)| x != a);
        };
        loop {
            let mut changed = false;
            for h in m..n {
                if !alive[h] {
                    continue;
                }
                let deg = adj[h].len();
                if deg <= 1 {
                    if let Some(&(x, _)) = adj[h].first() {
                        remove(&mut adj, h, x);
                    }
                    alive[h] = false;
                    changed = true;
                    continue;
                }
                if deg == 2 {
                    let (x, wx) = adj[h][0];
                    let (y, wy) = adj[h][1];
                    remove(&mut adj, h, x);
                    remove(&mut adj, h, y);
                    adj[x].push((y, wx + wy));
                    adj[y].push((x, wx + wy));
                    alive[h] = false;
                    changed = true;
                    continue;
                }
                // The shortest edge of h, if short enough, is contracted.
                let (k, &(x, w)) = adj[h]
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.1.total_cmp(&b.1.1).then(a.1.0.cmp(&b.1.0)))
                    .unwrap_or_else(|| unreachable!("degree ≥ 3"));
                let _ = k;
                if w <= contract {
                    // Merge h into x (x observed, or a hidden node with a smaller id: merge the
                    // larger hidden id into the smaller).
                    let (keep, gone) = if x < m || x < h { (x, h) } else { (h, x) };
                    remove(&mut adj, keep, gone);
                    let moved: Vec<(usize, f64)> = core::mem::take(&mut adj[gone]);
                    for (y, wy) in moved {
                        adj[y].retain(|&(z, _)| z != gone);
                        adj[y].push((keep, wy + w));
                        adj[keep].push((y, wy + w));
                    }
                    alive[gone] = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut id = vec![usize::MAX; n];
        let mut next = m;
        for (v, slot) in id.iter_mut().enumerate() {
            if v < m {
                *slot = v;
            } else if alive[v] {
                *slot = next;
                next += 1;
            }
        }
        let mut edges = Vec::with_capacity(next.saturating_sub(1));
        for a in 0..n {
            for &(b, w) in &adj[a] {
                if a < b {
                    edges.push(Edge {
                        a: id[a],
                        b: id[b],
                        weight: w,
                    });
                }
            }
        }
        Tree::new(m, next, edges)
    }
}

/// Path lengths from `src` to every node of the tree given by adjacency lists.
pub(crate) fn path_lengths_from(adj: &[Vec<(usize, f64)>], src: usize, out: &mut [f64]) {
    out.fill(f64::NAN);
    out[src] = 0.0;
    let mut stack = vec![src];
    while let Some(v) = stack.pop() {
        for &(u, w) in &adj[v] {
            if out[u].is_nan() {
                out[u] = out[v] + w;
                stack.push(u);
            }
        }
    }
}
