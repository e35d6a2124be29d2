//! The distributed kernels' checks, written once for any [`Comm`]: run on threads by
//! `tests/dist.rs` ([`Local`](mlkern::dist::Local)) and on processes by `tests/mpi.rs`
//! (`mpiexec -n R`, [`Mpi`](mlkern::dist::Mpi)). Every rank builds the same whole data from a
//! seed, runs the single-process kernel on it, and checks its own shard of the distributed
//! result; a case returns `Err(description)` on the rank where a check fails.
#![allow(dead_code)]

use mlkern::Par;
use mlkern::Real;
use mlkern::dist::{
    self, Comm, Split, amuse_shard_scratch_len, amuse_step_shard, muon_shard_scratch_len,
    muon_step_shard, orthogonalize_shard_into, orthogonalize_shard_scratch_len, reduce_cov,
    reduce_pair_counts,
};
use mlkern::linalg::{Layout, view, view_mut};
use mlkern::ortho::{
    Algo, AmuseConfig, AmuseState, Hyper, MuonConfig, NsConfig, PRESETS, amuse_scratch_len,
    amuse_step, muon_scratch_len, muon_step, orthogonalize_into, orthogonalize_scratch_len,
};
use mlkern::spectrum::{Centering, CovAccumulator};
use mlkern::tree::{ChowLiuConfig, Codes, Correction, PairCounts, Samples, Tree};
use mlkern::{Error, Result};

/// A failed check: what and where.
pub type Check = std::result::Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)*) => {
        if !($cond as bool) {
            return Err(format!($($msg)*));
        }
    };
}

/// SplitMix64 → uniform in [−1, 1).
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    pub fn vec<T: Real>(&mut self, n: usize) -> Vec<T> {
        (0..n).map(|_| T::from_f64(self.next())).collect()
    }
}

/// Offsets of uneven shards of `n` over `r` ranks; with `empty`, the middle rank gets none.
pub fn offsets(n: usize, r: usize, empty: bool) -> Vec<usize> {
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

/// Rank `r`'s block `lo..hi` of a row-major `rows×cols` matrix split along `split`.
pub fn block<T: Copy>(
    x: &[T],
    rows: usize,
    cols: usize,
    split: Split,
    lo: usize,
    hi: usize,
) -> Vec<T> {
    match split {
        Split::Cols => (0..rows)
            .flat_map(|i| x[i * cols + lo..i * cols + hi].to_vec())
            .collect(),
        _ => x[lo * cols..hi * cols].to_vec(),
    }
}

/// Relative Frobenius distance.
pub fn rel<T: Real>(a: &[T], b: &[T]) -> f64 {
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64() - y.as_f64()).powi(2))
        .sum();
    let den: f64 = b.iter().map(|y| y.as_f64().powi(2)).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

fn widen<T: Real>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.as_f64()).collect()
}

fn single<T: Real>(g: &[T], rows: usize, cols: usize, cfg: &NsConfig<'_>) -> Result<Vec<T>> {
    let mut out = vec![T::zero(); rows * cols];
    let mut ws = vec![T::zero(); orthogonalize_scratch_len(rows, cols, cfg)?];
    orthogonalize_into(
        view_mut(&mut out, rows, cols, Layout::RowMajor)?,
        view(g, rows, cols, Layout::RowMajor)?,
        cfg,
        &mut ws,
        Par::Seq,
    )?;
    Ok(out)
}

fn e(err: Error) -> String {
    err.to_string()
}

/// The rank-order sum: `(1e16 + 1) − 1e16 + …` gives the serial association's bits only.
pub fn sum_order<C: Comm>(comm: &C) -> Check {
    let vals: Vec<f64> = (0..comm.size())
        .map(|r| [1e16, 1.0, -1e16, 1.0][r % 4] * (1.0 + (r / 4) as f64))
        .collect();
    let mut x = [vals[comm.rank()], 0.5 * vals[comm.rank()]];
    comm.sum(&mut x).map_err(e)?;
    let serial = vals.iter().skip(1).fold(vals[0], |a, &b| a + b);
    let half = vals.iter().skip(1).fold(0.5 * vals[0], |a, &b| a + 0.5 * b);
    ensure!(
        x == [serial, half],
        "sum {x:?} is not the rank-order sum {serial}, {half}"
    );
    let mut b = [comm.rank() as u64 + 40, 7];
    comm.broadcast(dist::Buf::U64(&mut b), comm.size() - 1)
        .map_err(e)?;
    ensure!(b == [comm.size() as u64 + 39, 7], "broadcast gave {b:?}");
    Ok(())
}

/// Sharded NS against one process, every preset and algorithm: within `tol` relative
/// (Frobenius) or, where the single-process kernel's own error against the f64 result is
/// larger (f32 with Gram or CANS: up to 1.6e-5 here), within twice that error; and never more
/// than twice as far from the f64 result as the single-process kernel is. The same bits on a
/// second run. Returns this rank's result blocks, for comparisons between engines.
pub fn ns<T: Real, C: Comm>(
    comm: &C,
    (k, n): (usize, usize),
    split: Split,
    empty: bool,
    tol: f64,
) -> std::result::Result<Vec<Vec<T>>, String> {
    let mut rng = Rng(7 + k as u64 * 31 + n as u64);
    let (rows, cols) = match split {
        Split::Cols => (k, n),
        _ => (n, k),
    };
    let g: Vec<T> = rng.vec(rows * cols);
    let g64 = widen(&g);
    let off = offsets(n, comm.size(), empty);
    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
    let gb = block(&g, rows, cols, split, lo, hi);
    let (br, bc) = match split {
        Split::Cols => (rows, hi - lo),
        _ => (hi - lo, cols),
    };
    let mut blocks = Vec::new();
    for schedule in PRESETS {
        for algo in [Algo::Standard, Algo::GRAM, Algo::Auto] {
            let name = schedule.name;
            let cfg = NsConfig::new(*schedule).with_algo(algo);
            let want = single(&g, rows, cols, &cfg).map_err(e)?;
            let oracle = single(&g64, rows, cols, &cfg).map_err(e)?;
            let own = rel(&widen(&want), &oracle);
            let run = || -> Result<Vec<T>> {
                let mut out = vec![T::zero(); gb.len()];
                let mut ws = vec![T::zero(); orthogonalize_shard_scratch_len(br, bc, split, &cfg)?];
                let rep = orthogonalize_shard_into(
                    view_mut(&mut out, br, bc, Layout::RowMajor)?,
                    view(&gb, br, bc, Layout::RowMajor)?,
                    split,
                    &cfg,
                    &mut ws,
                    comm,
                    Par::Seq,
                )?;
                let (kk, nn) = (k.min(n), k.max(n));
                if rep.algo != cfg.algo.resolve(kk, nn) {
                    return Err(Error::InvalidParameter {
                        name: "algo",
                        reason: "not resolved from the whole matrix",
                    });
                }
                Ok(out)
            };
            let out = run().map_err(e)?;
            let again = run().map_err(e)?;
            ensure!(
                widen(&out)
                    .iter()
                    .zip(widen(&again))
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} {algo:?}: a second run differs"
            );
            if !out.is_empty() {
                let err = rel(&out, &block(&want, rows, cols, split, lo, hi));
                let bound = tol.max(2.0 * own);
                ensure!(
                    err <= bound,
                    "{name} {algo:?} {split:?} rank {}: rel {err:e} > {bound:e}",
                    comm.rank()
                );
                let eo = rel(&widen(&out), &block(&oracle, rows, cols, split, lo, hi));
                ensure!(
                    eo <= 2.0 * own + tol,
                    "{name} {algo:?}: error vs f64 {eo:e}, one process {own:e}"
                );
            }
            blocks.push(out);
        }
    }
    Ok(blocks)
}

/// One rank's parameter, momentum and gradient blocks (seeded, the same on every engine).
fn muon_data(k: usize, n: usize) -> [Vec<f64>; 3] {
    let mut rng = Rng(11);
    [rng.vec(k * n), rng.vec(k * n), rng.vec(k * n)]
}

/// Sharded Muon against the whole-parameter step; with `poison`, a NaN in that rank's gradient
/// leaves every rank's parameter and momentum untouched and every rank gets an error.
pub fn muon<C: Comm>(comm: &C, poison: Option<usize>) -> Check {
    let (k, n) = (8usize, 30usize);
    let [p0, m0, g] = muon_data(k, n);
    let cfg = MuonConfig::default();
    let hyper = Hyper::lr(0.05).with_weight_decay(0.1);
    let (mut p, mut m) = (p0.clone(), m0.clone());
    let mut ws = vec![0.0; muon_scratch_len(&[k, n], &cfg).map_err(e)?];
    let whole =
        muon_step(&mut p, &mut m, &g, &[k, n], hyper, &cfg, &mut ws, Par::Seq).map_err(e)?;
    // A rank without columns when nothing is poisoned (a poisoned rank needs data).
    let off = offsets(n, comm.size(), poison.is_none());
    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
    let cut = |x: &[f64]| block(x, k, n, Split::Cols, lo, hi);
    let (mut pb, mut mb, mut gb) = (cut(&p0), cut(&m0), cut(&g));
    if poison == Some(comm.rank()) {
        gb[1] = f64::NAN;
    }
    let mut ws = vec![0.0; muon_shard_scratch_len(k, hi - lo, Split::Cols, &cfg).map_err(e)?];
    let res = muon_step_shard(
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
    let rep = match settled(comm, res, poison, "muon_step_shard")? {
        None => {
            ensure!(
                pb == cut(&p0) && mb == cut(&m0),
                "rank {}: state changed",
                comm.rank()
            );
            return Ok(());
        }
        Some(rep) => rep,
    };
    ensure!(
        (rep.rows, rep.cols) == (k, n) && rep.step_size == whole.step_size,
        "whole shape {:?}, step size {}",
        (rep.rows, rep.cols),
        rep.step_size
    );
    let err = rel(&pb, &cut(&p));
    ensure!(err < 1e-13, "muon rank {}: rel {err:e}", comm.rank());
    ensure!(mb == cut(&m), "momentum is local and must match exactly");
    Ok(())
}

/// The outcome of an all-or-nothing call: `Some(report)` when nothing was poisoned; `None` when
/// rank `bad` was, after checking that it got its own error and every other rank `PeerFailed`.
fn settled<R: std::fmt::Debug>(
    comm: &impl Comm,
    res: Result<R>,
    poison: Option<usize>,
    what: &'static str,
) -> std::result::Result<Option<R>, String> {
    let Some(bad) = poison else {
        return res.map(Some).map_err(e);
    };
    if comm.rank() == bad {
        ensure!(
            matches!(res, Err(Error::NonFinite { .. })),
            "rank {bad}: {res:?}"
        );
    } else {
        ensure!(
            matches!(res, Err(Error::PeerFailed { what: w, rank }) if rank == bad && w == what),
            "rank {}: {res:?}",
            comm.rank()
        );
    }
    Ok(None)
}

/// Sharded AMUSE against the whole-parameter step at t = 3 after the warmup (β and the average
/// both non-trivial, weight decay at Y); with `poison`, all or nothing as [`muon`].
pub fn amuse<C: Comm>(comm: &C, poison: Option<usize>) -> Check {
    let (k, n, t) = (7usize, 26usize, 3u64);
    let [y0, m0, g] = muon_data(k, n);
    let z0: Vec<f64> = y0.iter().map(|v| 0.9 * v - 0.01).collect();
    let x0: Vec<f64> = y0.iter().map(|v| 1.1 * v + 0.01).collect();
    let cfg = AmuseConfig::default().with_schedule(0.4, 2, 0.7);
    let hyper = Hyper::lr(0.05).with_weight_decay(0.1);
    let (mut y, mut z, mut x, mut m) = (y0.clone(), z0.clone(), x0.clone(), m0.clone());
    let mut ws = vec![0.0; amuse_scratch_len(&[k, n], &cfg).map_err(e)?];
    let state = AmuseState {
        z: &mut z,
        x: &mut x,
        m: &mut m,
    };
    amuse_step(
        &mut y,
        state,
        &g,
        &[k, n],
        t,
        hyper,
        &cfg,
        &mut ws,
        Par::Seq,
    )
    .map_err(e)?;
    let off = offsets(n, comm.size(), poison.is_none());
    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
    let cut = |v: &[f64]| block(v, k, n, Split::Cols, lo, hi);
    let (mut yb, mut zb, mut xb, mut mb, mut gb) =
        (cut(&y0), cut(&z0), cut(&x0), cut(&m0), cut(&g));
    if poison == Some(comm.rank()) {
        gb[1] = f64::NAN;
    }
    let mut ws = vec![0.0; amuse_shard_scratch_len(k, hi - lo, Split::Cols, &cfg).map_err(e)?];
    let state = AmuseState {
        z: &mut zb,
        x: &mut xb,
        m: &mut mb,
    };
    let res = amuse_step_shard(
        &mut yb,
        state,
        &gb,
        (k, hi - lo),
        Split::Cols,
        t,
        hyper,
        &cfg,
        &mut ws,
        comm,
        Par::Seq,
    );
    if settled(comm, res, poison, "amuse_step_shard")?.is_none() {
        ensure!(
            (&yb, &zb, &xb, &mb) == (&cut(&y0), &cut(&z0), &cut(&x0), &cut(&m0)),
            "rank {}: state changed",
            comm.rank()
        );
        return Ok(());
    }
    for (name, got, want) in [("y", &yb, &y), ("z", &zb, &z), ("x", &xb, &x)] {
        let err = rel(got, &cut(want));
        ensure!(
            err < 1e-13,
            "amuse {name} rank {}: rel {err:e}",
            comm.rank()
        );
    }
    ensure!(mb == cut(&m), "momentum is local and must match exactly");
    Ok(())
}

/// The reduced accumulator gives the spectrum of all rows; returns this rank's σ.
pub fn cov<C: Comm>(comm: &C) -> std::result::Result<Vec<f64>, String> {
    let (n, d) = (60usize, 9usize);
    let mut rng = Rng(5);
    let x: Vec<f64> = (0..n * d)
        .map(|i| rng.next() * (1.0 + (i % d) as f64) + 3.0)
        .collect();
    let mut one = CovAccumulator::new(d).map_err(e)?;
    one.push(view(&x, n, d, Layout::RowMajor).map_err(e)?, Par::Seq)
        .map_err(e)?;
    let want = one
        .spectrum(Centering::ColumnMean, Par::Seq)
        .map_err(e)?
        .sigma;
    let off = offsets(n, comm.size(), true);
    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
    let mut acc = CovAccumulator::new(d).map_err(e)?;
    acc.push(
        view(&x[lo * d..hi * d], hi - lo, d, Layout::RowMajor).map_err(e)?,
        Par::Seq,
    )
    .map_err(e)?;
    reduce_cov(&mut acc, comm).map_err(e)?;
    ensure!(acc.count() == n as u64, "count {}", acc.count());
    let got = acc
        .spectrum(Centering::ColumnMean, Par::Seq)
        .map_err(e)?
        .sigma;
    let err = rel(&got, &want);
    ensure!(err < 1e-13, "cov spectrum rel {err:e}");
    // Identical on every rank: rank 0's broadcast equals ours.
    let mut r0 = got.clone();
    comm.broadcast(dist::Buf::F64(&mut r0), 0).map_err(e)?;
    ensure!(
        r0 == got,
        "rank {}: spectrum differs from rank 0's",
        comm.rank()
    );
    Ok(got)
}

/// Samples of a 3-state chain x0 → x1 → … with random steps: a clear Chow–Liu tree.
fn chain_codes(n: usize, p: usize) -> Vec<u8> {
    let mut rng = Rng(9);
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

fn pairs(t: &Tree) -> Vec<(usize, usize)> {
    t.edges().iter().map(|e| (e.a, e.b)).collect()
}

/// Discrete Chow–Liu from reduced pair counts: the same tree and bit-identical MI; Gaussian
/// Chow–Liu from reduced correlations: the same edges, correlations within 1e-13.
pub fn chow_liu<C: Comm>(comm: &C) -> Check {
    let (n, p) = (400usize, 7usize);
    let off = offsets(n, comm.size(), true);
    let (lo, hi) = (off[comm.rank()], off[comm.rank() + 1]);
    let x = chain_codes(n, p);
    let states = vec![3u8; p];
    let codes = Codes::new(Samples::row_major(&x, n, p).map_err(e)?, &states).map_err(e)?;
    let cfg = ChowLiuConfig::new().correction(Correction::MillerMadow);
    let want = mlkern::tree::chow_liu_discrete(&codes, &cfg, Par::Seq).map_err(e)?;
    let want_mi = PairCounts::new(&codes, Par::Seq)
        .and_then(|c| c.mutual_information(Correction::None))
        .map_err(e)?;
    let mine = Codes::new(
        Samples::row_major(&x[lo * p..hi * p], hi - lo, p).map_err(e)?,
        &states,
    )
    .map_err(e)?;
    let tree = dist::chow_liu_discrete(&mine, &cfg, comm, Par::Seq).map_err(e)?;
    let mi = reduce_pair_counts(&PairCounts::new(&mine, Par::Seq).map_err(e)?, comm)
        .and_then(|c| c.mutual_information(Correction::None))
        .map_err(e)?;
    ensure!(tree.edges() == want.edges(), "discrete tree differs");
    ensure!(mi == want_mi, "discrete MI is not bit-identical");

    let mut rng = Rng(21);
    let mut xg = vec![0.0f64; n * p];
    for t in 0..n {
        let mut v = rng.next();
        for j in 0..p {
            v = 0.8 * v + 0.5 * rng.next();
            xg[t * p + j] = v;
        }
    }
    let all = Samples::row_major(&xg, n, p).map_err(e)?;
    let want = mlkern::tree::chow_liu_gaussian(all, &ChowLiuConfig::new(), Par::Seq).map_err(e)?;
    let want_corr = mlkern::tree::correlation_matrix(all, Par::Seq).map_err(e)?;
    let s = Samples::row_major(&xg[lo * p..hi * p], hi - lo, p).map_err(e)?;
    let corr = dist::reduce_correlation(s, comm, Par::Seq).map_err(e)?;
    let tree = dist::chow_liu_gaussian(s, &ChowLiuConfig::new(), comm, Par::Seq).map_err(e)?;
    ensure!(pairs(&tree) == pairs(&want), "Gaussian tree differs");
    let d = corr
        .iter()
        .zip(&want_corr)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    ensure!(d < 1e-13, "correlations differ by {d:e}");
    Ok(())
}

/// Inconsistent shards are an error on every rank, never a hang or a wrong answer.
pub fn inconsistent<C: Comm>(comm: &C) -> Check {
    let cfg = NsConfig::default();
    let shard = |k: usize, n: usize| -> Result<()> {
        let g = vec![1.0f64; k * n];
        let mut out = g.clone();
        let mut ws = vec![0.0; orthogonalize_shard_scratch_len(k, n, Split::Cols, &cfg)?];
        orthogonalize_shard_into(
            view_mut(&mut out, k, n, Layout::RowMajor)?,
            view(&g, k, n, Layout::RowMajor)?,
            Split::Cols,
            &cfg,
            &mut ws,
            comm,
            Par::Seq,
        )
        .map(|_| ())
    };
    let multi = comm.size() > 1;
    let r = shard(3 + comm.rank(), 5);
    ensure!(
        !multi || matches!(r, Err(Error::ShapeMismatch { .. })),
        "different k: {r:?}"
    );
    // Split along the short side: 40 rows shared, 2 columns per rank.
    let r = shard(40, 2);
    ensure!(
        matches!(r, Err(Error::InvalidParameter { name: "split", .. })),
        "short side: {r:?}"
    );
    let mut acc = CovAccumulator::new(2 + comm.rank()).map_err(e)?;
    let r = reduce_cov(&mut acc, comm);
    ensure!(
        !multi || matches!(r, Err(Error::ShapeMismatch { .. })),
        "cov dims: {r:?}"
    );
    Ok(())
}
