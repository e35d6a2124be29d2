//! Spectral neighbour joining (Jaffe, Amsel, Aizenbud, Nadler, Chang & Kluger 2021).

use alloc::vec;
use alloc::vec::Vec;

use faer::{Mat, Side};
use num_traits::Float;

use super::{Builder, check_distances, node_table};
use crate::tree::Tree;
use crate::{Error, Result};

/// Configuration of [`spectral_nj`].
///
/// ```
/// use mlkern::tree::SnjConfig;
/// assert_eq!(SnjConfig::new().contract(0.0).contract, 0.0); // keep the binary tree
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SnjConfig {
    /// Hidden edges this short are contracted after the (binary) tree is built, so that
    /// multifurcations are recovered; `0` keeps the binary tree.
    pub contract: f64,
}

impl SnjConfig {
    /// `contract = 1e−8`.
    pub fn population() -> Self {
        SnjConfig { contract: 1e-8 }
    }

    /// `contract = −ln 0.9` (Choi's threshold) for distances estimated from samples.
    pub fn samples() -> Self {
        SnjConfig {
            contract: -num_traits::Float::ln(0.9f64),
        }
    }

    /// [`SnjConfig::population`].
    pub fn new() -> Self {
        Self::population()
    }

    /// Sets [`contract`](Self::contract).
    pub fn contract(mut self, contract: f64) -> Self {
        self.contract = contract;
        self
    }
}

impl Default for SnjConfig {
    /// [`SnjConfig::population`].
    fn default() -> Self {
        Self::population()
    }
}

/// Spectral neighbour joining over the `m×m` information distances of observed **leaves**:
/// with similarities `S = e^{−d}`, repeatedly merge the two clades `A, B` whose union has the
/// smallest `σ₂(S[A∪B, rest])` (a clade of the true tree gives a rank-one block; a block with
/// one row or one column scores 0, ties go to the first pair in clade order), until three clades
/// remain, which join at one hidden node. Branch lengths come from clade-averaged distances
/// (`l_A = ½(D̄_AB + D̄_A,rest − D̄_B,rest) − mean_{a∈A} d(a, root_A)`, clamped at 0), then
/// edges of length ≤ [`SnjConfig::contract`] are contracted.
///
/// σ₂ comes from the eigenvalues of the Gram matrix of the block's shorter side, so one score
/// costs `O(s²·(m − s))` for a union of `s ≤ m/2` leaves.
///
/// # Errors
/// As [`recursive_grouping`](super::recursive_grouping); [`Error::NoConvergence`] if an
/// eigen-decomposition fails.
///
/// ```
/// use mlkern::tree::{spectral_nj, SnjConfig};
/// let d = [0.0, 2.0, 4.0, 4.0,
///          2.0, 0.0, 4.0, 4.0,
///          4.0, 4.0, 0.0, 2.0,
///          4.0, 4.0, 2.0, 0.0];
/// let t = spectral_nj(&d, 4, &SnjConfig::population())?;
/// assert_eq!(t.n_hidden(), 2);
/// assert!((t.total_weight() - 6.0).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn spectral_nj(d: &[f64], m: usize, opts: &SnjConfig) -> Result<Tree> {
    check_distances(d, m, "spectral_nj: d")?;
    if !(opts.contract >= 0.0 && opts.contract.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "spectral_nj: contract",
            reason: "must be finite and ≥ 0",
        });
    }
    let mut b = Builder::new(m);
    if m <= 1 {
        return b.finish(0.0);
    }
    if m == 2 {
        b.edge(0, 1, d[1]);
        return b.finish(0.0);
    }
    let s = crate::base::collect(d.iter().map(|&x| Float::exp(-x)), "spectral_nj: m")?;
    // Clades by slot: leaves, builder node id; `None` once merged.
    let mut clades: Vec<Option<(Vec<usize>, usize)>> = (0..m).map(|v| Some((vec![v], v))).collect();
    let mut depth = vec![0.0f64; m]; // d(leaf, root of its clade)
    let cap = 2 * m;
    let mut score = node_table(m, "spectral_nj: m")?;
    score.fill(f64::INFINITY);
    let mut sc = Scratch::default();
    for a in 0..m {
        for c in a + 1..m {
            let v = sigma2(&s, m, &[a, c], &mut sc)?;
            score[a * cap + c] = v;
        }
    }
    let mut alive = m;
    while alive > 3 {
        let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
        for a in 0..clades.len() {
            if clades[a].is_none() {
                continue;
            }
            for c in a + 1..clades.len() {
                if clades[c].is_some() && (score[a * cap + c] < best.0 || best.1 == usize::MAX) {
                    best = (score[a * cap + c], a, c);
                }
            }
        }
        let (_, ia, ic) = best;
        let (la, ra) = clades[ia]
            .take()
            .unwrap_or_else(|| unreachable!("alive clade"));
        let (lc, rc) = clades[ic]
            .take()
            .unwrap_or_else(|| unreachable!("alive clade"));
        let rest: Vec<usize> = clades
            .iter()
            .flatten()
            .flat_map(|(l, _)| l.iter().copied())
            .collect();
        let dab = mean_between(d, m, &la, &lc);
        let lena = (0.5 * (dab + mean_between(d, m, &la, &rest) - mean_between(d, m, &lc, &rest))
            - mean_of(&depth, &la))
        .max(0.0);
        let lenc = (dab - mean_of(&depth, &la) - mean_of(&depth, &lc) - lena).max(0.0);
        let h = b.hidden();
        b.edge(h, ra, lena);
        b.edge(h, rc, lenc);
        la.iter().for_each(|&v| depth[v] += lena);
        lc.iter().for_each(|&v| depth[v] += lenc);
        let mut merged = la;
        merged.extend_from_slice(&lc);
        let slot = clades.len();
        clades.push(Some((merged, h)));
        alive -= 1;
        if alive > 3 {
            let (mine, _) = clades[slot]
                .as_ref()
                .unwrap_or_else(|| unreachable!("just pushed"));
            let mut rows = Vec::with_capacity(m);
            for x in 0..slot {
                if let Some((lx, _)) = &clades[x] {
                    rows.clear();
                    rows.extend_from_slice(mine);
                    rows.extend_from_slice(lx);
                    score[x * cap + slot] = sigma2(&s, m, &rows, &mut sc)?;
                }
            }
        }
    }
    let last: Vec<(Vec<usize>, usize)> = clades.into_iter().flatten().collect();
    let h = b.hidden();
    for k in 0..3 {
        let (x, y) = ((k + 1) % 3, (k + 2) % 3);
        let l = 0.5
            * (mean_between(d, m, &last[k].0, &last[x].0)
                + mean_between(d, m, &last[k].0, &last[y].0)
                - mean_between(d, m, &last[x].0, &last[y].0))
            - mean_of(&depth, &last[k].0);
        b.edge(h, last[k].1, l);
    }
    b.finish(opts.contract)
}

fn mean_between(d: &[f64], m: usize, a: &[usize], c: &[usize]) -> f64 {
    if a.is_empty() || c.is_empty() {
        return 0.0;
    }
    let mut s = 0.0;
    for &i in a {
        for &j in c {
            s += d[i * m + j];
        }
    }
    s / (a.len() * c.len()) as f64
}

fn mean_of(x: &[f64], idx: &[usize]) -> f64 {
    idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64
}

/// Reused buffers of [`sigma2`].
#[derive(Default)]
struct Scratch {
    in_set: Vec<bool>,
    cols: Vec<usize>,
    block: Vec<f64>,
}

/// σ₂ of `S[rows, complement(rows)]`; 0 for a block with one row or one column.
fn sigma2(s: &[f64], m: usize, rows: &[usize], sc: &mut Scratch) -> Result<f64> {
    let r = rows.len();
    let c = m - r;
    if r <= 1 || c <= 1 {
        return Ok(0.0);
    }
    sc.in_set.resize(m, false);
    rows.iter().for_each(|&i| sc.in_set[i] = true);
    sc.cols.clear();
    sc.cols.extend((0..m).filter(|&j| !sc.in_set[j]));
    rows.iter().for_each(|&i| sc.in_set[i] = false);
    // Gram of the shorter side: G = B·Bᵀ with B the block (or its transpose), k × len.
    let (short, long) = if r <= c {
        (rows, &sc.cols[..])
    } else {
        (&sc.cols[..], rows)
    };
    let (k, len) = (short.len(), long.len());
    sc.block.clear();
    crate::base::reserve(&mut sc.block, k * len, "spectral_nj: m")?;
    for &i in short {
        let row = &s[i * m..(i + 1) * m];
        sc.block.extend(long.iter().map(|&j| row[j]));
    }
    let b = &sc.block;
    let dot = |x: usize, y: usize| {
        crate::simd::dot(&b[x * len..(x + 1) * len], &b[y * len..(y + 1) * len]).unwrap_or(0.0)
    };
    let lambda2 = if k == 2 {
        let (p, q, r2) = (dot(0, 0), dot(1, 1), dot(0, 1));
        let det = p * q - r2 * r2;
        let l1 = 0.5 * (p + q + Float::sqrt((p - q) * (p - q) + 4.0 * r2 * r2));
        if l1 > 0.0 { det / l1 } else { 0.0 }
    } else {
        let mut g = Mat::<f64>::zeros(k, k);
        for x in 0..k {
            for y in 0..=x {
                let v = dot(x, y);
                g[(x, y)] = v;
                g[(y, x)] = v;
            }
        }
        let mut ev = g
            .self_adjoint_eigenvalues(Side::Lower)
            .map_err(|_| Error::NoConvergence {
                algorithm: "spectral_nj: symmetric eigenvalues",
                iterations: 0,
            })?;
        ev.sort_by(|x, y| y.total_cmp(x));
        ev[1]
    };
    Ok(Float::sqrt(lambda2.max(0.0)))
}
