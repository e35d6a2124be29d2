//! Battery cases for `mlkern::spectrum` (see `main.rs`).
//!
//! Every public entry point of the spectral-diagnostics family with absurd shapes, dimensions,
//! sample counts, tolerances and ranks: each is an `Err` reached before anything absurd is
//! allocated or computed, or (for an empty matrix whose other dimension is absurd) an empty
//! `Ok` that allocates nothing.

use core::mem::MaybeUninit;
use core::ops::Range;

use mlkern::limits::{MAX_COV_DIM, MAX_NDS_SAMPLES};
use mlkern::linalg::{Layout, MemStack, view};
use mlkern::spectrum::{
    Centering, CovAccumulator, HessianVectorProduct, MarginKind, Method, RankTol, Spectrum,
    SpectrumConfig, Weighting, margin_top2, margin_true, margins, nds, nds_decomposition,
    nds_decomposition_scratch_len, nds_within_estimate, singular_values, singular_values_into,
    singular_values_scratch_len,
};
use mlkern::{Par, Result};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::{ABSURD, accepts, count, fails_cleanly, rejects, rejects_naming, report};

fn configs() -> Vec<SpectrumConfig> {
    let mut v = Vec::new();
    for c in [Centering::None, Centering::ColumnMean] {
        for m in [Method::Auto, Method::Svd, Method::Gram] {
            for e in [false, true] {
                v.push(SpectrumConfig::new(c, m).with_energy_only(e));
            }
        }
    }
    v
}

#[test]
fn singular_values_absurd() {
    let x = [3.0f64, 0.0, 0.0, 4.0, 0.0, 0.0];
    // Sanity.
    count();
    let s = singular_values(
        view(&x, 3, 2, Layout::RowMajor).unwrap(),
        &SpectrumConfig::default(),
        Par::Seq,
    )
    .unwrap();
    assert!((s.sigma[0] - 4.0).abs() < 1e-12);
    for cfg in configs() {
        for &n in &ABSURD {
            // An empty matrix whose other dimension is absurd: no values, nothing allocated, no
            // scan over the absurd dimension.
            for (r, c) in [(0, n), (n, 0)] {
                count();
                let m = view(&[] as &[f64], r, c, Layout::RowMajor).unwrap();
                let s = accepts("singular_values of an empty matrix", || {
                    singular_values(m, &cfg, Par::Seq)
                });
                assert!(s.sigma.is_empty() && (s.rows, s.cols) == (r, c));
                count();
                let m32 = view(&[] as &[f32], r, c, Layout::ColMajor).unwrap();
                accepts("singular_values_into of an empty matrix", || {
                    singular_values_into(&mut [], m32, &cfg, MemStack::new(&mut []), Par::Seq)
                });
                count();
                assert_eq!(
                    singular_values_scratch_len::<f32>(r, c, &cfg, Par::Seq).unwrap(),
                    0
                );
            }
            // Scratch sizes that overflow: an error, not a wrapped small size.
            for (r, c) in [(n, n), (n, 1 << 33), (1 << 33, n)] {
                count();
                rejects("singular_values_scratch_len overflow (f64)", || {
                    singular_values_scratch_len::<f64>(r, c, &cfg, Par::Seq)
                });
                count();
                rejects("singular_values_scratch_len overflow (f32)", || {
                    singular_values_scratch_len::<f32>(r, c, &cfg, Par::Seq)
                });
            }
        }
        // Shapes near the largest a matrix in memory can have: a size or an error, never a
        // panic inside faer's unchecked scratch arithmetic.
        for (r, c) in [
            (1 << 28, 1 << 28),
            (1 << 27, 1 << 29),
            (1 << 55, 1),
            (1 << 50, 64),
            (64, 1 << 50),
            (3, 1 << 54),
        ] {
            count();
            let _ = singular_values_scratch_len::<f64>(r, c, &cfg, Par::Seq);
            count();
            let _ = singular_values_scratch_len::<f32>(r, c, &cfg, Par::Seq);
        }
        // Output of the wrong length, a short stack, non-finite data.
        let m = view(&x, 3, 2, Layout::RowMajor).unwrap();
        count();
        rejects("singular_values_into out length", || {
            singular_values_into(&mut [0.0; 3], m, &cfg, MemStack::new(&mut []), Par::Seq)
        });
        count();
        let mut small = [MaybeUninit::<u8>::uninit(); 8];
        rejects_naming("singular_values_into short stack", "scratch", || {
            singular_values_into(&mut [0.0; 2], m, &cfg, MemStack::new(&mut small), Par::Seq)
        });
        let bad = [1.0f64, f64::NAN, 0.0, 1.0];
        count();
        rejects("singular_values NaN", || {
            singular_values(view(&bad, 2, 2, Layout::RowMajor).unwrap(), &cfg, Par::Seq)
        });
    }
    // Views whose shapes the data does not back never reach the kernels.
    for &n in &ABSURD {
        count();
        rejects("view rows", || view(&x, n, 2, Layout::RowMajor));
        count();
        rejects("view cols", || view(&x, 3, n, Layout::ColMajor));
    }
    report("spectrum::singular_values_absurd");
}

#[test]
fn cov_accumulator_absurd() {
    count();
    rejects_naming("CovAccumulator dim 0", "dim", || CovAccumulator::new(0));
    for n in ABSURD
        .into_iter()
        .chain([MAX_COV_DIM + 1, 1 << 20, 1 << 32])
    {
        count();
        rejects_naming("CovAccumulator dim over MAX_COV_DIM", "dim", || {
            CovAccumulator::new(n)
        });
    }
    // Within the limit but over the allocator's cap (8192² f64 = 512 MiB, 2¹⁷² f64 = 128 GiB):
    // the fallible probe of faer's d×d matrix is the check.
    for n in [1 << 13, 1 << 16, MAX_COV_DIM] {
        count();
        let msg = fails_cleanly("CovAccumulator dim over memory", || CovAccumulator::new(n));
        assert!(msg.contains("dim"), "{msg}");
    }
    // Sanity and shape errors of push / merge.
    count();
    let mut acc = CovAccumulator::new(3).unwrap();
    let x = [1.0f64, 2.0, 3.0, 4.0];
    count();
    rejects("CovAccumulator::push width", || {
        acc.push(view(&x, 2, 2, Layout::RowMajor).unwrap(), Par::Seq)
    });
    for &n in &ABSURD {
        // A push of zero rows of an absurd width is a width error, no scan.
        count();
        rejects("CovAccumulator::push empty absurd width", || {
            acc.push(
                view(&[] as &[f64], 0, n, Layout::RowMajor).unwrap(),
                Par::Seq,
            )
        });
    }
    count();
    rejects("CovAccumulator::push NaN", || {
        acc.push(
            view(&[1.0, f64::NAN, 0.0], 1, 3, Layout::RowMajor).unwrap(),
            Par::Seq,
        )
    });
    count();
    rejects("CovAccumulator::merge dim", || {
        acc.merge(&CovAccumulator::new(4).unwrap())
    });
    count();
    acc.push(
        view(&[1.0f32, 2.0, 4.0], 1, 3, Layout::RowMajor).unwrap(),
        Par::Seq,
    )
    .unwrap();
    assert_eq!(
        acc.spectrum(Centering::None, Par::Seq).unwrap().sigma.len(),
        1
    );
    report("spectrum::cov_accumulator_absurd");
}

/// A diagonal Hessian that claims any dimension.
struct Fake {
    dim: usize,
}

impl HessianVectorProduct for Fake {
    fn dim(&self) -> usize {
        self.dim
    }
    fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> Result<()> {
        out.copy_from_slice(v);
        Ok(())
    }
}

#[test]
fn curvature_absurd() {
    let delta = [1.0f64, 2.0, 3.0, 4.0];
    let mut scratch = [0.0f64; 8];
    let mut rng = SmallRng::seed_from_u64(1);
    let blocks: [Range<usize>; 2] = [0..2, 2..4];
    let mut h = Fake { dim: 4 };
    // Sanity.
    count();
    assert_eq!(nds(&mut h, &delta, &mut scratch).unwrap(), Some(1.0));
    for &n in &ABSURD {
        let mut liar = Fake { dim: n };
        count();
        rejects("nds: oracle dim", || nds(&mut liar, &delta, &mut scratch));
        count();
        rejects("nds_decomposition: oracle dim", || {
            nds_decomposition(&mut liar, &delta, &blocks, &mut [0.0; 2], &mut scratch)
        });
        count();
        rejects("nds_within_estimate: oracle dim", || {
            nds_within_estimate(&mut liar, &delta, &blocks, 4, &mut rng, &mut scratch)
        });
        // Blocks reaching past the delta.
        for bl in [[0..2, 2..n], [0..n, n..n], [0..2, n..4]] {
            count();
            rejects_naming("nds_decomposition: blocks", "blocks", || {
                nds_decomposition(&mut h, &delta, &bl, &mut [0.0; 2], &mut scratch)
            });
            count();
            rejects_naming("nds_within_estimate: blocks", "blocks", || {
                nds_within_estimate(&mut h, &delta, &bl, 4, &mut rng, &mut scratch)
            });
        }
        // Monte-Carlo samples beyond the limit: rejected before any HVP.
        count();
        rejects_naming("nds_within_estimate: samples", "samples", || {
            nds_within_estimate(&mut h, &delta, &blocks, n, &mut rng, &mut scratch)
        });
    }
    count();
    rejects_naming(
        "nds_within_estimate: samples over MAX_NDS_SAMPLES",
        "samples",
        || {
            nds_within_estimate(
                &mut h,
                &delta,
                &blocks,
                MAX_NDS_SAMPLES + 1,
                &mut rng,
                &mut scratch,
            )
        },
    );
    count();
    rejects_naming("nds_within_estimate: 0 samples", "samples", || {
        nds_within_estimate(&mut h, &delta, &blocks, 0, &mut rng, &mut scratch)
    });
    for n in [usize::MAX / 2 + 1, usize::MAX] {
        count();
        rejects("nds_decomposition_scratch_len overflow", || {
            nds_decomposition_scratch_len(n)
        });
    }
    count();
    rejects("nds: short scratch", || nds(&mut h, &delta, &mut [0.0; 3]));
    count();
    rejects("nds_decomposition: short scratch", || {
        nds_decomposition(&mut h, &delta, &blocks, &mut [0.0; 2], &mut [0.0; 7])
    });
    count();
    rejects("nds_decomposition: per_block", || {
        nds_decomposition(&mut h, &delta, &blocks, &mut [0.0; 3], &mut scratch)
    });
    count();
    rejects("nds: NaN delta", || {
        nds(&mut h, &[f64::NAN, 0.0, 0.0, 0.0], &mut scratch)
    });
    report("spectrum::curvature_absurd");
}

#[test]
fn metrics_and_margins_absurd() {
    let mut s = [4.0f64, 2.0, 1.0, 0.0];
    let sp = Spectrum::from_singular_values(&mut s).unwrap();
    for &n in &ABSURD {
        // Ranks and shapes far beyond the spectrum: bounded by its length, no allocation.
        count();
        let e = accepts("top_k_energy absurd k", || Ok::<_, ()>(sp.top_k_energy(n)));
        assert_eq!(e, Some(1.0));
        count();
        assert!(sp.isotropy(n).is_some());
        count();
        let shaped = sp.with_shape(n, n, f64::EPSILON);
        assert!(shaped.numerical_rank(RankTol::Numpy).is_ok());
        // Margins: shapes the logits do not back.
        let z = [2.0f64, 0.0, 1.0, 0.0, 5.0, 5.0];
        let mut out = [0.0f64; 2];
        count();
        rejects("margins rows", || {
            margins(&z, n, 3, None, MarginKind::Top2, &mut out)
        });
        count();
        rejects("margins classes", || {
            margins(&z, 2, n, None, MarginKind::Top2, &mut out)
        });
        count();
        rejects("margins rows·classes overflow", || {
            margins(&[] as &[f64], n, n, None, MarginKind::Top2, &mut out)
        });
        count();
        rejects("margins absurd rows of zero classes", || {
            margins(&[] as &[f64], n, 0, None, MarginKind::Top2, &mut out)
        });
        count();
        rejects_naming("margins label", "labels", || {
            margins(&z, 2, 3, Some(&[0, n]), MarginKind::TrueClass, &mut out)
        });
        count();
        rejects("margin_true label", || margin_true(&z[..3], n));
        // Zero rows of an absurd width: nothing to do, nothing allocated.
        count();
        accepts("margins zero rows", || {
            margins(&[] as &[f64], 0, n, None, MarginKind::Top2, &mut [])
        });
    }
    for t in [f64::NAN, -1.0, f64::INFINITY] {
        count();
        rejects("numerical_rank Abs", || sp.numerical_rank(RankTol::Abs(t)));
        count();
        rejects("numerical_rank Rel", || sp.numerical_rank(RankTol::Rel(t)));
        count();
        rejects("rankme eps", || sp.rankme(t));
        count();
        rejects("quantile_ratio", || sp.quantile_ratio(t, 0.25));
    }
    count();
    rejects("renyi_erank NaN alpha", || {
        sp.renyi_erank(f64::NAN, Weighting::Sigma)
    });
    count();
    rejects("from_singular_values NaN", || {
        Spectrum::from_singular_values(&mut [1.0, f64::NAN]).map(|_| ())
    });
    count();
    rejects("from_singular_values negative", || {
        Spectrum::from_singular_values(&mut [1.0, -1.0]).map(|_| ())
    });
    count();
    rejects("from_eigenvalues negative", || {
        Spectrum::from_eigenvalues(&mut [1.0, -0.5]).map(|_| ())
    });
    count();
    rejects("from_sorted ascending", || {
        Spectrum::from_sorted(&[1.0, 2.0])
    });
    count();
    rejects("margin_top2 one class", || margin_top2(&[1.0f32]));
    count();
    rejects("margins classes 1", || {
        margins(&[0.0f32; 2], 2, 1, None, MarginKind::Top2, &mut [0.0; 2])
    });
    count();
    rejects_naming("margins TrueClass without labels", "labels", || {
        margins(
            &[0.0f32; 6],
            2,
            3,
            None,
            MarginKind::TrueClass,
            &mut [0.0; 2],
        )
    });
    report("spectrum::metrics_and_margins_absurd");
}
