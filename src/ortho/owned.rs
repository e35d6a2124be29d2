//! The allocating tier: owned outputs, scratch handled internally.

use alloc::vec::Vec;

use faer::{Mat, MatRef};

use super::batch::{batch_elements, orthogonalize_batch_into, orthogonalize_batch_scratch_len};
use super::config::{NsConfig, NsReport};
use super::newton_schulz::{orthogonalize_into, orthogonalize_scratch_len};
use crate::Par;
use crate::base::{filled, zeros};
use crate::linalg::try_zeros_mat;
use crate::{Error, Real, Result, Shape};

/// [`orthogonalize_into`] returning an owned matrix.
///
/// # Errors
/// As [`orthogonalize_into`] (non-finite input, invalid schedule, too many steps: checked before
/// anything is allocated), and [`Error::OutOfMemory`] naming `shape` when the scratch or the
/// output cannot be allocated.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::Mat;
/// use mlkern::ortho::{orthogonalize, NsConfig};
/// let g = Mat::<f32>::from_fn(3, 5, |i, j| (i * 5 + j) as f32 - 7.0);
/// let (o, report) = orthogonalize(g.as_ref(), &NsConfig::default(), Par::Seq)?;
/// assert_eq!((o.nrows(), o.ncols(), report.steps), (3, 5, 5));
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize<T: Real>(
    g: MatRef<'_, T>,
    cfg: &NsConfig<'_>,
    par: Par,
) -> Result<(Mat<T>, NsReport)> {
    cfg.validate()?;
    let (m, n) = (g.nrows(), g.ncols());
    let mut scratch = zeros(orthogonalize_scratch_len(m, n, cfg)?, "shape")?;
    let mut out = try_zeros_mat(m, n, "shape")?;
    let report = orthogonalize_into(out.as_mut(), g, cfg, &mut scratch, par)?;
    Ok((out, report))
}

/// [`orthogonalize_batch_into`] returning the b×m×n output (C order) and one report per matrix.
///
/// # Errors
/// As [`orthogonalize_batch_into`] (the schedule is checked before anything is allocated), and
/// [`Error::OutOfMemory`] naming `shape` or `batch` when the output, the scratch or the `batch`
/// reports cannot be allocated (a batch of empty matrices still gets one report each).
///
/// ```
/// use mlkern::Par;
/// use mlkern::ortho::{orthogonalize_batch, NsConfig};
/// let g = vec![1.0f64; 4 * 2 * 3];
/// let (o, reports) = orthogonalize_batch(&g, 4, 2, 3, &NsConfig::default(), Par::Seq)?;
/// assert_eq!((o.len(), reports.len()), (24, 4));
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize_batch<T: Real>(
    g: &[T],
    batch: usize,
    m: usize,
    n: usize,
    cfg: &NsConfig<'_>,
    par: Par,
) -> Result<(Vec<T>, Vec<NsReport>)> {
    cfg.validate()?;
    if batch_elements(batch, m, n) != Some(g.len()) {
        return Err(Error::ShapeMismatch {
            what: "orthogonalize_batch input",
            expected: Shape::d3(batch, m, n),
            found: Shape::d1(g.len()),
        });
    }
    let mut scratch = zeros(
        orthogonalize_batch_scratch_len(batch, m, n, cfg, par)?,
        "shape",
    )?;
    let mut out = zeros(g.len(), "shape")?;
    let mut reports = filled(batch, NsReport::default(), "batch")?;
    orthogonalize_batch_into(
        &mut out,
        &mut reports,
        g,
        batch,
        m,
        n,
        cfg,
        &mut scratch,
        par,
    )?;
    Ok((out, reports))
}
