//! Comparing trees: hop and path-length distances between observed nodes, exact recovery,
//! splits and the Robinson–Foulds distance (alloc tier).

use alloc::vec;
use alloc::vec::Vec;

use super::Tree;
use crate::base::{checked_len, oom, try_vec, zeros};
use crate::{Error, Result};

/// The `m×m` hop counts between observed nodes (`m = n_observed`).
///
/// # Errors
/// [`Error::OutOfMemory`] when the `m×m` matrix cannot be allocated (a tree with many observed
/// nodes: its size is quadratic in the tree's).
///
/// ```
/// use mlkern::tree::{hop_distances, Edge, Tree};
/// let t = Tree::new(3, 4, vec![Edge { a: 0, b: 3, weight: 1.0 }, Edge { a: 1, b: 3, weight: 1.0 },
///                              Edge { a: 2, b: 3, weight: 1.0 }])?;
/// assert_eq!(hop_distances(&t)?, vec![0, 2, 2, 2, 0, 2, 2, 2, 0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn hop_distances(t: &Tree) -> Result<Vec<u32>> {
    let m = t.n_observed();
    let mut out = zeros(
        checked_len(&[m, m], "hop_distances: tree")?,
        "hop_distances: tree",
    )?;
    let adj = t.adjacency();
    let mut dist = vec![u32::MAX; t.n_nodes()];
    let mut stack = Vec::new();
    for s in 0..m {
        hops_from(&adj, s, &mut dist, &mut stack);
        out[s * m..(s + 1) * m].copy_from_slice(&dist[..m]);
    }
    Ok(out)
}

/// Hop counts from `src` to every node of the tree given by adjacency lists.
fn hops_from(adj: &[Vec<(usize, f64)>], src: usize, dist: &mut [u32], stack: &mut Vec<usize>) {
    dist.fill(u32::MAX);
    dist[src] = 0;
    stack.push(src);
    while let Some(v) = stack.pop() {
        for &(u, _) in &adj[v] {
            if dist[u] == u32::MAX {
                dist[u] = dist[v] + 1;
                stack.push(u);
            }
        }
    }
}

/// The tree metric on observed nodes: the `m×m` sums of edge weights along paths. For a
/// latent tree with information-distance weights learned from population distances it
/// reproduces them.
///
/// # Errors
/// [`Error::OutOfMemory`] when the `m×m` matrix cannot be allocated.
///
/// ```
/// use mlkern::tree::{path_lengths, Edge, Tree};
/// let t = Tree::new(2, 2, vec![Edge { a: 0, b: 1, weight: 0.5 }])?;
/// assert_eq!(path_lengths(&t)?, vec![0.0, 0.5, 0.5, 0.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn path_lengths(t: &Tree) -> Result<Vec<f64>> {
    let m = t.n_observed();
    let mut out = zeros(
        checked_len(&[m, m], "path_lengths: tree")?,
        "path_lengths: tree",
    )?;
    let adj = t.adjacency();
    let mut dist = vec![0.0; t.n_nodes()];
    for s in 0..m {
        super::latent::path_lengths_from(&adj, s, &mut dist);
        out[s * m..(s + 1) * m].copy_from_slice(&dist[..m]);
    }
    Ok(out)
}

/// Whether two trees over the same observed nodes have the same structure up to relabelling
/// of hidden nodes: equal hop-count matrices between observed nodes (Choi et al.'s criterion;
/// sound for minimal trees, whose hidden nodes have degree ≥ 3). Compared one row at a time,
/// so it needs memory linear in the trees, never the `m×m` matrices.
pub fn exact_recovery(a: &Tree, b: &Tree) -> bool {
    let m = a.n_observed();
    if m != b.n_observed() {
        return false;
    }
    let (adj_a, adj_b) = (a.adjacency(), b.adjacency());
    let mut da = vec![u32::MAX; a.n_nodes()];
    let mut db = vec![u32::MAX; b.n_nodes()];
    let mut stack = Vec::new();
    (0..m).all(|s| {
        hops_from(&adj_a, s, &mut da, &mut stack);
        hops_from(&adj_b, s, &mut db, &mut stack);
        da[..m] == db[..m]
    })
}

/// One split of the observed nodes: a bitset (`⌈m/64⌉` words) of the side **without** observed
/// node 0.
pub type Split = Vec<u64>;

/// The non-trivial splits of the observed nodes induced by the edges (both sides hold at least
/// two observed nodes), canonical ([`Split`]), sorted and deduplicated.
///
/// # Errors
/// [`Error::OutOfMemory`] when the bitsets (`⌈m/64⌉` words per node and per split) cannot be
/// allocated.
///
/// ```
/// use mlkern::tree::{splits, Edge, Tree};
/// // Quartet ((0, 1), (2, 3)): one non-trivial split, {2, 3} (the side without 0).
/// let t = Tree::new(4, 6, vec![
///     Edge { a: 0, b: 4, weight: 1.0 }, Edge { a: 1, b: 4, weight: 1.0 },
///     Edge { a: 2, b: 5, weight: 1.0 }, Edge { a: 3, b: 5, weight: 1.0 },
///     Edge { a: 4, b: 5, weight: 1.0 }])?;
/// assert_eq!(splits(&t)?, vec![vec![0b1100u64]]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn splits(t: &Tree) -> Result<Vec<Split>> {
    let m = t.n_observed();
    let n = t.n_nodes();
    if m < 4 || n == 0 {
        return Ok(Vec::new());
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
    let mut sets = zeros::<u64>(checked_len(&[n, words], "splits: tree")?, "splits: tree")?;
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
                let mut split = try_vec(words, "splits: tree")?;
                split.extend_from_slice(&sets[v * words..(v + 1) * words]);
                // Amortized growth (at most one split per node).
                out.try_reserve(1)
                    .map_err(|_| oom::<Split>(out.len() + 1, "splits: tree"))?;
                out.push(split);
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
    Ok(out)
}

/// The Robinson–Foulds distance: the number of non-trivial observed splits in one tree and not
/// the other ([`splits`]).
///
/// # Errors
/// [`Error::InvalidParameter`] when the trees have different numbers of observed nodes;
/// [`Error::OutOfMemory`] as [`splits`].
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
    let (sa, sb) = (splits(a)?, splits(b)?);
    let common = sa.iter().filter(|s| sb.binary_search(s).is_ok()).count();
    Ok(sa.len() + sb.len() - 2 * common)
}
