//! CLGrouping with recursive grouping (CLRG; Choi et al. 2011, §5).

use alloc::vec;
use alloc::vec::Vec;

use super::rg::{RgConfig, grow};
use super::{Builder, check_distances, path_lengths_from, refill};
use crate::Result;
use crate::base::zeros;
use crate::tree::Tree;
use crate::tree::mst::{Objective, spanning_tree_into};

/// CLRG over the `m×m` information distances of the observed nodes:
/// 1. the minimum spanning tree of `d` (Chow–Liu on information distances);
/// 2. for each internal node `i` (decreasing MST degree, then id), recursive grouping on its
///    closed neighbourhood, hidden neighbours standing in through their surrogate
///    (`d(h, x) = d(Sur(h), x) − d(Sur(h), h)`), and the neighbourhood's star replaced by the
///    result;
/// 3. contraction of short hidden edges ([`RgConfig::contract`]).
///
/// Only distances inside MST neighbourhoods are used, which is why it needs far fewer samples
/// than RG on deep trees, and costs `O(m² + Σ_i deg(i)³)`.
///
/// # Errors
/// As [`recursive_grouping`](super::recursive_grouping).
///
/// ```
/// use mlkern::tree::{clrg, RgConfig};
/// // A chain 0 — 1 — 2 — 3 of observed nodes (edge lengths 1, 2, 3).
/// let d = [0.0, 1.0, 3.0, 6.0,
///          1.0, 0.0, 2.0, 5.0,
///          3.0, 2.0, 0.0, 3.0,
///          6.0, 5.0, 3.0, 0.0];
/// let t = clrg(&d, 4, &RgConfig::population())?;
/// assert_eq!(t.n_hidden(), 0);
/// assert_eq!(t.total_weight(), 6.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn clrg(d: &[f64], m: usize, opts: &RgConfig) -> Result<Tree> {
    check_distances(d, m, "clrg: d")?;
    opts.check()?;
    let mut parent = zeros::<usize>(m, "clrg: m")?;
    let mut key = zeros::<f64>(m, "clrg: m")?;
    spanning_tree_into(d, m, Objective::Minimum, &mut parent, &mut key)?;
    // Global adjacency, grown as hidden nodes appear.
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
    for v in 1..m {
        let u = parent[v];
        adj[u].push((v, d[u * m + v]));
        adj[v].push((u, d[u * m + v]));
    }
    let mut sur: Vec<usize> = (0..m).collect();
    let mut delta: Vec<f64> = vec![0.0; m];
    let mut internal: Vec<usize> = (0..m).filter(|&v| adj[v].len() > 1).collect();
    internal.sort_by(|&a, &b| adj[b].len().cmp(&adj[a].len()).then(a.cmp(&b)));
    let mut local = Vec::new();
    let mut dist = Vec::new();
    for &i in &internal {
        let mut s: Vec<usize> = vec![i];
        s.extend(adj[i].iter().map(|&(u, _)| u));
        let k = s.len();
        refill(&mut local, k * k, 0.0, "clrg: m")?;
        for a in 0..k {
            for c in a + 1..k {
                let (u, v) = (s[a], s[c]);
                let x = if sur[u] != sur[v] {
                    d[sur[u] * m + sur[v]] - delta[u] - delta[v]
                } else {
                    (delta[u] - delta[v]).abs()
                };
                let x = x.max(0.0);
                local[a * k + c] = x;
                local[c * k + a] = x;
            }
        }
        let mut sub = Builder::new(k);
        grow(&local, k, opts, &mut sub)?;
        // Remove the star around i, then splice the sub-tree in.
        for &u in &s[1..] {
            adj[u].retain(|&(x, _)| x != i);
        }
        adj[i].clear();
        let mut global: Vec<usize> = s.clone();
        for _ in k..sub.n_nodes {
            global.push(adj.len());
            adj.push(Vec::new());
            sur.push(i);
            delta.push(0.0);
        }
        let mut sub_adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); sub.n_nodes];
        for e in &sub.edges {
            let (a, c) = (global[e.a], global[e.b]);
            adj[a].push((c, e.weight));
            adj[c].push((a, e.weight));
            sub_adj[e.a].push((e.b, e.weight));
            sub_adj[e.b].push((e.a, e.weight));
        }
        dist.clear();
        dist.resize(sub.n_nodes, 0.0);
        path_lengths_from(&sub_adj, 0, &mut dist);
        for h in k..sub.n_nodes {
            delta[global[h]] = if dist[h].is_nan() { 0.0 } else { dist[h] };
        }
    }
    let mut b = Builder::new(m);
    b.n_nodes = adj.len();
    for (a, list) in adj.iter().enumerate() {
        for &(c, w) in list {
            if a < c {
                b.edge(a, c, w);
            }
        }
    }
    b.finish(opts.contract)
}
