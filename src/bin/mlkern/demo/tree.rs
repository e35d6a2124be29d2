//! `mlkern demo` rows for tree models, each checked against the tree that generated the data:
//! binary and Gaussian Chow–Liu must recover it, CLRG and spectral NJ must recover a latent tree
//! exactly from its population distances.

use mlkern::tree::{
    ChowLiuConfig, Codes, Edge, RgConfig, Samples, SnjConfig, Tree, chow_liu_discrete,
    chow_liu_gaussian, clrg, exact_recovery, path_lengths, spectral_nj,
};

use super::row::{Row, Step, data};
use crate::timing::Timing;

/// Uniforms in [0, 1) from the demo's deterministic stream.
struct Uniform {
    buf: Vec<f64>,
    at: usize,
}

impl Uniform {
    fn new(seed: u64) -> Self {
        Uniform {
            buf: data(1 << 16, seed),
            at: 0,
        }
    }
    fn next(&mut self) -> f64 {
        if self.at == self.buf.len() {
            let seed = (self.buf[0].to_bits() >> 3) ^ 0x5DEE_CE66;
            self.buf = data(1 << 16, seed);
            self.at = 0;
        }
        self.at += 1;
        0.5 * (self.buf[self.at - 1] + 1.0)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

/// A random recursive tree on `p` observed nodes: node v attaches to a uniform earlier node.
fn random_parents(u: &mut Uniform, p: usize) -> Vec<usize> {
    (0..p)
        .map(|v| if v == 0 { usize::MAX } else { u.below(v) })
        .collect()
}

fn edge_set(parents: &[usize]) -> Vec<(usize, usize)> {
    let mut e: Vec<(usize, usize)> = (1..parents.len())
        .map(|v| (parents[v].min(v), parents[v].max(v)))
        .collect();
    e.sort();
    e
}

fn pairs(t: &Tree) -> Vec<(usize, usize)> {
    t.edges().iter().map(|e| (e.a, e.b)).collect()
}

/// Binary data p = 100, n = 10 000 from a tree model (each node copies its parent, flipped with
/// probability 0.05–0.3). Check: Chow–Liu returns the generating tree.
fn binary_row() -> Step {
    Box::new(|repeat, par| {
        let (p, n) = (100usize, 10_000usize);
        let mut u = Uniform::new(71);
        let parents = random_parents(&mut u, p);
        let flip: Vec<f64> = (0..p).map(|_| 0.05 + 0.25 * u.next()).collect();
        let mut x = vec![0u8; p * n];
        x[..n].iter_mut().for_each(|v| *v = (u.next() < 0.5) as u8);
        for v in 1..p {
            for t in 0..n {
                x[v * n + t] = x[parents[v] * n + t] ^ (u.next() < flip[v]) as u8;
            }
        }
        let states = vec![2u8; p];
        let codes = Codes::new(Samples::variable_major(&x, p, n)?, &states)?;
        let (t, timing) = Timing::measure(repeat, || {
            chow_liu_discrete(&codes, &ChowLiuConfig::new(), par)
        })?;
        let ok = pairs(&t) == edge_set(&parents);
        Ok(Row {
            kernel: "tree: Chow–Liu, binary (popcount Gram)",
            shape: format!("p {p}, n {n}"),
            summary: format!("generating tree recovered: {ok}"),
            ok,
            timing,
        })
    })
}

/// Gaussian data p = 300, n = 5 000 from a tree with edge correlations ±[0.4, 0.9]. Check:
/// Chow–Liu returns the generating tree.
fn gaussian_row() -> Step {
    Box::new(|repeat, par| {
        let (p, n) = (300usize, 5_000usize);
        let mut u = Uniform::new(72);
        let parents = random_parents(&mut u, p);
        let rho: Vec<f64> = (0..p)
            .map(|_| (0.4 + 0.5 * u.next()) * if u.next() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        let mut normal = || {
            let (a, b) = (u.next().max(1e-300), u.next());
            (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        let mut x = vec![0.0f64; p * n];
        x[..n].iter_mut().for_each(|v| *v = normal());
        for v in 1..p {
            let r = rho[v];
            for t in 0..n {
                x[v * n + t] = r * x[parents[v] * n + t] + (1.0 - r * r).sqrt() * normal();
            }
        }
        let x = Samples::variable_major(&x, p, n)?;
        let (t, timing) =
            Timing::measure(repeat, || chow_liu_gaussian(x, &ChowLiuConfig::new(), par))?;
        let ok = pairs(&t) == edge_set(&parents);
        Ok(Row {
            kernel: "tree: Chow–Liu, Gaussian (symmetric product)",
            shape: format!("p {p}, n {n}"),
            summary: format!("generating tree recovered: {ok}"),
            ok,
            timing,
        })
    })
}

/// A latent tree: `k` hidden nodes on a random recursive tree, each with 3 observed leaves
/// (m = 3k), edge lengths −ln U[0.2, 0.8].
fn latent_tree(u: &mut Uniform, k: usize) -> Tree {
    let m = 3 * k;
    let hp = random_parents(u, k);
    let mut len = || -(0.2 + 0.6 * u.next()).ln();
    let mut edges = Vec::new();
    for (h, &ph) in hp.iter().enumerate() {
        if h > 0 {
            edges.push(Edge {
                a: m + ph,
                b: m + h,
                weight: len(),
            });
        }
        for l in 0..3 {
            edges.push(Edge {
                a: 3 * h + l,
                b: m + h,
                weight: len(),
            });
        }
    }
    Tree::new(m, m + k, edges).unwrap_or_else(|_| unreachable!("a tree by construction"))
}

/// CLRG on the population distances of a latent tree with m = 999 observed leaves. Check:
/// exact recovery.
fn clrg_row() -> Step {
    Box::new(|repeat, _| {
        let truth = latent_tree(&mut Uniform::new(73), 333);
        let m = truth.n_observed();
        let d = path_lengths(&truth)?;
        let (t, timing) = Timing::measure(repeat, || clrg(&d, m, &RgConfig::population()))?;
        let ok = exact_recovery(&t, &truth);
        Ok(Row {
            kernel: "tree: CLRG from distances",
            shape: format!("m {m}, {} hidden", truth.n_hidden()),
            summary: format!("exact recovery: {ok}"),
            ok,
            timing,
        })
    })
}

/// Spectral NJ on the population distances of a latent tree with m = 255 observed leaves.
/// Check: exact recovery.
fn snj_row() -> Step {
    Box::new(|repeat, _| {
        let truth = latent_tree(&mut Uniform::new(74), 85);
        let m = truth.n_observed();
        let d = path_lengths(&truth)?;
        let (t, timing) = Timing::measure(repeat, || spectral_nj(&d, m, &SnjConfig::population()))?;
        let ok = exact_recovery(&t, &truth);
        Ok(Row {
            kernel: "tree: spectral NJ from distances",
            shape: format!("m {m}, {} hidden", truth.n_hidden()),
            summary: format!("exact recovery: {ok}"),
            ok,
            timing,
        })
    })
}

/// The demo's tree rows.
pub(crate) fn rows() -> Vec<Step> {
    vec![binary_row(), gaussian_row(), clrg_row(), snj_row()]
}
