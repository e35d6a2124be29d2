//! The learned tree: observed nodes `0..m` first, hidden nodes `m..` after, weighted edges;
//! structural checks and the Newick and DOT writers.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::{Error, Result};

/// One undirected edge `a — b` with its weight: mutual information (nats) for Chow–Liu trees,
/// information distance for latent trees and for spanning trees of distances.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// One end (the smaller id in trees this module returns).
    pub a: usize,
    /// The other end.
    pub b: usize,
    /// The edge weight.
    pub weight: f64,
}

/// A tree over `n_nodes` nodes: observed nodes are `0..n_observed`, hidden (latent) nodes are
/// `n_observed..n_nodes`. Hidden ids are not canonical: compare learned trees through
/// [`exact_recovery`](super::exact_recovery) or [`robinson_foulds`](super::robinson_foulds).
///
/// ```
/// use mlkern::tree::{Edge, Tree};
/// // A star: hidden node 3 joins observed 0, 1, 2.
/// let t = Tree::new(3, 4, vec![
///     Edge { a: 0, b: 3, weight: 0.5 },
///     Edge { a: 1, b: 3, weight: 0.25 },
///     Edge { a: 2, b: 3, weight: 1.0 },
/// ])?;
/// assert_eq!(t.n_hidden(), 1);
/// assert!(t.is_minimal());
/// assert_eq!(t.to_newick(None), "((1:0.25,2:1)h0:0.5)0;");
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    n_observed: usize,
    n_nodes: usize,
    edges: Vec<Edge>,
}

impl Tree {
    /// A tree from its edges, checked: `n_observed ≤ n_nodes`, ids in range, no self-loops,
    /// exactly `n_nodes − 1` edges, connected (hence acyclic), finite weights. The edges are
    /// stored with `a < b`, sorted by `(a, b)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the violated property.
    pub fn new(n_observed: usize, n_nodes: usize, mut edges: Vec<Edge>) -> Result<Self> {
        let bad = |reason| {
            Err(Error::InvalidParameter {
                name: "tree",
                reason,
            })
        };
        if n_observed > n_nodes {
            return bad("more observed nodes than nodes");
        }
        if edges.len() + 1 != n_nodes.max(1) {
            return bad("a tree on n nodes has exactly n − 1 edges");
        }
        for e in edges.iter_mut() {
            if e.a >= n_nodes || e.b >= n_nodes {
                return bad("an edge end is not a node id");
            }
            if e.a == e.b {
                return bad("self-loop");
            }
            if !e.weight.is_finite() {
                return bad("non-finite edge weight");
            }
            if e.a > e.b {
                core::mem::swap(&mut e.a, &mut e.b);
            }
        }
        edges.sort_by_key(|e| (e.a, e.b));
        let t = Tree {
            n_observed,
            n_nodes,
            edges,
        };
        if n_nodes > 0 && t.components() != 1 {
            return bad("not connected (so it has a cycle)");
        }
        Ok(t)
    }

    /// Number of observed nodes `m` (ids `0..m`).
    pub fn n_observed(&self) -> usize {
        self.n_observed
    }

    /// Number of nodes, observed and hidden.
    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    /// Number of hidden nodes (ids `n_observed..n_nodes`).
    pub fn n_hidden(&self) -> usize {
        self.n_nodes - self.n_observed
    }

    /// The edges, `a < b`, sorted by `(a, b)`.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Sum of the edge weights.
    pub fn total_weight(&self) -> f64 {
        self.edges.iter().map(|e| e.weight).sum()
    }

    /// Adjacency lists: for each node, `(neighbour, weight)` in edge order.
    pub fn adjacency(&self) -> Vec<Vec<(usize, f64)>> {
        let mut adj = vec![Vec::new(); self.n_nodes];
        for e in &self.edges {
            adj[e.a].push((e.b, e.weight));
            adj[e.b].push((e.a, e.weight));
        }
        adj
    }

    /// Degree of every node.
    pub fn degrees(&self) -> Vec<usize> {
        let mut d = vec![0; self.n_nodes];
        for e in &self.edges {
            d[e.a] += 1;
            d[e.b] += 1;
        }
        d
    }

    /// Whether every hidden node has degree ≥ 3 (the minimal latent trees RG, CLRG and NJ
    /// recover).
    pub fn is_minimal(&self) -> bool {
        self.degrees()[self.n_observed..].iter().all(|&d| d >= 3)
    }

    fn components(&self) -> usize {
        let mut uf = UnionFind::new(self.n_nodes);
        let mut c = self.n_nodes;
        for e in &self.edges {
            if uf.union(e.a, e.b) {
                c -= 1;
            }
        }
        c
    }

    /// The name of node `v`: `names[v]` for observed nodes when names are given (its index
    /// otherwise), `h0, h1, …` for hidden nodes.
    pub fn node_name(&self, v: usize, names: Option<&[String]>) -> String {
        if v < self.n_observed {
            match names.and_then(|n| n.get(v)) {
                Some(s) => s.clone(),
                None => alloc::format!("{v}"),
            }
        } else {
            alloc::format!("h{}", v - self.n_observed)
        }
    }

    /// Newick text rooted at node 0, internal nodes named, branch lengths = edge weights
    /// (shortest round-trip formatting). Names with Newick's special characters are quoted.
    ///
    /// ```
    /// use mlkern::tree::{Edge, Tree};
    /// let t = Tree::new(3, 3, vec![Edge { a: 0, b: 1, weight: 0.5 }, Edge { a: 1, b: 2, weight: 2.0 }])?;
    /// assert_eq!(t.to_newick(None), "((2:2)1:0.5)0;");
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn to_newick(&self, names: Option<&[String]>) -> String {
        let mut s = String::new();
        if self.n_nodes == 0 {
            s.push(';');
            return s;
        }
        let adj = self.adjacency();
        // Iterative DFS: (node, parent, weight to parent, next child index).
        let mut stack: Vec<(usize, usize, f64, usize)> = vec![(0, usize::MAX, 0.0, 0)];
        while let Some(top) = stack.last_mut() {
            let (v, parent, w, next) = *top;
            let children: Vec<&(usize, f64)> =
                adj[v].iter().filter(|(u, _)| *u != parent).collect();
            if next == 0 && !children.is_empty() {
                s.push('(');
            }
            if next < children.len() {
                if next > 0 {
                    s.push(',');
                }
                top.3 += 1;
                let (u, wu) = *children[next];
                stack.push((u, v, wu, 0));
                continue;
            }
            if !children.is_empty() {
                s.push(')');
            }
            s.push_str(&newick_label(&self.node_name(v, names)));
            if parent != usize::MAX {
                let _ = write!(s, ":{w}");
            }
            stack.pop();
        }
        s.push(';');
        s
    }

    /// Graphviz DOT text: an undirected graph, observed nodes as ellipses, hidden nodes as
    /// small points labelled `h0, h1, …`, edges labelled with their weight.
    ///
    /// ```
    /// use mlkern::tree::{Edge, Tree};
    /// let t = Tree::new(2, 2, vec![Edge { a: 0, b: 1, weight: 0.5 }])?;
    /// assert!(t.to_dot(None).contains("n0 -- n1 [label=\"0.5\"]"));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn to_dot(&self, names: Option<&[String]>) -> String {
        let mut s = String::from("graph tree {\n");
        for v in 0..self.n_nodes {
            let name = self
                .node_name(v, names)
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            let shape = if v < self.n_observed {
                "ellipse"
            } else {
                "box, style=dashed"
            };
            let _ = writeln!(s, "  n{v} [label=\"{name}\", shape={shape}];");
        }
        for e in &self.edges {
            let _ = writeln!(s, "  n{} -- n{} [label=\"{}\"];", e.a, e.b, e.weight);
        }
        s.push_str("}\n");
        s
    }
}

fn newick_label(name: &str) -> String {
    if name.chars().any(|c| "()[]':;, \t\n".contains(c)) {
        alloc::format!("'{}'", name.replace('\'', "''"))
    } else {
        String::from(name)
    }
}

/// Union–find with path halving (used by the structural checks and tests).
pub(crate) struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    pub(crate) fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    pub(crate) fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the sets of `a` and `b`; `false` when they were already one set.
    pub(crate) fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra.max(rb)] = ra.min(rb);
        true
    }
}
