//! Data-parallel covariance: the accumulators of sample shards, reduced across ranks.

use super::agree;
use super::comm::{Buf, Comm};
use crate::base::{checked_len, try_vec, zeros};
use crate::spectrum::CovAccumulator;
use crate::{Error, Result, Shape};

/// Replaces `acc` on every rank by the accumulator of **all** ranks' samples: afterwards
/// [`CovAccumulator::spectrum`] (and every metric of it) is that of the concatenated sample
/// matrix, up to rounding, and bit-identical on every rank and every run.
///
/// The combination is Chan et al.'s, around the common mean so that nothing cancels:
/// `μ = Σᵣ nᵣμᵣ / n` and `M₂ = Σᵣ (M₂ʳ + nᵣ(μᵣ − μ)(μᵣ − μ)ᵀ)`, each sum in rank order. Three
/// exchanges: counts and dimensions, the `d` weighted means, then the packed `d(d+1)/2` lower
/// triangle (the only large one).
///
/// # Errors
/// [`Error::ShapeMismatch`] on every rank when the accumulators' dimensions differ;
/// [`Error::OutOfMemory`] on the rank that cannot reserve the packed triangle
/// ([`Error::PeerFailed`] on the others); [`Error::Communication`]. On any error no rank's
/// accumulator changes.
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::Par;
/// use mlkern::dist::{reduce_cov, Comm, Local};
/// use mlkern::linalg::{view, Layout};
/// use mlkern::spectrum::{Centering, CovAccumulator};
/// // The samples ±(1, 0), ±(0, 2) around (5, 5), two per rank: σ = (2·√2, √2) on every rank.
/// let shards = [[6.0f64, 5.0, 4.0, 5.0], [5.0, 7.0, 5.0, 3.0]];
/// let sigmas = Local::run(2, |comm| {
///     let mut acc = CovAccumulator::new(2)?;
///     acc.push(view(&shards[comm.rank()], 2, 2, Layout::RowMajor)?, Par::Seq)?;
///     reduce_cov(&mut acc, comm)?;
///     Ok(acc.spectrum(Centering::ColumnMean, Par::Seq)?.sigma)
/// })?;
/// assert!((sigmas[1][0] - 8f64.sqrt()).abs() < 1e-12 && sigmas[0] == sigmas[1]);
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn reduce_cov<C: Comm + ?Sized>(acc: &mut CovAccumulator, comm: &C) -> Result<()> {
    const WHAT: &str = "reduce_cov";
    let (rank, size, d) = (comm.rank(), comm.size(), acc.dim);
    let mut meta = zeros::<u64>(2 * size, "reduce_cov: metadata")?;
    meta[rank] = d as u64;
    meta[size + rank] = acc.count;
    comm.all_reduce_sum(Buf::U64(&mut meta))?;
    if let Some(r) = meta[..size].iter().position(|&dr| dr != meta[0]) {
        return Err(Error::ShapeMismatch {
            what: "reduce_cov: accumulator (its dim differs from rank 0's)",
            expected: Shape::d1(meta[0] as usize),
            found: Shape::d1(meta[r] as usize),
        });
    }
    let n = meta[size..]
        .iter()
        .try_fold(0u64, |a, &x| a.checked_add(x))
        .ok_or(Error::InvalidParameter {
            name: "reduce_cov: count",
            reason: "the total sample count overflows u64",
        })?;
    if n == 0 {
        return Ok(()); // (`d ≥ 1`: CovAccumulator::new refuses 0)
    }
    // The buffers, reserved before any exchange that needs them (all or nothing).
    let packed_len = checked_len(&[d, d + 1], "reduce_cov: dim").map(|x| x / 2);
    let local = packed_len.and_then(|len| {
        Ok((
            zeros::<f64>(d + size, "reduce_cov: means")?,
            try_vec::<f64>(len, "reduce_cov: packed triangle")?,
        ))
    });
    let (mut means, mut packed) = agree::all(comm, WHAT, local)?;
    for (m, &x) in means.iter_mut().zip(&acc.mean) {
        *m = acc.count as f64 * x;
    }
    means[d + rank] = acc.eps;
    comm.all_reduce_sum(Buf::F64(&mut means))?;
    let (mu, ranks_eps) = means.split_at_mut(d);
    for m in mu.iter_mut() {
        *m /= n as f64;
    }
    let eps = ranks_eps.iter().fold(0.0f64, |a, &e| a.max(e));
    let w = acc.count as f64;
    for j in 0..d {
        let dj = w * (acc.mean[j] - mu[j]);
        for (i, (&mi, &ui)) in acc.mean.iter().zip(mu.iter()).enumerate().skip(j) {
            packed.push(acc.m2[(i, j)] + (mi - ui) * dj);
        }
    }
    comm.all_reduce_sum(Buf::F64(&mut packed))?;
    let mut it = packed.iter();
    for j in 0..d {
        for i in j..d {
            acc.m2[(i, j)] = *it.next().unwrap_or(&0.0);
        }
    }
    acc.mean.copy_from_slice(mu);
    acc.count = n;
    acc.eps = eps;
    Ok(())
}
