//! The Gaussian Chow–Liu tree from an f32 correlation product, certified in f64.
//!
//! The maximum spanning tree of `−½ ln(1 − ρ²)` depends only on the order of the `|ρ|`. The
//! Gram product `Z·Zᵀ` of the standardized samples — all but a sliver of the work — runs in f32
//! (twice the f64 GEMM rate), and every f32 correlation `ρ̃` carries the rigorous radius
//! `|ρ̃ − ρ| ≤ δ₃₂ = 1.01·(γₙ + 2.1u) + 2n·2⁻¹⁴⁹` (`u = 2⁻²⁴`, `γₙ = nu/(1 − nu)`: any summation
//! order of `n` products of unit vectors, the rounding of both factors to f32, and underflow).
//!
//! A spanning tree `T` is a maximum one when every non-tree pair `e` weighs at most the lightest
//! tree edge on its tree path (the cycle property). The check is made on intervals: certified
//! when `|ρ̃_e| + δ_e < min_{f ∈ path(e)} (|ρ̃_f| − δ_f)` for every `e`. Pairs that fail (and the
//! path edge they failed against) are recomputed in f64 from the standardized samples (one pass
//! over the data for all of them, radius `δ₆₄`), the tree is recomputed and checked again. A
//! certified tree is the unique maximum spanning tree of the exact correlations, so it is the tree
//! the f64 product finds too; its weights come from f64 correlations of its edges. When two
//! pairs are still within `δ₆₄` of each other (a tie in f64), or too many pairs need f64, the
//! caller takes the f64 product instead — so the tree and its tie-breaking are never decided by
//! f32 rounding.

use alloc::vec::Vec;

use super::chow_liu::tree_of_correlations;
use super::gaussian::{
    ROW_STATS, block_width, check_samples, column_stats, correlations_from_stats, square,
    standardized_blocks, standardized_gram,
};
use super::info::gaussian_mi;
use super::mst::{Objective, spanning_tree_into};
use super::{Edge, Samples, Tree};
use crate::base::{filled, zeros};
use crate::{Par, Real, Result};

/// Variables from which the certified path is tried (below it the f64 product is cheap).
pub(crate) const CERTIFIED_MIN_VARS: usize = 256;
/// At most this many f64 pairs per variable before the f64 product is cheaper.
const MAX_REFINED_PER_VAR: usize = 8;
/// At most this many rounds of recomputation.
const MAX_ROUNDS: usize = 6;

/// Whether the certified path is tried for `n` samples of `p` variables: enough variables for
/// the f32 product to pay, few enough samples for a useful f32 error bound.
fn applies(n: usize, p: usize) -> bool {
    p >= CERTIFIED_MIN_VARS && n as f64 * f64::from(f32::EPSILON) / 2.0 <= 0.01
}

/// The Gaussian Chow–Liu tree of `x` (plain correlations), or `None` when the certified path
/// does not apply and the caller takes the f64 product. When the certified search declines
/// after the samples are checked and the statistics computed, the f64 correlations are made
/// here from the same statistics (the tree `correlation_matrix` + `tree_of_correlations`
/// give, bit for bit), so nothing is checked or computed twice.
pub(crate) fn chow_liu_gaussian_fast<T: Real>(
    x: &Samples<'_, T>,
    par: Par,
) -> Result<Option<Tree>> {
    let (n, p) = (x.n_samples(), x.n_vars());
    if !applies(n, p) {
        return Ok(None);
    }
    check_samples(x, "correlation_matrix: x")?;
    let what = "chow_liu_gaussian: n_vars";
    let (mut mus, mut scales) = (zeros::<f64>(p, what)?, zeros::<f64>(p, what)?);
    {
        let mut stats = zeros::<f64>(p * ROW_STATS, what)?;
        column_stats(x, &mut mus, &mut scales, &mut stats, par)?;
    }
    if let Some(tree) = chow_liu_gaussian_certified(x, &mus, &scales, par)? {
        return Ok(Some(tree));
    }
    let mut corr = zeros::<f64>(square(p, what)?, what)?;
    let mut buf = zeros::<f64>(p * block_width(n, p), what)?;
    correlations_from_stats(&mut corr, x, &mus, &scales, &mut buf, par)?;
    tree_of_correlations(&corr, p).map(Some)
}

/// The Chow–Liu tree of `x` (checked samples; `mus`, `scales` from `column_stats`) by the
/// certified f32 path, or `None` when it declines (the path does not apply, f64-level
/// near-ties, too many uncertain pairs).
fn chow_liu_gaussian_certified<T: Real>(
    x: &Samples<'_, T>,
    mus: &[f64],
    scales: &[f64],
    par: Par,
) -> Result<Option<Tree>> {
    let (n, p) = (x.n_samples(), x.n_vars());
    if !applies(n, p) {
        return Ok(None);
    }
    let (u32r, u64r) = (f64::from(f32::EPSILON) / 2.0, f64::EPSILON / 2.0);
    let (nu32, nu64) = (n as f64 * u32r, n as f64 * u64r);
    // Plus `2n` smallest f32 subnormals: more than the absolute error of factors and
    // products that underflow (outside the relative bound).
    let rad32 = 1.01 * (nu32 / (1.0 - nu32) + 2.1 * u32r) + 2.0 * n as f64 * 1.5e-45;
    // Twice the f64 bound: a certified order must also be the order the f64 product computes,
    // whose own error is as large.
    let rad64 = 2.02 * (nu64 / (1.0 - nu64) + 8.0 * u64r);
    let what = "chow_liu_gaussian: n_vars";
    let pp = square(p, what)?;
    let w = block_width(n, p);
    let mut wts = zeros::<f64>(pp, what)?;
    {
        let mut g = zeros::<f32>(pp, what)?;
        let mut buf = zeros::<f32>(p * w, what)?;
        standardized_gram(&mut g, x, mus, scales, &mut buf, par)?;
        for i in 0..p {
            for j in 0..i {
                let r = f64::from(g[i * p + j]).abs();
                wts[i * p + j] = r;
                wts[j * p + i] = r;
            }
        }
    }
    let mut is_exact = filled(pp, false, what)?;
    let (mut parent, mut key) = (zeros::<usize>(p, what)?, zeros::<f64>(p, what)?);
    let mut walk = Walk::new(p)?;
    let mut refined = 0;
    for _ in 0..MAX_ROUNDS {
        spanning_tree_into(&wts, p, Objective::Maximum, &mut parent, &mut key)?;
        let rad = |i: usize, j: usize| if is_exact[i * p + j] { rad64 } else { rad32 };
        let Some(mut want) = walk.uncertain(&wts, &parent, &is_exact, &rad, refined, p)? else {
            return Ok(None);
        };
        let certified = want.is_empty();
        want.extend(
            (1..p)
                .map(|v| ordered(parent[v], v))
                .filter(|&(i, j)| !is_exact[i * p + j]),
        );
        want.sort_unstable();
        want.dedup();
        if certified && want.is_empty() {
            // Every tree edge is exact here, and the MI depends on |ρ| only.
            let edges = (1..p).map(|v| Edge {
                a: parent[v],
                b: v,
                weight: gaussian_mi(wts[parent[v] * p + v]),
            });
            return Tree::new(p, p, crate::base::collect(edges, what)?).map(Some);
        }
        refined += want.len();
        if refined > MAX_REFINED_PER_VAR * p {
            return Ok(None);
        }
        for ((i, j), rho) in want
            .iter()
            .zip(exact_correlations(x, mus, scales, &want, par)?)
        {
            wts[i * p + j] = rho.abs();
            wts[j * p + i] = rho.abs();
            is_exact[i * p + j] = true;
            is_exact[j * p + i] = true;
        }
    }
    Ok(None)
}

/// `(max, min)` of a pair: one name for each unordered pair.
fn ordered(a: usize, b: usize) -> (usize, usize) {
    if a > b { (a, b) } else { (b, a) }
}

/// f64 correlations of `pairs` from the standardized samples: one pass over the data, each
/// block's products summed by the crate's SIMD dot and the blocks in order, so the values do
/// not depend on `par` or the layout.
fn exact_correlations<T: Real>(
    x: &Samples<'_, T>,
    mus: &[f64],
    scales: &[f64],
    pairs: &[(usize, usize)],
    par: Par,
) -> Result<Vec<f64>> {
    let p = x.n_vars();
    let what = "chow_liu_gaussian: n_vars";
    let mut buf = zeros::<f64>(p * block_width(x.n_samples(), p), what)?;
    let mut acc = zeros::<f64>(pairs.len(), what)?;
    standardized_blocks(x, mus, scales, &mut buf, par, |_, w, block| {
        for (a, &(i, j)) in acc.iter_mut().zip(pairs) {
            let (zi, zj) = (&block[i * w..(i + 1) * w], &block[j * w..(j + 1) * w]);
            *a += crate::simd::dot(zi, zj)?;
        }
        Ok(())
    })?;
    Ok(acc)
}

/// Walks of the spanning tree from every node: the lightest lower bound on each tree path.
struct Walk {
    /// Children lists of the tree rooted at 0 plus parent links, as adjacency (CSR).
    start: Vec<usize>,
    adj: Vec<usize>,
    /// Per node of the current walk: the smallest `|ρ| − δ` on its path from the root of the
    /// walk, and the path edge that attains it.
    low: Vec<f64>,
    arg: Vec<(usize, usize)>,
    next: Vec<usize>,
    stack: Vec<usize>,
    seen: Vec<usize>,
}

impl Walk {
    fn new(p: usize) -> Result<Self> {
        let what = "chow_liu_gaussian: n_vars";
        Ok(Walk {
            start: zeros(p + 1, what)?,
            adj: zeros(2 * p, what)?,
            low: zeros(p, what)?,
            arg: filled(p, (0, 0), what)?,
            next: zeros(p + 1, what)?,
            stack: zeros(p, what)?,
            seen: filled(p, usize::MAX, what)?,
        })
    }

    /// The pairs to recompute in f64 for the tree `parent` (Prim's, rooted at 0): every
    /// non-tree pair that fails the cycle-property check on intervals, and the path edge it
    /// failed against (those already exact are skipped). `None` when a failing pair and its path
    /// edge are both exact (a tie at f64 precision) or when more than the refinement budget
    /// (`MAX_REFINED_PER_VAR · p`, less `done`) fails.
    fn uncertain(
        &mut self,
        wts: &[f64],
        parent: &[usize],
        is_exact: &[bool],
        rad: &impl Fn(usize, usize) -> f64,
        done: usize,
        p: usize,
    ) -> Result<Option<Vec<(usize, usize)>>> {
        // Adjacency of the tree.
        self.start.fill(0);
        for (v, &u) in parent.iter().enumerate().skip(1) {
            self.start[u + 1] += 1;
            self.start[v + 1] += 1;
        }
        for v in 0..p {
            self.start[v + 1] += self.start[v];
        }
        self.next.copy_from_slice(&self.start);
        for (v, &u) in parent.iter().enumerate().skip(1) {
            self.adj[self.next[u]] = v;
            self.next[u] += 1;
            self.adj[self.next[v]] = u;
            self.next[v] += 1;
        }
        let budget = (MAX_REFINED_PER_VAR * p).saturating_sub(done);
        let mut want = Vec::new();
        for root in 0..p {
            // Depth-first walk from `root`, marking nodes with the walk's id.
            self.seen[root] = root;
            self.low[root] = f64::INFINITY;
            self.stack[0] = root;
            let mut top = 1;
            while top > 0 {
                top -= 1;
                let a = self.stack[top];
                for k in self.start[a]..self.start[a + 1] {
                    let b = self.adj[k];
                    if self.seen[b] == root {
                        continue;
                    }
                    self.seen[b] = root;
                    let lo = wts[a * p + b] - rad(a, b);
                    (self.low[b], self.arg[b]) = if lo < self.low[a] {
                        (lo, ordered(a, b))
                    } else {
                        (self.low[a], self.arg[a])
                    };
                    self.stack[top] = b;
                    top += 1;
                }
            }
            for v in 0..root {
                if parent[v] == root || parent[root] == v {
                    continue;
                }
                let hi = wts[root * p + v] + rad(root, v);
                if hi < self.low[v] {
                    continue;
                }
                let e = ordered(root, v);
                let f = self.arg[v];
                let (ex_e, ex_f) = (is_exact[e.0 * p + e.1], is_exact[f.0 * p + f.1]);
                if ex_e && ex_f {
                    return Ok(None);
                }
                if !ex_e {
                    want.push(e);
                }
                if !ex_f {
                    want.push(f);
                }
                if want.len() > 2 * budget {
                    return Ok(None);
                }
            }
        }
        want.sort_unstable();
        want.dedup();
        if want.len() > budget {
            return Ok(None);
        }
        Ok(Some(want))
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::chow_liu_gaussian_certified;
    use crate::tree::gaussian::{ROW_STATS, column_stats};
    use crate::tree::{
        ChowLiuConfig, Objective, Samples, Tree, chow_liu_gaussian, correlation_matrix,
        gaussian_mi_matrix, spanning_tree,
    };
    use crate::{Par, Result};

    /// The certified search on `s` with its own statistics.
    fn certified(s: &Samples<'_, f64>, par: Par) -> Result<Option<Tree>> {
        let p = s.n_vars();
        let (mut mus, mut scales) = (alloc::vec![0.0; p], alloc::vec![0.0; p]);
        column_stats(
            s,
            &mut mus,
            &mut scales,
            &mut alloc::vec![0.0; p * ROW_STATS],
            par,
        )?;
        chow_liu_gaussian_certified(s, &mus, &scales, par)
    }

    /// Variable-major samples of a Gaussian tree over `p` variables (parent of `v` uniform in
    /// `0..v`, edge correlations ±[0.4, 0.9]), or independent noise.
    fn data(p: usize, n: usize, seed: u64, noise: bool) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uni = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut gauss = || {
            let (a, b) = (uni(), uni());
            (-2.0 * a.ln()).sqrt() * (core::f64::consts::TAU * b).cos()
        };
        let mut x = alloc::vec![0.0; p * n];
        for v in 0..p {
            let (par, c) = if v == 0 || noise {
                (0, 0.0)
            } else {
                let par = ((gauss().abs() * 1e6) as usize) % v;
                let c = 0.4 + 0.5 * (gauss().abs() % 1.0);
                (par, if gauss() < 0.0 { -c } else { c })
            };
            for t in 0..n {
                let z = gauss();
                x[v * n + t] = c * x[par * n + t] + (1.0 - c * c).sqrt() * z;
            }
        }
        x
    }

    fn reference(s: Samples<'_, f64>) -> Tree {
        let p = s.n_vars();
        let mi = gaussian_mi_matrix(&correlation_matrix(s, Par::Seq).unwrap(), p).unwrap();
        spanning_tree(&mi, p, Objective::Maximum).unwrap()
    }

    fn edges(t: &Tree) -> Vec<(usize, usize)> {
        t.edges().iter().map(|e| (e.a, e.b)).collect()
    }

    fn bits(t: &Tree) -> Vec<(usize, usize, u64)> {
        t.edges()
            .iter()
            .map(|e| (e.a, e.b, e.weight.to_bits()))
            .collect()
    }

    /// A certified tree is the f64 product's tree, edge for edge, with its MI weights to
    /// 1e-13 (relative); the same bits for every `Par` and both layouts.
    #[test]
    fn certified_tree_is_the_f64_tree() {
        let (p, n) = (300, 2000);
        let x = data(p, n, 7, false);
        let s = Samples::variable_major(&x, p, n).unwrap();
        let t = certified(&s, Par::Seq).unwrap().expect("certified");
        let want = reference(s);
        assert_eq!(edges(&t), edges(&want));
        for (a, b) in t.edges().iter().zip(want.edges()) {
            assert!(
                (a.weight - b.weight).abs() <= 1e-13 * b.weight,
                "{a:?} {b:?}"
            );
        }
        let rows: Vec<f64> = (0..n)
            .flat_map(|k| (0..p).map(move |v| (v, k)))
            .map(|(v, k)| x[v * n + k])
            .collect();
        let r = Samples::row_major(&rows, n, p).unwrap();
        for (s2, par) in [(s, Par::threads(2)), (r, Par::Seq), (r, Par::threads(3))] {
            let t2 = certified(&s2, par).unwrap().expect("certified");
            assert_eq!(bits(&t2), bits(&t));
        }
    }

    /// Independent noise (many near-ties): whatever the path decides, a tree it returns is the
    /// f64 tree.
    #[test]
    fn noise_is_certified_or_declined() {
        let (p, n) = (256, 400);
        let x = data(p, n, 11, true);
        let s = Samples::variable_major(&x, p, n).unwrap();
        if let Some(t) = certified(&s, Par::Seq).unwrap() {
            assert_eq!(edges(&t), edges(&reference(s)));
        }
    }

    /// Exact ties (a duplicated variable) and small problems go to the f64 product.
    #[test]
    fn ties_and_small_problems_decline() {
        let (p, n) = (300, 1000);
        let mut x = data(p, n, 5, false);
        let (head, tail) = x.split_at_mut(n);
        tail[(p - 2) * n..(p - 1) * n].copy_from_slice(head);
        let s = Samples::variable_major(&x, p, n).unwrap();
        assert!(certified(&s, Par::Seq).unwrap().is_none());
        // The public function then gives the f64 product's tree, bit for bit.
        let t = chow_liu_gaussian(s, &ChowLiuConfig::new(), Par::Seq).unwrap();
        assert_eq!(bits(&t), bits(&reference(s)));
        let small = Samples::variable_major(&x[..100 * n], 100, n).unwrap();
        assert!(certified(&small, Par::Seq).unwrap().is_none());
    }
}
