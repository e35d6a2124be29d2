//! Batches of same-shape matrices (b×m×n, C order): parallel across matrices when they are small,
//! within each matrix (parallel GEMMs) when they are large.

use faer::{MatMut, MatRef};

use super::config::{NsConfig, NsReport};
use super::newton_schulz::{orthogonalize_into, orthogonalize_scratch_len};
use crate::Par;
use crate::{Error, Real, Result, Shape};

/// Below this many flops per product (`k²·N`), a batch is spread across threads one matrix per
/// task; above it each matrix gets all threads. 2²⁵ ≈ a 256×512 matrix.
const SMALL: usize = 1 << 25;

/// `b·m·n`, or `None` when it overflows (0 whenever a dimension is 0).
pub(crate) fn batch_elements(batch: usize, m: usize, n: usize) -> Option<usize> {
    if batch == 0 || m == 0 || n == 0 {
        return Some(0);
    }
    m.checked_mul(n)?.checked_mul(batch)
}

/// How many matrices run at once: one per thread of `par` when the batch is spread across
/// threads (several small matrices), else one.
fn lanes(batch: usize, m: usize, n: usize, par: Par) -> usize {
    let (k, big) = (m.min(n), m.max(n));
    let threads = par.faer().degree().max(1);
    let small = k.saturating_mul(k).saturating_mul(big) <= SMALL;
    if threads > 1 && batch > 1 && small {
        threads.min(batch)
    } else {
        1
    }
}

/// Scratch length (elements of `T`) for [`orthogonalize_batch_into`]: one single-matrix scratch
/// ([`orthogonalize_scratch_len`]) per matrix that runs at the same time — `min(threads, batch)`
/// of them when a batch of small matrices is spread across the threads of `par`, one otherwise;
/// 0 for an empty batch. Pass the same `par` to the kernel.
///
/// # Errors
/// [`Error::OutOfMemory`] naming `shape` (bytes `usize::MAX`) when the length overflows `usize`.
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{orthogonalize_batch_scratch_len, orthogonalize_scratch_len, NsConfig};
/// let cfg = NsConfig::default();
/// assert_eq!(orthogonalize_batch_scratch_len(10, 8, 16, &cfg, Par::Seq)?,
///            orthogonalize_scratch_len(8, 16, &cfg)?);
/// assert_eq!(orthogonalize_batch_scratch_len(0, 8, 16, &cfg, Par::Seq)?, 0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize_batch_scratch_len(
    batch: usize,
    m: usize,
    n: usize,
    cfg: &NsConfig<'_>,
    par: Par,
) -> Result<usize> {
    if batch == 0 || m == 0 || n == 0 {
        return Ok(0);
    }
    orthogonalize_scratch_len(m, n, cfg)?
        .checked_mul(lanes(batch, m, n, par))
        .ok_or(Error::OutOfMemory {
            name: "shape",
            bytes: usize::MAX,
        })
}

/// Orthogonalizes `batch` matrices of shape m×n stored contiguously in C order (`g[i·m·n ..]` is
/// matrix `i`, row-major) into `out` (same layout), one [`NsReport`] per matrix into `reports`,
/// without allocating.
///
/// Result for each matrix is the same as [`orthogonalize_into`] on that slice, and independent
/// of `par` and of the batch size. Ragged batches: zero-pad the short side of each matrix to a
/// common shape (zero columns/rows do not change the result) and crop afterwards.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `g`, `out` or `reports` do not match the shape, or `scratch` is
/// shorter than [`orthogonalize_batch_scratch_len`] (`what: "orthogonalize_batch: scratch"`);
/// [`Error::NonFinite`] with the flat index into `g` of the first NaN/±∞ (checked before anything
/// is written); [`Error::InvalidParameter`] for an invalid schedule; [`Error::TooLarge`] for more
/// than [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) steps (checked first).
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{orthogonalize_batch_into, orthogonalize_batch_scratch_len, NsConfig, NsReport};
/// let g = [3.0f32, 0.0, 0.0, 4.0, /* second matrix */ 0.0, 0.0, 0.0, 0.0];
/// let cfg = NsConfig::default();
/// let (mut out, mut reports) = ([1.0f32; 8], [NsReport::default(); 2]);
/// let mut scratch = vec![0.0f32; orthogonalize_batch_scratch_len(2, 2, 2, &cfg, Par::Seq)?];
/// orthogonalize_batch_into(&mut out, &mut reports, &g, 2, 2, 2, &cfg, &mut scratch, Par::Seq)?;
/// assert!(reports[1].zero_input && out[4..] == [0.0; 4]);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn orthogonalize_batch_into<T: Real>(
    out: &mut [T],
    reports: &mut [NsReport],
    g: &[T],
    batch: usize,
    m: usize,
    n: usize,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<()> {
    cfg.validate()?;
    let Some(total) = batch_elements(batch, m, n) else {
        return Err(Error::InvalidParameter {
            name: "batch shape",
            reason: "b·m·n overflows usize",
        });
    };
    for (what, len) in [
        ("orthogonalize_batch input", g.len()),
        ("orthogonalize_batch output", out.len()),
    ] {
        if len != total {
            return Err(Error::ShapeMismatch {
                what,
                expected: Shape::d3(batch, m, n),
                found: Shape::d1(len),
            });
        }
    }
    if reports.len() != batch {
        return Err(Error::ShapeMismatch {
            what: "orthogonalize_batch reports",
            expected: Shape::d1(batch),
            found: Shape::d1(reports.len()),
        });
    }
    let need = orthogonalize_batch_scratch_len(batch, m, n, cfg, par)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "orthogonalize_batch: scratch",
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    if batch == 0 || m * n == 0 {
        // Empty matrices: nothing to compute; one report per (empty) matrix.
        reports.fill(NsReport {
            zero_input: true,
            ..NsReport::default()
        });
        return Ok(());
    }
    let per = orthogonalize_scratch_len(m, n, cfg)?;
    // The first NaN/±∞ of the whole batch, whatever order the matrices run in.
    if let Some(index) = crate::simd::find_non_finite(g) {
        return Err(Error::NonFinite {
            what: "orthogonalize_batch input",
            index,
        });
    }
    // Without `rayon`, `par` is always sequential, `lanes` is 1 and every matrix runs in order.
    #[cfg(feature = "rayon")]
    {
        let threads = lanes(batch, m, n, par);
        if threads > 1 {
            return across(
                out,
                g,
                m,
                n,
                cfg,
                &mut scratch[..need],
                per,
                reports,
                threads,
            );
        }
    }
    run_range(out, g, 0, m, n, cfg, &mut scratch[..per], reports, par)
}

/// Matrices `first..` of the batch, one after the other, each with `par` inside its GEMMs.
#[allow(clippy::too_many_arguments)]
fn run_range<T: Real>(
    out: &mut [T],
    g: &[T],
    first: usize,
    m: usize,
    n: usize,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    reports: &mut [NsReport],
    par: Par,
) -> Result<()> {
    let mn = m * n;
    for (i, ((o, x), rep)) in out
        .chunks_exact_mut(mn)
        .zip(g.chunks_exact(mn))
        .zip(reports.iter_mut())
        .enumerate()
    {
        let xv = MatRef::from_row_major_slice(x, m, n);
        let ov = MatMut::from_row_major_slice_mut(o, m, n);
        *rep = orthogonalize_into(ov, xv, cfg, scratch, par).map_err(|e| match e {
            Error::NonFinite { what, index } => Error::NonFinite {
                what,
                index: (first + i) * mn + index,
            },
            other => other,
        })?;
    }
    Ok(())
}

#[cfg(feature = "rayon")]
#[allow(clippy::too_many_arguments)]
fn across<T: Real>(
    out: &mut [T],
    g: &[T],
    m: usize,
    n: usize,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    per: usize,
    reports: &mut [NsReport],
    threads: usize,
) -> Result<()> {
    use rayon::prelude::*;
    let batch = reports.len();
    let group = batch.div_ceil(threads);
    let mn = m * n;
    out.par_chunks_mut(group * mn)
        .zip(g.par_chunks(group * mn))
        .zip(scratch.par_chunks_mut(per))
        .zip(reports.par_chunks_mut(group))
        .enumerate()
        .try_for_each(|(t, (((o, x), ws), rep))| {
            run_range(o, x, t * group, m, n, cfg, ws, rep, Par::Seq)
        })
}
