//! Battery cases for `mlkern::spec` (see `main.rs`).
//!
//! Every public entry point of the speculative-decoding family with absurd vocabulary sizes,
//! offsets, tree sizes, neighbour-table shapes and codebook sizes: each is an `Err` that names
//! the problem, reached before anything absurd is allocated. The sizes `spec` cannot bound by
//! its inputs (an empty batch's vocabulary, a ragged batch's `B·k_max` outputs, the `vocab·k`
//! neighbour table) are either allocation-free or fallible.

use mlkern::Par;
use mlkern::limits::MAX_TREE_NODES;
use mlkern::spec::{
    Batch, Draft, Input, NeighborTable, Philox, Residual, Rule, TreeScheme, TreeVerify,
    VerifyConfig, VerifyOutput, absorbed_mass, acceptance_probability, cool_omega_for_budget,
    cool_sd_schedule, nearest_neighbors, step_law, tv_distance, verify, verify_into,
    verify_scratch_len, verify_tree, verify_tree_scratch_len,
};

use crate::{ABSURD, accepts, count, fails_cleanly, rejects, rejects_naming, report};

const P4: [f32; 4] = [0.1, 0.2, 0.3, 0.4];

fn batch<'a>(vocab: usize, toks: &'a [u32], cu: &'a [usize], seeds: &'a [u64]) -> Batch<'a> {
    Batch {
        vocab,
        draft_tokens: toks,
        cu_num_drafts: cu,
        seeds,
        positions: None,
    }
}

/// Calls `verify` (owned) and `verify_into` (caller buffers, a scratch of `scratch` values) with
/// the same arguments; both must reject.
#[track_caller]
fn both_reject(
    what: &str,
    needle: Option<&str>,
    b: &Batch<'_>,
    target: Input<'_, f32>,
    draft: Draft<'_, f32>,
    cfg: &VerifyConfig<'_>,
) {
    count();
    let owned = || verify(b, target, draft, cfg, &Philox, Par::Seq);
    match needle {
        Some(n) => rejects_naming(&format!("verify: {what}"), n, owned),
        None => rejects(&format!("verify: {what}"), owned),
    };
    count();
    let (mut tokens, mut n, mut errors) = ([0i32; 8], [0u32; 2], [None; 2]);
    let mut scratch = [0.0f64; 64];
    rejects(&format!("verify_into: {what}"), || {
        verify_into(
            VerifyOutput {
                tokens: &mut tokens,
                num_emitted: &mut n,
                errors: &mut errors,
                diag: None,
            },
            b,
            target,
            draft,
            cfg,
            &Philox,
            &mut scratch,
            Par::Seq,
        )
    });
}

#[test]
fn verify_absurd_batches() {
    let target = P4.repeat(3);
    let draft = P4.repeat(2);
    let cfg = VerifyConfig::default();
    let full = Draft::Full(Input::Probs(&draft));
    let tp = Input::Probs(&target);
    // Sanity: the valid call works.
    count();
    let ok = verify(
        &batch(4, &[3, 1], &[0, 2], &[7]),
        tp,
        full,
        &cfg,
        &Philox,
        Par::Seq,
    )
    .unwrap();
    assert_eq!(ok.num_emitted()[0], 3);

    for &v in &ABSURD {
        // A vocabulary the rows do not back (B ≥ 1): a shape error, nothing allocated.
        both_reject(
            "vocab over the rows",
            None,
            &batch(v, &[3, 1], &[0, 2], &[7]),
            tp,
            full,
            &cfg,
        );
        // Offsets claiming absurd draft counts over an empty token array.
        both_reject(
            "cu_num_drafts [0, absurd]",
            None,
            &batch(4, &[], &[0, v], &[7]),
            tp,
            full,
            &cfg,
        );
        both_reject(
            "cu_num_drafts [absurd]",
            Some("cu_num_drafts"),
            &batch(4, &[], &[v], &[]),
            tp,
            full,
            &cfg,
        );
        both_reject(
            "cu_num_drafts decreasing",
            Some("cu_num_drafts"),
            &batch(4, &[], &[0, v, 0], &[7, 7]),
            tp,
            full,
            &cfg,
        );
        // Neighbour tables whose shape is absurd but empty.
        let empty_wide = NeighborTable::new(&[], 0, v).unwrap();
        for rule in [
            Rule::Lantern {
                k: 1,
                delta: 0.1,
                neighbors: empty_wide,
            },
            Rule::LanternPP {
                k: v,
                lambda: 2.0,
                neighbors: empty_wide,
            },
        ] {
            both_reject(
                "LANTERN table of another vocabulary",
                Some("neighbors"),
                &batch(4, &[3, 1], &[0, 2], &[7]),
                tp,
                full,
                &VerifyConfig::new(rule),
            );
        }
        let ids = [1u32, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];
        let table = NeighborTable::new(&ids, 4, 3).unwrap();
        both_reject(
            "LANTERN k over the table width",
            Some("k"),
            &batch(4, &[3, 1], &[0, 2], &[7]),
            tp,
            full,
            &VerifyConfig::new(Rule::Lantern {
                k: v,
                delta: 0.1,
                neighbors: table,
            }),
        );
        // Logits with a mismatched temperature count; conditional probabilities of the wrong length.
        let temps = [1.0f32; 3];
        both_reject(
            "logit temperatures",
            None,
            &batch(4, &[3, 1], &[0, 2], &[7]),
            Input::Logits {
                logits: &target,
                temperature: &temps,
            },
            full,
            &cfg,
        );
        both_reject(
            "cond probs",
            None,
            &batch(v, &[3, 1], &[0, 2], &[7]),
            tp,
            Draft::CondProbs(&[0.5]),
            &cfg,
        );
    }
    // Vocabulary 0 and beyond i32::MAX; seeds and positions of the wrong length.
    both_reject(
        "vocab 0",
        None,
        &batch(0, &[3, 1], &[0, 2], &[7]),
        tp,
        full,
        &cfg,
    );
    for v in [i32::MAX as usize + 1, 1 << 40, usize::MAX] {
        both_reject(
            "vocab over i32::MAX",
            Some("vocab"),
            &batch(v, &[], &[0], &[]),
            tp,
            full,
            &cfg,
        );
    }
    both_reject(
        "seeds",
        None,
        &batch(4, &[3, 1], &[0, 2], &[]),
        tp,
        full,
        &cfg,
    );
    let pos = [0u64; 3];
    let mut b = batch(4, &[3, 1], &[0, 2], &[7]);
    b.positions = Some(&pos);
    both_reject("positions", None, &b, tp, full, &cfg);
    both_reject(
        "cu_num_drafts empty",
        Some("cu_num_drafts"),
        &batch(4, &[], &[], &[]),
        tp,
        full,
        &cfg,
    );
    both_reject(
        "empty omega",
        Some("omega"),
        &batch(4, &[3, 1], &[0, 2], &[7]),
        tp,
        full,
        &VerifyConfig::new(Rule::CoolSd { omega: &[] }),
    );
    both_reject(
        "LANTERN residual without LANTERN",
        Some("residual"),
        &batch(4, &[3, 1], &[0, 2], &[7]),
        tp,
        full,
        &VerifyConfig::default().with_residual(Residual::LanternDynamicTree),
    );
    both_reject(
        "MixtureBudget with cond probs",
        Some("rule"),
        &batch(4, &[3, 1], &[0, 2], &[7]),
        tp,
        Draft::CondProbs(&[0.5, 0.5]),
        &VerifyConfig::new(Rule::MixtureBudget { delta: 0.1 }),
    );

    // An empty batch (B = 0): no row backs `vocab`, so nothing may be sized by it. The owned
    // call returns an empty result without allocating; the caller-buffer call wants its scratch.
    for v in [4, i32::MAX as usize] {
        count();
        let out = accepts("verify: empty batch, huge vocab", || {
            verify(
                &batch(v, &[], &[0], &[]),
                Input::Probs(&[] as &[f32]),
                Draft::OneHot,
                &cfg,
                &Philox,
                Par::Seq,
            )
        });
        assert!(out.is_empty() && out.token_rows().is_empty());
    }
    count();
    rejects_naming(
        "verify_into: empty batch, huge vocab, no scratch",
        "scratch",
        || {
            verify_into(
                VerifyOutput {
                    tokens: &mut [],
                    num_emitted: &mut [],
                    errors: &mut [],
                    diag: None,
                },
                &batch(i32::MAX as usize, &[], &[0], &[]),
                Input::Probs(&[] as &[f32]),
                Draft::<f32>::OneHot,
                &cfg,
                &Philox,
                &mut [],
                Par::Seq,
            )
        },
    );
    // Caller buffers of the wrong shape.
    let bt = batch(4, &[3, 1], &[0, 2], &[7]);
    for (tok_len, n_len, err_len, diag_len) in [
        (2, 1, 1, None),
        (3, 2, 1, None),
        (3, 1, 0, None),
        (3, 1, 1, Some(5)),
    ] {
        count();
        let (mut tokens, mut n, mut errors, mut diag) = (
            vec![0i32; tok_len],
            vec![0u32; n_len],
            vec![None; err_len],
            vec![Default::default(); diag_len.unwrap_or(0)],
        );
        let mut scratch = vec![0.0; verify_scratch_len(4).unwrap()];
        rejects("verify_into: output shapes", || {
            verify_into(
                VerifyOutput {
                    tokens: &mut tokens,
                    num_emitted: &mut n,
                    errors: &mut errors,
                    diag: diag_len.map(|_| &mut diag[..]),
                },
                &bt,
                tp,
                full,
                &cfg,
                &Philox,
                &mut scratch,
                Par::Seq,
            )
        });
    }

    // A ragged batch whose outputs (B·(k_max + 1) tokens, B·k_max diagnostics) are far more than
    // its inputs: B = 2¹⁶ requests, one of them with 2¹⁶ drafts, V = 1 (1.5 MiB of input, 128 GiB
    // of diagnostics). The fallible reservation is the check.
    let b = 1usize << 16;
    let k = 1usize << 16;
    let mut cu = vec![k; b + 1];
    cu[0] = 0;
    let toks = vec![0u32; k];
    let seeds = vec![0u64; b];
    let rows = vec![1.0f32; k + b];
    count();
    let msg = fails_cleanly("verify: ragged batch, B·k_max outputs", || {
        verify(
            &batch(1, &toks, &cu, &seeds),
            Input::Probs(&rows),
            Draft::OneHot,
            &cfg,
            &Philox,
            Par::Seq,
        )
    });
    assert!(msg.contains("batch"), "{msg}");
    report("spec::verify_absurd_batches");
}

#[test]
fn scratch_lengths() {
    for v in [usize::MAX, usize::MAX - 1] {
        count();
        rejects_naming("verify_scratch_len overflow", "vocab", || {
            verify_scratch_len(v)
        });
    }
    for v in [usize::MAX / 2 + 1, usize::MAX] {
        count();
        rejects_naming("verify_tree_scratch_len overflow", "vocab", || {
            verify_tree_scratch_len(v)
        });
    }
    // Large but representable sizes are just numbers.
    count();
    assert_eq!(verify_scratch_len(1 << 40).unwrap(), (1 << 40) + (1 << 30));
    report("spec::scratch_lengths");
}

fn tree<'a>(
    vocab: usize,
    tokens: &'a [u32],
    parents: &'a [u32],
    target: Input<'a, f64>,
    draft: Option<Input<'a, f64>>,
    scheme: TreeScheme,
) -> TreeVerify<'a, f64> {
    TreeVerify {
        vocab,
        tokens,
        parents,
        target,
        draft,
        scheme,
        seed: 1,
        position: 0,
    }
}

#[test]
fn verify_tree_absurd() {
    let p = [0.5f64, 0.0, 0.5];
    let target = p.repeat(3);
    let mut scratch = vec![0.0; verify_tree_scratch_len(3).unwrap()];
    let (mut toks, mut nodes) = ([0i32; 4], [0u32; 4]);
    let mut run =
        |what: &str, needle: Option<&str>, t: &TreeVerify<'_, f64>, scratch: &mut [f64]| {
            count();
            let f = || verify_tree(&mut toks, &mut nodes, t, &Philox, scratch);
            match needle {
                Some(n) => rejects_naming(what, n, f),
                None => rejects(what, f),
            };
        };
    // Sanity.
    {
        count();
        let t = tree(
            3,
            &[2, 0],
            &[0, 0],
            Input::Probs(&target),
            None,
            TreeScheme::OneHot,
        );
        let (mut a, mut b) = ([0i32; 2], [0u32; 2]);
        assert_eq!(
            verify_tree(&mut a, &mut b, &t, &Philox, &mut scratch).unwrap(),
            2
        );
    }
    for &v in &ABSURD {
        run(
            "vocab over the rows",
            None,
            &tree(
                v,
                &[2, 0],
                &[0, 0],
                Input::Probs(&target),
                None,
                TreeScheme::OneHot,
            ),
            &mut scratch,
        );
        run(
            "vocab over the rows, empty rows",
            None,
            &tree(v, &[], &[], Input::Probs(&[]), None, TreeScheme::OneHot),
            &mut scratch,
        );
    }
    for big in [3u32, 1 << 20, u32::MAX] {
        run(
            "token ids over V",
            Some("tokens"),
            &tree(
                3,
                &[big, 0],
                &[0, 0],
                Input::Probs(&target),
                None,
                TreeScheme::OneHot,
            ),
            &mut scratch,
        );
        run(
            "parents after children",
            Some("parents"),
            &tree(
                3,
                &[2, 0],
                &[0, big],
                Input::Probs(&target),
                None,
                TreeScheme::OneHot,
            ),
            &mut scratch,
        );
    }
    run(
        "vocab 0",
        None,
        &tree(0, &[], &[], Input::Probs(&[]), None, TreeScheme::OneHot),
        &mut scratch,
    );
    run(
        "vocab over i32::MAX",
        Some("vocab"),
        &tree(
            1 << 40,
            &[],
            &[],
            Input::Probs(&[]),
            None,
            TreeScheme::OneHot,
        ),
        &mut scratch,
    );
    run(
        "parents length",
        None,
        &tree(
            3,
            &[2, 0],
            &[0],
            Input::Probs(&target),
            None,
            TreeScheme::OneHot,
        ),
        &mut scratch,
    );
    run(
        "duplicate siblings",
        Some("tokens"),
        &tree(
            3,
            &[2, 2],
            &[0, 0],
            Input::Probs(&target),
            None,
            TreeScheme::OneHot,
        ),
        &mut scratch,
    );
    run(
        "missing draft",
        Some("draft"),
        &tree(
            3,
            &[2, 0],
            &[0, 0],
            Input::Probs(&target),
            None,
            TreeScheme::MultiRound,
        ),
        &mut scratch,
    );
    run(
        "draft rows",
        None,
        &tree(
            3,
            &[2, 0],
            &[0, 0],
            Input::Probs(&target),
            Some(Input::Probs(&p)),
            TreeScheme::MultiRound,
        ),
        &mut scratch,
    );
    for t in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let temp = [t];
        run(
            "tree logit temperature",
            Some("temperature"),
            &tree(
                3,
                &[2, 0],
                &[0, 0],
                Input::Logits {
                    logits: &target,
                    temperature: &temp,
                },
                None,
                TreeScheme::OneHot,
            ),
            &mut scratch,
        );
    }
    run(
        "short scratch",
        None,
        &tree(
            3,
            &[2, 0],
            &[0, 0],
            Input::Probs(&target),
            None,
            TreeScheme::OneHot,
        ),
        &mut [0.0; 3],
    );
    // A long chain with a tiny vocabulary: O(N²) checks, bounded by MAX_TREE_NODES before any work.
    let n = MAX_TREE_NODES + 1;
    let chain_tokens = vec![0u32; n];
    let chain_parents: Vec<u32> = (0..n as u32).collect();
    let rows = vec![1.0f64; n + 1];
    let mut s1 = vec![0.0; verify_tree_scratch_len(1).unwrap()];
    for scheme in [
        TreeScheme::OneHot,
        TreeScheme::CumulativeCoin,
        TreeScheme::MultiRound,
        TreeScheme::WithoutReplacement,
    ] {
        run(
            "tree over MAX_TREE_NODES",
            Some("tokens"),
            &tree(
                1,
                &chain_tokens,
                &chain_parents,
                Input::Probs(&rows),
                Some(Input::Probs(&rows)),
                scheme,
            ),
            &mut s1,
        );
    }
    // Outputs shorter than the depth.
    {
        count();
        let t = tree(
            3,
            &[2, 0],
            &[0, 1],
            Input::Probs(&target),
            None,
            TreeScheme::OneHot,
        );
        let (mut a, mut b) = ([0i32; 2], [0u32; 2]);
        rejects("tree outputs shorter than depth + 1", || {
            verify_tree(&mut a, &mut b, &t, &Philox, &mut scratch)
        });
    }
    report("spec::verify_tree_absurd");
}

#[test]
fn neighbors_absurd() {
    let ids = [1u32, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];
    let p = [0.1f64, 0.2, 0.3, 0.4];
    let t = NeighborTable::new(&ids, 4, 3).unwrap();
    for &v in &ABSURD {
        count();
        rejects("NeighborTable vocab", || NeighborTable::new(&ids, v, 3));
        count();
        rejects("NeighborTable width", || NeighborTable::new(&ids, 4, v));
        count();
        rejects("NeighborTable vocab·width overflow", || {
            NeighborTable::new(&[], v, v)
        });
        count();
        rejects_naming("absorbed_mass x", "x", || absorbed_mass(&p, &t, v, 1, 0.5));
        count();
        rejects_naming("absorbed_mass k", "k", || absorbed_mass(&p, &t, 0, v, 0.5));
        // An empty table of absurd width is valid; it cannot serve a non-empty row.
        let wide = NeighborTable::new(&[], 0, v).unwrap();
        count();
        rejects("absorbed_mass on an empty wide table", || {
            absorbed_mass(&p, &wide, 0, 1, 0.5)
        });
        // nearest_neighbors: shapes the codebook does not back.
        count();
        rejects("nearest_neighbors vocab", || {
            nearest_neighbors(&[0.0f32, 1.0], v, 1, 1, Par::Seq)
        });
        count();
        rejects("nearest_neighbors dim", || {
            nearest_neighbors(&[0.0f32, 1.0], 2, v, 1, Par::Seq)
        });
        count();
        rejects_naming("nearest_neighbors k", "k", || {
            nearest_neighbors(&[0.0f32, 1.0], 2, 1, v, Par::Seq)
        });
        count();
        rejects_naming("nearest_neighbors dim 0", "dim", || {
            nearest_neighbors(&[] as &[f32], v, 0, 1, Par::Seq)
        });
        // vocab 0 with absurd dim and k: an empty table, nothing allocated.
        count();
        let out = accepts("nearest_neighbors empty", || {
            nearest_neighbors(&[] as &[f32], 0, v, v, Par::Seq)
        });
        assert!(out.is_empty());
    }
    for b in [-1.0, f64::NAN] {
        count();
        rejects_naming("absorbed_mass budget", "budget", || {
            absorbed_mass(&p, &t, 0, 1, b)
        });
    }
    count();
    rejects("absorbed_mass table of another vocabulary", || {
        absorbed_mass(&p[..3], &t, 0, 1, 0.5)
    });
    count();
    rejects("nearest_neighbors NaN", || {
        nearest_neighbors(&[0.0f32, f32::NAN], 2, 1, 1, Par::Seq)
    });
    // A codebook of 2¹⁴ points (64 KiB) asking for every other point as a neighbour: a 1 GiB
    // table, meaningful but over the cap; the fallible reservation names `k`.
    let v = 1usize << 14;
    let cb: Vec<f32> = (0..v).map(|i| i as f32).collect();
    count();
    let msg = fails_cleanly("nearest_neighbors vocab·k table", || {
        nearest_neighbors(&cb, v, 1, v - 1, Par::Seq)
    });
    assert!(msg.contains('k'), "{msg}");
    report("spec::neighbors_absurd");
}

#[test]
fn analysis_absurd() {
    let p = [0.1f64, 0.2, 0.3, 0.4];
    let q = [0.4f64, 0.3, 0.2, 0.1];
    let mut scratch = [0.0f64; 8];
    let mut out = [0.0f64; 4];
    let ids = [1u32, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];
    let table = NeighborTable::new(&ids, 4, 3).unwrap();
    for &k in &ABSURD {
        let rules = [
            Rule::Lantern {
                k,
                delta: 0.1,
                neighbors: table,
            },
            Rule::LanternPP {
                k,
                lambda: 2.0,
                neighbors: table,
            },
        ];
        for rule in rules {
            count();
            rejects_naming("acceptance_probability LANTERN k", "k", || {
                acceptance_probability(&p, &q, &rule, 0, &mut scratch)
            });
            count();
            rejects_naming("step_law LANTERN k", "k", || {
                step_law(&p, &q, &rule, 0, Residual::Optimal, &mut out, &mut scratch)
            });
        }
        // Positions past a per-position ω.
        let rule = Rule::CoolSd { omega: &[1.0, 2.0] };
        count();
        rejects("acceptance_probability ω position", || {
            acceptance_probability(&p, &q, &rule, k, &mut scratch)
        });
        count();
        rejects("step_law ω position", || {
            step_law(&p, &q, &rule, k, Residual::Optimal, &mut out, &mut scratch)
        });
    }
    count();
    rejects("acceptance_probability lengths", || {
        acceptance_probability(&p, &q[..3], &Rule::Exact, 0, &mut scratch)
    });
    count();
    rejects("acceptance_probability scratch", || {
        acceptance_probability(&p, &q, &Rule::Exact, 0, &mut [0.0; 3])
    });
    count();
    rejects("step_law out", || {
        step_law(
            &p,
            &q,
            &Rule::Exact,
            0,
            Residual::Optimal,
            &mut [0.0; 3],
            &mut scratch,
        )
    });
    count();
    rejects("step_law scratch", || {
        step_law(
            &p,
            &q,
            &Rule::Exact,
            0,
            Residual::Optimal,
            &mut out,
            &mut [0.0; 7],
        )
    });
    count();
    rejects("step_law empty", || {
        step_law(
            &[],
            &[],
            &Rule::Exact,
            0,
            Residual::Optimal,
            &mut [],
            &mut scratch,
        )
    });
    count();
    rejects("tv_distance", || tv_distance(&p, &q[..1]));
    for d in [-1.0, f64::NAN] {
        count();
        rejects_naming("cool_omega_for_budget delta", "delta", || {
            cool_omega_for_budget(&p, &q, d)
        });
    }
    count();
    rejects("cool_omega_for_budget NaN row", || {
        cool_omega_for_budget(&[f64::NAN, 1.0], &[0.5, 0.5], 0.1)
    });
    for (d, nu) in [
        (-1.0, 0.7),
        (f64::NAN, 0.7),
        (1.1, f64::NAN),
        (1.1, f64::INFINITY),
    ] {
        count();
        rejects("cool_sd_schedule", || {
            cool_sd_schedule(d, nu, &mut [0.0; 5])
        });
    }
    report("spec::analysis_absurd");
}
