//! Speculative-decoding verification (`mlkern::spec`): the reference note's invariants, checked
//! against independent f64 oracles written here, grid-integrated laws of the kernel, Monte-Carlo
//! chi-square tests, determinism and bad input.

use mlkern::simd::Isa;
use mlkern::spec::{
    Batch, Diag, Draft, Input, NeighborTable, Philox, Purpose, Residual, Rule, TreeScheme,
    TreeVerify, UniformKey, Uniforms, VerifyConfig, VerifyOutput, absorbed_mass,
    acceptance_probability, cool_omega_for_budget, cool_sd_schedule, expected_tokens,
    nearest_neighbors, step_law, tv_distance, verify, verify_into, verify_scratch_len, verify_tree,
    verify_tree_scratch_len,
};
use mlkern::{Error, Par};
use rand::rngs::SmallRng as StdRng;
use rand::{RngExt, SeedableRng};

// ---------------------------------------------------------------------------------------------
// helpers

/// Uniforms injected per purpose (the grid and extreme-value tests).
struct Fixed {
    accept: f64,
    residual: f64,
    bonus: f64,
}

impl Uniforms for Fixed {
    fn uniform(&self, key: UniformKey) -> f64 {
        match key.purpose {
            Purpose::Accept => self.accept,
            Purpose::Residual => self.residual,
            Purpose::Bonus => self.bonus,
            _ => 0.5,
        }
    }
}

/// Result of one request.
#[derive(Debug, Clone, PartialEq)]
struct One {
    tokens: Vec<i32>,
    n: u32,
    err: Option<Error>,
    diag: Vec<Diag>,
}

/// Verifies one request with `k = tokens.len()`: `p` has k+1 rows, `q` k rows (None: one-hot).
fn verify_one<T: mlkern::Real>(
    v: usize,
    p: &[T],
    q: Option<&[T]>,
    tokens: &[u32],
    cfg: &VerifyConfig<'_>,
    rng: &(impl Uniforms + ?Sized),
) -> One {
    let k = tokens.len();
    let batch = Batch {
        vocab: v,
        draft_tokens: tokens,
        cu_num_drafts: &[0, k],
        seeds: &[11],
        positions: None,
    };
    let draft = match q {
        Some(q) => Draft::Full(Input::Probs(q)),
        None => Draft::OneHot,
    };
    let mut toks = vec![0i32; k + 1];
    let mut n = [0u32];
    let mut errs = [None];
    let mut diag = vec![Diag::default(); k];
    let mut scratch = vec![0.0; verify_scratch_len(v).unwrap()];
    verify_into(
        VerifyOutput {
            tokens: &mut toks,
            num_emitted: &mut n,
            errors: &mut errs,
            diag: Some(&mut diag),
        },
        &batch,
        Input::Probs(p),
        draft,
        cfg,
        rng,
        &mut scratch,
        Par::Seq,
    )
    .expect("batch-level error");
    One {
        tokens: toks,
        n: n[0],
        err: errs[0],
        diag,
    }
}

fn dirichlet(rng: &mut StdRng, v: usize, conc: f64) -> Vec<f64> {
    // Gamma(conc) by Marsaglia–Tsang for conc ≥ 1, boosted for conc < 1.
    let gamma = |rng: &mut StdRng, a: f64| -> f64 {
        let (a1, boost) = if a < 1.0 {
            (a + 1.0, rng.random::<f64>().powf(1.0 / a))
        } else {
            (a, 1.0)
        };
        let d = a1 - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let (u1, u2): (f64, f64) = (rng.random(), rng.random());
            let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let v = (1.0 + c * z).powi(3);
            if v > 0.0 && rng.random::<f64>().ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                return d * v * boost;
            }
        }
    };
    let g: Vec<f64> = (0..v).map(|_| gamma(rng, conc)).collect();
    let s: f64 = g.iter().sum();
    g.iter().map(|x| x / s).collect()
}

/// The law of the first emitted token of a one-position step, integrated over an N×N midpoint
/// grid of (accept, residual) uniforms, with x ~ q marginalized exactly.
fn grid_law(
    v: usize,
    p: &[f64],
    q: &[f64],
    cfg: &VerifyConfig<'_>,
    n: usize,
    one_hot: bool,
) -> Vec<f64> {
    let mut law = vec![0.0; v];
    let prow: Vec<f64> = [p, p].concat(); // row 0 = position, row 1 = bonus (unused at k=1 rejects)
    for x in 0..v {
        if q[x] == 0.0 {
            continue;
        }
        for i in 0..n {
            for j in 0..n {
                let u = Fixed {
                    accept: (i as f64 + 0.5) / n as f64,
                    residual: (j as f64 + 0.5) / n as f64,
                    bonus: 0.5,
                };
                let o = verify_one(
                    v,
                    &prow,
                    if one_hot { None } else { Some(q) },
                    &[x as u32],
                    cfg,
                    &u,
                );
                assert!(o.err.is_none(), "{:?}", o.err);
                law[o.tokens[0] as usize] += q[x] / (n * n) as f64;
            }
        }
    }
    law
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Independent oracle: `Σ min(p, q)`.
fn overlap(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| a.min(*b)).sum()
}

const P4: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
const Q4: [f64; 4] = [0.4, 0.3, 0.2, 0.1];
const NB4: [u32; 12] = [1, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];

// ---------------------------------------------------------------------------------------------
// randomness

#[test]
fn philox_matches_random123_known_answers() {
    assert_eq!(
        Philox::block([0; 4], [0; 2]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        Philox::block([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        Philox::block(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
}

#[test]
fn philox_uniforms_are_open_unit_and_uniform() {
    let n = 200_000;
    let mut hist = [0u32; 20];
    let mut sum = 0.0;
    for i in 0..n {
        let u = Philox.uniform(UniformKey {
            request: 0,
            seed: 99,
            position: i,
            purpose: Purpose::Accept,
            trial: 0,
        });
        assert!(u > 0.0 && u < 1.0);
        hist[(u * 20.0) as usize] += 1;
        sum += u;
    }
    // mean within 5 standard errors; each bin within 5σ of n/20.
    assert!((sum / n as f64 - 0.5).abs() < 5.0 * (1.0 / 12.0f64 / n as f64).sqrt());
    let e = n as f64 / 20.0;
    for h in hist {
        assert!((h as f64 - e).abs() < 5.0 * (e * 0.95).sqrt(), "{hist:?}");
    }
    // Streams differ by purpose, seed, position and trial.
    let k = UniformKey {
        request: 0,
        seed: 1,
        position: 2,
        purpose: Purpose::Accept,
        trial: 0,
    };
    let base = Philox.uniform(k);
    for other in [
        UniformKey {
            purpose: Purpose::Residual,
            ..k
        },
        UniformKey { seed: 2, ..k },
        UniformKey { position: 3, ..k },
        UniformKey { trial: 1, ..k },
    ] {
        assert_ne!(base, Philox.uniform(other));
    }
}

// ---------------------------------------------------------------------------------------------
// analysis (f64) against closed forms and the note's worked vectors

#[test]
fn exact_law_is_the_target_and_acceptance_is_the_overlap() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut s = vec![0.0; 64];
    for &(v, conc) in &[(5, 0.3), (16, 1.0), (37, 5.0), (64, 0.5)] {
        for _ in 0..20 {
            let p = dirichlet(&mut rng, v, conc);
            let q = dirichlet(&mut rng, v, conc);
            let mut law = vec![0.0; v];
            let mut scratch = vec![0.0; 2 * v];
            step_law(
                &p,
                &q,
                &Rule::Exact,
                0,
                Residual::Optimal,
                &mut law,
                &mut scratch,
            )
            .unwrap();
            assert!(max_abs_diff(&law, &p) < 1e-12);
            let a = acceptance_probability(&p, &q, &Rule::Exact, 0, &mut s).unwrap();
            assert!((a - overlap(&p, &q)).abs() < 1e-12);
            assert!((a - (1.0 - tv_distance(&p, &q).unwrap())).abs() < 1e-12);
        }
    }
}

#[test]
fn relaxed_rules_tv_equals_excess_accepted_mass() {
    // §1.6: with the optimal residual, TV(P_out, p) = Σ (q·f − p)₊ for every rule, ≤ TV(p, q).
    let mut rng = StdRng::seed_from_u64(2);
    for &v in &[6usize, 13, 40] {
        let cb: Vec<f32> = (0..v * 2).map(|_| rng.random::<f32>()).collect();
        let nb = nearest_neighbors(&cb, v, 2, v - 1, mlkern::Par::Seq).unwrap();
        let table = NeighborTable::new(&nb, v, v - 1).unwrap();
        for _ in 0..15 {
            let p = dirichlet(&mut rng, v, 0.7);
            let q = dirichlet(&mut rng, v, 0.7);
            let rules = [
                Rule::Lantern {
                    k: v - 1,
                    delta: 0.1,
                    neighbors: table,
                },
                Rule::LanternPP {
                    k: 3.min(v - 1),
                    lambda: 2.0,
                    neighbors: table,
                },
                Rule::CoolSd { omega: &[1.7] },
                Rule::CoolSd { omega: &[0.6] },
                Rule::MixtureBudget { delta: 0.05 },
            ];
            for rule in rules {
                let mut law = vec![0.0; v];
                let mut s = vec![0.0; 2 * v];
                step_law(&p, &q, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
                let tv = tv_distance(&law, &p).unwrap();
                // a(x) = min(q, p_eff), recomputed here from the absorbed masses.
                let excess: f64 = (0..v)
                    .map(|x| {
                        let eff = match rule {
                            Rule::Lantern { k, delta, .. } => {
                                p[x] + absorbed_mass(&p, &table, x, k, delta).unwrap().mass
                            }
                            Rule::LanternPP { k, lambda, .. } => {
                                p[x] + absorbed_mass(&p, &table, x, k, (lambda - 1.0) * p[x])
                                    .unwrap()
                                    .mass
                            }
                            Rule::CoolSd { omega } => omega[0] * p[x],
                            Rule::MixtureBudget { delta } => {
                                let tvpq = tv_distance(&p, &q).unwrap();
                                p[x] + (delta / tvpq).min(1.0) * (q[x] - p[x]).max(0.0)
                            }
                            _ => unreachable!(),
                        };
                        (q[x].min(eff) - p[x]).max(0.0)
                    })
                    .sum();
                assert!((tv - excess).abs() < 1e-12, "{rule:?}: {tv} vs {excess}");
                assert!(tv <= tv_distance(&p, &q).unwrap() + 1e-12);
                assert!((law.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
            // Mixture: TV = min(δ, TV(p,q)) and acceptance = Σmin(p,q) + min(δ, TV(p,q)).
            let tvpq = tv_distance(&p, &q).unwrap();
            for delta in [0.0, 0.01, 0.1, 0.5, 1.0] {
                let rule = Rule::MixtureBudget { delta };
                let mut law = vec![0.0; v];
                let mut s = vec![0.0; 2 * v];
                step_law(&p, &q, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
                assert!((tv_distance(&law, &p).unwrap() - delta.min(tvpq)).abs() < 1e-12);
                let a = acceptance_probability(&p, &q, &rule, 0, &mut s).unwrap();
                assert!((a - overlap(&p, &q) - delta.min(tvpq)).abs() < 1e-12);
            }
            // COOL-SD: TV(ω) = Σ min((q−p)₊, (ω−1)p) for ω ≥ 1, 0 below; acceptance Σ min(q, ωp).
            for w in [0.3, 1.0, 1.2, 2.0, 5.0] {
                let rule = Rule::CoolSd { omega: &[w] };
                let mut law = vec![0.0; v];
                let mut s = vec![0.0; 2 * v];
                step_law(&p, &q, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
                let want: f64 = if w <= 1.0 {
                    0.0
                } else {
                    (0..v)
                        .map(|x| (q[x] - p[x]).max(0.0).min((w - 1.0) * p[x]))
                        .sum()
                };
                assert!((tv_distance(&law, &p).unwrap() - want).abs() < 1e-12);
                let a = acceptance_probability(&p, &q, &rule, 0, &mut s).unwrap();
                let want_a: f64 = (0..v).map(|x| q[x].min(w * p[x])).sum();
                assert!((a - want_a).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn lantern_counterexample_exceeds_delta() {
    // §2.5: δ = 0.25 gives m = [.2, .1, 0, 0], acceptance .90, P_out = [.3, .3, .225, .175],
    // TV(P_out, p) = 0.30 > δ. LANTERN++ λ = 1.5: m = [0, .1, 0, 0], acceptance .70, TV .10.
    let t = NeighborTable::new(&NB4, 4, 3).unwrap();
    let m: Vec<f64> = (0..4)
        .map(|x| absorbed_mass(&P4, &t, x, 3, 0.25).unwrap().mass)
        .collect();
    assert!(max_abs_diff(&m, &[0.2, 0.1, 0.0, 0.0]) < 1e-15);
    let mut s = [0.0; 8];
    let mut law = [0.0; 4];
    let rule = Rule::Lantern {
        k: 3,
        delta: 0.25,
        neighbors: t,
    };
    step_law(&P4, &Q4, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
    assert!(max_abs_diff(&law, &[0.3, 0.3, 0.225, 0.175]) < 1e-15);
    assert!((tv_distance(&law, &P4).unwrap() - 0.30).abs() < 1e-15);
    assert!((acceptance_probability(&P4, &Q4, &rule, 0, &mut s).unwrap() - 0.9).abs() < 1e-15);
    let rule = Rule::LanternPP {
        k: 3,
        lambda: 1.5,
        neighbors: t,
    };
    step_law(&P4, &Q4, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
    assert!((tv_distance(&law, &P4).unwrap() - 0.10).abs() < 1e-15);
    assert!((acceptance_probability(&P4, &Q4, &rule, 0, &mut s).unwrap() - 0.7).abs() < 1e-15);
}

#[test]
fn cool_sd_worked_vectors_and_budget_search() {
    let mut s = [0.0; 8];
    let mut law = [0.0; 4];
    step_law(
        &P4,
        &Q4,
        &Rule::CoolSd { omega: &[1.5] },
        0,
        Residual::Optimal,
        &mut law,
        &mut s,
    )
    .unwrap();
    assert!(max_abs_diff(&law, &[0.15, 0.3, 0.2625, 0.2875]) < 1e-15);
    step_law(
        &P4,
        &Q4,
        &Rule::CoolSd { omega: &[0.5] },
        0,
        Residual::Optimal,
        &mut law,
        &mut s,
    )
    .unwrap();
    assert!(max_abs_diff(&law, &P4) < 1e-15);
    let a = acceptance_probability(&P4, &Q4, &Rule::CoolSd { omega: &[0.5] }, 0, &mut s).unwrap();
    assert!((a - 0.4).abs() < 1e-15);
    // ω for a budget: TV(ω) ≤ δ < TV(next float).
    let tv = |p: &[f64], q: &[f64], w: f64| -> f64 {
        p.iter()
            .zip(q)
            .map(|(a, b)| (b - a).max(0.0).min((w - 1.0) * a))
            .sum()
    };
    assert!((cool_omega_for_budget(&P4, &Q4, 0.15).unwrap() - 1.5).abs() < 1e-12);
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..50 {
        let p = dirichlet(&mut rng, 12, 1.0);
        let q = dirichlet(&mut rng, 12, 1.0);
        let delta = rng.random::<f64>() * 0.3;
        let w = cool_omega_for_budget(&p, &q, delta).unwrap();
        if w.is_finite() {
            assert!(tv(&p, &q, w) <= delta);
            assert!(tv(&p, &q, f64::from_bits(w.to_bits() + 1)) > delta);
        } else {
            assert!(tv(&p, &q, 1e300) <= delta + 1e-15);
        }
    }
    assert!(cool_omega_for_budget(&P4, &Q4, -1.0).is_err());
    // The labelled schedule: mean δ, decaying.
    let mut w = [0.0; 5];
    cool_sd_schedule(1.1, 0.7, &mut w).unwrap();
    assert!((w.iter().sum::<f64>() / 5.0 - 1.1).abs() < 1e-12);
    assert!(w.windows(2).all(|p| p[1] < p[0]));
}

#[test]
fn expected_tokens_matches_closed_form() {
    for a in [0.0, 0.3, 0.8, 0.99] {
        for k in 0..8 {
            let e = expected_tokens(&vec![a; k]);
            let want = if a == 0.0 {
                1.0
            } else {
                (1.0 - f64::powi(a, k as i32 + 1)) / (1.0 - a)
            };
            assert!((e - want).abs() < 1e-12);
        }
    }
    assert_eq!(expected_tokens(&[1.0, 0.5, 0.5]), 1.0 + 1.0 + 0.5 + 0.25);
}

// ---------------------------------------------------------------------------------------------
// the kernel's law (grid integration over injected uniforms) against the analysis

#[test]
fn kernel_law_on_a_uniform_grid_matches_step_law() {
    let n = 160;
    let v = 4;
    let t = NeighborTable::new(&NB4, 4, 3).unwrap();
    let rules = [
        Rule::Exact,
        Rule::Lantern {
            k: 3,
            delta: 0.25,
            neighbors: t,
        },
        Rule::LanternPP {
            k: 3,
            lambda: 1.5,
            neighbors: t,
        },
        Rule::CoolSd { omega: &[1.5] },
        Rule::CoolSd { omega: &[0.5] },
        Rule::MixtureBudget { delta: 0.1 },
        Rule::Typical {
            eps: 0.25,
            alpha: 0.3,
        },
    ];
    let residuals = [
        Residual::Optimal,
        Residual::Vanilla,
        Residual::LanternDynamicTree,
        Residual::LanternLuminaStatic,
        Residual::LanternLlamaGenStatic,
    ];
    for rule in rules {
        for residual in residuals {
            if residual != Residual::Optimal
                && residual != Residual::Vanilla
                && !matches!(rule, Rule::Lantern { .. } | Rule::LanternPP { .. })
            {
                continue;
            }
            let cfg = VerifyConfig::new(rule).with_residual(residual);
            let got = grid_law(v, &P4, &Q4, &cfg, n, false);
            let mut want = [0.0; 4];
            let mut s = [0.0; 8];
            step_law(&P4, &Q4, &rule, 0, residual, &mut want, &mut s).unwrap();
            // Each decision is a threshold in u, so the grid is off by ≤ 1/n per breakpoint.
            let tol = 2.0 * v as f64 / n as f64;
            assert!(
                max_abs_diff(&got, &want) < tol,
                "{rule:?} {residual:?}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn one_hot_drafts_are_exact_on_the_grid() {
    // q one-hot at x: accept with p(x), residual p with x zeroed ⇒ the law is p for every x.
    let p = [0.05, 0.0, 0.45, 0.2, 0.3];
    for x in 0..5u32 {
        let mut q = [0.0; 5];
        q[x as usize] = 1.0;
        let got = grid_law(5, &p, &q, &VerifyConfig::default(), 200, true);
        assert!(max_abs_diff(&got, &p) < 2.0 * 5.0 / 200.0, "x={x}: {got:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Monte Carlo (Philox) against the analytic law

/// Upper α-quantile of χ²(df) by Wilson–Hilferty.
fn chi2_quantile(df: f64, z: f64) -> f64 {
    let a = 2.0 / (9.0 * df);
    df * (1.0 - a + z * a.sqrt()).powi(3)
}

/// χ² statistic with classes of expected count < 5 merged, and its degrees of freedom.
fn chi2(counts: &[u64], law: &[f64], n: u64) -> (f64, f64) {
    let (mut stat, mut df) = (0.0, 0.0);
    let (mut mo, mut me) = (0.0, 0.0);
    for (&c, &p) in counts.iter().zip(law) {
        let e = p * n as f64;
        if e < 5.0 {
            mo += c as f64;
            me += e;
            continue;
        }
        stat += (c as f64 - e).powi(2) / e;
        df += 1.0;
    }
    if me > 0.0 {
        stat += (mo - me).powi(2) / me.max(1e-300);
        df += 1.0;
    }
    (stat, df - 1.0)
}

#[test]
fn sampled_first_token_law_passes_chi_square() {
    // V = 21 (not a multiple of any SIMD width), k = 2, draft tokens drawn from q with their own
    // stream, n = 60 000 trials per rule; z = 4.75 (α ≈ 1e-6) per test, Bonferroni-safe.
    let v = 21;
    let mut rng = StdRng::seed_from_u64(4);
    let p0 = dirichlet(&mut rng, v, 0.8);
    let q0 = dirichlet(&mut rng, v, 0.8);
    let cb: Vec<f64> = (0..v * 3).map(|_| rng.random::<f64>()).collect();
    let nb = nearest_neighbors(&cb, v, 3, 6, mlkern::Par::Seq).unwrap();
    let table = NeighborTable::new(&nb, v, 6).unwrap();
    let prows: Vec<f64> = [&p0[..], &p0, &p0].concat();
    let qrows: Vec<f64> = [&q0[..], &q0].concat();
    let rules = [
        Rule::Exact,
        Rule::Lantern {
            k: 6,
            delta: 0.1,
            neighbors: table,
        },
        Rule::CoolSd { omega: &[2.0, 0.8] },
        Rule::MixtureBudget { delta: 0.1 },
    ];
    let trials = 60_000u32;
    for rule in rules {
        let cfg = VerifyConfig::new(rule);
        let mut counts = vec![0u64; v];
        let mut accepted = 0u64;
        for t in 0..trials {
            let draw = |pos: u64| -> u32 {
                let u = Philox.uniform(UniformKey {
                    request: 0,
                    seed: 5,
                    position: pos,
                    purpose: Purpose::Draft,
                    trial: t,
                });
                let mut c = 0.0;
                for (i, qi) in q0.iter().enumerate() {
                    c += qi;
                    if u * 1.0 < c {
                        return i as u32;
                    }
                }
                (v - 1) as u32
            };
            let toks = [draw(0), draw(1)];
            let cfg_t = cfg.with_trial(t);
            let o = verify_one(v, &prows, Some(&qrows), &toks, &cfg_t, &Philox);
            assert!(o.err.is_none());
            counts[o.tokens[0] as usize] += 1;
            accepted += u64::from(o.diag[0].flags & Diag::ACCEPTED != 0);
        }
        let mut law = vec![0.0; v];
        let mut s = vec![0.0; 2 * v];
        step_law(&p0, &q0, &rule, 0, Residual::Optimal, &mut law, &mut s).unwrap();
        let (stat, df) = chi2(&counts, &law, u64::from(trials));
        assert!(
            stat < chi2_quantile(df, 4.75),
            "{rule:?}: χ² = {stat} (df {df})"
        );
        // Distribution-free TV bound (note §6.2): ½√((V−1)/n) + √(ln(1/α)/(2n)), α = 1e-6.
        let emp: Vec<f64> = counts
            .iter()
            .map(|&c| c as f64 / f64::from(trials))
            .collect();
        let bound = 0.5 * ((v - 1) as f64 / f64::from(trials)).sqrt()
            + (1e6f64.ln() / (2.0 * f64::from(trials))).sqrt();
        assert!(tv_distance(&emp, &law).unwrap() < bound);
        // Acceptance count ~ Binomial(n, A): z-test at 4.75σ.
        let a = acceptance_probability(&p0, &q0, &rule, 0, &mut s).unwrap();
        let nf = f64::from(trials);
        assert!((accepted as f64 - nf * a).abs() < 4.75 * (nf * a * (1.0 - a)).sqrt() + 1.0);
    }
}

#[test]
fn accepted_length_law_matches_product_of_acceptances() {
    // P(L ≥ j) = Π_{i≤j} α_i for independent positions; E[tokens] = expected_tokens(α).
    let v = 9;
    let mut rng = StdRng::seed_from_u64(5);
    let ps: Vec<Vec<f64>> = (0..4).map(|_| dirichlet(&mut rng, v, 1.0)).collect();
    let qs: Vec<Vec<f64>> = (0..3).map(|_| dirichlet(&mut rng, v, 1.0)).collect();
    let prows: Vec<f64> = ps.concat();
    let qrows: Vec<f64> = qs.concat();
    let alphas: Vec<f64> = (0..3).map(|i| overlap(&ps[i], &qs[i])).collect();
    let trials = 40_000u32;
    let mut hist = [0u64; 4];
    for t in 0..trials {
        let toks: Vec<u32> = (0..3)
            .map(|i| {
                let u = Philox.uniform(UniformKey {
                    request: 0,
                    seed: 8,
                    position: i as u64,
                    purpose: Purpose::Draft,
                    trial: t,
                });
                let mut c = 0.0;
                qs[i]
                    .iter()
                    .position(|qi| {
                        c += qi;
                        u < c
                    })
                    .unwrap_or(v - 1) as u32
            })
            .collect();
        let cfg = VerifyConfig::default().with_trial(t);
        let o = verify_one(v, &prows, Some(&qrows), &toks, &cfg, &Philox);
        hist[o.n as usize - 1] += 1;
    }
    let mut law = [0.0; 4];
    let mut prod = 1.0;
    for j in 0..4 {
        let stop = if j < 3 { 1.0 - alphas[j] } else { 1.0 };
        law[j] = prod * stop;
        if j < 3 {
            prod *= alphas[j];
        }
    }
    let (stat, df) = chi2(&hist, &law, u64::from(trials));
    assert!(stat < chi2_quantile(df, 4.75), "{hist:?} vs {law:?}");
    let mean = hist
        .iter()
        .enumerate()
        .map(|(j, &c)| (j + 1) as f64 * c as f64)
        .sum::<f64>()
        / f64::from(trials);
    assert!((mean - expected_tokens(&alphas)).abs() < 0.03);
}

// ---------------------------------------------------------------------------------------------
// determinism and reductions

struct RandomBatch {
    v: usize,
    cu: Vec<usize>,
    tokens: Vec<u32>,
    seeds: Vec<u64>,
    p: Vec<f32>,
    q: Vec<f32>,
    logits_p: Vec<f32>,
    logits_q: Vec<f32>,
    temps: Vec<f32>,
}

fn random_batch(seed: u64, b: usize, v: usize) -> RandomBatch {
    let mut rng = StdRng::seed_from_u64(seed);
    let ks: Vec<usize> = (0..b).map(|_| rng.random_range(0..5)).collect();
    let mut cu = vec![0];
    for k in &ks {
        cu.push(cu.last().unwrap() + k);
    }
    let n = *cu.last().unwrap();
    let logits = |rng: &mut StdRng, rows: usize| -> Vec<f32> {
        (0..rows * v)
            .map(|_| (rng.random::<f32>() - 0.5) * 8.0)
            .collect()
    };
    let logits_p = logits(&mut rng, n + b);
    let logits_q: Vec<f32> = {
        // the draft is a noisy copy of the target (the rows it verifies against)
        let mut out = Vec::with_capacity(n * v);
        for r in 0..b {
            for i in 0..ks[r] {
                let row = cu[r] + r + i;
                out.extend(
                    logits_p[row * v..(row + 1) * v]
                        .iter()
                        .map(|l| l + (rng.random::<f32>() - 0.5) * 2.0),
                );
            }
        }
        out
    };
    let softmax = |l: &[f32]| -> Vec<f32> {
        l.chunks(v)
            .flat_map(|row| {
                let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
                let e: Vec<f64> = row.iter().map(|x| (*x as f64 - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(move |x| (x / s) as f32)
            })
            .collect()
    };
    let p = softmax(&logits_p);
    let q = softmax(&logits_q);
    let tokens = (0..n).map(|_| rng.random_range(0..v as u32)).collect();
    let seeds = (0..b).map(|_| rng.random()).collect();
    let temps = (0..b)
        .map(|i| {
            if i % 5 == 4 {
                0.0
            } else {
                0.5 + i as f32 * 0.1
            }
        })
        .collect();
    RandomBatch {
        v,
        cu,
        tokens,
        seeds,
        p,
        q,
        logits_p,
        logits_q,
        temps,
    }
}

fn run_batch(
    rb: &RandomBatch,
    target: Input<'_, f32>,
    draft: Draft<'_, f32>,
    cfg: &VerifyConfig<'_>,
    threads: Option<usize>,
) -> (Vec<i32>, Vec<u32>, Vec<Option<Error>>, Vec<Diag>) {
    let b = rb.seeds.len();
    let w = 5;
    let batch = Batch {
        vocab: rb.v,
        draft_tokens: &rb.tokens,
        cu_num_drafts: &rb.cu,
        seeds: &rb.seeds,
        positions: None,
    };
    let mut toks = vec![0i32; b * w];
    let mut n = vec![0u32; b];
    let mut errs = vec![None; b];
    let mut diag = vec![Diag::default(); b * (w - 1)];
    let out = VerifyOutput {
        tokens: &mut toks,
        num_emitted: &mut n,
        errors: &mut errs,
        diag: Some(&mut diag),
    };
    // Without `std` a request for threads runs sequentially, with the same results.
    let par = threads.map_or(Par::Seq, Par::threads);
    // Room for every group the request can make (4 per thread with rayon).
    let groups = 4 * par.thread_count();
    let mut scratch = vec![0.0; groups * verify_scratch_len(rb.v).unwrap()];
    verify_into(out, &batch, target, draft, cfg, &Philox, &mut scratch, par).unwrap();
    // The owned tier gives the same tokens, counts, errors and diagnostics.
    let owned = verify(&batch, target, draft, cfg, &Philox, par).unwrap();
    let ow = owned.width(); // k_max + 1 ≤ w
    assert!(ow <= w);
    assert_eq!(owned.num_emitted(), &n[..]);
    assert_eq!(owned.errors(), &errs[..]);
    for r in 0..b {
        assert_eq!(
            owned.token_rows()[r * ow..(r + 1) * ow],
            toks[r * w..r * w + ow]
        );
        assert_eq!(owned.tokens(r), &toks[r * w..r * w + n[r] as usize]);
        assert_eq!(owned.diag(r), &diag[r * (w - 1)..r * (w - 1) + ow - 1]);
    }
    (toks, n, errs, diag)
}

#[test]
fn outputs_are_bit_identical_across_threads_isa_and_batch_order() {
    for &v in &[7usize, 1000, 1025, 3000] {
        let rb = random_batch(v as u64, 11, v);
        let inputs: [(Input<'_, f32>, Draft<'_, f32>); 3] = [
            (Input::Probs(&rb.p), Draft::Full(Input::Probs(&rb.q))),
            (Input::Probs(&rb.p), Draft::OneHot),
            (
                Input::Logits {
                    logits: &rb.logits_p,
                    temperature: &rb.temps,
                },
                Draft::Full(Input::Logits {
                    logits: &rb.logits_q,
                    temperature: &rb.temps,
                }),
            ),
        ];
        for (target, draft) in inputs {
            let base = run_batch(&rb, target, draft, &VerifyConfig::default(), None);
            assert!(base.2.iter().all(Option::is_none), "{:?}", base.2);
            for t in [1, 2, 3, 8] {
                assert_eq!(
                    run_batch(&rb, target, draft, &VerifyConfig::default(), Some(t)),
                    base
                );
            }
            for isa in Isa::supported() {
                let cfg = VerifyConfig::default().with_isa(isa);
                assert_eq!(
                    run_batch(&rb, target, draft, &cfg, None),
                    base,
                    "{}",
                    isa.name()
                );
            }
        }
        // Batch order: verifying each request alone (its own seed) gives the same row.
        let base = run_batch(
            &rb,
            Input::Probs(&rb.p),
            Draft::Full(Input::Probs(&rb.q)),
            &VerifyConfig::default(),
            None,
        );
        for r in (0..11).rev() {
            let (a, z) = (rb.cu[r], rb.cu[r + 1]);
            let k = z - a;
            let one = verify_one(
                v,
                &rb.p[(a + r) * v..(z + r + 1) * v],
                Some(&rb.q[a * v..z * v]),
                &rb.tokens[a..z],
                &VerifyConfig::default(),
                &Seeded(rb.seeds[r]),
            );
            assert_eq!(one.n, base.1[r]);
            assert_eq!(&one.tokens[..k + 1], &base.0[r * 5..r * 5 + k + 1]);
        }
    }
}

/// Philox with a fixed seed, whatever the batch says (a request verified on its own).
struct Seeded(u64);
impl Uniforms for Seeded {
    fn uniform(&self, key: UniformKey) -> f64 {
        Philox.uniform(UniformKey {
            seed: self.0,
            ..key
        })
    }
}

#[test]
fn reductions_are_bit_identical_to_exact() {
    let v = 300;
    let rb = random_batch(21, 9, v);
    // p > 0 everywhere here, so LANTERN with δ = 0 absorbs nothing.
    let cb: Vec<f32> = (0..v * 4)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let nb = nearest_neighbors(&cb, v, 4, 50, mlkern::Par::Seq).unwrap();
    let table = NeighborTable::new(&nb, v, 50).unwrap();
    let strip = |mut r: (Vec<i32>, Vec<u32>, Vec<Option<Error>>, Vec<Diag>)| {
        for d in &mut r.3 {
            d.absorbed = 0.0;
        }
        r
    };
    for (target, draft) in [
        (
            Input::Probs(&rb.p[..]),
            Draft::Full(Input::Probs(&rb.q[..])),
        ),
        (Input::Probs(&rb.p[..]), Draft::OneHot),
    ] {
        let exact = run_batch(&rb, target, draft, &VerifyConfig::default(), None);
        for rule in [
            Rule::Lantern {
                k: 50,
                delta: 0.0,
                neighbors: table,
            },
            Rule::LanternPP {
                k: 50,
                lambda: 1.0,
                neighbors: table,
            },
            Rule::CoolSd { omega: &[1.0] },
            Rule::MixtureBudget { delta: 0.0 },
        ] {
            let got = run_batch(&rb, target, draft, &VerifyConfig::new(rule), None);
            assert_eq!(strip(got), exact, "{rule:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// edge cases

#[test]
fn extreme_uniforms_never_accept_zero_mass_and_always_accept_p_equal_q() {
    let p = [0.0, 0.5, 0.5, 0.0, 0.0];
    let q = [0.2, 0.2, 0.2, 0.2, 0.2];
    let prow: Vec<f64> = [p, p].concat();
    for (ua, ur) in [
        (f64::EPSILON / 2.0, 1e-300),
        (1.0 - f64::EPSILON / 2.0, 1.0 - 1e-16),
    ] {
        let u = Fixed {
            accept: ua,
            residual: ur,
            bonus: ur,
        };
        // x = 0 has p(x) = 0: never accepted, even with u = 2⁻⁵³.
        let o = verify_one(5, &prow, Some(&q), &[0], &VerifyConfig::default(), &u);
        assert_eq!(o.n, 1);
        assert!(o.tokens[0] == 1 || o.tokens[0] == 2, "{o:?}");
        // p = q: always accepted, even with u = 1 − 2⁻⁵³.
        let o = verify_one(5, &prow, Some(&p), &[1], &VerifyConfig::default(), &u);
        assert_eq!((o.n, o.tokens[0]), (2, 1));
        assert!(o.tokens[1] == 1 || o.tokens[1] == 2);
    }
    // Out-of-range injected values are clamped into (0, 1).
    for bad in [0.0, 1.0, -3.0, 7.0, f64::NAN] {
        let u = Fixed {
            accept: bad,
            residual: bad,
            bonus: bad,
        };
        let o = verify_one(5, &prow, Some(&q), &[0], &VerifyConfig::default(), &u);
        assert!(o.err.is_none() && (o.tokens[0] == 1 || o.tokens[0] == 2));
    }
}

#[test]
fn q_zero_accepts_iff_p_positive_and_is_flagged() {
    let p = [0.5, 0.5, 0.0];
    let q = [0.0, 0.0, 1.0];
    let prow: Vec<f64> = [p, p].concat();
    let u = Fixed {
        accept: 0.999,
        residual: 0.5,
        bonus: 0.5,
    };
    let o = verify_one(3, &prow, Some(&q), &[1], &VerifyConfig::default(), &u);
    assert_eq!(o.tokens[0], 1);
    assert!(o.diag[0].flags & Diag::Q_ZERO != 0 && o.diag[0].flags & Diag::ACCEPTED != 0);
}

#[test]
fn residual_draw_matches_a_sequential_inverse_cdf_for_odd_lengths() {
    let mut rng = StdRng::seed_from_u64(6);
    for &v in &[1usize, 2, 3, 15, 17, 1023, 1024, 1025, 4099] {
        let p: Vec<f64> = (0..v).map(|_| rng.random::<f64>()).collect();
        let q: Vec<f64> = (0..v).map(|_| rng.random::<f64>()).collect();
        let r: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a - b).max(0.0)).collect();
        let total: f64 = r.iter().sum();
        if total == 0.0 {
            continue;
        }
        // draft token with p = 0 is always rejected
        let mut p = p;
        let x = v - 1;
        p[x] = 0.0;
        let mut q = q;
        q[x] = 1.0;
        let r: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a - b).max(0.0)).collect();
        let total: f64 = r.iter().sum();
        let prow: Vec<f64> = [&p[..], &p].concat();
        for _ in 0..50 {
            let ur = rng.random::<f64>().max(1e-12);
            let u = Fixed {
                accept: 0.5,
                residual: ur,
                bonus: 0.5,
            };
            let o = verify_one(
                v,
                &prow,
                Some(&q),
                &[x as u32],
                &VerifyConfig::default(),
                &u,
            );
            if total == 0.0 {
                // p has no mass left anywhere (V = 1): an error, never a token.
                assert!(o.err.is_some() || o.diag[0].flags & Diag::RESIDUAL_DEGENERATE != 0);
                continue;
            }
            let target = ur * total;
            let mut c = 0.0;
            let want = r.iter().position(|w| {
                c += w;
                *w > 0.0 && c > target
            });
            let got = o.tokens[0] as usize;
            // Block sums round differently from this running sum: only a draw within rounding
            // of a boundary may differ.
            if Some(got) != want {
                let cdf_at: f64 = r[..got].iter().sum();
                assert!(
                    (cdf_at - target).abs() < 1e-12 * total,
                    "v={v} got {got} want {want:?}"
                );
            }
            assert!(r[got] > 0.0);
        }
    }
}

#[test]
fn logits_at_temperature_match_probabilities() {
    // f64 logits at T vs the f64 softmax passed as probabilities: the same draws except within
    // rounding of a boundary (none expected in 400 draws).
    let v = 777;
    let mut rng = StdRng::seed_from_u64(7);
    let t = 0.7f32;
    let lp: Vec<f64> = (0..2 * v).map(|_| rng.random::<f64>() * 6.0).collect();
    let lq: Vec<f64> = (0..v).map(|_| rng.random::<f64>() * 6.0).collect();
    let soft = |l: &[f64]| -> Vec<f64> {
        l.chunks(v)
            .flat_map(|row| {
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|x| ((x - m) / t as f64).exp()).collect();
                let s: f64 = e.iter().sum();
                e.into_iter().map(move |x| x / s)
            })
            .collect()
    };
    let (pp, pq) = (soft(&lp), soft(&lq));
    let mut mismatches = 0;
    for s in 0..400u64 {
        let x = rng.random_range(0..v as u32);
        let run = |target: Input<'_, f64>, draft: Draft<'_, f64>| {
            let batch = Batch {
                vocab: v,
                draft_tokens: &[x],
                cu_num_drafts: &[0, 1],
                seeds: &[s],
                positions: Some(&[1000]),
            };
            let mut toks = [0i32; 2];
            let mut n = [0u32];
            let mut errs = [None];
            let mut scratch = vec![0.0; verify_scratch_len(v).unwrap()];
            verify_into(
                VerifyOutput {
                    tokens: &mut toks,
                    num_emitted: &mut n,
                    errors: &mut errs,
                    diag: None,
                },
                &batch,
                target,
                draft,
                &VerifyConfig::default(),
                &Philox,
                &mut scratch,
                Par::Seq,
            )
            .unwrap();
            assert!(errs[0].is_none());
            (toks, n[0])
        };
        let a = run(
            Input::Logits {
                logits: &lp,
                temperature: &[t],
            },
            Draft::Full(Input::Logits {
                logits: &lq,
                temperature: &[t],
            }),
        );
        let b = run(Input::Probs(&pp), Draft::Full(Input::Probs(&pq)));
        mismatches += usize::from(a != b);
    }
    assert!(mismatches <= 1, "{mismatches} mismatches");
}

#[test]
fn greedy_and_temperature_zero() {
    // argmax rows: [2, 0, 1]; drafts 2, 1 → accept 2, reject 1 and emit 0.
    let p = [0.1f32, 0.2, 0.7, 0.6, 0.2, 0.2, 0.3, 0.4, 0.3];
    let cfg = VerifyConfig::new(Rule::Greedy);
    let o = verify_one(3, &p, None, &[2, 1], &cfg, &Philox);
    assert_eq!((o.n, &o.tokens[..]), (2, &[2, 0, -1][..]));
    let o = verify_one(3, &p, None, &[2, 0], &cfg, &Philox);
    assert_eq!((o.n, &o.tokens[..]), (3, &[2, 0, 1][..]));
    // Ties resolve to the first index.
    let tie = [0.4f32, 0.4, 0.2, 0.5, 0.5, 0.0];
    let o = verify_one(3, &tie, None, &[1], &cfg, &Philox);
    assert_eq!(&o.tokens[..], &[0, -1]);
    // Logits at temperature 0 are greedy whatever the rule.
    let logits = [1.0f32, 2.0, 7.0, 6.0, 2.0, 2.0, 3.0, 4.0, 3.0];
    let batch = Batch {
        vocab: 3,
        draft_tokens: &[2, 0],
        cu_num_drafts: &[0, 2],
        seeds: &[0],
        positions: None,
    };
    let mut toks = [0i32; 3];
    let mut n = [0u32];
    let mut errs = [None];
    let mut scratch = vec![0.0; verify_scratch_len(3).unwrap()];
    verify_into(
        VerifyOutput {
            tokens: &mut toks,
            num_emitted: &mut n,
            errors: &mut errs,
            diag: None,
        },
        &batch,
        Input::Logits {
            logits: &logits,
            temperature: &[0.0],
        },
        Draft::OneHot,
        &VerifyConfig::default(),
        &Philox,
        &mut scratch,
        Par::Seq,
    )
    .unwrap();
    assert_eq!((n[0], toks), (3, [2, 0, 1]));
}

#[test]
fn typical_acceptance_threshold() {
    // p = [.7, .2, .1]: H = −Σ p ln(p + 1e-5); threshold min(ε, α e^{−H}).
    let p = [0.7f64, 0.2, 0.1];
    let h: f64 = -p.iter().map(|x| x * (x + 1e-5).ln()).sum::<f64>();
    let thr = 0.09f64.min(0.3 * (-h).exp());
    let rows: Vec<f64> = [p, p].concat();
    let cfg = VerifyConfig::new(Rule::Typical {
        eps: 0.09,
        alpha: 0.3,
    });
    for x in 0..3u32 {
        let o = verify_one(3, &rows, None, &[x], &cfg, &Philox);
        assert_eq!(o.n == 2, p[x as usize] > thr, "x={x} thr={thr}");
    }
}

#[test]
fn bad_requests_fail_alone() {
    let v = 50;
    let rb = random_batch(31, 6, v);
    let clean = run_batch(
        &rb,
        Input::Probs(&rb.p),
        Draft::Full(Input::Probs(&rb.q)),
        &VerifyConfig::default(),
        None,
    );
    // Request 2 gets a NaN in every one of its target rows (so whatever it reads is bad).
    let r = (0..6).find(|&r| rb.cu[r + 1] > rb.cu[r]).unwrap();
    for poison in [f32::NAN, f32::INFINITY, -0.5] {
        let mut p = rb.p.clone();
        for row in rb.cu[r] + r..=rb.cu[r + 1] + r {
            p[row * v + 3] = poison;
            p[row * v + rb.tokens.get(rb.cu[r]).copied().unwrap_or(0) as usize] = poison;
        }
        let got = run_batch(
            &rb,
            Input::Probs(&p),
            Draft::Full(Input::Probs(&rb.q)),
            &VerifyConfig::default(),
            None,
        );
        for j in 0..6 {
            if j == r {
                assert!(got.2[j].is_some(), "poison {poison}");
                assert_eq!(got.1[j], 0);
                assert!(got.0[j * 5..j * 5 + 5].iter().all(|&t| t == -1));
            } else {
                assert_eq!(got.0[j * 5..j * 5 + 5], clean.0[j * 5..j * 5 + 5]);
                assert_eq!(got.2[j], None);
            }
        }
    }
    // Token out of range, bad temperature, all −∞ logits.
    let mut rb2 = random_batch(31, 6, v);
    rb2.tokens[rb2.cu[r]] = v as u32;
    let got = run_batch(
        &rb2,
        Input::Probs(&rb2.p),
        Draft::OneHot,
        &VerifyConfig::default(),
        None,
    );
    assert!(matches!(got.2[r], Some(Error::InvalidParameter { .. })));
    let rb3 = random_batch(31, 6, v);
    let mut temps = rb3.temps.clone();
    temps[r] = -1.0;
    let got = run_batch(
        &rb3,
        Input::Logits {
            logits: &rb3.logits_p,
            temperature: &temps,
        },
        Draft::OneHot,
        &VerifyConfig::default(),
        None,
    );
    assert!(got.2[r].is_some());
    let mut lp = rb3.logits_p.clone();
    let row = rb3.cu[r] + r;
    lp[row * v..(row + 1) * v].fill(f32::NEG_INFINITY);
    let temps = vec![1.0f32; 6];
    let got = run_batch(
        &rb3,
        Input::Logits {
            logits: &lp,
            temperature: &temps,
        },
        Draft::OneHot,
        &VerifyConfig::default(),
        None,
    );
    assert!(got.2[r].is_some());
    assert!(got.2.iter().enumerate().all(|(j, e)| j == r || e.is_none()));
}

#[test]
fn batch_level_errors() {
    let p = [0.5f32; 4];
    let mut toks = [0i32; 2];
    let mut n = [0u32];
    let mut errs = [None];
    let mut scratch = vec![0.0; verify_scratch_len(2).unwrap()];
    let mut call =
        |cu: &[usize], tokens: &[u32], seeds: &[u64], v: usize, target: &[f32], s: &mut [f64]| {
            verify_into(
                VerifyOutput {
                    tokens: &mut toks,
                    num_emitted: &mut n,
                    errors: &mut errs,
                    diag: None,
                },
                &Batch {
                    vocab: v,
                    draft_tokens: tokens,
                    cu_num_drafts: cu,
                    seeds,
                    positions: None,
                },
                Input::Probs(target),
                Draft::OneHot,
                &VerifyConfig::default(),
                &Philox,
                s,
                Par::Seq,
            )
        };
    assert!(call(&[0, 1], &[0], &[1], 2, &p, &mut scratch).is_ok());
    assert!(call(&[1, 1], &[0], &[1], 2, &p, &mut scratch).is_err()); // cu[0] ≠ 0
    assert!(call(&[0, 2], &[0], &[1], 2, &p, &mut scratch).is_err()); // tokens length
    assert!(call(&[0, 1], &[0], &[], 2, &p, &mut scratch).is_err()); // seeds
    assert!(call(&[0, 1], &[0], &[1], 2, &p[..3], &mut scratch).is_err()); // rows
    assert!(call(&[0, 1], &[0], &[1], 0, &[], &mut scratch).is_err()); // V = 0
    assert!(call(&[0, 1], &[0], &[1], 2, &p, &mut scratch[..1]).is_err()); // scratch
    assert!(call(&[], &[], &[], 2, &p, &mut scratch).is_err());
    let bad_rules = [
        Rule::CoolSd { omega: &[] },
        Rule::CoolSd { omega: &[-1.0] },
        Rule::MixtureBudget { delta: f64::NAN },
    ];
    for rule in bad_rules {
        let r = verify_into(
            VerifyOutput {
                tokens: &mut toks,
                num_emitted: &mut n,
                errors: &mut errs,
                diag: None,
            },
            &Batch {
                vocab: 2,
                draft_tokens: &[0],
                cu_num_drafts: &[0, 1],
                seeds: &[1],
                positions: None,
            },
            Input::Probs(&p),
            Draft::OneHot,
            &VerifyConfig::new(rule),
            &Philox,
            &mut scratch,
            Par::Seq,
        );
        assert!(r.is_err(), "{rule:?}");
    }
}

#[test]
fn empty_batch_and_empty_drafts() {
    let mut scratch = vec![0.0; verify_scratch_len(3).unwrap()];
    let r = verify_into::<f32, _>(
        VerifyOutput {
            tokens: &mut [],
            num_emitted: &mut [],
            errors: &mut [],
            diag: None,
        },
        &Batch {
            vocab: 3,
            draft_tokens: &[],
            cu_num_drafts: &[0],
            seeds: &[],
            positions: None,
        },
        Input::Probs(&[]),
        Draft::OneHot,
        &VerifyConfig::default(),
        &Philox,
        &mut scratch,
        Par::Seq,
    );
    assert!(r.is_ok());
    // k = 0: only the bonus token, drawn from p.
    let p = [0.0f32, 1.0, 0.0];
    let o = verify_one(3, &p, None, &[], &VerifyConfig::default(), &Philox);
    assert_eq!((o.n, o.tokens[0]), (1, 1));
}

// ---------------------------------------------------------------------------------------------
// LANTERN pieces

#[test]
fn nearest_neighbors_match_brute_force() {
    let mut rng = StdRng::seed_from_u64(9);
    let (v, d) = (300, 5);
    let mut cb: Vec<f64> = (0..v * d).map(|_| rng.random::<f64>()).collect();
    // duplicates: rows 10 and 11 equal row 3 (ties go to the smaller id)
    for j in 0..d {
        cb[10 * d + j] = cb[3 * d + j];
        cb[11 * d + j] = cb[3 * d + j];
    }
    let k = 20;
    let nb = nearest_neighbors(&cb, v, d, k, mlkern::Par::Seq).unwrap();
    for i in 0..v {
        let mut all: Vec<(f64, usize)> = (0..v)
            .filter(|&j| j != i)
            .map(|j| {
                let dist: f64 = (0..d)
                    .map(|t| (cb[i * d + t] - cb[j * d + t]).powi(2))
                    .sum();
                (dist, j)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (r, &(dist, j)) in all[..k].iter().enumerate() {
            let got = nb[i * k + r] as usize;
            if got != j {
                // GEMM rounding may swap near-ties only.
                let dg: f64 = (0..d)
                    .map(|t| (cb[i * d + t] - cb[got * d + t]).powi(2))
                    .sum();
                assert!((dg - dist).abs() < 1e-12, "row {i} rank {r}: {got} vs {j}");
            }
        }
    }
    assert_eq!(&nb[3 * k..3 * k + 2], &[10, 11]);
    assert!(nearest_neighbors(&cb, v, d, v, mlkern::Par::Seq).is_err());
    assert!(nearest_neighbors(&[f64::NAN], 1, 1, 0, mlkern::Par::Seq).is_err());
}

#[test]
fn absorbed_mass_respects_budget_and_checks_ids() {
    let mut rng = StdRng::seed_from_u64(10);
    let v = 64;
    let p = dirichlet(&mut rng, v, 0.5);
    let cb: Vec<f64> = (0..v * 2).map(|_| rng.random::<f64>()).collect();
    let nb = nearest_neighbors(&cb, v, 2, 30, mlkern::Par::Seq).unwrap();
    let t = NeighborTable::new(&nb, v, 30).unwrap();
    for x in 0..v {
        for budget in [0.0, 0.01, 0.1, 0.5] {
            let a = absorbed_mass(&p, &t, x, 30, budget).unwrap();
            assert!(a.mass <= budget);
            let row = t.row(x).unwrap();
            let s: f64 = row[..a.count].iter().map(|&n| p[n as usize]).sum();
            assert!((s - a.mass).abs() < 1e-15);
            if a.count < 30 {
                assert!(s + p[row[a.count] as usize] > budget);
            }
        }
    }
    let bad = [5u32, 0, 1, 0];
    let t = NeighborTable::new(&bad, 2, 2).unwrap();
    assert!(absorbed_mass(&[0.5f64, 0.5], &t, 0, 2, 1.0).is_err());
    assert!(absorbed_mass(&[0.5f64, 0.5], &t, 2, 1, 1.0).is_err());
}

// ---------------------------------------------------------------------------------------------
// trees

/// Exact law of the first emitted token under each scheme, by enumeration (the note's table
/// §1.5), for siblings `xs` under a root with target row `p` and draft row `q`.
fn tree_first_token_oracle(scheme: TreeScheme, p: &[f64], q: &[f64], xs: &[usize]) -> Vec<f64> {
    let v = p.len();
    let norm = |w: &[f64]| -> Vec<f64> {
        let s: f64 = w.iter().sum();
        w.iter().map(|x| x / s).collect()
    };
    let mut law = vec![0.0; v];
    match scheme {
        TreeScheme::OneHot | TreeScheme::CumulativeCoin => {
            // accept x_j w.p. p_j(x_j); p_{j+1} = norm(p_j without x_j)
            let mut pj = p.to_vec();
            let mut reach = 1.0;
            for &x in xs {
                let a = pj[x];
                law[x] += reach * a;
                reach *= 1.0 - a;
                pj[x] = 0.0;
                pj = norm(&pj);
            }
            for i in 0..v {
                law[i] += reach * pj[i];
            }
        }
        TreeScheme::MultiRound => {
            // siblings are i.i.d. draws from q: enumerate all sequences of len(xs) draws.
            let m = xs.len();
            let mut idx = vec![0usize; m];
            loop {
                let prob: f64 = idx.iter().map(|&i| q[i]).product();
                let mut pj = p.to_vec();
                let mut reach = prob;
                for &x in &idx {
                    let a = (pj[x] / q[x]).min(1.0);
                    law[x] += reach * a;
                    reach *= 1.0 - a;
                    let r: Vec<f64> = pj.iter().zip(q).map(|(a, b)| (a - b).max(0.0)).collect();
                    if r.iter().sum::<f64>() > 0.0 {
                        pj = norm(&r);
                    }
                }
                for i in 0..v {
                    law[i] += reach * pj[i];
                }
                let mut c = 0;
                loop {
                    if c == m {
                        return law;
                    }
                    idx[c] += 1;
                    if idx[c] < v {
                        break;
                    }
                    idx[c] = 0;
                    c += 1;
                }
            }
        }
        TreeScheme::WithoutReplacement => {
            // enumerate ordered draws without replacement of len(xs) tokens from q.
            fn rec(p: &[f64], q: &[f64], depth: usize, m: usize, reach: f64, law: &mut [f64]) {
                let v = p.len();
                let qs: f64 = q.iter().sum();
                if depth == m || qs <= 0.0 {
                    for i in 0..v {
                        law[i] += reach * p[i];
                    }
                    return;
                }
                for x in 0..v {
                    if q[x] <= 0.0 {
                        continue;
                    }
                    let qn: Vec<f64> = q.iter().map(|a| a / qs).collect();
                    let draw = reach * qn[x];
                    let a = (p[x] / qn[x]).min(1.0);
                    law[x] += draw * a;
                    let r: Vec<f64> = p.iter().zip(&qn).map(|(a, b)| (a - b).max(0.0)).collect();
                    let rs: f64 = r.iter().sum();
                    let pn: Vec<f64> = if rs > 0.0 {
                        r.iter().map(|y| y / rs).collect()
                    } else {
                        p.to_vec()
                    };
                    let mut q2 = qn.clone();
                    q2[x] = 0.0;
                    rec(&pn, &q2, depth + 1, m, draw * (1.0 - a), law);
                }
            }
            rec(p, q, 0, xs.len(), 1.0, &mut law);
        }
        _ => unreachable!(),
    }
    law
}

#[test]
fn tree_schemes_are_exact_by_enumeration_and_sampling() {
    let v = 6;
    let mut rng = StdRng::seed_from_u64(12);
    let p = dirichlet(&mut rng, v, 1.0);
    let q = dirichlet(&mut rng, v, 1.0);
    for scheme in [
        TreeScheme::OneHot,
        TreeScheme::CumulativeCoin,
        TreeScheme::MultiRound,
        TreeScheme::WithoutReplacement,
    ] {
        let law = tree_first_token_oracle(scheme, &p, &q, &[4, 1, 2]);
        assert!(max_abs_diff(&law, &p) < 1e-12, "{scheme:?}: {law:?}");
    }
    // The kernel: root with 3 siblings (drawn per scheme), each with one child; n trials.
    let trials = 30_000u32;
    let rows: Vec<f64> = (0..7).flat_map(|_| p.clone()).collect();
    let qrows: Vec<f64> = (0..7).flat_map(|_| q.clone()).collect();
    for scheme in [
        TreeScheme::OneHot,
        TreeScheme::CumulativeCoin,
        TreeScheme::MultiRound,
        TreeScheme::WithoutReplacement,
    ] {
        let mut counts = vec![0u64; v];
        let mut second = vec![0u64; v];
        let mut n_second = 0u64;
        for t in 0..trials {
            // Draw the siblings as the scheme assumes.
            let mut pool = q.clone();
            let mut sib = [0u32; 3];
            for (j, s) in sib.iter_mut().enumerate() {
                let u = Philox.uniform(UniformKey {
                    request: 0,
                    seed: u64::from(t),
                    position: j as u64,
                    purpose: Purpose::Draft,
                    trial: 7,
                });
                let tot: f64 = pool.iter().sum();
                let mut c = 0.0;
                let x = pool
                    .iter()
                    .position(|w| {
                        c += w;
                        *w > 0.0 && u * tot < c
                    })
                    .unwrap_or(v - 1);
                *s = x as u32;
                if scheme != TreeScheme::MultiRound {
                    pool[x] = 0.0;
                }
            }
            // Each sibling has one child, drawn from q (its node's draft row) as well.
            let child = |j: u64| -> u32 {
                let u = Philox.uniform(UniformKey {
                    request: 0,
                    seed: u64::from(t),
                    position: 10 + j,
                    purpose: Purpose::Draft,
                    trial: 7,
                });
                let mut c = 0.0;
                q.iter()
                    .position(|w| {
                        c += w;
                        u < c
                    })
                    .unwrap_or(v - 1) as u32
            };
            let tokens = [sib[0], sib[1], sib[2], child(0), child(1), child(2)];
            let parents = [0u32, 0, 0, 1, 2, 3];
            let tree = TreeVerify {
                vocab: v,
                tokens: &tokens,
                parents: &parents,
                target: Input::Probs(&rows),
                draft: Some(Input::Probs(&qrows)),
                scheme,
                seed: 1000 + u64::from(t),
                position: 0,
            };
            let mut out = [0i32; 3];
            let mut nodes = [0u32; 3];
            let mut scratch = vec![0.0; verify_tree_scratch_len(v).unwrap()];
            let n = verify_tree(&mut out, &mut nodes, &tree, &Philox, &mut scratch).unwrap();
            counts[out[0] as usize] += 1;
            if n >= 2 {
                assert_eq!(tokens[nodes[0] as usize - 1] as i32, out[0]);
                second[out[1] as usize] += 1;
                n_second += 1;
            }
        }
        let (stat, df) = chi2(&counts, &p, u64::from(trials));
        assert!(
            stat < chi2_quantile(df, 4.75),
            "{scheme:?}: χ² {stat} (df {df})"
        );
        // After an accepted sibling, the next token comes from that node's row (= p here).
        let (stat, df) = chi2(&second, &p, n_second);
        assert!(
            stat < chi2_quantile(df, 4.75),
            "{scheme:?} second: χ² {stat}"
        );
    }
}

#[test]
fn tree_errors() {
    let p = [0.5f64, 0.5];
    let rows = p.repeat(3);
    let mut out = [0i32; 3];
    let mut nodes = [0u32; 3];
    let mut scratch = vec![0.0; verify_tree_scratch_len(2).unwrap()];
    let mk = |tokens: &'static [u32], parents: &'static [u32], scheme| TreeVerify {
        vocab: 2,
        tokens,
        parents,
        target: Input::Probs(&rows),
        draft: None,
        scheme,
        seed: 0,
        position: 0,
    };
    for tree in [
        mk(&[0, 1], &[0, 2], TreeScheme::OneHot), // parent after child
        mk(&[0, 0], &[0, 0], TreeScheme::OneHot), // duplicate siblings
        mk(&[0, 2], &[0, 0], TreeScheme::OneHot), // token ≥ V
        mk(&[0, 1], &[0, 0], TreeScheme::MultiRound), // needs a draft
        mk(&[0], &[0], TreeScheme::OneHot),       // rows: 3 given, 2 needed
    ] {
        assert!(verify_tree(&mut out, &mut nodes, &tree, &Philox, &mut scratch).is_err());
    }
    let ok = mk(&[0, 1], &[0, 1], TreeScheme::OneHot);
    assert!(verify_tree(&mut out, &mut nodes, &ok, &Philox, &mut scratch).is_ok());
    assert!(verify_tree(&mut out[..1], &mut nodes, &ok, &Philox, &mut scratch).is_err());
}

#[test]
fn review_regressions() {
    let mut scratch = vec![0.0; verify_scratch_len(3).unwrap()];
    // An empty batch with non-empty outputs is a shape error, not a panic.
    let r = verify_into::<f32, _>(
        VerifyOutput {
            tokens: &mut [0; 1],
            num_emitted: &mut [0; 1],
            errors: &mut [None; 1],
            diag: None,
        },
        &Batch {
            vocab: 3,
            draft_tokens: &[],
            cu_num_drafts: &[0],
            seeds: &[],
            positions: None,
        },
        Input::Probs(&[]),
        Draft::OneHot,
        &VerifyConfig::default(),
        &Philox,
        &mut scratch,
        Par::Seq,
    );
    assert!(r.is_err());
    // A COOL-SD schedule shorter than k fails the request before any coin (deterministically).
    let p = [0.2f64, 0.3, 0.5];
    let rows: Vec<f64> = p.repeat(4);
    for seed in 0..20 {
        let o = verify_one(
            3,
            &rows,
            None,
            &[2, 2, 2],
            &VerifyConfig::new(Rule::CoolSd { omega: &[2.0, 1.5] }),
            &Seeded(seed),
        );
        assert!(o.err.is_some() && o.n == 0);
    }
    // Typical and greedy validate the rows they scan.
    let bad: Vec<f64> = [f64::NAN, 0.5, 0.5].repeat(2);
    let typical = VerifyConfig::new(Rule::Typical {
        eps: 0.09,
        alpha: 0.3,
    });
    assert!(
        verify_one(3, &bad, None, &[1], &typical, &Philox)
            .err
            .is_some()
    );
    let inf: Vec<f64> = [f64::INFINITY, 0.5, 0.5].repeat(2);
    let greedy = VerifyConfig::new(Rule::Greedy);
    assert!(
        verify_one(3, &inf, None, &[1], &greedy, &Philox)
            .err
            .is_some()
    );
    let neg: Vec<f64> = [-0.1, 0.5, 0.6].repeat(2);
    assert!(
        verify_one(3, &neg, None, &[2], &greedy, &Philox)
            .err
            .is_some()
    );
    // LANTERN's reference residuals need a LANTERN rule.
    let batch = Batch {
        vocab: 3,
        draft_tokens: &[1],
        cu_num_drafts: &[0, 1],
        seeds: &[0],
        positions: None,
    };
    let r = verify_into(
        VerifyOutput {
            tokens: &mut [0; 2],
            num_emitted: &mut [0; 1],
            errors: &mut [None; 1],
            diag: None,
        },
        &batch,
        Input::Probs(&rows[..6]),
        Draft::OneHot,
        &VerifyConfig::default().with_residual(Residual::LanternDynamicTree),
        &Philox,
        &mut scratch,
        Par::Seq,
    );
    assert!(r.is_err());
    // The schedule stays finite for a negative ν; the builder rejects dim = 0.
    let mut w = [0.0; 3];
    cool_sd_schedule(1.1, -800.0, &mut w).unwrap();
    assert!(w.iter().all(|x| x.is_finite()) && (w.iter().sum::<f64>() / 3.0 - 1.1).abs() < 1e-12);
    assert!(nearest_neighbors::<f32>(&[], 1 << 40, 0, 1, mlkern::Par::Seq).is_err());
}

#[test]
fn lantern_static_residuals_subtract_q_itself() {
    // Reference note §2.3 with q' = q (the official code zeroes only earlier siblings):
    // δ = .25, x = 0 rejected w.p. .1, Z = [1, 2, 3]. Lumina: (p' − q)₊ = 0 → uniform;
    // LlamaGen: q' = [.4, 0, 0, 0] → r ∝ [0, .2, .3, .4].
    let t = NeighborTable::new(&NB4, 4, 3).unwrap();
    let rule = Rule::Lantern {
        k: 3,
        delta: 0.25,
        neighbors: t,
    };
    let mut law = [0.0; 4];
    let mut s = [0.0; 8];
    step_law(
        &P4,
        &Q4,
        &rule,
        0,
        Residual::LanternLuminaStatic,
        &mut law,
        &mut s,
    )
    .unwrap();
    assert!(max_abs_diff(&law, &[0.325, 0.325, 0.225, 0.125]) < 1e-15);
    step_law(
        &P4,
        &Q4,
        &rule,
        0,
        Residual::LanternLlamaGenStatic,
        &mut law,
        &mut s,
    )
    .unwrap();
    let want = [0.3, 0.3 + 0.2 / 9.0, 0.2 + 0.3 / 9.0, 0.1 + 0.4 / 9.0];
    assert!(max_abs_diff(&law, &want) < 1e-15);
}
