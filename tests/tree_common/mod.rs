//! Random tree models for the tree tests and the recovery-rate example: minimal latent trees
//! with observed nodes anywhere or only at the leaves, population distances, Gaussian samples.
#![allow(dead_code)]

use mlkern::tree::{Edge, Tree};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// Edge length −ln U[0.2, 0.8] (the literature's correlation range).
pub fn edge_len(r: &mut SmallRng) -> f64 {
    -(0.2 + 0.6 * r.random::<f64>()).ln()
}

/// Relabels a tree given as (n, edges, hidden flags) so observed nodes come first.
fn relabel(n: usize, edges: &[(usize, usize, f64)], hidden: &[bool]) -> Tree {
    let mut id = vec![0; n];
    let mut next = 0;
    for v in 0..n {
        if !hidden[v] {
            id[v] = next;
            next += 1;
        }
    }
    let m = next;
    for v in 0..n {
        if hidden[v] {
            id[v] = next;
            next += 1;
        }
    }
    let edges = edges
        .iter()
        .map(|&(a, b, w)| Edge {
            a: id[a],
            b: id[b],
            weight: w,
        })
        .collect();
    Tree::new(m, n, edges).expect("a valid tree")
}

/// A random minimal latent tree on `n` nodes: a random recursive tree, where each node of
/// degree ≥ 3 is hidden with probability `p_hidden`; every other node is observed (so observed
/// nodes can be internal).
pub fn random_internal(r: &mut SmallRng, n: usize, p_hidden: f64) -> Tree {
    let mut edges = Vec::new();
    let mut deg = vec![0usize; n];
    for v in 1..n {
        let u = r.random_range(0..v);
        edges.push((u, v, edge_len(r)));
        deg[u] += 1;
        deg[v] += 1;
    }
    let hidden: Vec<bool> = deg
        .iter()
        .map(|&d| d >= 3 && r.random::<f64>() < p_hidden)
        .collect();
    relabel(n, &edges, &hidden)
}

/// A random tree whose observed nodes are exactly its `m ≥ 3` leaves; hidden nodes have degree
/// 3 when `binary`, otherwise some have more.
pub fn random_leaves(r: &mut SmallRng, m: usize, binary: bool) -> Tree {
    // Node 0 hidden centre, leaves 1..=3.
    let mut edges: Vec<(usize, usize, f64)> = (1..=3).map(|v| (0, v, edge_len(r))).collect();
    let mut hidden = vec![true, false, false, false];
    while hidden.iter().filter(|h| !**h).count() < m {
        let leaf = hidden.len();
        hidden.push(false);
        let hidden_nodes: Vec<usize> = (0..leaf).filter(|&v| hidden[v]).collect();
        if !binary && r.random::<f64>() < 0.3 {
            let h = hidden_nodes[r.random_range(0..hidden_nodes.len())];
            edges.push((h, leaf, edge_len(r)));
        } else {
            let k = r.random_range(0..edges.len());
            let (a, b, _) = edges[k];
            let h = hidden.len();
            hidden.push(true);
            edges[k] = (a, h, edge_len(r));
            edges.push((h, b, edge_len(r)));
            edges.push((h, leaf, edge_len(r)));
        }
    }
    relabel(hidden.len(), &edges, &hidden)
}

/// A hidden chain of `k` nodes, each with `per` observed leaves (an HMM-like tree).
pub fn hmm(r: &mut SmallRng, k: usize, per: usize) -> Tree {
    let n = k * (per + 1);
    let mut edges = Vec::new();
    let mut hidden = vec![false; n];
    for c in 0..k {
        let h = k * per + c;
        hidden[h] = true;
        if c > 0 {
            edges.push((h - 1, h, edge_len(r)));
        }
        for l in 0..per {
            edges.push((h, c * per + l, edge_len(r)));
        }
    }
    relabel(n, &edges, &hidden)
}

/// Zero-mean unit-variance Gaussian samples of every node of `t` (edge correlation
/// `e^{−weight}`, random sign), variable-major over the **observed** nodes.
pub fn gaussian_samples(r: &mut SmallRng, t: &Tree, n: usize) -> Vec<f64> {
    let adj = t.adjacency();
    let nn = t.n_nodes();
    // BFS order from node 0 with parent and signed correlation.
    let mut order = vec![0usize];
    let mut parent = vec![(usize::MAX, 0.0); nn];
    let mut seen = vec![false; nn];
    seen[0] = true;
    let mut i = 0;
    while i < order.len() {
        let v = order[i];
        i += 1;
        for &(u, w) in &adj[v] {
            if !seen[u] {
                seen[u] = true;
                let sign = if r.random::<bool>() { 1.0 } else { -1.0 };
                parent[u] = (v, sign * (-w).exp());
                order.push(u);
            }
        }
    }
    let m = t.n_observed();
    let mut out = vec![0.0; m * n];
    let mut x = vec![0.0; nn];
    for s in 0..n {
        for &v in &order {
            let z = normal(r);
            x[v] = match parent[v] {
                (usize::MAX, _) => z,
                (p, rho) => rho * x[p] + (1.0 - rho * rho).sqrt() * z,
            };
        }
        for v in 0..m {
            out[v * n + s] = x[v];
        }
    }
    out
}

pub fn normal(r: &mut SmallRng) -> f64 {
    let u1: f64 = r.random::<f64>().max(1e-300);
    let u2: f64 = r.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `t` with fresh edge lengths `−ln U[lo, hi]` (edge correlations in `[lo, hi]`).
pub fn with_correlations(r: &mut SmallRng, t: &Tree, lo: f64, hi: f64) -> Tree {
    let edges = t
        .edges()
        .iter()
        .map(|e| Edge {
            weight: -(lo + (hi - lo) * r.random::<f64>()).ln(),
            ..*e
        })
        .collect();
    Tree::new(t.n_observed(), t.n_nodes(), edges).expect("same structure")
}
