//! Data-parallel Chow–Liu: pair counts and correlation sums of sample shards, reduced across
//! ranks, give the tree of all samples.

use alloc::vec::Vec;

use faer::MatRef;

use super::agree;
use super::comm::{Buf, Comm};
use super::spectrum::reduce_cov;
use crate::Par;
use crate::base::{checked_len, try_vec, zeros};
use crate::spectrum::CovAccumulator;
use crate::tree::chow_liu::{tree_of_correlations, tree_of_counts};
use crate::tree::discrete::ABSENT;
use crate::tree::robust::covariance_to_correlation;
use crate::tree::{ChowLiuConfig, Codes, PairCounts, Samples, Tree};
use crate::{Error, Real, Result, Shape};

/// The pair counts of **all** ranks' samples, on every rank, from each rank's counts of its own
/// samples (same variables, same state counts): exact integer sums, so the mutual information
/// and the Chow–Liu tree are bit-identical to one process's on the concatenated samples.
///
/// One exchange of the variables' state counts, then one `u64` all-reduce of the marginals and
/// the packed Gram over the declared indicator columns, `Σ(K_v − 1)·(Σ(K_v − 1) + 1)/2` words.
///
/// # Errors
/// [`Error::ShapeMismatch`] on every rank when the ranks' variables or state counts differ;
/// [`Error::InvalidParameter`] when the total sample count exceeds `u32::MAX` (counts are `u32`);
/// [`Error::OutOfMemory`] on a rank that cannot reserve the exchange buffer
/// ([`Error::PeerFailed`] on the others); [`Error::Communication`].
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::Par;
/// use mlkern::dist::{reduce_pair_counts, Comm, Local};
/// use mlkern::tree::{Codes, PairCounts, Samples};
/// let shards = [[0u8, 0, 1, 1], [1u8, 0, 1, 1]]; // 2 samples × 2 variables per rank
/// let tables = Local::run(2, |comm| {
///     let codes = Codes::new(Samples::row_major(&shards[comm.rank()], 2, 2)?, &[2, 2])?;
///     let all = reduce_pair_counts(&PairCounts::new(&codes, Par::Seq)?, comm)?;
///     let mut t = [0u32; 4];
///     all.table_into(0, 1, &mut t)?;
///     Ok(t)
/// })?;
/// assert_eq!(tables[0], [1, 0, 1, 2]); // samples (0,0), (1,1), (1,0), (1,1)
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn reduce_pair_counts<C: Comm + ?Sized>(counts: &PairCounts, comm: &C) -> Result<PairCounts> {
    const WHAT: &str = "reduce_pair_counts";
    let (rank, size) = (comm.rank(), comm.size());
    let states = &counts.states;
    let p = states.len();
    // Same variables and state counts everywhere: Σ sᵣ = R·s and Σ sᵣ² = R·s² hold for every
    // variable only when all ranks agree (the variance over ranks is zero).
    let mut meta = zeros::<u64>(size, "reduce_pair_counts: metadata")?;
    meta[rank] = p as u64;
    comm.all_reduce_sum(Buf::U64(&mut meta))?;
    if let Some(r) = meta.iter().position(|&pr| pr != meta[0]) {
        return Err(Error::ShapeMismatch {
            what: "reduce_pair_counts: counts (their number of variables differs from rank 0's)",
            expected: Shape::d1(meta[0] as usize),
            found: Shape::d1(meta[r] as usize),
        });
    }
    let layout = checked_len(&[p, 2], "reduce_pair_counts: n_vars").and_then(|len| {
        let mut m = zeros::<u64>(len, "reduce_pair_counts: states")?;
        for (v, &k) in states.iter().enumerate() {
            m[2 * v] = u64::from(k);
            m[2 * v + 1] = u64::from(k) * u64::from(k);
        }
        Ok(m)
    });
    let mut moments = agree::all(comm, WHAT, layout)?;
    comm.all_reduce_sum(Buf::U64(&mut moments))?;
    let r = size as u64;
    if let Some(v) = states.iter().enumerate().position(|(v, &k)| {
        moments[2 * v] != r * u64::from(k) || moments[2 * v + 1] != r * u64::from(k) * u64::from(k)
    }) {
        return Err(Error::ShapeMismatch {
            what: "reduce_pair_counts: counts (a variable's state count differs between ranks)",
            expected: Shape::d1(usize::from(states[v])),
            found: Shape::d1(v),
        });
    }
    // Dense layout over the declared columns: [n, marginals (Σ K_v), packed lower Gram].
    let n_marg = counts.marginals.len();
    let c_full = n_marg - p;
    let dense_len = c_full
        .checked_mul(c_full + 1)
        .map(|x| x / 2)
        .and_then(|g| g.checked_add(1 + n_marg))
        .ok_or(Error::OutOfMemory {
            name: "reduce_pair_counts: states",
            bytes: usize::MAX,
        });
    let dense = dense_len.and_then(|len| zeros::<u64>(len, "reduce_pair_counts: exchange"));
    let mut dense = agree::all(comm, WHAT, dense)?;
    let dense_col = |v: usize, s: usize| counts.marginal_start[v] - v + s - 1;
    let local_col = |v: usize, s: usize| counts.col[counts.marginal_start[v] + s];
    dense[0] = counts.n_samples as u64;
    for (d, &m) in dense[1..=n_marg].iter_mut().zip(&counts.marginals) {
        *d = u64::from(m);
    }
    let gram = &mut dense[1 + n_marg..];
    for va in 0..p {
        for sa in 1..usize::from(states[va]) {
            let (a, ca) = (dense_col(va, sa), local_col(va, sa));
            if ca == ABSENT {
                continue;
            }
            for (vb, &kb) in states.iter().enumerate().take(va + 1) {
                for sb in 1..usize::from(kb) {
                    let (b, cb) = (dense_col(vb, sb), local_col(vb, sb));
                    if b <= a && cb != ABSENT {
                        gram[a * (a + 1) / 2 + b] =
                            u64::from(counts.gram[ca as usize * counts.c + cb as usize]);
                    }
                }
            }
        }
    }
    comm.all_reduce_sum(Buf::U64(&mut dense))?;
    let n = dense[0];
    if n > u64::from(u32::MAX) {
        return Err(Error::InvalidParameter {
            name: "reduce_pair_counts: n_samples",
            reason: "at most 2³² − 1 samples in all (counts are u32)",
        });
    }
    // Compact columns for the states that occur anywhere, as PairCounts::new assigns them.
    let mut marginals = zeros::<u32>(n_marg, WHAT)?;
    for (m, &d) in marginals.iter_mut().zip(&dense[1..=n_marg]) {
        *m = d as u32;
    }
    let mut col = try_vec::<u32>(n_marg, WHAT)?;
    let mut dense_of = try_vec::<usize>(c_full, WHAT)?;
    for v in 0..p {
        for s in 0..usize::from(states[v]) {
            if s > 0 && marginals[counts.marginal_start[v] + s] > 0 {
                col.push(dense_of.len() as u32);
                dense_of.push(dense_col(v, s));
            } else {
                col.push(ABSENT);
            }
        }
    }
    let c = dense_of.len();
    let gram = &dense[1 + n_marg..];
    let mut compact = zeros::<u32>(checked_len(&[c, c], "reduce_pair_counts: columns")?, WHAT)?;
    for (i, &a) in dense_of.iter().enumerate() {
        for (j, &b) in dense_of.iter().enumerate() {
            let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
            compact[i * c + j] = gram[hi * (hi + 1) / 2 + lo] as u32;
        }
    }
    Ok(PairCounts {
        n_samples: n as usize,
        states: crate::base::collect(states.iter().copied(), WHAT)?,
        col,
        c,
        gram: compact,
        marginals,
        marginal_start: crate::base::collect(counts.marginal_start.iter().copied(), WHAT)?,
    })
}

/// The `p×p` Pearson correlation matrix (row-major, unit diagonal, entries clamped to
/// `[−1, 1]`) of **all** ranks' samples, on every rank: each rank accumulates its shard
/// (either [`Samples`] layout) in a [`CovAccumulator`], the accumulators are reduced with
/// [`reduce_cov`], and `ρᵢⱼ = M₂ᵢⱼ/√(M₂ᵢᵢM₂ⱼⱼ)`. Equal to
/// [`correlation_matrix`](crate::tree::correlation_matrix) on the concatenated samples up to
/// rounding (a different summation order), identical on every rank and run.
///
/// # Errors
/// [`Error::NonFinite`] on the rank whose shard holds NaN/±∞ ([`Error::PeerFailed`] on the
/// others); as [`reduce_cov`]; on every rank [`Error::InvalidParameter`] for fewer than 2 samples
/// in all and [`Error::Degenerate`] for a constant variable (its index).
pub fn reduce_correlation<T: Real, C: Comm + ?Sized>(
    x: Samples<'_, T>,
    comm: &C,
    par: Par,
) -> Result<Vec<f64>> {
    let p = x.n_vars();
    let local = CovAccumulator::new(p).and_then(|mut acc| {
        let rows = if x.is_row_major() {
            MatRef::from_row_major_slice(x.data(), x.n_samples(), p)
        } else {
            MatRef::from_row_major_slice(x.data(), p, x.n_samples()).transpose()
        };
        acc.push(rows, par)?;
        Ok(acc)
    });
    let mut acc = agree::all(comm, "reduce_correlation", local)?;
    reduce_cov(&mut acc, comm)?;
    if acc.count < 2 {
        return Err(Error::InvalidParameter {
            name: "reduce_correlation: x",
            reason: "at least 2 samples in all are needed",
        });
    }
    let mut corr = zeros::<f64>(
        checked_len(&[p, p], "reduce_correlation: n_vars")?,
        "reduce_correlation: out",
    )?;
    for j in 0..p {
        for i in j..p {
            corr[i * p + j] = acc.m2[(i, j)];
            corr[j * p + i] = acc.m2[(i, j)];
        }
    }
    covariance_to_correlation(
        &mut corr,
        p,
        "reduce_correlation: a variable is constant (its correlations are undefined)",
    )?;
    Ok(corr)
}

/// [`chow_liu_discrete`](crate::tree::chow_liu_discrete) of all ranks' samples, on every rank
/// ([`reduce_pair_counts`], then the same mutual information and spanning tree): the same tree,
/// edge for edge and weight for weight, as one process on the concatenated samples.
///
/// # Errors
/// As [`PairCounts::new`] (agreed across ranks) and [`reduce_pair_counts`];
/// [`Error::InvalidParameter`] for fewer than 2 samples in all.
pub fn chow_liu_discrete<C: Comm + ?Sized>(
    codes: &Codes<'_>,
    cfg: &ChowLiuConfig,
    comm: &C,
    par: Par,
) -> Result<Tree> {
    let local = PairCounts::new(codes, par);
    let counts = agree::all(comm, "chow_liu_discrete", local)?;
    tree_of_counts(&reduce_pair_counts(&counts, comm)?, cfg)
}

/// [`chow_liu_gaussian`](crate::tree::chow_liu_gaussian) of all ranks' samples, on every rank
/// (from [`reduce_correlation`]). The robust (truncated inner product) variant is not
/// decomposable over sample shards.
///
/// # Errors
/// As [`reduce_correlation`]; [`Error::InvalidParameter`] on every rank for `robust_trim > 0`.
pub fn chow_liu_gaussian<T: Real, C: Comm + ?Sized>(
    x: Samples<'_, T>,
    cfg: &ChowLiuConfig,
    comm: &C,
    par: Par,
) -> Result<Tree> {
    if cfg.robust_trim > 0 {
        return Err(Error::InvalidParameter {
            name: "chow_liu_gaussian: robust_trim",
            reason: "truncated inner products do not decompose over sample shards: use 0",
        });
    }
    tree_of_correlations(&reduce_correlation(x, comm, par)?, x.n_vars())
}
