//! Property tests of the tree module: spanning-tree optimality, Chow–Liu invariants, MI and
//! distance identities, truncated inner products, exact recovery of latent trees from
//! population distances, robustness to gross corruptions, evaluation metrics and errors.

mod tree_common;

use mlkern::tree::*;
use mlkern::{Error, Par};
use rand::RngExt;
use tree_common::*;

fn edge_pairs(t: &Tree) -> Vec<(usize, usize)> {
    t.edges().iter().map(|e| (e.a, e.b)).collect()
}

fn is_spanning_tree(t: &Tree) -> bool {
    // Tree::new already checked; re-derive connectivity by BFS as an independent check.
    let adj = t.adjacency();
    let mut seen = vec![false; t.n_nodes()];
    let mut stack = vec![0];
    if t.n_nodes() == 0 {
        return true;
    }
    seen[0] = true;
    while let Some(v) = stack.pop() {
        for &(u, _) in &adj[v] {
            if !seen[u] {
                seen[u] = true;
                stack.push(u);
            }
        }
    }
    t.edges().len() + 1 == t.n_nodes() && seen.iter().all(|&s| s)
}

// ---------------------------------------------------------------- spanning trees

/// Every labelled tree on p nodes from its Prüfer sequence.
fn prufer_tree(seq: &[usize], p: usize) -> Vec<(usize, usize)> {
    let mut deg = vec![1usize; p];
    for &s in seq {
        deg[s] += 1;
    }
    let mut edges = Vec::new();
    for &s in seq {
        let leaf = (0..p).find(|&v| deg[v] == 1).unwrap();
        edges.push((leaf, s));
        deg[leaf] -= 1;
        deg[s] -= 1;
    }
    let rest: Vec<usize> = (0..p).filter(|&v| deg[v] == 1).collect();
    edges.push((rest[0], rest[1]));
    edges
}

#[test]
fn prim_matches_brute_force_over_all_trees() {
    let mut r = rng(1);
    for p in 2..=7usize {
        for _ in 0..6 {
            let mut w = vec![0.0; p * p];
            for i in 0..p {
                for j in i + 1..p {
                    let v = r.random::<f64>() * 10.0 - 5.0;
                    w[i * p + j] = v;
                    w[j * p + i] = v;
                }
            }
            for obj in [Objective::Maximum, Objective::Minimum] {
                let t = spanning_tree(&w, p, obj).unwrap();
                assert!(is_spanning_tree(&t));
                let mut best = match obj {
                    Objective::Maximum => f64::NEG_INFINITY,
                    Objective::Minimum => f64::INFINITY,
                };
                let count = p.pow(p.saturating_sub(2) as u32);
                for code in 0..count {
                    let mut c = code;
                    let seq: Vec<usize> = (0..p - 2)
                        .map(|_| {
                            let s = c % p;
                            c /= p;
                            s
                        })
                        .collect();
                    let total: f64 = prufer_tree(&seq, p)
                        .iter()
                        .map(|&(a, b)| w[a * p + b])
                        .sum();
                    best = match obj {
                        Objective::Maximum => best.max(total),
                        Objective::Minimum => best.min(total),
                    };
                }
                assert!(
                    (t.total_weight() - best).abs() < 1e-9,
                    "p={p} {obj:?}: {} vs {best}",
                    t.total_weight()
                );
            }
        }
    }
}

#[test]
fn prim_tie_break_is_documented_order() {
    // All weights equal: node v joins in id order, each through node 0 (first visited).
    let p = 5;
    let w = vec![1.0; p * p];
    let t = spanning_tree(&w, p, Objective::Maximum).unwrap();
    assert_eq!(edge_pairs(&t), vec![(0, 1), (0, 2), (0, 3), (0, 4)]);
}

#[test]
fn spanning_tree_edge_cases_and_errors() {
    assert_eq!(
        spanning_tree(&[], 0, Objective::Maximum).unwrap().n_nodes(),
        0
    );
    assert_eq!(
        spanning_tree(&[0.0], 1, Objective::Maximum)
            .unwrap()
            .edges()
            .len(),
        0
    );
    // −∞ marks "no edge": used only when nothing else connects.
    let w = [
        0.0,
        f64::NEG_INFINITY,
        1.0,
        f64::NEG_INFINITY,
        0.0,
        2.0,
        1.0,
        2.0,
        0.0,
    ];
    assert_eq!(
        edge_pairs(&spanning_tree(&w, 3, Objective::Maximum).unwrap()),
        vec![(0, 2), (1, 2)]
    );
    assert!(matches!(
        spanning_tree(&[0.0, f64::NAN, f64::NAN, 0.0], 2, Objective::Minimum),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        spanning_tree(&[0.0, 1.0, 2.0, 0.0], 2, Objective::Minimum),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        spanning_tree(&[0.0; 3], 2, Objective::Minimum),
        Err(Error::ShapeMismatch { .. })
    ));
}

// ---------------------------------------------------------------- discrete statistics

fn random_codes(r: &mut rand::rngs::SmallRng, n: usize, states: &[u8]) -> Vec<u8> {
    // Variable v copies a random earlier variable with probability 0.7 (mod its states), so
    // the data have structure.
    let p = states.len();
    let mut x = vec![0u8; n * p];
    for v in 0..p {
        let src = if v > 0 {
            Some(r.random_range(0..v))
        } else {
            None
        };
        for t in 0..n {
            x[v * n + t] = match src {
                Some(s) if r.random::<f64>() < 0.7 => x[s * n + t] % states[v],
                _ => r.random_range(0..states[v]),
            };
        }
    }
    x
}

#[test]
fn tables_from_the_popcount_gram_equal_direct_counting() {
    let mut r = rng(2);
    for &n in &[1usize, 63, 64, 65, 200, 1000] {
        let states = [2u8, 3, 2, 4, 5, 1, 2];
        let x = random_codes(&mut r, n, &states);
        let codes = Codes::new(
            Samples::variable_major(&x, states.len(), n).unwrap(),
            &states,
        )
        .unwrap();
        for threads in [1, 2] {
            let pc = PairCounts::new(&codes, Par::threads(threads)).unwrap();
            for i in 0..states.len() {
                for j in 0..states.len() {
                    let (ki, kj) = (states[i] as usize, states[j] as usize);
                    let mut want = vec![0u32; ki * kj];
                    for t in 0..n {
                        want[x[i * n + t] as usize * kj + x[j * n + t] as usize] += 1;
                    }
                    let mut got = vec![0u32; ki * kj];
                    if i == j {
                        let mut m = vec![0u32; ki];
                        pc.marginal_into(i, &mut m).unwrap();
                        for a in 0..ki {
                            assert_eq!(m[a], want[a * kj + a]);
                        }
                        continue;
                    }
                    pc.table_into(i, j, &mut got).unwrap();
                    assert_eq!(got, want, "n={n} pair ({i},{j})");
                }
            }
        }
    }
}

fn entropy(counts: &[u32]) -> f64 {
    let n: f64 = counts.iter().map(|&c| c as f64).sum();
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

#[test]
fn plug_in_mi_properties() {
    // Golden: ln 2 − H_b(0.2).
    let hb = -(0.2f64 * 0.2f64.ln() + 0.8 * 0.8f64.ln());
    let mi = mutual_information(&[40, 10, 10, 40], 2, 2, Correction::None).unwrap();
    assert!((mi - (2f64.ln() - hb)).abs() < 1e-15, "{mi}");
    assert!((mi - 0.1927448).abs() < 1e-7);
    // Product table: 0.
    assert!(
        mutual_information(&[6, 3, 4, 2], 2, 2, Correction::None)
            .unwrap()
            .abs()
            < 1e-15
    );
    // Empty table: 0.
    assert_eq!(
        mutual_information(&[0, 0, 0, 0], 2, 2, Correction::None).unwrap(),
        0.0
    );
    // Symmetry, bounds on random tables; Miller–Madow adds exactly its term.
    let mut r = rng(3);
    for _ in 0..200 {
        let (ki, kj) = (r.random_range(1..6usize), r.random_range(1..6usize));
        let t: Vec<u32> = (0..ki * kj)
            .map(|_| {
                if r.random::<f64>() < 0.2 {
                    0
                } else {
                    r.random_range(0..50)
                }
            })
            .collect();
        let mut tt = vec![0u32; ki * kj];
        for a in 0..ki {
            for b in 0..kj {
                tt[b * ki + a] = t[a * kj + b];
            }
        }
        let i1 = mutual_information(&t, ki, kj, Correction::None).unwrap();
        let i2 = mutual_information(&tt, kj, ki, Correction::None).unwrap();
        assert!((i1 - i2).abs() < 1e-14);
        assert!(i1 >= 0.0);
        let rows: Vec<u32> = (0..ki)
            .map(|a| t[a * kj..(a + 1) * kj].iter().sum())
            .collect();
        let cols: Vec<u32> = (0..kj)
            .map(|b| (0..ki).map(|a| t[a * kj + b]).sum())
            .collect();
        let n: u32 = rows.iter().sum();
        if n == 0 {
            continue;
        }
        assert!(i1 <= entropy(&rows).min(entropy(&cols)) + 1e-12);
        // MI = H_i + H_j − H_ij.
        assert!((i1 - (entropy(&rows) + entropy(&cols) - entropy(&t))).abs() < 1e-12);
        let nz = |s: &[u32]| s.iter().filter(|&&c| c > 0).count() as f64;
        let mm = mutual_information(&t, ki, kj, Correction::MillerMadow).unwrap();
        let term = ((nz(&rows) - 1.0) + (nz(&cols) - 1.0) - (nz(&t) - 1.0)) / (2.0 * n as f64);
        assert!((mm - i1 - term).abs() < 1e-14);
    }
    assert!(matches!(
        mutual_information(&[1, 2, 3], 2, 2, Correction::None),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn pair_counts_mi_matrix_matches_per_table_mi() {
    let mut r = rng(4);
    let states = [2u8, 3, 4, 2, 2];
    let n = 777;
    let x = random_codes(&mut r, n, &states);
    let pc = PairCounts::new(
        &Codes::new(Samples::variable_major(&x, 5, n).unwrap(), &states).unwrap(),
        Par::Seq,
    )
    .unwrap();
    for corr in [Correction::None, Correction::MillerMadow] {
        let mi = pc.mutual_information(corr).unwrap();
        for i in 0..5 {
            for j in 0..5 {
                let (ki, kj) = (states[i] as usize, states[j] as usize);
                let mut t = vec![0u32; ki * kj];
                for s in 0..n {
                    t[x[i * n + s] as usize * kj + x[j * n + s] as usize] += 1;
                }
                let want = mutual_information(&t, ki, kj, corr).unwrap();
                assert!(
                    (mi[i * 5 + j] - want).abs() < 1e-13,
                    "{i},{j}: {} vs {want}",
                    mi[i * 5 + j]
                );
            }
        }
    }
}

#[test]
fn codes_errors() {
    assert!(matches!(
        Codes::new(Samples::variable_major(&[0, 1, 2], 1, 3).unwrap(), &[2]),
        Err(Error::Degenerate { index: 2, .. })
    ));
    assert!(matches!(
        Samples::variable_major(&[0u8, 1, 0], 1, 2),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Codes::new(Samples::variable_major(&[0, 0], 1, 2).unwrap(), &[0]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Codes::new(Samples::variable_major(&[0, 0], 1, 2).unwrap(), &[1, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    // Fewer than 2 samples: every MI would be 0, so Chow–Liu refuses.
    let one = Codes::new(
        Samples::variable_major(&[0, 1, 1], 3, 1).unwrap(),
        &[2, 2, 2],
    )
    .unwrap();
    assert!(chow_liu_discrete(&one, &ChowLiuConfig::new(), Par::Seq).is_err());
    let none = Codes::new(Samples::variable_major(&[], 3, 0).unwrap(), &[2, 2, 2]).unwrap();
    assert!(chow_liu_discrete(&none, &ChowLiuConfig::new(), Par::Seq).is_err());
}

// ---------------------------------------------------------------- distances

/// A random row-stochastic k×k matrix with a dominant diagonal (so determinants are not tiny).
fn stochastic(r: &mut rand::rngs::SmallRng, k: usize) -> Vec<f64> {
    let mut m = vec![0.0; k * k];
    for a in 0..k {
        let mut s = 0.0;
        for b in 0..k {
            m[a * k + b] = r.random::<f64>() + if a == b { 2.0 } else { 0.0 };
            s += m[a * k + b];
        }
        for b in 0..k {
            m[a * k + b] /= s;
        }
    }
    m
}

#[test]
fn discrete_distances_are_additive_on_exact_markov_trees() {
    let mut r = rng(5);
    for k in [2usize, 3, 4] {
        for _ in 0..10 {
            // Markov chain i → j → l: P(i) then transitions A (i→j), B (j→l).
            let mut pi: Vec<f64> = (0..k).map(|_| r.random::<f64>() + 0.5).collect();
            let s: f64 = pi.iter().sum();
            pi.iter_mut().for_each(|v| *v /= s);
            let (a, b) = (stochastic(&mut r, k), stochastic(&mut r, k));
            let mut jij = vec![0.0; k * k];
            let mut jjl = vec![0.0; k * k];
            let mut jil = vec![0.0; k * k];
            let mut pj = vec![0.0; k];
            for x in 0..k {
                for y in 0..k {
                    jij[x * k + y] = pi[x] * a[x * k + y];
                    pj[y] += pi[x] * a[x * k + y];
                }
            }
            for y in 0..k {
                for z in 0..k {
                    jjl[y * k + z] = pj[y] * b[y * k + z];
                }
            }
            for x in 0..k {
                for z in 0..k {
                    jil[x * k + z] = (0..k).map(|y| pi[x] * a[x * k + y] * b[y * k + z]).sum();
                }
            }
            let d = |t: &[f64]| discrete_distance_probs(t, k).unwrap();
            let (dij, djl, dil) = (d(&jij), d(&jjl), d(&jil));
            assert!(
                (dil - dij - djl).abs() < 1e-10,
                "k={k}: {dil} vs {dij} + {djl}"
            );
        }
    }
    // Symmetric binary: −ln|ρ|.
    for rho in [-0.9, -0.3, 0.2, 0.7] {
        let j = [
            (1.0 + rho) / 4.0,
            (1.0 - rho) / 4.0,
            (1.0 - rho) / 4.0,
            (1.0 + rho) / 4.0,
        ];
        assert!((discrete_distance_probs(&j, 2).unwrap() + f64::ln(f64::abs(rho))).abs() < 1e-14);
    }
    // Independent: capped.
    assert_eq!(
        discrete_distance(&[10, 10, 10, 10], 2).unwrap(),
        MAX_DISTANCE
    );
    assert_eq!(discrete_distance(&[10, 0, 10, 0], 2).unwrap(), MAX_DISTANCE);
    assert!(discrete_distance(&[], 0).is_err());
    assert!(discrete_distance_probs(&[0.5, -0.1, 0.3, 0.3], 2).is_err());
}

#[test]
fn gaussian_equivalences() {
    // CL on MI = max spanning tree on |ρ| = min spanning tree on −ln|ρ|.
    let mut r = rng(6);
    for _ in 0..10 {
        let t = random_internal(&mut r, 12, 0.0);
        let x = gaussian_samples(&mut r, &t, 300);
        let p = t.n_observed();
        let corr =
            correlation_matrix(Samples::variable_major(&x, p, 300).unwrap(), Par::Seq).unwrap();
        let cl = chow_liu_gaussian(
            Samples::variable_major(&x, p, 300).unwrap(),
            &ChowLiuConfig::new(),
            Par::Seq,
        )
        .unwrap();
        let abs: Vec<f64> = corr.iter().map(|v| v.abs()).collect();
        let by_abs = spanning_tree(&abs, p, Objective::Maximum).unwrap();
        let dist = gaussian_distance_matrix(&corr, p).unwrap();
        let by_d = spanning_tree(&dist, p, Objective::Minimum).unwrap();
        assert_eq!(edge_pairs(&cl), edge_pairs(&by_abs));
        assert_eq!(edge_pairs(&cl), edge_pairs(&by_d));
        for e in cl.edges() {
            assert!((e.weight - gaussian_mi(corr[e.a * p + e.b])).abs() < 1e-15);
        }
    }
}

#[test]
fn correlation_matrix_against_f64_reference_and_scales() {
    let mut r = rng(7);
    let (n, p) = (101, 9);
    let x: Vec<f64> = (0..n * p).map(|_| normal(&mut r)).collect();
    let c =
        correlation_matrix(Samples::variable_major(&x, p, n).unwrap(), Par::threads(2)).unwrap();
    for i in 0..p {
        for j in 0..p {
            let (xi, xj) = (&x[i * n..(i + 1) * n], &x[j * n..(j + 1) * n]);
            let (mi, mj) = (
                xi.iter().sum::<f64>() / n as f64,
                xj.iter().sum::<f64>() / n as f64,
            );
            let sxy: f64 = xi.iter().zip(xj).map(|(a, b)| (a - mi) * (b - mj)).sum();
            let sxx: f64 = xi.iter().map(|a| (a - mi) * (a - mi)).sum();
            let syy: f64 = xj.iter().map(|b| (b - mj) * (b - mj)).sum();
            assert!((c[i * p + j] - sxy / (sxx * syy).sqrt()).abs() < 1e-14);
        }
    }
    // Huge and tiny scales, f32 input.
    for s in [1e-300, 1e300] {
        let xs: Vec<f64> = x.iter().map(|v| v * s).collect();
        let cs = correlation_matrix(Samples::variable_major(&xs, p, n).unwrap(), Par::Seq).unwrap();
        assert!(cs.iter().zip(&c).all(|(a, b)| (a - b).abs() < 1e-13));
    }
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let c32 = correlation_matrix(Samples::variable_major(&x32, p, n).unwrap(), Par::Seq).unwrap();
    assert!(c32.iter().zip(&c).all(|(a, b)| (a - b).abs() < 1e-6));
    // Errors: NaN (flat index), constant variable (its index), one sample.
    let mut bad = x.clone();
    bad[3 * n + 5] = f64::NAN;
    assert_eq!(
        correlation_matrix(Samples::variable_major(&bad, p, n).unwrap(), Par::Seq),
        Err(Error::NonFinite {
            what: "correlation_matrix: x",
            index: 3 * n + 5
        })
    );
    let mut flat = x.clone();
    flat[2 * n..3 * n].fill(4.0);
    assert!(matches!(
        correlation_matrix(Samples::variable_major(&flat, p, n).unwrap(), Par::Seq),
        Err(Error::Degenerate { index: 2, .. })
    ));
    assert!(
        correlation_matrix(
            Samples::variable_major(&[1.0, 2.0], 2, 1).unwrap(),
            Par::Seq
        )
        .is_err()
    );
    assert_eq!(
        correlation_matrix(Samples::<f64>::variable_major(&[], 0, 0).unwrap(), Par::Seq).unwrap(),
        Vec::<f64>::new()
    );
}

/// ln|det| of a small matrix by cofactor-free Gaussian elimination (test-side reference).
fn ln_abs_det(mut a: Vec<f64>, k: usize) -> f64 {
    let mut acc = 0.0;
    for c in 0..k {
        let p = (c..k)
            .max_by(|&x, &y| a[x * k + c].abs().total_cmp(&a[y * k + c].abs()))
            .unwrap();
        for j in 0..k {
            a.swap(p * k + j, c * k + j);
        }
        let pv = a[c * k + c];
        acc += pv.abs().ln();
        for i in c + 1..k {
            let f = a[i * k + c] / pv;
            for j in c..k {
                a[i * k + j] -= f * a[c * k + j];
            }
        }
    }
    acc
}

#[test]
fn vector_distances_match_the_determinant_form_and_are_invariant() {
    let mut r = rng(8);
    let dims = [2usize, 2, 3, 3];
    let dim: usize = dims.iter().sum();
    // A random SPD covariance.
    let a: Vec<f64> = (0..dim * (dim + 3)).map(|_| normal(&mut r)).collect();
    let k = dim + 3;
    let mut cov = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..dim {
            cov[i * dim + j] = (0..k).map(|t| a[i * k + t] * a[j * k + t]).sum::<f64>() / k as f64;
        }
    }
    let d = vector_distances(&cov, dim, &dims).unwrap();
    let starts = [0usize, 2, 4, 7];
    let blk = |c: &[f64], i: usize, j: usize| -> Vec<f64> {
        let mut out = Vec::new();
        for r in 0..dims[i] {
            for s in 0..dims[j] {
                out.push(c[(starts[i] + r) * dim + starts[j] + s]);
            }
        }
        out
    };
    for (i, j) in [(0, 1), (2, 3)] {
        let want = -ln_abs_det(blk(&cov, i, j), dims[i])
            + 0.5 * ln_abs_det(blk(&cov, i, i), dims[i])
            + 0.5 * ln_abs_det(blk(&cov, j, j), dims[j]);
        assert!(
            (d[i * 4 + j] - want).abs() < 1e-10,
            "{} vs {want}",
            d[i * 4 + j]
        );
    }
    // Invariance to x_i ↦ A_i x_i: cov ↦ B cov Bᵀ with B block-diagonal.
    let mut bmat = vec![0.0; dim * dim];
    for (b, &l) in dims.iter().enumerate() {
        for rr in 0..l {
            for s in 0..l {
                bmat[(starts[b] + rr) * dim + starts[b] + s] =
                    normal(&mut r) + if rr == s { 3.0 } else { 0.0 };
            }
        }
    }
    let mut tmp = vec![0.0; dim * dim];
    let mut cov2 = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..dim {
            tmp[i * dim + j] = (0..dim).map(|t| bmat[i * dim + t] * cov[t * dim + j]).sum();
        }
    }
    for i in 0..dim {
        for j in 0..dim {
            cov2[i * dim + j] = (0..dim).map(|t| tmp[i * dim + t] * bmat[j * dim + t]).sum();
        }
    }
    for i in 0..dim {
        for j in 0..i {
            let v = 0.5 * (cov2[i * dim + j] + cov2[j * dim + i]);
            cov2[i * dim + j] = v;
            cov2[j * dim + i] = v;
        }
    }
    let d2 = vector_distances(&cov2, dim, &dims).unwrap();
    assert!(d.iter().zip(&d2).all(|(x, y)| (x - y).abs() < 1e-9));
    assert!(vector_distances(&cov, dim, &[2, 2, 3]).is_err());
    assert!(vector_distances(&cov, dim, &[2, 0, 2, 3, 3]).is_err());
    assert!(matches!(
        vector_distances(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 3, &[2, 1]),
        Err(Error::Degenerate { index: 0, .. })
    ));
}

// ---------------------------------------------------------------- truncated inner product

fn truncated_reference(a: &[f64], b: &[f64], k: usize) -> f64 {
    let mut q: Vec<(usize, f64)> = a.iter().zip(b).map(|(x, y)| x * y).enumerate().collect();
    q.sort_by(|x, y| x.1.abs().total_cmp(&y.1.abs()).then(x.0.cmp(&y.0)));
    q.iter().take(a.len().saturating_sub(k)).map(|x| x.1).sum()
}

#[test]
fn truncated_dot_matches_sorting_reference() {
    let mut r = rng(9);
    for n in [0usize, 1, 2, 7, 64, 65, 333] {
        for k in [0usize, 1, 3, 10, n / 2, n, n + 5] {
            let a: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
            let mut b: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
            // Ties in magnitude with both signs.
            if n > 4 {
                b[1] = 1.0 / a[1];
                b[3] = -1.0 / a[3];
            }
            let mut heap = vec![0.0; k];
            let got = truncated_dot(&a, &b, k, &mut heap).unwrap();
            let want = truncated_reference(&a, &b, k);
            assert!(
                (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                "n={n} k={k}: {got} vs {want}"
            );
        }
    }
    let a = [1.0, 2.0, 3.0];
    assert_eq!(truncated_dot(&a, &a, 0, &mut []).unwrap(), 14.0);
    assert_eq!(truncated_dot(&a, &a, 3, &mut [0.0; 3]).unwrap(), 0.0);
    assert!(matches!(
        truncated_dot(&a, &a, 2, &mut [0.0; 1]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        truncated_dot(&a, &[1.0, f64::NAN, 0.0], 1, &mut [0.0]),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn truncated_dot_bounds_the_effect_of_outliers() {
    let mut r = rng(10);
    let n = 1000;
    let k = 30;
    let a: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
    let b: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
    let clean = truncated_reference(&a, &b, k);
    let mut q: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).collect();
    q.sort_by(|x, y| y.total_cmp(x));
    let bound: f64 = q[..2 * k].iter().sum();
    let (mut ac, mut bc) = (a.clone(), b.clone());
    for _ in 0..k {
        let t = r.random_range(0..n);
        ac[t] = 1e12;
        bc[t] = if r.random::<bool>() { 1e12 } else { -1e12 };
    }
    let mut heap = vec![0.0; k];
    let got = truncated_dot(&ac, &bc, k, &mut heap).unwrap();
    assert!(
        (got - clean).abs() <= bound,
        "{got} vs {clean} (bound {bound})"
    );
    // Sample permutation invariance.
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        idx.swap(i, r.random_range(0..=i));
    }
    let ap: Vec<f64> = idx.iter().map(|&i| a[i]).collect();
    let bp: Vec<f64> = idx.iter().map(|&i| b[i]).collect();
    let x = truncated_dot(&a, &b, k, &mut heap).unwrap();
    let y = truncated_dot(&ap, &bp, k, &mut heap).unwrap();
    assert!((x - y).abs() < 1e-12);
}

#[test]
fn robust_covariance_matches_elementwise_truncated_dots() {
    let mut r = rng(11);
    let (n, p, k) = (200, 6, 7);
    let x: Vec<f64> = (0..n * p).map(|_| normal(&mut r) + 3.0).collect();
    for center in [Center::None, Center::Mean, Center::Median] {
        for threads in [1, 2] {
            let c = robust_covariance(
                Samples::variable_major(&x, p, n).unwrap(),
                k,
                center,
                Par::threads(threads),
            )
            .unwrap();
            for i in 0..p {
                for j in 0..p {
                    let cen = |v: usize| -> Vec<f64> {
                        let col = &x[v * n..(v + 1) * n];
                        let mut s = col.to_vec();
                        s.sort_by(f64::total_cmp);
                        let c0 = match center {
                            Center::None => 0.0,
                            Center::Mean => col.iter().sum::<f64>() / n as f64,
                            Center::Median => 0.5 * (s[n / 2 - 1] + s[n / 2]),
                            _ => unreachable!(),
                        };
                        col.iter().map(|v| v - c0).collect()
                    };
                    let want = truncated_reference(&cen(i), &cen(j), k) / (n - k) as f64;
                    assert!((c[i * p + j] - want).abs() < 1e-12 * (1.0 + want.abs()));
                }
            }
        }
    }
    assert!(
        robust_covariance(
            Samples::variable_major(&x, p, n).unwrap(),
            n,
            Center::None,
            Par::Seq
        )
        .is_err()
    );
}

// ---------------------------------------------------------------- latent trees

fn check_recovery(name: &str, learned: &Tree, truth: &Tree, d: &[f64]) {
    assert!(is_spanning_tree(learned), "{name}: not a tree");
    assert!(learned.is_minimal(), "{name}: a hidden node of degree < 3");
    assert!(
        exact_recovery(learned, truth),
        "{name}: structure differs (m = {})",
        truth.n_observed()
    );
    assert_eq!(robinson_foulds(learned, truth).unwrap(), 0, "{name}");
    let got = path_lengths(learned).unwrap();
    let scale = d.iter().copied().fold(1.0, f64::max);
    for (g, w) in got.iter().zip(d) {
        assert!(
            (g - w).abs() <= 1e-9 * scale,
            "{name}: path length {g} vs {w}"
        );
    }
}

/// The population-mode learners named in `which`, run on `d`.
fn learn_all(d: &[f64], m: usize, which: &[&'static str]) -> Vec<(&'static str, Tree)> {
    which
        .iter()
        .map(|&name| {
            let t = match name {
                "RG" => recursive_grouping(d, m, &RgConfig::population()),
                "CLRG" => clrg(d, m, &RgConfig::population()),
                "NJ" => neighbor_joining(d, m, &NjConfig::population()),
                "SNJ" => spectral_nj(d, m, &SnjConfig::population()),
                _ => unreachable!("unknown learner {name}"),
            };
            (name, t.unwrap())
        })
        .collect()
}

#[test]
fn population_recovery_with_observed_internal_nodes() {
    let mut r = rng(12);
    let sizes = [4usize, 5, 6, 8, 12, 20, 35, 60, 100, 150, 200, 260];
    for (c, &n) in sizes.iter().enumerate() {
        for rep in 0..3 {
            let truth = random_internal(&mut r, n, if rep == 0 { 1.0 } else { 0.5 });
            let m = truth.n_observed();
            if m < 3 {
                continue;
            }
            let d = path_lengths(&truth).unwrap();
            let which: &[&str] = if m <= 200 {
                &["RG", "CLRG", "NJ"]
            } else {
                &["CLRG", "NJ"]
            };
            for (name, t) in learn_all(&d, m, which) {
                check_recovery(
                    &format!("{name} n={n} m={m} case {c}.{rep}"),
                    &t,
                    &truth,
                    &d,
                );
            }
        }
    }
}

#[test]
fn population_recovery_with_observed_leaves() {
    let mut r = rng(13);
    for &m in &[3usize, 4, 5, 7, 10, 16, 30, 64, 100, 200] {
        for binary in [true, false] {
            let truth = random_leaves(&mut r, m, binary);
            let d = path_lengths(&truth).unwrap();
            for (name, t) in learn_all(&d, m, &["RG", "CLRG", "NJ", "SNJ"]) {
                check_recovery(&format!("{name} m={m} binary={binary}"), &t, &truth, &d);
            }
        }
    }
    // HMM-like trees.
    for k in [2usize, 5, 20] {
        let truth = hmm(&mut r, k, 3);
        let d = path_lengths(&truth).unwrap();
        let m = truth.n_observed();
        check_recovery(
            "CLRG hmm",
            &clrg(&d, m, &RgConfig::population()).unwrap(),
            &truth,
            &d,
        );
        check_recovery(
            "SNJ hmm",
            &spectral_nj(&d, m, &SnjConfig::population()).unwrap(),
            &truth,
            &d,
        );
    }
}

#[test]
fn latent_learners_are_permutation_equivariant() {
    let mut r = rng(14);
    let truth = random_internal(&mut r, 40, 0.6);
    let m = truth.n_observed();
    let d = path_lengths(&truth).unwrap();
    let mut perm: Vec<usize> = (0..m).collect();
    for i in (1..m).rev() {
        perm.swap(i, r.random_range(0..=i));
    }
    // d'[a][b] = d[perm[a]][perm[b]]: learn on d' and map back.
    let dp: Vec<f64> = (0..m * m)
        .map(|k| d[perm[k / m] * m + perm[k % m]])
        .collect();
    for (name, t) in [
        (
            "RG",
            recursive_grouping(&dp, m, &RgConfig::population()).unwrap(),
        ),
        ("CLRG", clrg(&dp, m, &RgConfig::population()).unwrap()),
        (
            "NJ",
            neighbor_joining(&dp, m, &NjConfig::population()).unwrap(),
        ),
    ] {
        let n = t.n_nodes();
        let mut map: Vec<usize> = (0..n).collect();
        map[..m].copy_from_slice(&perm[..m]);
        let back = Tree::new(
            m,
            n,
            t.edges()
                .iter()
                .map(|e| Edge {
                    a: map[e.a],
                    b: map[e.b],
                    weight: e.weight,
                })
                .collect(),
        )
        .unwrap();
        assert!(exact_recovery(&back, &truth), "{name}");
    }
}

#[test]
fn chow_liu_is_permutation_equivariant_on_tie_free_data() {
    let mut r = rng(15);
    let truth = random_internal(&mut r, 15, 0.0);
    let p = truth.n_observed();
    let n = 500;
    let x = gaussian_samples(&mut r, &truth, n);
    let t = chow_liu_gaussian(
        Samples::variable_major(&x, p, n).unwrap(),
        &ChowLiuConfig::new(),
        Par::Seq,
    )
    .unwrap();
    let mut perm: Vec<usize> = (0..p).collect();
    for i in (1..p).rev() {
        perm.swap(i, r.random_range(0..=i));
    }
    let xp: Vec<f64> = (0..p)
        .flat_map(|v| x[perm[v] * n..(perm[v] + 1) * n].to_vec())
        .collect();
    let tp = chow_liu_gaussian(
        Samples::variable_major(&xp, p, n).unwrap(),
        &ChowLiuConfig::new(),
        Par::Seq,
    )
    .unwrap();
    let mut mapped: Vec<(usize, usize)> = tp
        .edges()
        .iter()
        .map(|e| (perm[e.a].min(perm[e.b]), perm[e.a].max(perm[e.b])))
        .collect();
    mapped.sort();
    assert_eq!(mapped, edge_pairs(&t));
}

#[test]
fn latent_learners_reject_bad_distance_matrices() {
    let good = [0.0, 1.0, 1.0, 0.0];
    let cases: [(&[f64], usize); 5] = [
        (&[0.0, 1.0, 2.0, 0.0], 2),
        (&[0.5, 1.0, 1.0, 0.0], 2),
        (&[0.0, -1.0, -1.0, 0.0], 2),
        (&[0.0, f64::NAN, f64::NAN, 0.0], 2),
        (&good, 3),
    ];
    for (d, m) in cases {
        assert!(recursive_grouping(d, m, &RgConfig::population()).is_err());
        assert!(clrg(d, m, &RgConfig::population()).is_err());
        assert!(neighbor_joining(d, m, &NjConfig::population()).is_err());
        assert!(spectral_nj(d, m, &SnjConfig::population()).is_err());
    }
    // Tiny inputs.
    for m in 0..=2usize {
        let d: Vec<f64> = (0..m * m)
            .map(|k| if k / m == k % m { 0.0 } else { 1.0 })
            .collect();
        for t in [
            recursive_grouping(&d, m, &RgConfig::population()).unwrap(),
            clrg(&d, m, &RgConfig::population()).unwrap(),
            neighbor_joining(&d, m, &NjConfig::population()).unwrap(),
            spectral_nj(&d, m, &SnjConfig::population()).unwrap(),
        ] {
            assert_eq!(t.n_nodes(), m);
            assert_eq!(t.edges().len(), m.saturating_sub(1));
        }
    }
    let bad = RgConfig::population().eps(f64::NAN);
    assert!(recursive_grouping(&good, 2, &bad).is_err());
}

#[test]
fn noisy_distances_always_give_valid_trees() {
    // Arbitrary (non-tree) metrics: every learner returns a valid tree, never panics.
    let mut r = rng(16);
    for m in [3usize, 4, 9, 30] {
        for _ in 0..5 {
            let pts: Vec<f64> = (0..m * 3).map(|_| r.random::<f64>()).collect();
            let d: Vec<f64> = (0..m * m)
                .map(|k| {
                    let (i, j) = (k / m, k % m);
                    (0..3)
                        .map(|c| (pts[i * 3 + c] - pts[j * 3 + c]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .collect();
            for opts in [RgConfig::population(), RgConfig::samples(1000)] {
                assert!(is_spanning_tree(&recursive_grouping(&d, m, &opts).unwrap()));
                assert!(is_spanning_tree(&clrg(&d, m, &opts).unwrap()));
            }
            assert!(is_spanning_tree(
                &neighbor_joining(&d, m, &NjConfig::samples()).unwrap()
            ));
            assert!(is_spanning_tree(
                &spectral_nj(&d, m, &SnjConfig::population()).unwrap()
            ));
        }
    }
}

// ---------------------------------------------------------------- robustness

/// With n₁ ≈ √n₂ corrupted samples, robust statistics keep the right tree and plain ones do not.
/// `n₁` corrupted samples appended to `clean` (variable-major, `n₂` samples each): variables
/// `a` and `b` both get the same huge value (alternating sign), planting a spurious strong
/// correlation between them; the others get small noise.
fn corrupt(
    r: &mut rand::rngs::SmallRng,
    clean: &[f64],
    m: usize,
    n2: usize,
    n1: usize,
    a: usize,
    b: usize,
) -> Vec<f64> {
    let n = n2 + n1;
    let mut x = vec![0.0; m * n];
    for v in 0..m {
        x[v * n..v * n + n2].copy_from_slice(&clean[v * n2..(v + 1) * n2]);
        for t in n2..n {
            let big = if t % 2 == 0 { 1e4 } else { -1e4 };
            x[v * n + t] = if v == a || v == b {
                big
            } else {
                0.01 * normal(r)
            };
        }
    }
    x
}

/// With n₁ = √n₂ corrupted samples, robust statistics keep the right tree and plain ones do not.
#[test]
fn robust_chow_liu_and_clrg_survive_gross_corruptions() {
    let mut r = rng(17);
    let (n2, n1) = (6400, 80); // n₁ = √n₂
    let n = n2 + n1;
    let robust_opts = ChowLiuConfig::new().robust_trim(2 * n1);

    // Chow–Liu: a fully observed tree; the corruption links two nodes far apart.
    let truth = random_internal(&mut r, 18, 0.0);
    let m = truth.n_observed();
    let hops = hop_distances(&truth).unwrap();
    let (a, b) = (0, (0..m).max_by_key(|&v| hops[v]).unwrap());
    let clean = gaussian_samples(&mut r, &truth, n2);
    let x = corrupt(&mut r, &clean, m, n2, n1, a, b);
    let plain = chow_liu_gaussian(
        Samples::variable_major(&x, m, n).unwrap(),
        &ChowLiuConfig::new(),
        Par::Seq,
    )
    .unwrap();
    let robust = chow_liu_gaussian(
        Samples::variable_major(&x, m, n).unwrap(),
        &robust_opts,
        Par::Seq,
    )
    .unwrap();
    assert_eq!(
        edge_pairs(
            &chow_liu_gaussian(
                Samples::variable_major(&clean, m, n2).unwrap(),
                &ChowLiuConfig::new(),
                Par::Seq
            )
            .unwrap()
        ),
        edge_pairs(&truth)
    );
    assert!(
        edge_pairs(&plain).contains(&(a.min(b), a.max(b))),
        "the corruption should fool plain Chow–Liu"
    );
    assert_eq!(
        edge_pairs(&robust),
        edge_pairs(&truth),
        "robust Chow–Liu should recover"
    );

    // CLRG on a latent HMM-like tree: plain vs robust distances.
    let chain = hmm(&mut r, 6, 3); // 18 observed leaves on a hidden chain of 6
    let truth = with_correlations(&mut r, &chain, 0.5, 0.9);
    let m = truth.n_observed();
    let clean = gaussian_samples(&mut r, &truth, n2);
    let x = corrupt(&mut r, &clean, m, n2, n1, 0, m - 1);
    let opts = RgConfig::samples(n2);
    let dist = |c: Vec<f64>| gaussian_distance_matrix(&c, m).unwrap();
    let d_clean = dist(
        correlation_matrix(Samples::variable_major(&clean, m, n2).unwrap(), Par::Seq).unwrap(),
    );
    let d_plain =
        dist(correlation_matrix(Samples::variable_major(&x, m, n).unwrap(), Par::Seq).unwrap());
    let d_robust = dist(
        robust_correlation(
            Samples::variable_major(&x, m, n).unwrap(),
            2 * n1,
            Center::Median,
            Par::threads(2),
        )
        .unwrap(),
    );
    let learned = clrg(&d_clean, m, &opts).unwrap();
    eprintln!(
        "clean CLRG: {} hidden (truth {}), RF {}",
        learned.n_hidden(),
        truth.n_hidden(),
        robinson_foulds(&learned, &truth).unwrap()
    );
    assert!(
        exact_recovery(&learned, &truth),
        "clean CLRG should recover at this size"
    );
    assert!(
        !exact_recovery(&clrg(&d_plain, m, &opts).unwrap(), &truth),
        "plain CLRG should fail"
    );
    assert!(
        exact_recovery(&clrg(&d_robust, m, &opts).unwrap(), &truth),
        "robust CLRG should recover"
    );
}

// ---------------------------------------------------------------- evaluation and output

#[test]
fn splits_and_robinson_foulds() {
    let mut r = rng(18);
    let a = random_leaves(&mut r, 12, true);
    let b = random_leaves(&mut r, 12, true);
    assert_eq!(robinson_foulds(&a, &a).unwrap(), 0);
    // A binary tree on m leaves has m − 3 non-trivial splits.
    assert_eq!(splits(&a).unwrap().len(), 9);
    let rf = robinson_foulds(&a, &b).unwrap();
    assert!(rf <= 18 && rf.is_multiple_of(2));
    assert_eq!(rf == 0, exact_recovery(&a, &b));
    let c = random_leaves(&mut r, 11, true);
    assert!(robinson_foulds(&a, &c).is_err());
}

#[test]
fn newick_and_dot_writers() {
    let t = Tree::new(
        3,
        4,
        vec![
            Edge {
                a: 0,
                b: 3,
                weight: 0.5,
            },
            Edge {
                a: 1,
                b: 3,
                weight: 0.25,
            },
            Edge {
                a: 2,
                b: 3,
                weight: 1.0,
            },
        ],
    )
    .unwrap();
    let names: Vec<String> = ["a b", "x", "y(z)"].iter().map(|s| s.to_string()).collect();
    assert_eq!(t.to_newick(Some(&names)), "((x:0.25,'y(z)':1)h0:0.5)'a b';");
    let dot = t.to_dot(Some(&names));
    assert!(dot.starts_with("graph tree {"));
    assert!(dot.contains("n3 [label=\"h0\""));
    assert!(dot.contains("n0 -- n3 [label=\"0.5\"]"));
    let invalid = |m: usize, n: usize, edges: &[(usize, usize, f64)]| {
        let edges = edges
            .iter()
            .map(|&(a, b, weight)| Edge { a, b, weight })
            .collect();
        Tree::new(m, n, edges).is_err()
    };
    assert!(invalid(2, 2, &[]));
    assert!(invalid(3, 3, &[(0, 1, 1.0), (1, 0, 1.0)]));
    assert!(invalid(2, 2, &[(0, 0, 1.0)]));
    assert!(invalid(2, 2, &[(0, 1, f64::INFINITY)]));
    assert!(invalid(3, 2, &[(0, 1, 1.0)]));
    assert!(invalid(2, 2, &[(0, 2, 1.0)]));
}

/// Regressions from a review: huge sizes, overflowing values and NaN give errors, not panics,
/// aborts or silent garbage.
#[test]
fn huge_sizes_and_overflows_are_errors() {
    assert!(spanning_tree(&[], 1 << 62, Objective::Minimum).is_err());
    assert!(
        correlation_matrix(
            Samples::<f64>::variable_major(&[], 1 << 32, 0).unwrap(),
            Par::Seq
        )
        .is_err()
    );
    assert!(gaussian_distance_matrix(&[], 1 << 32).is_err());
    assert!(vector_distances(&[], 1 << 32, &[1 << 32]).is_err());
    assert!(vector_distances(&[0.0; 4], 2, &[usize::MAX, 3]).is_err());
    assert!(mutual_information(&[u32::MAX, 1], 1, 2, Correction::None).is_err());
    let too_many = vec![255u8; 200];
    assert!(
        PairCounts::new(
            &Codes::new(Samples::variable_major(&[], 200, 0).unwrap(), &too_many).unwrap(),
            Par::Seq
        )
        .is_err()
    );
    // A kept product overflowing f64.
    assert!(truncated_dot(&[1e200, 1e200, 1.0], &[1e200, 1e200, 1.0], 1, &mut [0.0]).is_err());
    // NaN correlations stay NaN (and are then rejected by the matrix functions).
    assert!(gaussian_distance(f64::NAN).is_nan() && gaussian_mi(f64::NAN).is_nan());
    // inf against a finite value is asymmetric.
    assert!(spanning_tree(&[0.0, f64::INFINITY, 1.0, 0.0], 2, Objective::Minimum).is_err());
}

#[test]
fn robust_statistics_at_huge_scale() {
    // Products of 1e160-scale values overflow; the robust correlation is scale-free.
    let mut r = rng(19);
    let n = 300;
    let a: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
    let b: Vec<f64> = a.iter().map(|v| v + 0.5 * normal(&mut r)).collect();
    let small: Vec<f64> = a.iter().chain(&b).copied().collect();
    let huge: Vec<f64> = a
        .iter()
        .map(|v| v * 1e160)
        .chain(b.iter().copied())
        .collect();
    let c1 = robust_correlation(
        Samples::variable_major(&small, 2, n).unwrap(),
        10,
        Center::Median,
        Par::Seq,
    )
    .unwrap();
    let c2 = robust_correlation(
        Samples::variable_major(&huge, 2, n).unwrap(),
        10,
        Center::Median,
        Par::Seq,
    )
    .unwrap();
    assert!((c1[1] - c2[1]).abs() < 1e-12, "{} vs {}", c1[1], c2[1]);
    assert!(c1[1] > 0.5);
    // The covariance itself (variance ≈ 1e320) does not fit in f64: an error, not inf.
    assert!(
        robust_covariance(
            Samples::variable_major(&huge, 2, n).unwrap(),
            10,
            Center::Median,
            Par::Seq
        )
        .is_err()
    );
}

#[test]
fn plain_nj_recovers_binary_trees() {
    let mut r = rng(20);
    for m in [4usize, 9, 50] {
        let truth = random_leaves(&mut r, m, true);
        let d = path_lengths(&truth).unwrap();
        let t = neighbor_joining(&d, m, &NjConfig::new().tol(0.0)).unwrap();
        assert!(exact_recovery(&t, &truth), "m = {m}");
    }
}

// ---------------------------------------------------------------- layouts, Par, Learner

fn transpose<T: Copy>(vm: &[T], p: usize, n: usize) -> Vec<T> {
    (0..n * p).map(|k| vm[(k % p) * n + k / p]).collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn tree_bits(t: &Tree) -> Vec<(usize, usize, u64)> {
    t.edges()
        .iter()
        .map(|e| (e.a, e.b, e.weight.to_bits()))
        .collect()
}

#[test]
fn row_major_and_variable_major_give_bit_identical_results() {
    let mut r = rng(31);
    let pars = [Par::Seq, Par::threads(2), Par::threads(3)];
    for (n, p, scale) in [
        (2usize, 1usize, 1.0),
        (7, 3, 1.0),
        (9, 5, 1e-150), // sums of squares underflow: the scaled-norm path
        (200, 6, 1.0),
        (64, 4, 1e307), // sums overflow: the mean of x/n path
        (1037, 13, 3.0),
    ] {
        let vm: Vec<f64> = (0..n * p).map(|_| (normal(&mut r) + 0.5) * scale).collect();
        let rm = transpose(&vm, p, n);
        let a = Samples::variable_major(&vm, p, n).unwrap();
        let b = Samples::row_major(&rm, n, p).unwrap();
        let want = bits(&correlation_matrix(a, Par::Seq).unwrap());
        let mut scratch = vec![0.0; correlation_scratch_len(n, p).unwrap()];
        for par in pars {
            assert_eq!(bits(&correlation_matrix(a, par).unwrap()), want, "{n}×{p}");
            assert_eq!(bits(&correlation_matrix(b, par).unwrap()), want, "{n}×{p}");
            let mut out = vec![0.0; p * p];
            correlation_matrix_into(&mut out, b, &mut scratch, par).unwrap();
            assert_eq!(bits(&out), want);
            for center in [Center::None, Center::Mean, Center::Median] {
                let k = n / 5;
                assert_eq!(
                    bits(&robust_correlation(a, k, center, par).unwrap()),
                    bits(&robust_correlation(b, k, center, Par::Seq).unwrap())
                );
                if scale < 1e300 {
                    assert_eq!(
                        bits(&robust_covariance(a, k, center, par).unwrap()),
                        bits(&robust_covariance(b, k, center, Par::Seq).unwrap())
                    );
                }
            }
            for cfg in [
                ChowLiuConfig::new(),
                ChowLiuConfig::new().robust_trim(n / 4),
            ] {
                assert_eq!(
                    tree_bits(&chow_liu_gaussian(a, &cfg, par).unwrap()),
                    tree_bits(&chow_liu_gaussian(b, &cfg, Par::Seq).unwrap())
                );
            }
        }
        // f32 input.
        let v32: Vec<f32> = vm.iter().map(|&v| (v / scale) as f32).collect();
        let r32 = transpose(&v32, p, n);
        assert_eq!(
            bits(
                &correlation_matrix(Samples::variable_major(&v32, p, n).unwrap(), Par::Seq)
                    .unwrap()
            ),
            bits(
                &correlation_matrix(Samples::row_major(&r32, n, p).unwrap(), Par::threads(2))
                    .unwrap()
            )
        );
        // Discrete codes.
        let states: Vec<u8> = (0..p).map(|v| [2u8, 3, 5, 1][v % 4]).collect();
        let cv: Vec<u8> = (0..n * p)
            .map(|k| r.random_range(0..states[k / n]))
            .collect();
        let cr = transpose(&cv, p, n);
        let ca = Codes::new(Samples::variable_major(&cv, p, n).unwrap(), &states).unwrap();
        let cb = Codes::new(Samples::row_major(&cr, n, p).unwrap(), &states).unwrap();
        let mi = bits(
            &PairCounts::new(&ca, Par::Seq)
                .unwrap()
                .mutual_information(Correction::MillerMadow)
                .unwrap(),
        );
        for par in pars {
            let pb = PairCounts::new(&cb, par).unwrap();
            assert_eq!(
                bits(&pb.mutual_information(Correction::MillerMadow).unwrap()),
                mi
            );
            let pa = PairCounts::new(&ca, par).unwrap();
            for i in 0..p {
                for j in 0..p {
                    let len = states[i] as usize * states[j] as usize;
                    let (mut ta, mut tb) = (vec![0u32; len], vec![0u32; len]);
                    pa.table_into(i, j, &mut ta).unwrap();
                    pb.table_into(i, j, &mut tb).unwrap();
                    assert_eq!(ta, tb);
                }
            }
            if n >= 2 {
                assert_eq!(
                    tree_bits(&chow_liu_discrete(&ca, &ChowLiuConfig::new(), par).unwrap()),
                    tree_bits(&chow_liu_discrete(&cb, &ChowLiuConfig::new(), Par::Seq).unwrap())
                );
            }
        }
    }
    // An out-of-range code is found in either layout (flat index into the data as given).
    let bad = [0u8, 1, 1, 2]; // 2 samples × 2 binary variables, row-major: sample 1 of variable 1
    assert!(matches!(
        Codes::new(Samples::row_major(&bad, 2, 2).unwrap(), &[2, 2]),
        Err(Error::Degenerate { index: 3, .. })
    ));
}

#[test]
fn correlation_matrix_into_checks_its_scratch() {
    let x = [1.0, 2.0, 3.0, 4.0, 2.0, 1.0, 4.0, 3.0];
    let s = Samples::variable_major(&x, 2, 4).unwrap();
    let need = correlation_scratch_len(4, 2).unwrap();
    let mut out = [7.0; 4];
    let mut short = vec![0.0; need - 1];
    assert!(matches!(
        correlation_matrix_into(&mut out, s, &mut short, Par::Seq),
        Err(Error::ShapeMismatch {
            what: "correlation_matrix: scratch",
            ..
        })
    ));
    assert_eq!(out, [7.0; 4]);
    let mut scratch = vec![0.0; need + 3];
    correlation_matrix_into(&mut out, s, &mut scratch, Par::Seq).unwrap();
    assert_eq!(bits(&out), bits(&correlation_matrix(s, Par::Seq).unwrap()));
    assert!(correlation_scratch_len(usize::MAX, usize::MAX / 2).is_err());
}

#[test]
fn learner_matches_the_direct_calls() {
    let mut r = rng(32);
    let truth = random_internal(&mut r, 9, 0.0);
    let m = truth.n_observed();
    let n = 500;
    let x = gaussian_samples(&mut r, &truth, n);
    let s = Samples::variable_major(&x, m, n).unwrap();
    let plain = TreeData::gaussian(s);
    assert_eq!(
        tree_bits(
            &Learner::ChowLiu {
                correction: Correction::None
            }
            .learn(plain, Par::threads(2))
            .unwrap()
        ),
        tree_bits(&chow_liu_gaussian(s, &ChowLiuConfig::new(), Par::Seq).unwrap())
    );
    let robust = TreeData::Gaussian {
        x: s,
        robust_trim: 10,
        center: Center::Median,
    };
    let d = gaussian_distance_matrix(
        &robust_correlation(s, 10, Center::Median, Par::Seq).unwrap(),
        m,
    )
    .unwrap();
    let rg = RgConfig::samples(n);
    let cases = [
        (
            Learner::RecursiveGrouping(rg),
            recursive_grouping(&d, m, &rg),
        ),
        (Learner::Clrg(rg), clrg(&d, m, &rg)),
        (
            Learner::NeighborJoining(NjConfig::samples()),
            neighbor_joining(&d, m, &NjConfig::samples()),
        ),
        (
            Learner::SpectralNj(SnjConfig::samples()),
            spectral_nj(&d, m, &SnjConfig::samples()),
        ),
    ];
    for (learner, want) in cases {
        let got = learner.learn(robust, Par::Seq);
        match (got, want) {
            (Ok(a), Ok(b)) => assert_eq!(tree_bits(&a), tree_bits(&b), "{learner:?}"),
            (a, b) => assert_eq!(a.is_err(), b.is_err(), "{learner:?}"),
        }
        let dd = TreeData::distances(&d, m);
        assert_eq!(
            learner.learn(dd, Par::Seq).map(|t| tree_bits(&t)).ok(),
            learner.learn(robust, Par::Seq).map(|t| tree_bits(&t)).ok()
        );
    }
    // Chow–Liu on distances is their minimum spanning tree.
    let dd = TreeData::distances(&d, m);
    assert_eq!(
        tree_bits(
            &Learner::ChowLiu {
                correction: Correction::None
            }
            .learn(dd, Par::Seq)
            .unwrap()
        ),
        tree_bits(&spanning_tree(&d, m, Objective::Minimum).unwrap())
    );
}
