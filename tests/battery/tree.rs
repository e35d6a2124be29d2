//! Battery cases for `mlkern::tree` (see `main.rs`): every public constructor and entry point
//! with absurd sizes (`ABSURD` dimensions over empty or tiny data, `n = 0` with a huge `p` and
//! the reverse, absurd indices, trim counts and declared state counts, trees whose `m×m` outputs
//! pass the cap), plus a few sanity cases that must succeed without trying a refused request.

use mlkern::Par;
use mlkern::tree::{
    Center, ChowLiuConfig, Codes, Correction, Edge, Learner, NjConfig, Objective, PairCounts,
    RgConfig, Samples, SnjConfig, Tree, TreeData, chow_liu_discrete, chow_liu_gaussian, clrg,
    correlation_matrix, correlation_matrix_into, correlation_scratch_len, discrete_distance,
    discrete_distance_probs, exact_recovery, gaussian_distance_matrix, gaussian_mi_matrix,
    hop_distances, mutual_information, neighbor_joining, path_lengths, recursive_grouping,
    robinson_foulds, robust_correlation, robust_covariance, spanning_tree, spanning_tree_into,
    spectral_nj, splits, truncated_dot, vector_distances,
};

use crate::{ABSURD, accepts, capped_alloc, fails_cleanly, rejects, rejects_naming};

/// Every learner, with default parameters.
fn learners() -> [Learner; 5] {
    [
        Learner::ChowLiu {
            correction: Correction::None,
        },
        Learner::RecursiveGrouping(RgConfig::population()),
        Learner::Clrg(RgConfig::samples(100)),
        Learner::NeighborJoining(NjConfig::population()),
        Learner::SpectralNj(SnjConfig::population()),
    ]
}

/// A star: hidden centre `m` joined to observed leaves `0..m`.
fn star(m: usize) -> Tree {
    let edges = (0..m).map(|v| Edge {
        a: v,
        b: m,
        weight: 1.0,
    });
    Tree::new(m, m + 1, edges.collect()).unwrap()
}

/// 4 samples × 3 variables with distinct, non-constant values (row-major).
const X: [f64; 12] = [
    1.0, 2.0, 0.5, //
    2.0, 1.0, 1.5, //
    3.0, 5.0, 0.0, //
    4.5, 3.0, 2.0,
];

#[test]
fn samples_and_codes() {
    let empty: [f64; 0] = [];
    // Both dimensions absurd: the product overflows, whatever the data.
    for &n in &ABSURD {
        for &p in &ABSURD {
            rejects_naming("row_major(n, p absurd)", "samples", || {
                Samples::row_major(&empty, n, p)
            });
            rejects_naming("variable_major(p, n absurd)", "samples", || {
                Samples::variable_major(&empty, p, n)
            });
        }
    }
    // One absurd dimension against a nonzero one: the data cannot match.
    for &big in &ABSURD {
        rejects("row_major(big, 1) of 0 values", || {
            Samples::row_major(&empty, big, 1)
        });
        rejects("row_major(1, big) of 0 values", || {
            Samples::row_major(&empty, 1, big)
        });
        rejects("variable_major(big, 2) of 4 values", || {
            Samples::variable_major(&X[..4], big, 2)
        });
        rejects("variable_major(2, big) of 4 values", || {
            Samples::variable_major(&X[..4], 2, big)
        });
    }
    // n = 0 with a huge p passes the length check; Codes then needs p state counts.
    let no_codes: [u8; 0] = [];
    for &p in &ABSURD {
        let s = Samples::variable_major(&no_codes, p, 0).unwrap();
        rejects_naming("Codes: p absurd, 2 states given", "states", || {
            Codes::new(s, &[2, 2])
        });
        let s = Samples::row_major(&no_codes, 0, p).unwrap();
        rejects_naming("Codes: p absurd (row-major)", "states", || {
            Codes::new(s, &[])
        });
    }
    let s = Samples::variable_major(&no_codes, 2, 0).unwrap();
    rejects_naming("Codes: zero states", "states", || Codes::new(s, &[2, 0]));
}

#[test]
fn pair_counts_and_discrete() {
    let no_codes: [u8; 0] = [];
    // A huge n with p = 0 passes the length check; counts are u32.
    for &n in &ABSURD {
        for s in [
            Samples::variable_major(&no_codes, 0, n).unwrap(),
            Samples::row_major(&no_codes, n, 0).unwrap(),
        ] {
            let c = Codes::new(s, &[]).unwrap();
            rejects_naming("PairCounts: n absurd, p = 0", "n_samples", || {
                PairCounts::new(&c, Par::Seq)
            });
            rejects_naming("chow_liu_discrete: n absurd, p = 0", "n_samples", || {
                chow_liu_discrete(&c, &ChowLiuConfig::new(), Par::Seq)
            });
            for l in learners() {
                rejects("Learner on codes: n absurd, p = 0", || {
                    l.learn(TreeData::discrete(c), Par::Seq)
                });
            }
        }
    }
    // Declared state counts far beyond the limit, with no samples and with 2 samples.
    let declared = [255u8; 200];
    let zeros = [0u8; 400];
    for (data, n) in [(&zeros[..0], 0), (&zeros[..], 2)] {
        for s in [
            Samples::variable_major(data, 200, n).unwrap(),
            Samples::row_major(data, n, 200).unwrap(),
        ] {
            let c = Codes::new(s, &declared).unwrap();
            rejects_naming("PairCounts: Σ(K − 1) over the limit", "states", || {
                PairCounts::new(&c, Par::Seq)
            });
            // (with no samples it is refused earlier, for having fewer than 2)
            rejects("chow_liu_discrete: Σ(K − 1) over the limit", || {
                chow_liu_discrete(&c, &ChowLiuConfig::new(), Par::Seq)
            });
        }
    }
    // Absurd indices and output lengths on a valid PairCounts.
    let data = [0u8, 1, 2, 1, 0, 1, 1, 0];
    let c = Codes::new(Samples::variable_major(&data, 2, 4).unwrap(), &[3, 2]).unwrap();
    let pc = PairCounts::new(&c, Par::Seq).unwrap();
    for &i in &ABSURD {
        rejects_naming("marginal_into(absurd)", "marginal", || {
            pc.marginal_into(i, &mut [0; 3])
        });
        rejects_naming("table_into(absurd, 0)", "table", || {
            pc.table_into(i, 0, &mut [0; 6])
        });
        rejects_naming("table_into(0, absurd)", "table", || {
            pc.table_into(0, i, &mut [0; 6])
        });
    }
    rejects("mutual_information_into: short out", || {
        pc.mutual_information_into(&mut [0.0; 3], Correction::None)
    });
    rejects("distances: unequal state counts", || pc.distances());
    // The per-table kernels (core tier) with absurd state counts over tiny tables.
    for &k in &ABSURD {
        rejects("mutual_information(k absurd, 0)", || {
            mutual_information(&[], k, 0, Correction::None)
        });
        rejects("mutual_information(0, k absurd)", || {
            mutual_information(&[], 0, k, Correction::MillerMadow)
        });
        rejects("mutual_information(k absurd, k absurd)", || {
            mutual_information(&[1, 2], k, k, Correction::None)
        });
        rejects("discrete_distance(k absurd)", || discrete_distance(&[], k));
        rejects("discrete_distance(k absurd, 4 counts)", || {
            discrete_distance(&[1, 0, 0, 1], k)
        });
        rejects("discrete_distance_probs(k absurd)", || {
            discrete_distance_probs(&[], k)
        });
    }
}

#[test]
fn gaussian_statistics() {
    let empty: [f64; 0] = [];
    for &p in &ABSURD {
        // n = 0 with an absurd p passes the length check: correlations need 2 samples.
        for x in [
            Samples::variable_major(&empty, p, 0).unwrap(),
            Samples::row_major(&empty, 0, p).unwrap(),
        ] {
            rejects("correlation_matrix(n = 0, p absurd)", || {
                correlation_matrix(x, Par::Seq)
            });
            rejects("correlation_matrix_into(n = 0, p absurd)", || {
                correlation_matrix_into(&mut [], x, &mut [], Par::Seq)
            });
            rejects("robust_covariance(n = 0, p absurd)", || {
                robust_covariance(x, 1, Center::Median, Par::Seq)
            });
            rejects("robust_correlation(n = 0, p absurd)", || {
                robust_correlation(x, 0, Center::Mean, Par::Seq)
            });
            rejects("chow_liu_gaussian(n = 0, p absurd)", || {
                chow_liu_gaussian(x, &ChowLiuConfig::new(), Par::Seq)
            });
            for l in learners() {
                rejects("Learner on samples: n = 0, p absurd", || {
                    l.learn(TreeData::gaussian(x), Par::Seq)
                });
            }
        }
        rejects("gaussian_mi_matrix(p absurd)", || {
            gaussian_mi_matrix(&empty, p)
        });
        rejects("gaussian_distance_matrix(p absurd)", || {
            gaussian_distance_matrix(&X, p)
        });
    }
    // The scratch size of an absurd p overflows.
    for n in [0, 4, 1 << 40] {
        for p in [usize::MAX / 2, usize::MAX] {
            rejects("correlation_scratch_len(p absurd)", || {
                correlation_scratch_len(n, p)
            });
        }
    }
    // Absurd trim counts on valid data.
    let x = Samples::row_major(&X, 4, 3).unwrap();
    for &t in &ABSURD {
        rejects_naming("robust_covariance(n_trim absurd)", "n_trim", || {
            robust_covariance(x, t, Center::Median, Par::Seq)
        });
        rejects_naming("robust_correlation(n_trim absurd)", "n_trim", || {
            robust_correlation(x, t, Center::None, Par::Seq)
        });
        rejects_naming("chow_liu_gaussian(robust_trim absurd)", "n_trim", || {
            chow_liu_gaussian(x, &ChowLiuConfig::new().robust_trim(t), Par::Seq)
        });
        for l in learners() {
            let data = TreeData::Gaussian {
                x,
                robust_trim: t,
                center: Center::Median,
            };
            rejects_naming("Learner: robust_trim absurd", "n_trim", || {
                l.learn(data, Par::Seq)
            });
        }
        // n_trim ≥ n is documented: the truncated inner product is 0, nothing allocated; the
        // caller's heap must still hold min(n_trim, n) entries.
        rejects_naming("truncated_dot(n_trim absurd, no heap)", "heap", || {
            truncated_dot(&X, &X, t, &mut [])
        });
        let v = accepts("truncated_dot(n_trim absurd)", || {
            truncated_dot(&X, &X, t, &mut [0.0; 12])
        });
        assert_eq!(v, 0.0);
    }
    // A huge n with p = 0: nothing to compute, nothing allocated for n.
    for &n in &ABSURD {
        let x = Samples::variable_major(&empty, 0, n).unwrap();
        assert!(
            accepts("correlation_matrix(n absurd, p = 0)", || {
                correlation_matrix(x, Par::Seq)
            })
            .is_empty()
        );
        assert!(
            accepts("robust_covariance(n absurd, p = 0)", || {
                robust_covariance(x, 1, Center::Median, Par::Seq)
            })
            .is_empty()
        );
    }
}

#[test]
fn spanning_trees_and_vectors() {
    let empty: [f64; 0] = [];
    for &p in &ABSURD {
        for obj in [Objective::Maximum, Objective::Minimum] {
            rejects("spanning_tree(p absurd)", || spanning_tree(&empty, p, obj));
            rejects("spanning_tree(p absurd, 4 weights)", || {
                spanning_tree(&X[..4], p, obj)
            });
            rejects("spanning_tree_into(p absurd)", || {
                spanning_tree_into(&empty, p, obj, &mut [], &mut [])
            });
        }
        rejects("vector_distances(dim absurd)", || {
            vector_distances(&empty, p, &[p])
        });
        rejects("vector_distances(dims absurd)", || {
            vector_distances(&[1.0, 0.0, 0.0, 1.0], 2, &[p, 2])
        });
        rejects("vector_distances(dims overflowing)", || {
            vector_distances(&[1.0, 0.0, 0.0, 1.0], 2, &[p, usize::MAX, 3])
        });
    }
}

#[test]
fn latent_learners() {
    let empty: [f64; 0] = [];
    let four = [0.0, 1.0, 1.0, 0.0];
    for &m in &ABSURD {
        for d in [&empty[..], &four[..]] {
            rejects_naming("recursive_grouping(m absurd)", "d", || {
                recursive_grouping(d, m, &RgConfig::population())
            });
            rejects_naming("clrg(m absurd)", "d", || clrg(d, m, &RgConfig::samples(m)));
            rejects_naming("neighbor_joining(m absurd)", "d", || {
                neighbor_joining(d, m, &NjConfig::samples())
            });
            rejects_naming("spectral_nj(m absurd)", "d", || {
                spectral_nj(d, m, &SnjConfig::samples())
            });
            for l in learners() {
                rejects("Learner on distances: m absurd", || {
                    l.learn(TreeData::distances(d, m), Par::Seq)
                });
            }
        }
    }
    // Absurd float parameters are rejected too (they are not sizes, but never loop on them).
    let d = [0.0, 1.0, 2.0, 1.0, 0.0, 1.5, 2.0, 1.5, 0.0];
    for bad in [f64::INFINITY, f64::NAN, -1.0] {
        rejects("recursive_grouping(eps bad)", || {
            recursive_grouping(&d, 3, &RgConfig::population().eps(bad))
        });
        rejects("clrg(contract bad)", || {
            clrg(&d, 3, &RgConfig::population().contract(bad))
        });
        rejects("neighbor_joining(tol bad)", || {
            neighbor_joining(&d, 3, &NjConfig::new().tol(bad))
        });
        rejects("spectral_nj(contract bad)", || {
            spectral_nj(&d, 3, &SnjConfig::new().contract(bad))
        });
    }
}

#[test]
fn trees_and_evaluation() {
    for &big in &ABSURD {
        rejects_naming("Tree::new(absurd, absurd, [])", "tree", || {
            Tree::new(big, big, Vec::new())
        });
        rejects_naming("Tree::new(0, absurd, [])", "tree", || {
            Tree::new(0, big, Vec::new())
        });
        rejects_naming("Tree::new(absurd, 2, one edge)", "tree", || {
            Tree::new(
                big,
                2,
                vec![Edge {
                    a: 0,
                    b: 1,
                    weight: 1.0,
                }],
            )
        });
        rejects_naming("Tree::new: edge end absurd", "tree", || {
            Tree::new(
                2,
                2,
                vec![Edge {
                    a: 0,
                    b: big,
                    weight: 1.0,
                }],
            )
        });
    }
    // A star with 2^14 leaves: 400 kB of edges, but its m×m outputs pass the cap (a fallible
    // reservation is the check).
    let t = star(1 << 14);
    fails_cleanly("path_lengths of a 2^14-leaf star", || path_lengths(&t));
    fails_cleanly("hop_distances of a 2^14-leaf star", || hop_distances(&t));
    // Comparisons stream rows: no m×m matrix even where it would pass the cap (m = 8200).
    let big = star(8200);
    capped_alloc::take_refused();
    assert!(exact_recovery(&big, &big));
    assert_eq!(
        capped_alloc::take_refused(),
        0,
        "exact_recovery allocated m×m"
    );
    assert_eq!(accepts("splits of a star", || splits(&big)).len(), 0);
    assert_eq!(
        accepts("robinson_foulds of stars", || robinson_foulds(&big, &big)),
        0
    );
    rejects("robinson_foulds: different observed nodes", || {
        robinson_foulds(&star(4), &star(5))
    });
}

#[test]
fn sanity_small_calls_fit() {
    // Declared state counts far above what the data use (Σ(K − 1) = 32 512, under the limit):
    // the Gram is sized by the states that occur, not a 4 GiB table.
    let declared = [255u8; 128];
    let data: Vec<u8> = (0..256).map(|i| (i % 3) as u8).collect(); // 2 samples × 128 variables
    let c = Codes::new(Samples::row_major(&data, 2, 128).unwrap(), &declared).unwrap();
    let pc = accepts("PairCounts with unused declared states", || {
        PairCounts::new(&c, Par::Seq)
    });
    let mut t = vec![0u32; 255 * 255];
    pc.table_into(0, 1, &mut t).unwrap();
    assert_eq!(t.iter().sum::<u32>(), 2);
    let tree = accepts("chow_liu_discrete with unused declared states", || {
        chow_liu_discrete(&c, &ChowLiuConfig::new(), Par::Seq)
    });
    assert_eq!(tree.edges().len(), 127);
    let x = Samples::row_major(&X, 4, 3).unwrap();
    for l in learners() {
        let t = accepts("Learner on 4 × 3 samples", || {
            l.learn(TreeData::gaussian(x), Par::Seq)
        });
        assert_eq!(t.n_observed(), 3);
    }
    let d = accepts("path_lengths of a small star", || path_lengths(&star(4)));
    assert_eq!(d.len(), 16);
}

#[test]
fn quadratic_outputs_fail_cleanly() {
    // 2 samples of p = 6000 variables (96 kB of data): every p×p f64 table is 288 MB, over the
    // cap. Meaningful sizes, too big for this allocator: the fallible reservation is the check.
    let p = 6000;
    let x: Vec<f64> = (0..2 * p)
        .map(|i| (i % 7) as f64 + (i / p) as f64)
        .collect();
    let s = Samples::variable_major(&x, p, 2).unwrap();
    let rows = Samples::row_major(&x, 2, p).unwrap();
    for x in [s, rows] {
        let msg = fails_cleanly("correlation_matrix(p = 6000)", || {
            correlation_matrix(x, Par::Seq)
        });
        assert!(msg.contains("correlation_matrix"), "{msg}");
        fails_cleanly("robust_correlation(p = 6000)", || {
            robust_correlation(x, 1, Center::None, Par::Seq)
        });
        fails_cleanly("chow_liu_gaussian(p = 6000)", || {
            chow_liu_gaussian(x, &ChowLiuConfig::new(), Par::Seq)
        });
        fails_cleanly("Learner::Clrg on 2 × 6000 samples", || {
            Learner::Clrg(RgConfig::new()).learn(TreeData::gaussian(x), Par::Seq)
        });
    }
    // The same for 6000 binary variables: the Gram fits (144 MB), the p×p MI matrix does not.
    let codes: Vec<u8> = (0..2 * p).map(|i| (i % 2) as u8).collect();
    let states = vec![2u8; p];
    let c = Codes::new(Samples::variable_major(&codes, p, 2).unwrap(), &states).unwrap();
    let pc = accepts("PairCounts of 6000 binary variables", || {
        PairCounts::new(&c, Par::Seq)
    });
    fails_cleanly("mutual_information(p = 6000)", || {
        pc.mutual_information(Correction::None)
    });
    fails_cleanly("distances(p = 6000)", || pc.distances());
    fails_cleanly("chow_liu_discrete(p = 6000)", || {
        chow_liu_discrete(&c, &ChowLiuConfig::new(), Par::Seq)
    });
}
