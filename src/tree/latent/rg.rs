//! Recursive grouping (Choi, Tan, Anandkumar & Willsky 2011, §4).

use alloc::vec;
use alloc::vec::Vec;

use super::{Builder, check_distances, node_table, refill};
use crate::tree::Tree;
use crate::tree::graph::UnionFind;
use crate::{Error, Result};

/// Tests and post-processing of [`recursive_grouping`] (and of [`clrg`](super::clrg), which
/// runs it on neighbourhoods).
///
/// With `Φ_ijk = d_ik − d_jk` over third nodes `k`:
/// * `i, j` are in one family when `max_k Φ_ijk − min_k Φ_ijk ≤ eps`;
/// * a family member `p` is the parent of the others when
///   `Σ_c |mean_k Φ_cpk − d_cp| ≤ eps·(|family| − 1)`; otherwise a hidden parent is created.
///
/// Only third nodes with `max(d_ik, d_jk) < tau` take part (all of them when none qualifies).
/// Finally hidden nodes joined by an edge of length ≤ `contract` are merged into their
/// neighbour.
///
/// ```
/// use mlkern::tree::RgConfig;
/// let cfg = RgConfig::samples(1000).eps(0.1).contract(0.05);
/// assert_eq!((cfg.eps, cfg.contract), (0.1, 0.05));
/// assert_eq!(RgConfig::new(), RgConfig::population());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RgConfig {
    /// Tolerance of the family and parent tests (absolute, in distance units).
    pub eps: f64,
    /// Radius of the reliable third nodes.
    pub tau: f64,
    /// Hidden edges this short are contracted.
    pub contract: f64,
}

impl RgConfig {
    /// [`RgConfig::population`].
    pub fn new() -> Self {
        Self::population()
    }

    /// Sets [`eps`](Self::eps).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets [`tau`](Self::tau).
    pub fn tau(mut self, tau: f64) -> Self {
        self.tau = tau;
        self
    }

    /// Sets [`contract`](Self::contract).
    pub fn contract(mut self, contract: f64) -> Self {
        self.contract = contract;
        self
    }

    /// Exact tests for population (tree-metric) distances: `eps = 1e−8`, every third node,
    /// contraction of zero-length edges only (`contract = 1e−8`).
    pub fn population() -> Self {
        RgConfig {
            eps: 1e-8,
            tau: f64::INFINITY,
            contract: 1e-8,
        }
    }

    /// Relaxed tests for distances estimated from `n` samples: `eps = 0.2`,
    /// Choi's reliability radius `tau = −ln 0.05 + 0.1·ln n`, and Choi's contraction of hidden
    /// edges shorter than `−ln 0.9`. These are heuristics; tune `eps` to the noise of the
    /// distances (roughly a few times their standard error).
    pub fn samples(n: usize) -> Self {
        RgConfig {
            eps: 0.2,
            tau: -num_traits::Float::ln(0.05f64) + 0.1 * num_traits::Float::ln(n.max(1) as f64),
            contract: -num_traits::Float::ln(0.9f64),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if !(self.eps >= 0.0 && self.eps.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "rg: eps",
                reason: "must be finite and ≥ 0",
            });
        }
        if self.tau.is_nan()
            || self.tau <= 0.0
            || !(self.contract.is_finite() && self.contract >= 0.0)
        {
            return Err(Error::InvalidParameter {
                name: "rg: tau, contract",
                reason: "tau must be > 0, contract finite and ≥ 0",
            });
        }
        Ok(())
    }
}

impl Default for RgConfig {
    /// [`RgConfig::population`].
    fn default() -> Self {
        Self::population()
    }
}

/// Recursive grouping over the `m×m` information distances `d` of the observed nodes
/// (row-major). Observed nodes may be leaves or internal; hidden nodes get ids `m..`.
/// Edges carry information distances. Cost `O(diam·m³)`.
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::NonFinite`], [`Error::InvalidParameter`] for a matrix
/// that is not a distance matrix (asymmetric, nonzero diagonal, negative) or bad options.
///
/// ```
/// use mlkern::tree::{recursive_grouping, RgConfig};
/// // Star: hidden centre with legs 1, 2, 3 to observed 0, 1, 2.
/// let d = [0.0, 3.0, 4.0,
///          3.0, 0.0, 5.0,
///          4.0, 5.0, 0.0];
/// let t = recursive_grouping(&d, 3, &RgConfig::population())?;
/// assert_eq!(t.n_hidden(), 1);
/// assert_eq!(t.total_weight(), 6.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn recursive_grouping(d: &[f64], m: usize, opts: &RgConfig) -> Result<Tree> {
    check_distances(d, m, "recursive_grouping: d")?;
    opts.check()?;
    let mut b = Builder::new(m);
    grow(d, m, opts, &mut b)?;
    b.finish(opts.contract)
}

/// Runs RG on local distances `d` (`m×m`), adding hidden nodes and edges to `b` (whose first
/// `m` ids are the local observed nodes): the tree is in `b`.
///
/// # Errors
/// [`Error::OutOfMemory`] when its `(2m)²` and `m²` tables cannot be allocated.
pub(crate) fn grow(d: &[f64], m: usize, opts: &RgConfig, b: &mut Builder) -> Result<()> {
    if m <= 1 {
        return Ok(());
    }
    // Distances among every node created, observed first (at most 2m nodes).
    let cap = 2 * m;
    let mut dd = node_table(m, "recursive_grouping: m")?;
    for i in 0..m {
        dd[i * cap..i * cap + m].copy_from_slice(&d[i * m..(i + 1) * m]);
    }
    // Local id → builder id.
    let mut ids: Vec<usize> = (0..m).collect();
    let mut y: Vec<usize> = (0..m).collect();
    let mut phi = Vec::new();
    let mut spread = Vec::new();
    while y.len() > 2 {
        let r = y.len();
        refill(&mut phi, r * r, 0.0, "recursive_grouping: m")?;
        refill(&mut spread, r * r, f64::INFINITY, "recursive_grouping: m")?;
        let mut uf = UnionFind::new(r);
        let mut any = false;
        let mut ks: Vec<usize> = Vec::with_capacity(r);
        for a in 0..r {
            for c in a + 1..r {
                let (i, j) = (y[a], y[c]);
                ks.clear();
                ks.extend(
                    (0..r)
                        .filter(|&k| k != a && k != c)
                        .filter(|&k| dd[i * cap + y[k]].max(dd[j * cap + y[k]]) < opts.tau),
                );
                if ks.is_empty() {
                    ks.extend((0..r).filter(|&k| k != a && k != c));
                }
                let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
                for &k in &ks {
                    let f = dd[i * cap + y[k]] - dd[j * cap + y[k]];
                    lo = lo.min(f);
                    hi = hi.max(f);
                    sum += f;
                }
                let mean = sum / ks.len() as f64;
                phi[a * r + c] = mean;
                phi[c * r + a] = -mean;
                spread[a * r + c] = hi - lo;
                spread[c * r + a] = hi - lo;
                if hi - lo <= opts.eps {
                    uf.union(a, c);
                    any = true;
                }
            }
        }
        if !any {
            // No family passes the test (noisy distances): group the most consistent pair so
            // every round makes progress.
            let (mut best, mut pair) = (f64::INFINITY, (0, 1));
            for a in 0..r {
                for c in a + 1..r {
                    if spread[a * r + c] < best {
                        best = spread[a * r + c];
                        pair = (a, c);
                    }
                }
            }
            uf.union(pair.0, pair.1);
        }
        let mut families: Vec<Vec<usize>> = vec![Vec::new(); r];
        for a in 0..r {
            let root = uf.find(a);
            families[root].push(a);
        }
        let mut y_new: Vec<usize> = Vec::new();
        let mut new_hidden: Vec<(usize, Vec<usize>)> = Vec::new(); // (local id, children local ids)
        for fam in families.iter().filter(|f| !f.is_empty()) {
            if fam.len() == 1 {
                y_new.push(y[fam[0]]);
                continue;
            }
            // Parent test: Φ_cpk = d_cp for every child c.
            let mut best: Option<(f64, usize)> = None;
            for &p in fam {
                let score: f64 = fam
                    .iter()
                    .filter(|&&c| c != p)
                    .map(|&c| (phi[c * r + p] - dd[y[c] * cap + y[p]]).abs())
                    .sum();
                if best.is_none_or(|(s, _)| score < s) {
                    best = Some((score, p));
                }
            }
            let (score, p) = best.unwrap_or_else(|| unreachable!("families are non-empty"));
            if score <= opts.eps * (fam.len() - 1) as f64 {
                let pl = y[p];
                for &c in fam.iter().filter(|&&c| c != p) {
                    b.edge(ids[pl], ids[y[c]], dd[pl * cap + y[c]]);
                }
                y_new.push(pl);
                continue;
            }
            // Hidden parent h: d_ih = mean_j ½(d_ij + Φ_ij).
            let h = ids.len();
            ids.push(b.hidden());
            for &a in fam {
                let mut s = 0.0;
                for &c in fam.iter().filter(|&&c| c != a) {
                    s += 0.5 * (dd[y[a] * cap + y[c]] + phi[a * r + c]);
                }
                let dih = (s / (fam.len() - 1) as f64).max(0.0);
                dd[y[a] * cap + h] = dih;
                dd[h * cap + y[a]] = dih;
                b.edge(ids[h], ids[y[a]], dih);
            }
            new_hidden.push((h, fam.iter().map(|&a| y[a]).collect()));
            y_new.push(h);
        }
        // Distances from each new hidden node to the other active nodes.
        for (h, ch) in &new_hidden {
            for &l in &y_new {
                if l == *h {
                    continue;
                }
                let v = if let Some((_, ch2)) = new_hidden.iter().find(|(h2, _)| *h2 == l) {
                    let mut s = 0.0;
                    for &i in ch {
                        for &j in ch2 {
                            s += dd[i * cap + j] - dd[i * cap + h] - dd[j * cap + l];
                        }
                    }
                    s / (ch.len() * ch2.len()) as f64
                } else {
                    ch.iter()
                        .map(|&i| dd[i * cap + l] - dd[i * cap + h])
                        .sum::<f64>()
                        / ch.len() as f64
                };
                let v = v.max(0.0);
                dd[h * cap + l] = v;
                dd[l * cap + h] = v;
            }
        }
        if y_new.len() == r {
            // Cannot happen (at least one family has two members), but never loop forever.
            break;
        }
        y = y_new;
    }
    if y.len() == 2 {
        b.edge(ids[y[0]], ids[y[1]], dd[y[0] * cap + y[1]]);
    }
    Ok(())
}
