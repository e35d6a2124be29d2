//! Battery cases for `mlkern::ortho` (see `main.rs`): Newton–Schulz step counts over
//! [`MAX_NS_STEPS`] at every entry point (single, owned, batch, batch-owned, generator, Muon
//! step, stateful Muon, schedule/config validation), absurd shapes (scratch queries, batches of
//! empty matrices, shapes whose element count overflows), zero where zero is invalid, and empty
//! 0×2⁴⁰ views that must return at once instead of walking 2⁴⁰ empty columns.

use std::sync::atomic::{AtomicUsize, Ordering};

use mlkern::gpu::Cuda;
use mlkern::limits::MAX_NS_STEPS;
use mlkern::linalg::{Accum, GemmBackend, Layout, Mat, view, view_mut};
use mlkern::ortho::{
    self, Algo, Hyper, Muon, MuonConfig, Normalize, NsConfig, NsReport, PRESETS, Quintic, Schedule,
    Tail, UpdateScale,
};
use mlkern::{Error, Par};

use crate::{ABSURD, fails_cleanly, rejects, rejects_naming};

/// Cases run by this file (each `rejects*`/`fails_cleanly` call and each sanity check).
static CASES: AtomicUsize = AtomicUsize::new(0);

fn case() {
    CASES.fetch_add(1, Ordering::Relaxed);
}

/// Step counts that no kernel may run: just over the limit, large, and the shared absurd scale.
fn bad_steps() -> Vec<usize> {
    let mut v = vec![MAX_NS_STEPS + 1, 1_000, 1_000_000_000_000];
    v.extend(ABSURD);
    v
}

const ALGOS: [Algo; 3] = [Algo::Standard, Algo::GRAM, Algo::Auto];

/// An 8×16 matrix (the hang) with distinct singular values.
fn g816() -> Vec<f32> {
    (0..128).map(|i| ((i * 37 % 17) as f32) - 8.0).collect()
}

#[test]
fn ortho_steps_over_the_limit_are_rejected_before_any_work() {
    let g = g816();
    let gv = view(&g, 8, 16, Layout::RowMajor).unwrap();
    let mut out = vec![0.0f32; 128];
    let mut ws = vec![0.0f32; 1 << 12];
    let g64: Vec<f64> = g.iter().map(|&x| f64::from(x)).collect();
    let g64v = view(&g64, 8, 16, Layout::RowMajor).unwrap();
    let coeffs = [Quintic::new(1.875, -1.25, 0.375)];
    for &steps in &bad_steps() {
        for preset in PRESETS {
            let sched = preset.with_steps(steps);
            rejects_naming("Schedule::validate", "steps", || sched.validate());
            case();
            for algo in ALGOS {
                let cfg = NsConfig::new(sched).with_algo(algo);
                rejects_naming("NsConfig::validate", "steps", || cfg.validate());
                rejects_naming("orthogonalize_into", "steps", || {
                    ortho::orthogonalize_into(
                        view_mut(&mut out, 8, 16, Layout::RowMajor).unwrap(),
                        gv,
                        &cfg,
                        &mut ws,
                        Par::Seq,
                    )
                });
                rejects_naming("orthogonalize (owned)", "steps", || {
                    ortho::orthogonalize(g64v, &cfg, Par::Seq)
                });
                rejects_naming("orthogonalize_batch (owned)", "steps", || {
                    ortho::orthogonalize_batch(&g, 2, 4, 16, &cfg, Par::Seq)
                });
                let mut reports = [NsReport::default(); 2];
                rejects_naming("orthogonalize_batch_into", "steps", || {
                    ortho::orthogonalize_batch_into(
                        &mut out,
                        &mut reports,
                        &g,
                        2,
                        4,
                        16,
                        &cfg,
                        &mut ws,
                        Par::Seq,
                    )
                });
                // Steps over the limit with an absurd batch of empty matrices: the steps are
                // checked before the reports are reserved.
                rejects_naming("orthogonalize_batch (owned), empty batch", "steps", || {
                    ortho::orthogonalize_batch::<f32>(&[], usize::MAX, 0, 16, &cfg, Par::Seq)
                });
                let mcfg = MuonConfig::new(cfg);
                let (mut p, mut m) = (vec![1.0f32; 128], vec![0.0f32; 128]);
                rejects_naming("muon_step", "steps", || {
                    ortho::muon_step(
                        &mut p,
                        &mut m,
                        &g,
                        &[8, 16],
                        Hyper::lr(0.02),
                        &mcfg,
                        &mut ws,
                        Par::Seq,
                    )
                });
                rejects_naming("Muon::new", "steps", || Muon::<f32>::new(&[8, 16], mcfg));
                // Even for a parameter too large to allocate: the steps are checked first.
                rejects_naming("Muon::new, huge parameter", "steps", || {
                    Muon::<f32>::new(&[1, 1 << 40], mcfg)
                });
                for _ in 0..9 {
                    case();
                }
            }
            // eval() cannot return an error: it must not loop, and says NaN.
            assert!(sched.eval(0.5).is_nan());
            case();
        }
        let custom = Schedule::custom(&coeffs, Tail::Cycle).with_steps(steps);
        rejects_naming("custom schedule", "steps", || custom.validate());
        rejects_naming("polar_express_schedule", "steps", || {
            ortho::polar_express_schedule(1e-3, steps, 1.02, 0.02)
        });
        rejects_naming("polar_express_schedule, no safety", "steps", || {
            ortho::polar_express_schedule(1e-3, steps, 1.0, 0.0)
        });
        case();
        case();
        case();
    }
    // The limit itself is accepted (and runs quickly on the 8×16 matrix).
    let cfg = NsConfig::new(PRESETS[0].with_steps(MAX_NS_STEPS));
    let (_, r) = ortho::orthogonalize(g64v, &cfg, Par::Seq).unwrap();
    assert_eq!(r.steps, MAX_NS_STEPS);
    assert_eq!(
        ortho::polar_express_schedule(1e-3, MAX_NS_STEPS, 1.0, 0.0)
            .unwrap()
            .len(),
        MAX_NS_STEPS
    );
    case();
    case();
    // The error is TooLarge with the limit.
    let e = PRESETS[0].with_steps(usize::MAX).validate().unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            name: "steps",
            value: usize::MAX,
            limit: MAX_NS_STEPS
        }
    );
    case();
    eprintln!(
        "ortho battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}

#[test]
fn ortho_absurd_shapes_and_parameters_are_errors() {
    let cfg = NsConfig::default();
    let mcfg = MuonConfig::default();
    // Scratch queries whose size overflows usize.
    for &a in &ABSURD {
        for &b in &ABSURD {
            for algo in ALGOS {
                let c = cfg.with_algo(algo);
                rejects_naming("orthogonalize_scratch_len", "shape", || {
                    ortho::orthogonalize_scratch_len(a, b, &c)
                });
                rejects_naming("orthogonalize_batch_scratch_len", "shape", || {
                    ortho::orthogonalize_batch_scratch_len(2, a, b, &c, Par::Seq)
                });
                case();
                case();
            }
            rejects_naming("muon_scratch_len", "shape", || {
                ortho::muon_scratch_len(&[a, b], &mcfg)
            });
            rejects_naming("muon_scratch_len 3-D", "shape", || {
                ortho::muon_scratch_len(&[2, a, b], &mcfg)
            });
            rejects_naming("Muon::new overflowing shape", "shape", || {
                Muon::<f32>::new(&[a, b], mcfg)
            });
            // A b×m×n batch whose element count overflows, over an empty slice.
            rejects("orthogonalize_batch overflowing shape", || {
                ortho::orthogonalize_batch::<f32>(&[], 2, a, b, &cfg, Par::Seq)
            });
            let mut reports = [NsReport::default(); 2];
            rejects("orthogonalize_batch_into overflowing shape", || {
                ortho::orthogonalize_batch_into::<f32>(
                    &mut [],
                    &mut reports,
                    &[],
                    2,
                    a,
                    b,
                    &cfg,
                    &mut [],
                    Par::Seq,
                )
            });
            for _ in 0..5 {
                case();
            }
        }
        // One huge dimension: scratch 2k·N + 2k² overflows for k ≥ 2^31 or N ≈ usize::MAX.
        if a >= usize::MAX / 2 {
            rejects_naming("orthogonalize_scratch_len 2×huge", "shape", || {
                ortho::orthogonalize_scratch_len(2, a, &cfg)
            });
            case();
        }
        // A batch of `a` empty matrices over an empty slice: one report each cannot be held.
        let msg = fails_cleanly(
            "orthogonalize_batch, absurd batch of empty matrices",
            || ortho::orthogonalize_batch::<f32>(&[], a, 0, 16, &cfg, Par::Seq),
        );
        assert!(msg.contains("batch"), "{msg}");
        let msg = fails_cleanly("orthogonalize_batch, absurd batch of m×0", || {
            ortho::orthogonalize_batch::<f64>(&[], a, 16, 0, &cfg, Par::Seq)
        });
        assert!(msg.contains("batch"), "{msg}");
        // Caller-held reports that do not match an absurd batch.
        let mut reports = [NsReport::default(); 2];
        rejects(
            "orthogonalize_batch_into, reports shorter than batch",
            || {
                ortho::orthogonalize_batch_into::<f32>(
                    &mut [],
                    &mut reports,
                    &[],
                    a,
                    0,
                    16,
                    &cfg,
                    &mut [],
                    Par::Seq,
                )
            },
        );
        // Data that does not hold an absurd shape.
        let g = [1.0f32; 6];
        rejects("orthogonalize_batch, short data", || {
            ortho::orthogonalize_batch(&g, a, 2, 3, &cfg, Par::Seq)
        });
        rejects("orthogonalize_batch, short data (m)", || {
            ortho::orthogonalize_batch(&g, 1, a, 3, &cfg, Par::Seq)
        });
        // A meaningful parameter shape too large for memory: the fallible reservation is the
        // check.
        fails_cleanly("Muon::new 1×huge", || {
            Muon::<f32>::new(&[1, a.min(1 << 40)], mcfg)
        });
        fails_cleanly("Muon::new huge×1", || {
            Muon::<f64>::new(&[a.min(1 << 40), 1], mcfg)
        });
        // muon_step with a shape that the slices do not hold.
        let (mut p, mut m, gr) = (vec![1.0f32; 6], vec![0.0f32; 6], vec![1.0f32; 6]);
        rejects("muon_step, shape not held", || {
            ortho::muon_step(
                &mut p,
                &mut m,
                &gr,
                &[a, 3],
                Hyper::lr(0.02),
                &mcfg,
                &mut [],
                Par::Seq,
            )
        });
        rejects("muon_step, overflowing shape", || {
            ortho::muon_step(
                &mut p,
                &mut m,
                &gr,
                &[a, a],
                Hyper::lr(0.02),
                &mcfg,
                &mut [],
                Par::Seq,
            )
        });
        for _ in 0..8 {
            case();
        }
    }
    // Zero or too few dimensions where a matrix is needed.
    for shape in [&[][..], &[6], &[0]] {
        rejects_naming("muon_scratch_len < 2-D", "shape", || {
            ortho::muon_scratch_len(shape, &mcfg)
        });
        rejects_naming("Muon::new < 2-D", "shape", || Muon::<f32>::new(shape, mcfg));
        case();
        case();
    }
    // Invalid generator arguments, zero steps included.
    for (l0, steps, safety, cushion, name) in [
        (0.0, 5, 1.0, 0.0, "l0"),
        (f64::NAN, 5, 1.0, 0.0, "l0"),
        (1e-3, 0, 1.0, 0.0, "steps"),
        (1e-3, 5, f64::INFINITY, 0.0, "safety"),
        (1e-3, 5, 0.5, 0.0, "safety"),
        (1e-3, 5, 1.0, 1.0, "cushion"),
        (1e-3, 5, 1.0, f64::NAN, "cushion"),
    ] {
        rejects_naming("polar_express_schedule", name, || {
            ortho::polar_express_schedule(l0, steps, safety, cushion)
        });
        case();
    }
    // Invalid schedules and Muon hyper-parameters.
    let nan = [Quintic::new(f64::NAN, 0.0, 0.0)];
    for sched in [
        Schedule::custom(&nan, Tail::Cycle),
        Schedule::custom(&[], Tail::RepeatLast).with_steps(3),
        PRESETS[0].with_normalize(Normalize::plus_eps(0.0, 1e-7)),
        PRESETS[0].with_normalize(Normalize::max_eps(1.0, -1.0)),
    ] {
        rejects_naming("invalid schedule", "invalid parameter", || sched.validate());
        case();
    }
    let g = g816();
    let (mut p, mut m) = (vec![1.0f32; 128], vec![0.0f32; 128]);
    let mut ws = vec![0.0f32; ortho::muon_scratch_len(&[8, 16], &mcfg).unwrap()];
    for (c, h) in [
        (mcfg.with_momentum(1.0), Hyper::lr(0.02)),
        (mcfg.with_momentum(f64::NAN), Hyper::lr(0.02)),
        (mcfg, Hyper::lr(f64::INFINITY)),
        (mcfg, Hyper::lr(-1.0)),
        (mcfg, Hyper::lr(0.02).with_weight_decay(f64::NAN)),
        (
            mcfg.with_scale(UpdateScale::Fixed(f64::INFINITY)),
            Hyper::lr(0.02),
        ),
    ] {
        rejects("muon_step bad hyper-parameter", || {
            ortho::muon_step(&mut p, &mut m, &g, &[8, 16], h, &c, &mut ws, Par::Seq)
        });
        case();
    }
    // Short scratch and mismatched outputs.
    let gv = view(&g, 8, 16, Layout::RowMajor).unwrap();
    let mut out = vec![0.0f32; 128];
    rejects("orthogonalize_into, no scratch", || {
        ortho::orthogonalize_into(
            view_mut(&mut out, 8, 16, Layout::RowMajor).unwrap(),
            gv,
            &cfg,
            &mut [],
            Par::Seq,
        )
    });
    rejects("orthogonalize_into, transposed output", || {
        ortho::orthogonalize_into(
            view_mut(&mut out, 16, 8, Layout::RowMajor).unwrap(),
            gv,
            &cfg,
            &mut ws,
            Par::Seq,
        )
    });
    rejects("muon_step, short scratch", || {
        ortho::muon_step(
            &mut p,
            &mut m,
            &g,
            &[8, 16],
            Hyper::lr(0.02),
            &mcfg,
            &mut [],
            Par::Seq,
        )
    });
    // Shard building blocks with inconsistent shapes.
    let mut r = Mat::<f32>::zeros(3, 3);
    rejects("shard_gram, wrong Gram size", || {
        ortho::shard_gram(GemmBackend::Auto, r.as_mut(), Accum::Replace, gv, Par::Seq)
    });
    let sq = Mat::<f32>::zeros(8, 8);
    rejects("step_matrix, wrong output", || {
        ortho::step_matrix(
            GemmBackend::Auto,
            r.as_mut(),
            sq.as_ref(),
            Quintic::new(1.0, 0.0, 0.0),
            Par::Seq,
        )
    });
    rejects("apply_step, wrong step size", || {
        ortho::apply_step(
            GemmBackend::Auto,
            view_mut(&mut out, 8, 16, Layout::RowMajor).unwrap(),
            r.as_ref(),
            gv,
            Par::Seq,
        )
    });
    for norm in [f64::NAN, -1.0, f64::INFINITY] {
        rejects_naming("normalize_shard, bad total norm", "total_norm", || {
            ortho::normalize_shard(
                view_mut(&mut out, 8, 16, Layout::RowMajor).unwrap(),
                gv,
                norm,
                Normalize::KELLER_JORDAN,
            )
        });
        case();
    }
    let bad = [f32::NAN; 4];
    rejects("shard_norm, NaN", || {
        ortho::shard_norm(view(&bad, 2, 2, Layout::RowMajor).unwrap())
    });
    // No GPU handle at an absurd ordinal (no `cublas` feature, no device, or out of range).
    rejects("Cuda::try_new_on(usize::MAX)", || {
        Cuda::try_new_on(usize::MAX)
    });
    for _ in 0..8 {
        case();
    }
    eprintln!(
        "ortho battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}

/// Empty views with a huge other dimension pass the shape checks over an empty slice; every
/// entry point must return at once (zero report / nothing to do), neither allocating for nor
/// walking the 2⁴⁰ empty rows or columns.
#[test]
fn ortho_empty_views_with_huge_dimensions_return_at_once() {
    let start = std::time::Instant::now();
    let cfg = NsConfig::default();
    let mut empty: [f64; 0] = [];
    for &big in &ABSURD {
        for (m, n) in [(0, big), (big, 0)] {
            let g = view(&[] as &[f64], m, n, Layout::RowMajor).unwrap();
            for algo in ALGOS {
                let c = cfg.with_algo(algo);
                match ortho::orthogonalize(g, &c, Par::Seq) {
                    Ok((o, r)) => {
                        assert_eq!((o.nrows(), o.ncols()), (m, n));
                        assert!(r.zero_input && r.steps == 0);
                    }
                    // faer pads the row capacity to its alignment and multiplies it by the
                    // element size: ≥ 2⁶¹ rows overflow that, even for an empty matrix.
                    Err(Error::OutOfMemory { .. }) if m > (1 << 40) + 1 => {}
                    Err(e) => panic!("orthogonalize {m}×{n}: {e}"),
                }
                assert_eq!(ortho::orthogonalize_scratch_len(m, n, &c), Ok(0));
                let r = ortho::orthogonalize_into(
                    view_mut(&mut empty, m, n, Layout::RowMajor).unwrap(),
                    g,
                    &c,
                    &mut [],
                    Par::Seq,
                )
                .unwrap();
                assert!(r.zero_input);
                let (o, r) = ortho::orthogonalize_batch::<f64>(&[], 3, m, n, &c, Par::Seq).unwrap();
                assert!(o.is_empty() && r.len() == 3 && r.iter().all(|r| r.zero_input));
                case();
                case();
                case();
            }
            assert_eq!(ortho::shard_norm(g), Ok(0.0));
            ortho::normalize_shard(
                view_mut(&mut empty, m, n, Layout::RowMajor).unwrap(),
                g,
                0.0,
                Normalize::KELLER_JORDAN,
            )
            .unwrap();
            let mut opt = Muon::<f64>::new(&[m, n], MuonConfig::default()).unwrap();
            let r = opt.step(&mut [], &[], 0.02, Par::Seq).unwrap();
            assert!(r.ns.zero_input);
            for _ in 0..3 {
                case();
            }
        }
        // 0×0 Gram of a 0×2⁴⁰ shard; the step applied to it.
        let x = view(&[] as &[f64], 0, big, Layout::RowMajor).unwrap();
        let mut r = Mat::<f64>::zeros(0, 0);
        ortho::shard_gram(GemmBackend::Auto, r.as_mut(), Accum::Replace, x, Par::Seq).unwrap();
        ortho::shard_gram(GemmBackend::Portable, r.as_mut(), Accum::Add, x, Par::Seq).unwrap();
        for be in [GemmBackend::Auto, GemmBackend::Faer, GemmBackend::Portable] {
            ortho::apply_step(
                be,
                view_mut(&mut empty, 0, big, Layout::RowMajor).unwrap(),
                r.as_ref(),
                x,
                Par::Seq,
            )
            .unwrap();
            case();
        }
        case();
        case();
    }
    // Well under a second in a debug build; a walk over 2⁴⁰ columns would take hours.
    assert!(
        start.elapsed().as_secs() < 60,
        "empty views took {:?}",
        start.elapsed()
    );
    eprintln!(
        "ortho battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}
