//! The AMUSE step on a parameter sharded across the ranks of a [`Comm`] (re-exported from
//! [`dist`](crate::dist)): the sharded Muon step's Newton–Schulz on the momentum, then AMUSE's
//! elementwise update of `Z`, `X` and `Y` on each rank's block.

use super::amuse::{self, AmuseConfig, AmuseState, Next};
use super::muon::{Hyper, MuonReport};
use super::sharded::{Split, muon_shard_scratch_len, orthogonalized_shard};
use crate::dist::{Comm, agree};
use crate::{Par, Real, Result, Shape};

/// Scratch length (elements of `T`) for [`amuse_step_shard`] on a `rows`×`cols` shard: as
/// [`muon_shard_scratch_len`] for the configuration's Muon part.
///
/// # Errors
/// As [`muon_shard_scratch_len`].
pub fn amuse_shard_scratch_len(
    rows: usize,
    cols: usize,
    split: Split,
    cfg: &AmuseConfig<'_>,
) -> Result<usize> {
    muon_shard_scratch_len(rows, cols, split, &cfg.muon)
}

/// One AMUSE step ([`amuse_step`](crate::ortho::amuse_step)) on a parameter sharded across the
/// ranks of `comm`: rank `r` owns the `rows`×`cols` block (as
/// [`muon_step_shard`](super::sharded::muon_step_shard) divides it) of `Y`, of the state `Z`, `X`,
/// `M` and of the gradient. Every rank passes the same `t`, `hyper` and `cfg`. The result equals
/// the single-process step on the whole parameter up to the rounding of the Gram sums; the
/// elementwise part is the same arithmetic on each block.
///
/// All or nothing across ranks: when any rank's input is rejected or its update would overflow,
/// **no** rank changes its buffers; that rank returns its error and the others
/// [`Error::PeerFailed`](crate::Error::PeerFailed).
///
/// # Errors
/// As [`amuse_step`](crate::ortho::amuse_step) and
/// [`orthogonalize_shard_into`](super::sharded::orthogonalize_shard_into).
///
/// ```
/// # #[cfg(feature = "std")] {
/// use mlkern::Par;
/// use mlkern::dist::{amuse_shard_scratch_len, amuse_step_shard, Comm, Local, Split};
/// use mlkern::ortho::{AmuseConfig, AmuseState, Hyper};
/// let cfg = AmuseConfig::default();
/// let x = Local::run(2, |comm| {
///     let (rows, cols) = (2, 3); // each rank owns 3 of the 6 columns of a 2×6 parameter
///     let (mut y, mut z, mut x, mut m) = (vec![1.0f32; 6], vec![1.0f32; 6], vec![1.0f32; 6], vec![0.0f32; 6]);
///     let g: Vec<f32> = (0..6).map(|i| (i + 6 * comm.rank()) as f32).collect();
///     let mut scratch = vec![0.0f32; amuse_shard_scratch_len(rows, cols, Split::Cols, &cfg)?];
///     let state = AmuseState { z: &mut z, x: &mut x, m: &mut m };
///     amuse_step_shard(&mut y, state, &g, (rows, cols), Split::Cols, 1, Hyper::lr(0.02), &cfg,
///                      &mut scratch, comm, Par::Seq)?;
///     Ok(x)
/// })?;
/// assert!(x.iter().flatten().all(|&v| v != 1.0)); // X_2 = (Z_1 + Z_2)/2
/// # }
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn amuse_step_shard<T: Real, C: Comm + ?Sized>(
    y: &mut [T],
    state: AmuseState<'_, T>,
    grad: &[T],
    (rows, cols): (usize, usize),
    split: Split,
    t: u64,
    hyper: Hyper,
    cfg: &AmuseConfig<'_>,
    scratch: &mut [T],
    comm: &C,
    par: Par,
) -> Result<MuonReport> {
    const WHAT: &str = "amuse_step_shard";
    let AmuseState { z, x, m } = state;
    let step = orthogonalized_shard(
        m,
        grad,
        (rows, cols),
        split,
        hyper,
        &cfg.muon,
        scratch,
        comm,
        WHAT,
        par,
        |len| amuse::check_inputs(y, z, x, m, grad, len, Shape::d2(rows, cols), t, hyper, cfg),
    )?;
    let next = Next::new(t, hyper, step.report.step_size, cfg);
    agree::all(comm, WHAT, next.check(z, x, y, step.update))?;
    next.apply(y, z, x, step.update);
    m.copy_from_slice(step.new_momentum);
    Ok(step.report)
}
