//! Comparing trees: hop and path-length distances between observed nodes, exact recovery,
//! splits and the Robinson–Foulds distance (alloc tier).

use alloc::vec;
use alloc::vec::Vec;

use super::Tree;
use crate::{Error, Result};

/// The `m×m` hop counts between observed nodes (`m = n_observed`).
///
/// ```
/// use mlkern::tree::{hop_distances, Edge, Tree};
/// let t = Tree::new(3, 4, vec![Edge { a: 0, b: 3, weight: 1.0 }, Edge { a: 1, b: 3, weight: 1.0 },
///                              Edge { a: 2, b: 3, weight: 1.0 }])?;
/// assert_eq!(hop_distances(&t), vec![0, 2, 2, 2, 0, 2, 2, 2, 0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn hop_distances(t: &Tree) -> Vec<u32> {
    let m = t.n_observed();
    let adj = t.adjacency();
    let mut out = vec![0u32; m * m];
    let mut dist = vec![u32::MAX; t.n_nodes()];
    let mut stack = Vec::new();
    for s in 0..m {
        dist.fill(u32::MAX);
        dist[s] = 0;
        stack.push(s);
        while let Some(v) = stack.pop() {
            for &(u, _) in &adj[v] {
                if dist[u] == u32::MAX {
                    dist[u] = dist[v] + 1;
                    stack.push(u);
                }
            }
        }
        out[s * m..(s + 1) * m].copy_from_slice(&dist[..m]);
    }
    out
}

/// The tree metric on observed nodes: the `m×m` sums of edge weights along paths. For a
/// latent tree with information-distance weights learned from population distances it
/// reproduces them.
pub fn path_lengths(t: &Tree) -> Vec<f64> {
    let m = t.n_observed();
    let adj = t.adjacency();
    let mut out = vec![0.0; m * m];
    let mut dist = vec![0.0; t.n_nodes()];
    for s in 0..m {
        super::latent::path_lengths_from(&adj, s, &mut dist);
        out[s * m..(s + 1) * m].copy_from_slice(&dist[..m]);
    }
    out
}

/// Whether two trees over the same observed nodes have the same structure up to relabelling
/// of hidden nodes: equal hop-count matrices between observed nodes (Choi et al.'s criterion;
/// sound for minimal trees, whose hidden nodes have degree ≥ 3).
pub fn exact_recovery(a: &Tree, b: &Tree) -> bool {
    a.n_observed() == b.n_observed() && hop_distances(a) == hop_distances(b)
}

/// One split of the observed nodes: a bitset (`⌈m/64⌉` words) of the side **without** observed
/// node 0.
pub type Split = Vec<u64>;

/// The non-trivial splits of the observed nodes induced by the edges (both sides hold at least
/// two observed nodes), canonical ([`Split`]), sorted and deduplicated.
pub fn splits(t: &Tree) -> Vec<Split> {
    let m = t.n_observed();
    let n = t.n_nodes();
    if m < 4 || n == 0 {
        return Vec::new();
    }
    let words = m.div_ceil(64);
    let adj = t.adjacency();
    // Root at observed 0; subtree bitsets in post-order.
    let mut parent = vec![usize::MAX; n];
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![0usize];
    let mut seen = vec![false; n];
    seen[0] = true;
    while let Some(v) = stack.pop() {
        order.push(v);
        for &(u, _) in &adj[v] {
            if !seen[u] {
                seen[u] = true;
                parent[u] = v;
                stack.push(u);
            }
        }
    }
    let mut sets = vec![0u64; n * words];
    let mut count = vec![0usize; n];
    let mut out = Vec::new();
    for &v in order.iter().rev() {
        if v < m {
            sets[v * words + v / 64] |= 1 << (v % 64);
            count[v] += 1;
        }
        if v != 0 {
            let c = count[v];
            if c >= 2 && m - c >= 2 {
                out.push(sets[v * words..(v + 1) * words].to_vec());
            }
            let p = parent[v];
            for w in 0..words {
                sets[p * words + w] |= sets[v * words + w];
            }
            count[p] += c;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The Robinson–Foulds distance: the number of non-trivial observed splits in one tree and not
/// the other ([`splits`]).
///
/// # Errors
/// [`Error::InvalidParameter`] when the trees have different numbers of observed nodes.
///
/// ```
/// use mlkern::tree::{robinson_foulds, Edge, Tree};
/// let quartet = |x: usize, y: usize, z: usize, w: usize| Tree::new(4, 6, vec![
///     Edge { a: x, b: 4, weight: 1.0 }, Edge { a: y, b: 4, weight: 1.0 },
///     Edge { a: z, b: 5, weight: 1.0 }, Edge { a: w, b: 5, weight: 1.0 },
///     Edge { a: 4, b: 5, weight: 1.0 }]);
/// assert_eq!(robinson_foulds(&quartet(0, 1, 2, 3)?, &quartet(0, 2, 1, 3)?)?, 2);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn robinson_foulds(a: &Tree, b: &Tree) -> Result<usize> {
    if a.n_observed() != b.n_observed() {
        return Err(Error::InvalidParameter {
            name: "robinson_foulds",
            reason: "the trees must have the same observed nodes",
        });
    }
    let (sa, sb) = (splits(a), splits(b));
    let common = sa.iter().filter(|s| sb.binary_search(s).is_ok()).count();
    Ok(sa.len() + sb.len() - 2 * common)
}
