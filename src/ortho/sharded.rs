//! Newton–Schulz and the Muon step on a matrix sharded along its long side across the ranks of
//! a [`Comm`] (re-exported from [`dist`](crate::dist)).
//!
//! Each rank holds a k×Nᵣ block of columns of the k×N matrix (or an Nᵣ×k block of rows of its
//! N×k transpose). The iteration is the single-matrix one with one change: every k×k Gram
//! matrix `Σᵣ XᵣXᵣᵀ` is completed by [`Comm::all_reduce_sum`] right after the local product, so
//! every rank builds the same step matrix and applies it to its own block. Communication per call:
//! one exchange of shapes and status, one of the shards' norms, then k² elements per step
//! (standard) or per restart and at the start (Gram), and one status word at the end.

use faer::{MatMut, MatRef};

use super::config::{Algo, NsConfig, NsReport};
use super::muon::{self, Hyper, MuonConfig, MuonReport};
use super::newton_schulz::{self, run_wide};
use super::normalize::{FroNorm, fro_norm};
use crate::Par;
use crate::base::{mul_pow2, zeros};
use crate::dist::{Buf, Comm, agree};
use crate::{Error, Real, Result, Shape};

/// How a matrix is divided among the ranks: along its long side, so that the k×k Gram matrix is
/// the small one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Split {
    /// Rank `r` holds columns `Σ_{s<r} Nₛ .. + Nᵣ` of a wide k×N matrix (k ≤ N): a k×Nᵣ block.
    Cols,
    /// Rank `r` holds rows of a tall N×k matrix (k ≤ N): an Nᵣ×k block.
    Rows,
}

impl Split {
    /// `(k, Nᵣ)`: the shared (unsplit) dimension and this rank's share of the split one.
    fn dims(self, rows: usize, cols: usize) -> (usize, usize) {
        match self {
            Split::Cols => (rows, cols),
            Split::Rows => (cols, rows),
        }
    }
}

/// Scratch length (elements of `T`) for [`orthogonalize_shard_into`] on an `rows`×`cols` shard:
/// `2k·Nᵣ + 2k²` for [`Algo::Standard`], `2k·Nᵣ + 4k²` otherwise (the algorithm is resolved from
/// the whole matrix, which one rank does not know).
///
/// # Errors
/// [`Error::OutOfMemory`] naming `shape` when the length overflows `usize`.
///
/// ```
/// use mlkern::dist::{orthogonalize_shard_scratch_len, Split};
/// use mlkern::ortho::NsConfig;
/// assert_eq!(orthogonalize_shard_scratch_len(4, 3, Split::Cols, &NsConfig::default())?, 2 * 4 * 3 + 2 * 16);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize_shard_scratch_len(
    rows: usize,
    cols: usize,
    split: Split,
    cfg: &NsConfig<'_>,
) -> Result<usize> {
    let (k, nr) = split.dims(rows, cols);
    let squares = if cfg.algo == Algo::Standard { 2 } else { 4 };
    newton_schulz::scratch_len(k, nr, squares)
}

/// What every rank learns before the iteration.
struct Whole {
    /// The shared dimension.
    k: usize,
    /// The total of the split dimension.
    n: usize,
    norm: FroNorm,
}

/// Exchanges shapes, status and norms; every rank gets the same outcome.
fn whole<C: Comm + ?Sized>(
    comm: &C,
    local: Result<FroNorm>,
    (k, nr): (usize, usize),
    what: &'static str,
) -> Result<Whole> {
    let (rank, size) = (comm.rank(), comm.size());
    let name = "dist: shard metadata";
    let mut meta = zeros::<u64>(3 * size, name)?;
    meta[rank] = k as u64;
    meta[size + rank] = nr as u64;
    meta[2 * size + rank] = u64::from(local.is_err());
    comm.all_reduce_sum(Buf::U64(&mut meta))?;
    let local = agree::settle(what, local, &meta[2 * size..])?;
    if let Some(r) = meta[..size].iter().position(|&kr| kr != meta[0]) {
        return Err(Error::ShapeMismatch {
            what: "dist: shard (its unsplit dimension differs from rank 0's)",
            expected: Shape::d1(meta[0] as usize),
            found: Shape::d1(meta[r] as usize),
        });
    }
    let n = meta[size..2 * size]
        .iter()
        .try_fold(0u64, |acc, &x| acc.checked_add(x))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Error::OutOfMemory {
            name: "dist: total columns",
            bytes: usize::MAX,
        })?;
    if n < k {
        return Err(Error::InvalidParameter {
            name: "split",
            reason: "shards must divide the matrix along its long side: the shared dimension \
                     exceeds the total of the split one (use the other Split)",
        });
    }
    // Norms as r·2ᵉ pairs, combined overflow-free in rank order.
    let mut parts = zeros::<f64>(2 * size, "dist: shard norms")?;
    parts[2 * rank] = local.r;
    parts[2 * rank + 1] = f64::from(local.e);
    comm.all_reduce_sum(Buf::F64(&mut parts))?;
    let nonzero = || parts.chunks_exact(2).filter(|p| p[0] != 0.0);
    let norm = match nonzero().map(|p| p[1] as i32).max() {
        None => FroNorm::from_f64(0.0),
        Some(e) => {
            let s = nonzero().fold(0.0, |acc, p| {
                let x = mul_pow2(p[0], p[1] as i32 - e);
                acc + x * x
            });
            FroNorm {
                r: num_traits::Float::sqrt(s),
                e,
            }
        }
    };
    Ok(Whole { k, n, norm })
}

/// The common driver; also returns the whole matrix's `(k, N)`.
#[allow(clippy::too_many_arguments)]
fn run<T: Real, C: Comm + ?Sized>(
    out: MatMut<'_, T>,
    g: MatRef<'_, T>,
    split: Split,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    comm: &C,
    what: &'static str,
    par: Par,
) -> Result<(NsReport, usize, usize)> {
    let (rows, cols) = (g.nrows(), g.ncols());
    let dims = split.dims(rows, cols);
    let need = orthogonalize_shard_scratch_len(rows, cols, split, cfg);
    let local = (|| {
        cfg.validate()?;
        if (out.nrows(), out.ncols()) != (rows, cols) {
            return Err(Error::ShapeMismatch {
                what: "orthogonalize_shard output",
                expected: Shape::d2(rows, cols),
                found: Shape::d2(out.nrows(), out.ncols()),
            });
        }
        let need = need?;
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "orthogonalize_shard: scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        if rows == 0 || cols == 0 {
            return Ok(FroNorm::from_f64(0.0));
        }
        fro_norm("orthogonalize_shard input", g)
    })();
    let Whole { k, n, norm } = whole(comm, local, dims, what)?;
    let algo = cfg.algo.resolve(k, n);
    if k == 0 || n == 0 {
        let report = NsReport {
            zero_input: true,
            algo,
            ..NsReport::default()
        };
        return Ok((report, k, n));
    }
    let (g, out) = match split {
        Split::Cols => (g, out),
        Split::Rows => (g.transpose(), out.transpose_mut()),
    };
    // Checked inside `local`, which every rank agreed was `Ok`.
    let need = need?;
    let mut sum = |r: &mut [T]| comm.all_reduce_sum(T::buf(r));
    let result = run_wide(out, g, norm, algo, cfg, &mut scratch[..need], &mut sum, par);
    // A diverged schedule is seen on every rank (same step matrices) but checked per block.
    let report = agree::all(comm, what, result)?;
    Ok((
        NsReport {
            input_norm: norm.value(),
            ..report
        },
        k,
        n,
    ))
}

/// Newton–Schulz on a matrix sharded across the ranks of `comm`: rank `r` passes its block `g`
/// (k×Nᵣ for [`Split::Cols`], Nᵣ×k for [`Split::Rows`]; any rank may hold none) and receives the
/// same block of the result, equal to [`orthogonalize_into`](crate::ortho::orthogonalize_into)
/// on the concatenated matrix up to the rounding of the Gram sums (tested: ≤ 1e-6 relative in
/// f32, ≤ 1e-12 in f64, every preset, both algorithms). Deterministic: the same bits on every
/// run, for every message timing. [`Algo::Auto`] resolves from the whole matrix's shape.
///
/// Every rank must call it with the same `split` and `cfg`; the report's `flops` are this rank's.
///
/// # Errors
/// All or nothing across ranks: a rank whose own input is rejected (shape, scratch, NaN/±∞ —
/// as [`orthogonalize_into`](crate::ortho::orthogonalize_into)) returns that error and every
/// other rank [`Error::PeerFailed`]; shards whose shared dimension differs give
/// [`Error::ShapeMismatch`] on every rank, shards along the short side
/// [`Error::InvalidParameter`] (`split`); the group's failures are [`Error::Communication`].
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::Par;
/// use mlkern::dist::{orthogonalize_shard_into, orthogonalize_shard_scratch_len, Comm, Local, Split};
/// use mlkern::linalg::{view, view_mut, Layout};
/// use mlkern::ortho::{NsConfig, POLAR_EXPRESS};
/// // [[3, 0, 0], [0, 4, 0]] split as columns {0, 1} | {2}: its polar factor is [[1, 0, 0], [0, 1, 0]].
/// let blocks = [vec![3.0f64, 0.0, 0.0, 4.0], vec![0.0, 0.0]];
/// let cfg = NsConfig::new(POLAR_EXPRESS);
/// let outs = Local::run(2, |comm| {
///     let g = &blocks[comm.rank()];
///     let n = g.len() / 2;
///     let mut out = vec![0.0; g.len()];
///     let mut scratch = vec![0.0; orthogonalize_shard_scratch_len(2, n, Split::Cols, &cfg)?];
///     orthogonalize_shard_into(view_mut(&mut out, 2, n, Layout::RowMajor)?, view(g, 2, n, Layout::RowMajor)?,
///                              Split::Cols, &cfg, &mut scratch, comm, Par::Seq)?;
///     Ok(out)
/// })?;
/// assert!((outs[0][0] - 1.0).abs() < 1e-9 && (outs[0][3] - 1.0).abs() < 1e-9 && outs[1] == [0.0, 0.0]);
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn orthogonalize_shard_into<T: Real, C: Comm + ?Sized>(
    out: MatMut<'_, T>,
    g: MatRef<'_, T>,
    split: Split,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    comm: &C,
    par: Par,
) -> Result<NsReport> {
    run(
        out,
        g,
        split,
        cfg,
        scratch,
        comm,
        "orthogonalize_shard",
        par,
    )
    .map(|(r, _, _)| r)
}

/// Scratch length (elements of `T`) for [`muon_step_shard`] on a `rows`×`cols` shard: three
/// shard-sized buffers plus [`orthogonalize_shard_scratch_len`].
///
/// # Errors
/// [`Error::OutOfMemory`] naming `shape` when the length overflows `usize`.
pub fn muon_shard_scratch_len(
    rows: usize,
    cols: usize,
    split: Split,
    cfg: &MuonConfig<'_>,
) -> Result<usize> {
    let ns = orthogonalize_shard_scratch_len(rows, cols, split, &cfg.ns)?;
    muon::scratch_len(rows, cols, ns)
}

/// One Muon step ([`muon_step`](crate::ortho::muon_step)) on a parameter sharded across the
/// ranks of `comm`: rank `r` owns the `rows`×`cols` block of the parameter's matrix view (as
/// [`orthogonalize_shard_into`] divides it) and the same blocks of its gradient and momentum, in
/// row-major order. The result equals the single-process step on the whole parameter up to the
/// rounding of the Gram sums; the update scale uses the whole matrix's shape.
///
/// All or nothing across ranks: when any rank's input is rejected (NaN/±∞ in its gradient,
/// momentum or parameter, a bad shape or scratch, an update that would overflow), **no** rank
/// changes its buffers; that rank returns its error and the others [`Error::PeerFailed`].
///
/// # Errors
/// As [`muon_step`](crate::ortho::muon_step) and [`orthogonalize_shard_into`].
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::Par;
/// use mlkern::dist::{muon_shard_scratch_len, muon_step_shard, Comm, Local, Split};
/// use mlkern::ortho::{Hyper, MuonConfig};
/// let cfg = MuonConfig::default();
/// let p = Local::run(2, |comm| {
///     let (rows, cols) = (2, 3); // each rank owns 3 of the 6 columns of a 2×6 parameter
///     let mut p = vec![1.0f32; 6];
///     let mut m = vec![0.0f32; 6];
///     let g: Vec<f32> = (0..6).map(|i| (i + 6 * comm.rank()) as f32).collect();
///     let mut scratch = vec![0.0f32; muon_shard_scratch_len(rows, cols, Split::Cols, &cfg)?];
///     muon_step_shard(&mut p, &mut m, &g, (rows, cols), Split::Cols, Hyper::lr(0.02), &cfg,
///                     &mut scratch, comm, Par::Seq)?;
///     Ok(p)
/// })?;
/// assert!(p.iter().flatten().all(|&x| x != 1.0));
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn muon_step_shard<T: Real, C: Comm + ?Sized>(
    param: &mut [T],
    momentum: &mut [T],
    grad: &[T],
    (rows, cols): (usize, usize),
    split: Split,
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
    scratch: &mut [T],
    comm: &C,
    par: Par,
) -> Result<MuonReport> {
    const WHAT: &str = "muon_step_shard";
    let step = orthogonalized_shard(
        momentum,
        grad,
        (rows, cols),
        split,
        hyper,
        cfg,
        scratch,
        comm,
        WHAT,
        par,
        |len| {
            muon::check_inputs(
                param,
                momentum,
                grad,
                len,
                Shape::d2(rows, cols),
                hyper,
                cfg,
            )
        },
    )?;
    let (update, step_size) = (step.update, step.report.step_size);
    agree::all(
        comm,
        WHAT,
        muon::check_update(param, update, hyper, step_size),
    )?;
    muon::apply_update(param, momentum, step.new_momentum, update, hyper, step_size);
    Ok(step.report)
}

/// Steps 1–3 of a sharded step (shared by Muon and AMUSE): `check(len)` runs the caller's local
/// input checks, every rank agrees, then the new momentum and the sharded Newton–Schulz update
/// are computed in `scratch`; the step size uses the whole matrix's shape. Nothing is written
/// outside `scratch`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn orthogonalized_shard<'w, T: Real, C: Comm + ?Sized>(
    momentum: &[T],
    grad: &[T],
    (rows, cols): (usize, usize),
    split: Split,
    hyper: Hyper,
    cfg: &MuonConfig<'_>,
    scratch: &'w mut [T],
    comm: &C,
    what: &'static str,
    par: Par,
    check: impl FnOnce(usize) -> Result<()>,
) -> Result<muon::Orthogonalized<'w, T>> {
    let local = (|| {
        let len = rows.checked_mul(cols).ok_or(Error::InvalidParameter {
            name: "shape",
            reason: "element count overflows usize",
        })?;
        let need = muon_shard_scratch_len(rows, cols, split, cfg)?;
        check(len)?;
        if scratch.len() < need {
            return Err(Error::ShapeMismatch {
                what: "dist: sharded step scratch",
                expected: Shape::d1(need),
                found: Shape::d1(scratch.len()),
            });
        }
        muon::momentum_into(scratch, momentum, grad, cfg)?;
        Ok(len)
    })();
    let len = agree::all(comm, what, local)?;
    let (mbuf, rest) = scratch.split_at_mut(len);
    let (ubuf, rest) = rest.split_at_mut(len);
    let (obuf, nsws) = rest.split_at_mut(len);
    let input: &[T] = if cfg.nesterov { ubuf } else { mbuf };
    let (ns, k, n) = run(
        MatMut::from_row_major_slice_mut(obuf, rows, cols),
        MatRef::from_row_major_slice(input, rows, cols),
        split,
        &cfg.ns,
        nsws,
        comm,
        what,
        par,
    )?;
    let (whole_rows, whole_cols) = match split {
        Split::Cols => (k, n),
        Split::Rows => (n, k),
    };
    let step_size = if k == 0 || n == 0 {
        0.0
    } else {
        hyper.lr * cfg.scale.factor(whole_rows, whole_cols)
    };
    Ok(muon::Orthogonalized {
        new_momentum: mbuf,
        update: obuf,
        report: MuonReport {
            ns,
            rows: whole_rows,
            cols: whole_cols,
            step_size,
        },
    })
}
