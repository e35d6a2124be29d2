//! Neighbour joining (Saitou & Nei 1987) with Choi et al.'s handling of observed internal nodes.

use alloc::vec;
use alloc::vec::Vec;

use super::{Builder, check_distances, node_table};
use crate::tree::Tree;
use crate::{Error, Result};

/// Configuration of [`neighbor_joining`].
///
/// ```
/// use mlkern::tree::NjConfig;
/// assert_eq!(NjConfig::new().tol(0.0).tol, 0.0); // plain binary NJ
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct NjConfig {
    /// Branches this short mean "the same node" (Choi's rule for observed internal nodes):
    /// when the new node would sit within `tol` of a joined node, the other becomes its child;
    /// when it sits within `tol` of another active node, both attach there. `0` gives plain
    /// (binary) NJ.
    pub tol: f64,
}

impl NjConfig {
    /// [`NjConfig::population`].
    pub fn new() -> Self {
        Self::population()
    }

    /// Sets [`tol`](Self::tol).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// `tol = 1e−8`: exact recovery of observed internal nodes and multifurcations from
    /// population distances.
    pub fn population() -> Self {
        NjConfig { tol: 1e-8 }
    }

    /// Choi's toolbox threshold `tol = −ln 0.9` for distances estimated from samples.
    pub fn samples() -> Self {
        NjConfig {
            tol: -num_traits::Float::ln(0.9f64),
        }
    }
}

impl Default for NjConfig {
    /// [`NjConfig::population`].
    fn default() -> Self {
        Self::population()
    }
}

/// Neighbour joining over the `m×m` information distances of the observed nodes: repeatedly
/// join the pair minimising `Q_ij = (r − 2)·d_ij − R_i − R_j` (`R_i = Σ_k d_ik` over the `r`
/// active nodes; ties: the first pair in row order), branch lengths
/// `d_iu = ½d_ij + (R_i − R_j)/(2(r − 2))`, `d_uk = ½(d_ik + d_jk − d_ij)`, with the
/// observed-internal rule of [`NjConfig::tol`]. Negative branch lengths are clamped to 0.
/// Cost `O(m³)`.
///
/// # Errors
/// As [`recursive_grouping`](super::recursive_grouping); [`Error::InvalidParameter`] for a
/// negative or non-finite `tol`.
///
/// ```
/// use mlkern::tree::{neighbor_joining, NjConfig};
/// // Quartet ((0, 1), (2, 3)): leaves at 1 from their hidden node, hidden nodes 2 apart.
/// let d = [0.0, 2.0, 4.0, 4.0,
///          2.0, 0.0, 4.0, 4.0,
///          4.0, 4.0, 0.0, 2.0,
///          4.0, 4.0, 2.0, 0.0];
/// let t = neighbor_joining(&d, 4, &NjConfig::population())?;
/// assert_eq!(t.n_hidden(), 2);
/// assert_eq!(t.total_weight(), 6.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn neighbor_joining(d: &[f64], m: usize, opts: &NjConfig) -> Result<Tree> {
    check_distances(d, m, "neighbor_joining: d")?;
    if !(opts.tol >= 0.0 && opts.tol.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "neighbor_joining: tol",
            reason: "must be finite and ≥ 0",
        });
    }
    let tol = opts.tol;
    let mut b = Builder::new(m);
    if m <= 1 {
        return b.finish(0.0);
    }
    let cap = 2 * m;
    let mut dd = node_table(m, "neighbor_joining: m")?;
    for i in 0..m {
        dd[i * cap..i * cap + m].copy_from_slice(&d[i * m..(i + 1) * m]);
    }
    let mut ids: Vec<usize> = (0..m).collect();
    let mut active: Vec<usize> = (0..m).collect();
    let mut rsum = vec![0.0f64; cap];
    while active.len() > 3 {
        let r = active.len();
        for &i in &active {
            rsum[i] = active.iter().map(|&k| dd[i * cap + k]).sum();
        }
        let (mut best, mut pair) = (f64::INFINITY, (0, 1));
        for x in 0..r {
            let i = active[x];
            let row = &dd[i * cap..(i + 1) * cap];
            for &j in &active[x + 1..] {
                let q = (r - 2) as f64 * row[j] - rsum[i] - rsum[j];
                if q < best {
                    best = q;
                    pair = (i, j);
                }
            }
        }
        let (i, j) = pair;
        let dij = dd[i * cap + j];
        let li = (0.5 * dij + (rsum[i] - rsum[j]) / (2.0 * (r - 2) as f64)).clamp(0.0, dij);
        let lj = dij - li;
        if tol > 0.0 && (li <= tol || lj <= tol) {
            // The new node is i (or j): the other one hangs off it.
            let (keep, child) = if li <= tol { (i, j) } else { (j, i) };
            b.edge(ids[keep], ids[child], dij);
            active.retain(|&k| k != child);
            continue;
        }
        let du = |k: usize, dd: &[f64]| 0.5 * (dd[i * cap + k] + dd[j * cap + k] - dij);
        if let Some(&k) = active
            .iter()
            .find(|&&k| tol > 0.0 && k != i && k != j && du(k, &dd) <= tol)
        {
            b.edge(ids[k], ids[i], li);
            b.edge(ids[k], ids[j], lj);
            active.retain(|&x| x != i && x != j);
            continue;
        }
        let u = ids.len();
        ids.push(b.hidden());
        for &k in &active {
            let v = du(k, &dd).max(0.0);
            dd[u * cap + k] = v;
            dd[k * cap + u] = v;
        }
        b.edge(ids[u], ids[i], li);
        b.edge(ids[u], ids[j], lj);
        active.retain(|&x| x != i && x != j);
        active.push(u);
    }
    match active[..] {
        [x, y, z] => {
            let (dxy, dxz, dyz) = (dd[x * cap + y], dd[x * cap + z], dd[y * cap + z]);
            let legs = [
                (x, 0.5 * (dxy + dxz - dyz)),
                (y, 0.5 * (dxy + dyz - dxz)),
                (z, 0.5 * (dxz + dyz - dxy)),
            ];
            if let Some(&(c, _)) = legs.iter().find(|(_, l)| tol > 0.0 && *l <= tol) {
                for &(o, _) in legs.iter().filter(|(o, _)| *o != c) {
                    b.edge(ids[c], ids[o], dd[c * cap + o]);
                }
            } else {
                let h = b.hidden();
                for (o, l) in legs {
                    b.edge(h, ids[o], l);
                }
            }
        }
        [x, y] => b.edge(ids[x], ids[y], dd[x * cap + y]),
        _ => {}
    }
    b.finish(0.0)
}
