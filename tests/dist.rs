//! The distributed kernels over the in-process [`Local`] group: every result against the
//! single-process kernel on the concatenated data, determinism, and all-or-nothing errors.
//! (The same kernels over MPI are checked by `examples/mpi_check.rs`, run by `tests/mpi.rs`.)

use mlkern::dist::{
    self, Comm, Local, Solo, Split, muon_shard_scratch_len, muon_step_shard,
    orthogonalize_shard_into, orthogonalize_shard_scratch_len, reduce_cov, reduce_pair_counts,
};
use mlkern::linalg::{Layout, view, view_mut};
use mlkern::ortho::{
    Algo, Hyper, MuonConfig, NsConfig, PRESETS, muon_scratch_len, muon_step, orthogonalize_into,
    orthogonalize_scratch_len,
};
use mlkern::spectrum::{Centering, CovAccumulator};
use mlkern::tree::{ChowLiuConfig, Codes, Correction, PairCounts, Samples};
use mlkern::{Error, Par, Real};

/// SplitMix64 → uniform in [−1, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn vec<T: Real>(&mut self, n: usize) -> Vec<T> {
        (0..n).map(|_| T::from_f64(self.next())).collect()
    }
}

/// Offsets of uneven shards of `n` over `r` ranks; with `empty`, the middle rank gets none.
fn offsets(n: usize, r: usize, empty: bool) -> Vec<usize> {
    let mut w: Vec<usize> = (0..r).map(|i| i + 1).collect();
    if empty && r > 1 {
        w[r / 2] = 0;
    }
    let total: usize = w.iter().sum();
    let mut off = vec![0];
    for (i, wi) in w.iter().enumerate() {
        let end = if i + 1 == r {
            n
        } else {
            (off[i] + n * wi / total).min(n)
        };
        off.push(end);
    }
    off
}

/// Rank `r`'s block of a row-major `rows×cols` matrix split along `split`.
fn block<T: Copy>(x: &[T], rows: usize, cols: usize, split: Split, lo: usize, hi: usize) -> Vec<T> {
    match split {
        Split::Cols => (0..rows)
            .flat_map(|i| x[i * cols + lo..i * cols + hi].to_vec())
            .collect(),
        _ => x[lo * cols..hi * cols].to_vec(),
    }
}

fn rel<T: Real>(a: &[T], b: &[T]) -> f64 {
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64() - y.as_f64()).powi(2))
        .sum();
    let den: f64 = b.iter().map(|y| y.as_f64().powi(2)).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Sharded NS on `ranks` ranks against one process, every preset and algorithm: within `tol`
/// relative (Frobenius) or, where the single-process kernel's own error against the f64 result
/// is larger (f32 with Gram or CANS: up to 1.6e-5), within twice that error; and never more than
/// twice as far from the f64 result as the single-process kernel is.
fn ns_matches<T: Real>(k: usize, n: usize, split: Split, ranks: usize, empty: bool, tol: f64) {
    let mut rng = Rng(7 + k as u64 * 31 + n as u64);
    let (rows, cols) = match split {
        Split::Cols => (k, n),
        _ => (n, k),
    };
    let g: Vec<T> = rng.vec(rows * cols);
    let off = offsets(n, ranks, empty);
    for schedule in PRESETS {
        let name = schedule.name;
        for algo in [Algo::Standard, Algo::GRAM, Algo::Auto] {
            let cfg = NsConfig::new(*schedule).with_algo(algo);
            let mut want = vec![T::zero(); rows * cols];
            let mut ws = vec![T::zero(); orthogonalize_scratch_len(rows, cols, &cfg).unwrap()];
            let single = orthogonalize_into(
                view_mut(&mut want, rows, cols, Layout::RowMajor).unwrap(),
                view(&g, rows, cols, Layout::RowMajor).unwrap(),
                &cfg,
                &mut ws,
                Par::Seq,
            )
            .unwrap();
            // The f64 oracle: the single-process f32 kernel's own error bounds what two f32
            // evaluations (one sharded) can agree to.
            let oracle = {
                let g64: Vec<f64> = g.iter().map(|x| x.as_f64()).collect();
                let mut w64 = vec![0.0f64; rows * cols];
                let mut ws = vec![0.0f64; orthogonalize_scratch_len(rows, cols, &cfg).unwrap()];
                orthogonalize_into(
                    view_mut(&mut w64, rows, cols, Layout::RowMajor).unwrap(),
                    view(&g64, rows, cols, Layout::RowMajor).unwrap(),
                    &cfg,
                    &mut ws,
                    Par::Seq,
                )
                .unwrap();
                w64
            };
            let own: f64 = rel(
                &want.iter().map(|x| x.as_f64()).collect::<Vec<_>>(),
                &oracle,
            );
            let run = || {
                Local::run(ranks, |comm| {
                    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
                    let gb = block(&g, rows, cols, split, lo, hi);
                    let (br, bc) = match split {
                        Split::Cols => (rows, hi - lo),
                        _ => (hi - lo, cols),
                    };
                    let mut out = vec![T::zero(); gb.len()];
                    let mut ws =
                        vec![T::zero(); orthogonalize_shard_scratch_len(br, bc, split, &cfg)?];
                    let rep = orthogonalize_shard_into(
                        view_mut(&mut out, br, bc, Layout::RowMajor)?,
                        view(&gb, br, bc, Layout::RowMajor)?,
                        split,
                        &cfg,
                        &mut ws,
                        comm,
                        Par::Seq,
                    )?;
                    Ok((out, rep))
                })
                .unwrap()
            };
            let got = run();
            for (r, (out, rep)) in got.iter().enumerate() {
                let want_b = block(&want, rows, cols, split, off[r], off[r + 1]);
                if !want_b.is_empty() {
                    let e = rel(out, &want_b);
                    let bound = tol.max(2.0 * own);
                    assert!(
                        e <= bound,
                        "{name} {algo:?} {split:?} rank {r}: rel {e:e} > {bound:e}"
                    );
                    let o64: Vec<f64> = block(&oracle, rows, cols, split, off[r], off[r + 1]);
                    let eo = rel(&out.iter().map(|x| x.as_f64()).collect::<Vec<_>>(), &o64);
                    assert!(
                        eo <= 2.0 * own + tol,
                        "{name} {algo:?}: sharded error vs f64 {eo:e}, one process {own:e}"
                    );
                }
                assert_eq!(
                    rep.algo, single.algo,
                    "{name}: algorithm resolved from the whole"
                );
                assert_eq!(rep.steps, single.steps);
                let dn = (rep.input_norm - single.input_norm).abs() / single.input_norm;
                assert!(
                    dn < 1e-14,
                    "{name}: norm {} vs {}",
                    rep.input_norm,
                    single.input_norm
                );
            }
            // Deterministic: the same bits on a second run.
            let again = run();
            for (a, b) in got.iter().zip(&again) {
                assert!(
                    a.0.iter()
                        .zip(&b.0)
                        .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
                );
            }
        }
    }
}

#[test]
fn local_sum_is_in_rank_order_and_identical_everywhere() {
    // (1e16 + 1) + (−1e16) = 0 in rank order; any other association gives 1 or 2.
    let vals = [1e16f64, 1.0, -1e16, 1.0];
    let r = Local::run(4, |comm| {
        let mut x = [vals[comm.rank()]];
        comm.sum(&mut x)?;
        Ok(x[0])
    })
    .unwrap();
    let serial = ((vals[0] + vals[1]) + vals[2]) + vals[3];
    assert_eq!(r, [serial; 4]);
    // Broadcast.
    let b = Local::run(3, |comm| {
        let mut x = [comm.rank() as u64 * 10, 7];
        comm.broadcast(u64::buf_of(&mut x), 2)?;
        Ok(x)
    })
    .unwrap();
    assert_eq!(b, [[20, 7]; 3]);
}

trait BufOf {
    fn buf_of(x: &mut [Self]) -> dist::Buf<'_>
    where
        Self: Sized;
}
impl BufOf for u64 {
    fn buf_of(x: &mut [Self]) -> dist::Buf<'_> {
        dist::Buf::U64(x)
    }
}

#[test]
fn local_group_errors_instead_of_hanging() {
    // Different lengths: every rank gets Communication.
    let r = Local::run(2, |comm| {
        let mut x = vec![1.0f32; 1 + comm.rank()];
        Ok(comm.sum(&mut x))
    })
    .unwrap();
    assert!(
        r.iter()
            .all(|e| matches!(e, Err(Error::Communication { .. }))),
        "{r:?}"
    );
    // A rank that leaves early: the others' collective fails, no hang.
    let r = Local::run(3, |comm| {
        if comm.rank() == 1 {
            return Ok(None);
        }
        let mut x = [1.0f64];
        Ok(Some(comm.sum(&mut x)))
    })
    .unwrap();
    assert!(matches!(r[0], Some(Err(Error::Communication { .. }))));
    // u64 overflow is an error on every rank, and a bad root is rejected.
    let r = Local::run(2, |comm| {
        let mut x = [u64::MAX];
        Ok(comm.sum(&mut x))
    })
    .unwrap();
    assert!(r.iter().all(|e| e.is_err()));
    assert!(Local::run(0, |_| Ok(())).is_err());
    assert!(Solo.broadcast(dist::Buf::F64(&mut [1.0]), 1).is_err());
}

#[test]
fn sharded_ns_f64_matches_one_process_to_1e12() {
    ns_matches::<f64>(12, 40, Split::Cols, 3, true, 1e-12);
    ns_matches::<f64>(9, 25, Split::Rows, 2, false, 1e-12);
    ns_matches::<f64>(16, 16, Split::Cols, 4, false, 1e-12); // square
}

#[test]
fn sharded_ns_f32_matches_one_process_to_1e6() {
    ns_matches::<f32>(24, 70, Split::Cols, 3, true, 1e-6);
    ns_matches::<f32>(10, 33, Split::Rows, 3, false, 1e-6);
}

#[test]
fn one_rank_is_the_single_process_kernel_bit_for_bit() {
    let mut rng = Rng(3);
    let (k, n) = (7, 19);
    let g: Vec<f32> = rng.vec(k * n);
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::default().with_algo(algo);
        let mut want = vec![0.0f32; k * n];
        let mut ws = vec![0.0; orthogonalize_scratch_len(k, n, &cfg).unwrap()];
        orthogonalize_into(
            view_mut(&mut want, k, n, Layout::RowMajor).unwrap(),
            view(&g, k, n, Layout::RowMajor).unwrap(),
            &cfg,
            &mut ws,
            Par::Seq,
        )
        .unwrap();
        let mut got = vec![0.0f32; k * n];
        let mut ws = vec![0.0; orthogonalize_shard_scratch_len(k, n, Split::Cols, &cfg).unwrap()];
        orthogonalize_shard_into(
            view_mut(&mut got, k, n, Layout::RowMajor).unwrap(),
            view(&g, k, n, Layout::RowMajor).unwrap(),
            Split::Cols,
            &cfg,
            &mut ws,
            &Solo,
            Par::Seq,
        )
        .unwrap();
        assert_eq!(got, want, "{algo:?}");
    }
}

#[test]
fn sharded_ns_rejects_inconsistent_shards_on_every_rank() {
    let cfg = NsConfig::default();
    // Different shared dimensions.
    let r = Local::run(2, |comm| {
        let k = 3 + comm.rank();
        let g = vec![1.0f64; k * 5];
        let mut out = g.clone();
        let mut ws = vec![0.0; orthogonalize_shard_scratch_len(k, 5, Split::Cols, &cfg)?];
        Ok(orthogonalize_shard_into(
            view_mut(&mut out, k, 5, Layout::RowMajor)?,
            view(&g, k, 5, Layout::RowMajor)?,
            Split::Cols,
            &cfg,
            &mut ws,
            comm,
            Par::Seq,
        ))
    })
    .unwrap();
    assert!(
        r.iter()
            .all(|e| matches!(e, Err(Error::ShapeMismatch { .. }))),
        "{r:?}"
    );
    // Split along the short side: 6 rows shared, 2 + 2 columns.
    let r = Local::run(2, |comm| {
        let g = vec![1.0f64; 12];
        let mut out = g.clone();
        let mut ws = vec![0.0; orthogonalize_shard_scratch_len(6, 2, Split::Cols, &cfg)?];
        Ok(orthogonalize_shard_into(
            view_mut(&mut out, 6, 2, Layout::RowMajor)?,
            view(&g, 6, 2, Layout::RowMajor)?,
            Split::Cols,
            &cfg,
            &mut ws,
            comm,
            Par::Seq,
        ))
    })
    .unwrap();
    assert!(
        r.iter()
            .all(|e| matches!(e, Err(Error::InvalidParameter { name: "split", .. })))
    );
}

/// Sharded Muon against the whole-parameter step, and NaN on one rank leaving every rank's
/// state untouched.
#[test]
fn sharded_muon_matches_and_is_all_or_nothing() {
    let (k, n, ranks) = (8usize, 30usize, 3usize);
    let mut rng = Rng(11);
    let p0: Vec<f64> = rng.vec(k * n);
    let m0: Vec<f64> = rng.vec(k * n);
    let g: Vec<f64> = rng.vec(k * n);
    let cfg = MuonConfig::default();
    let hyper = Hyper::lr(0.05).with_weight_decay(0.1);
    let (mut p, mut m) = (p0.clone(), m0.clone());
    let mut ws = vec![0.0; muon_scratch_len(&[k, n], &cfg).unwrap()];
    let whole = muon_step(&mut p, &mut m, &g, &[k, n], hyper, &cfg, &mut ws, Par::Seq).unwrap();
    let off = offsets(n, ranks, true);
    for poison in [None, Some(2usize)] {
        let out = Local::run(ranks, |comm| {
            let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
            let mut pb = block(&p0, k, n, Split::Cols, lo, hi);
            let mut mb = block(&m0, k, n, Split::Cols, lo, hi);
            let mut gb = block(&g, k, n, Split::Cols, lo, hi);
            if poison == Some(comm.rank()) {
                gb[1] = f64::NAN;
            }
            let mut ws = vec![0.0; muon_shard_scratch_len(k, hi - lo, Split::Cols, &cfg)?];
            let r = muon_step_shard(
                &mut pb,
                &mut mb,
                &gb,
                (k, hi - lo),
                Split::Cols,
                hyper,
                &cfg,
                &mut ws,
                comm,
                Par::Seq,
            );
            Ok((r, pb, mb))
        })
        .unwrap();
        for (r, (res, pb, mb)) in out.iter().enumerate() {
            let (lo, hi) = (off[r], off[r + 1]);
            match poison {
                None => {
                    let rep = res.as_ref().unwrap();
                    assert_eq!((rep.rows, rep.cols), (k, n));
                    assert_eq!(rep.step_size, whole.step_size);
                    let e = rel(pb, &block(&p, k, n, Split::Cols, lo, hi));
                    assert!(e < 1e-13, "rank {r}: {e:e}");
                    assert_eq!(
                        mb,
                        &block(&m, k, n, Split::Cols, lo, hi),
                        "momentum is local"
                    );
                }
                Some(bad) => {
                    if r == bad {
                        assert!(matches!(res, Err(Error::NonFinite { .. })), "{res:?}");
                    } else {
                        assert!(
                            matches!(res, Err(Error::PeerFailed { what: "muon_step_shard", rank }) if *rank == bad),
                            "{res:?}"
                        );
                    }
                    assert_eq!(
                        pb,
                        &block(&p0, k, n, Split::Cols, lo, hi),
                        "param untouched"
                    );
                    assert_eq!(
                        mb,
                        &block(&m0, k, n, Split::Cols, lo, hi),
                        "momentum untouched"
                    );
                }
            }
        }
    }
}

#[test]
fn reduced_covariance_gives_the_spectrum_of_all_rows() {
    let (n, d, ranks) = (60usize, 9usize, 3usize);
    let mut rng = Rng(5);
    let x: Vec<f64> = (0..n * d)
        .map(|i| rng.next() * (1.0 + (i % d) as f64) + 3.0)
        .collect();
    let mut one = CovAccumulator::new(d).unwrap();
    one.push(view(&x, n, d, Layout::RowMajor).unwrap(), Par::Seq)
        .unwrap();
    let want = one.spectrum(Centering::ColumnMean, Par::Seq).unwrap().sigma;
    let off = offsets(n, ranks, true);
    let got = Local::run(ranks, |comm| {
        let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
        let mut acc = CovAccumulator::new(d)?;
        acc.push(
            view(&x[lo * d..hi * d], hi - lo, d, Layout::RowMajor)?,
            Par::Seq,
        )?;
        reduce_cov(&mut acc, comm)?;
        assert_eq!(acc.count(), n as u64);
        Ok(acc.spectrum(Centering::ColumnMean, Par::Seq)?.sigma)
    })
    .unwrap();
    for s in &got {
        assert_eq!(s, &got[0], "bit-identical on every rank");
    }
    let e = rel(&got[0], &want);
    assert!(e < 1e-13, "{e:e}");
    // Mismatched dimensions: an error on every rank.
    let r = Local::run(2, |comm| {
        let mut acc = CovAccumulator::new(2 + comm.rank())?;
        Ok(reduce_cov(&mut acc, comm))
    })
    .unwrap();
    assert!(
        r.iter()
            .all(|e| matches!(e, Err(Error::ShapeMismatch { .. })))
    );
}

/// Samples of a chain x0 → x1 → … with flips: a clear Chow–Liu tree.
fn chain_codes(n: usize, p: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut x = vec![0u8; n * p];
    for t in 0..n {
        let mut v = u8::from(rng.next() > 0.0) + u8::from(rng.next() > 0.5);
        for j in 0..p {
            if rng.next() > 0.6 {
                v = (v + 1) % 3;
            }
            x[t * p + j] = v;
        }
    }
    x
}

#[test]
fn distributed_chow_liu_gives_the_same_tree() {
    let (n, p, ranks) = (400usize, 7usize, 3usize);
    let x = chain_codes(n, p, 9);
    let states = vec![3u8; p];
    let codes = Codes::new(Samples::row_major(&x, n, p).unwrap(), &states).unwrap();
    let cfg = ChowLiuConfig::new().correction(Correction::MillerMadow);
    let want = mlkern::tree::chow_liu_discrete(&codes, &cfg, Par::Seq).unwrap();
    let want_mi = PairCounts::new(&codes, Par::Seq)
        .unwrap()
        .mutual_information(Correction::None)
        .unwrap();
    let off = offsets(n, ranks, true);
    let got = Local::run(ranks, |comm| {
        let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
        let codes = Codes::new(Samples::row_major(&x[lo * p..hi * p], hi - lo, p)?, &states)?;
        let tree = dist::chow_liu_discrete(&codes, &cfg, comm, Par::Seq)?;
        let mi = reduce_pair_counts(&PairCounts::new(&codes, Par::Seq)?, comm)?
            .mutual_information(Correction::None)?;
        Ok((tree, mi))
    })
    .unwrap();
    for (tree, mi) in &got {
        assert_eq!(
            tree.edges(),
            want.edges(),
            "edge for edge, weight for weight"
        );
        assert_eq!(mi, &want_mi, "exact counts: bit-identical MI");
    }
    // Gaussian: correlated chain of real variables.
    let mut rng = Rng(21);
    let mut xg = vec![0.0f64; n * p];
    for t in 0..n {
        let mut v = rng.next();
        for j in 0..p {
            v = 0.8 * v + 0.5 * rng.next();
            xg[t * p + j] = v;
        }
    }
    let want = mlkern::tree::chow_liu_gaussian(
        Samples::row_major(&xg, n, p).unwrap(),
        &ChowLiuConfig::new(),
        Par::Seq,
    )
    .unwrap();
    let want_corr =
        mlkern::tree::correlation_matrix(Samples::row_major(&xg, n, p).unwrap(), Par::Seq).unwrap();
    let got = Local::run(ranks, |comm| {
        let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
        let s = Samples::row_major(&xg[lo * p..hi * p], hi - lo, p)?;
        let corr = dist::reduce_correlation(s, comm, Par::Seq)?;
        Ok((
            dist::chow_liu_gaussian(s, &ChowLiuConfig::new(), comm, Par::Seq)?,
            corr,
        ))
    })
    .unwrap();
    for (tree, corr) in &got {
        let pairs =
            |t: &mlkern::tree::Tree| t.edges().iter().map(|e| (e.a, e.b)).collect::<Vec<_>>();
        assert_eq!(pairs(tree), pairs(&want));
        assert!(mlkern_max_diff(corr, &want_corr) < 1e-13);
    }
}

fn mlkern_max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
