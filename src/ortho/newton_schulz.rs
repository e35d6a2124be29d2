//! The single-matrix driver: checks, normalization, orientation, and the standard iteration.

use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, MatRef};

use super::config::{Algo, NsConfig, NsReport};
use super::normalize::{self, FroNorm};
use super::shard::{apply_step, shard_gram, step_matrix};
use super::{flops, gram};
use crate::Par;
use crate::{Error, Real, Result, Shape};

/// Scratch length (in elements of `T`) that [`orthogonalize_into`] needs for an m×n input:
/// `2k·N + 2k²` for the standard algorithm and `2k·N + 4k²` for Gram, with `k = min(m, n)`,
/// `N = max(m, n)`.
///
/// # Errors
/// [`Error::OutOfMemory`] naming `shape` (bytes `usize::MAX`) when the length overflows `usize`.
///
/// ```
/// use mlkern::ortho::{orthogonalize_scratch_len, NsConfig};
/// assert_eq!(orthogonalize_scratch_len(4, 6, &NsConfig::default())?, 2 * 4 * 6 + 2 * 16);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize_scratch_len(m: usize, n: usize, cfg: &NsConfig<'_>) -> Result<usize> {
    let (k, big) = (m.min(n), m.max(n));
    let squares = match cfg.algo.resolve(k, big) {
        Algo::Gram { .. } => 4,
        _ => 2,
    };
    scratch_len(k, big, squares)
}

/// `2k·N + squares·k²`: two k×N iterates and the k×k squares (checked).
pub(crate) fn scratch_len(k: usize, big: usize, squares: usize) -> Result<usize> {
    k.checked_mul(big)
        .and_then(|kn| kn.checked_mul(2))
        .and_then(|x| {
            k.checked_mul(k)
                .and_then(|kk| kk.checked_mul(squares))
                .and_then(|sq| x.checked_add(sq))
        })
        .ok_or(Error::OutOfMemory {
            name: "shape",
            bytes: usize::MAX,
        })
}

/// Newton–Schulz orthogonalization into a caller buffer, without allocating: `out ≈ U·P(Σ/d)·Vᵀ`
/// for `G = UΣVᵀ`, where `P` is the schedule's scalar composition and `d` its normalizer.
///
/// `G` (m×n, any strides) is never modified. Tall inputs (m > n) run on `Gᵀ` through transposed
/// views, so `NS(Gᵀ) = NS(G)ᵀ` exactly for m ≠ n (a square input is used as given). A zero (or
/// empty) input gives a zero output with [`NsReport::zero_input`] set. The GEMM backend's own
/// packing buffers are its business; everything matrix-sized lives in `scratch`.
///
/// # Errors
/// * [`Error::ShapeMismatch`] when `out` is not m×n, or `scratch` is shorter than
///   [`orthogonalize_scratch_len`] (`what: "orthogonalize: scratch"`).
/// * [`Error::NonFinite`] when `G` holds NaN or ±∞ (row-major index of the first one).
/// * [`Error::InvalidParameter`] for an invalid schedule, [`Error::TooLarge`] for more than
///   [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) steps (checked first).
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, view_mut, Layout};
/// use mlkern::ortho::{orthogonalize_into, orthogonalize_scratch_len, NsConfig, POLAR_EXPRESS};
/// let g = [3.0f64, 0.0, 0.0, 0.0, 4.0, 0.0]; // 2×3, singular values 4 and 3
/// let cfg = NsConfig::new(POLAR_EXPRESS);
/// let mut out = [0.0f64; 6];
/// let mut scratch = vec![0.0f64; orthogonalize_scratch_len(2, 3, &cfg)?];
/// let report = orthogonalize_into(view_mut(&mut out, 2, 3, Layout::RowMajor)?,
///                                 view(&g, 2, 3, Layout::RowMajor)?, &cfg, &mut scratch, Par::Seq)?;
/// assert_eq!(report.input_norm, 5.0);
/// assert!((out[0] - 1.0).abs() < 1e-9 && (out[4] - 1.0).abs() < 1e-9);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn orthogonalize_into<T: Real>(
    out: MatMut<'_, T>,
    g: MatRef<'_, T>,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<NsReport> {
    cfg.validate()?;
    let (m, n) = (g.nrows(), g.ncols());
    if (out.nrows(), out.ncols()) != (m, n) {
        return Err(Error::ShapeMismatch {
            what: "orthogonalize output",
            expected: Shape::d2(m, n),
            found: Shape::d2(out.nrows(), out.ncols()),
        });
    }
    let need = orthogonalize_scratch_len(m, n, cfg)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "orthogonalize: scratch",
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    if m == 0 || n == 0 {
        // Empty input: the zero report `run_wide` would give, without visiting a 0×2⁴⁰ view's
        // 2⁴⁰ empty rows or columns (an empty slice passes the shape check with any other
        // dimension).
        let (k, big) = (m.min(n), m.max(n));
        return Ok(NsReport {
            zero_input: true,
            algo: cfg.algo.resolve(k, big),
            ..NsReport::default()
        });
    }
    // The finiteness check reports row-major indices of G as given.
    let e = crate::base::norm_exponent(g, "orthogonalize input")?;
    let (g, out) = if m > n {
        (g.transpose(), out.transpose_mut())
    } else {
        (g, out)
    };
    let norm = normalize::scaled_norm(g, e);
    let algo = cfg.algo.resolve(g.nrows(), g.ncols());
    run_wide(
        out,
        g,
        norm,
        algo,
        cfg,
        &mut scratch[..need],
        &mut |_| Ok(()),
        par,
    )
}

/// How the k×k Gram matrices of a step are completed before use: the identity for one matrix;
/// the sum over ranks ([`dist`](crate::dist)) for a matrix sharded along its long side. Called
/// on the column-major k×k buffer right after each Gram product.
pub(crate) type GramSum<'r, T> = &'r mut dyn FnMut(&mut [T]) -> Result<()>;

/// The iteration on the short-fat k×N view (k ≤ N) of `G`; `norm` is `‖G‖_F`, already checked
/// finite.
///
/// The iterates always live in row-major k×N buffers, whatever the orientation and layout of `G`
/// and `out`: every product then sees the same operand layouts for `G` and `Gᵀ`, so the GEMM
/// backends (whose summation order may depend on layout) produce bit-identical results and
/// `NS(Gᵀ) = NS(G)ᵀ` holds exactly. When `out` itself is a row-major k×N view (a wide C-order
/// output) the iteration writes its last step straight into it; otherwise (tall inputs, other
/// layouts) the result is copied out at the end — one k×N pass.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_wide<T: Real>(
    out: MatMut<'_, T>,
    g: MatRef<'_, T>,
    norm: FroNorm,
    algo: Algo,
    cfg: &NsConfig<'_>,
    scratch: &mut [T],
    sum: GramSum<'_, T>,
    par: Par,
) -> Result<NsReport> {
    let (k, big) = (g.nrows(), g.ncols());
    let steps = cfg.schedule.steps;
    let mut report = NsReport {
        input_norm: norm.value(),
        zero_input: norm.is_zero(),
        steps: 0,
        algo,
        flops: 0.0,
    };
    let mut out = out;
    if report.zero_input || k == 0 {
        out.fill(T::zero());
        report.zero_input = true;
        return Ok(report);
    }
    let (x0, rest) = scratch.split_at_mut(k * big);
    let (x1, squares) = rest.split_at_mut(k * big);
    let x0 = MatMut::from_row_major_slice_mut(x0, k, big);
    let x1 = MatMut::from_row_major_slice_mut(x1, k, big);
    let direct = out.col_stride() == 1 && (k == 1 || out.row_stride() == big as isize);
    let writes = match algo {
        Algo::Gram { restarts } => gram::x_writes(restarts, steps),
        _ => steps,
    };
    report.flops = if direct {
        // Start in the buffer that makes the last write land in `out`.
        let (mut cur, mut nxt) = if writes % 2 == 0 {
            (out, x0)
        } else {
            (x0, out)
        };
        let flops = iterate(&mut cur, &mut nxt, g, norm, algo, cfg, squares, sum, par)?;
        check_output(cur.rb())?;
        flops
    } else {
        let (mut cur, mut nxt) = (x0, x1);
        let flops = iterate(&mut cur, &mut nxt, g, norm, algo, cfg, squares, sum, par)?;
        check_output(cur.rb())?;
        crate::linalg::zip_map(out.rb_mut(), cur.rb(), |_, x| x);
        flops
    };

    report.steps = steps;
    Ok(report)
}

/// Presets keep every singular value in a bounded band; a user schedule (or an extreme normalizer
/// scale) can still overflow, and that must not come back as `Ok`.
fn check_output<T: Real>(x: MatRef<'_, T>) -> Result<()> {
    crate::base::check_finite_mat(x, "orthogonalize output (the schedule diverged)")
}

/// Normalizes `g` into `cur` and runs the schedule; the result ends in `cur`. Returns the flops.
#[allow(clippy::too_many_arguments)]
fn iterate<'a, T: Real>(
    cur: &mut MatMut<'a, T>,
    nxt: &mut MatMut<'a, T>,
    g: MatRef<'_, T>,
    norm: FroNorm,
    algo: Algo,
    cfg: &NsConfig<'_>,
    squares: &mut [T],
    sum: GramSum<'_, T>,
    par: Par,
) -> Result<f64> {
    normalize::scale_into(cur.rb_mut(), g, norm, cfg.schedule.normalize);
    if let Algo::Gram { restarts } = algo {
        return gram::run(cur, nxt, cfg, restarts, squares, sum, par);
    }
    let mut total = 0.0;
    for i in 0..cfg.schedule.steps {
        total += standard_step(cur.rb_mut(), nxt.rb_mut(), cfg, i, squares, sum, par)?;
        core::mem::swap(cur, nxt);
    }
    Ok(total)
}

/// One standard step `nxt ← (a·I + b·A + c·A²)·cur`, `A = cur·curᵀ`; returns its flops.
#[allow(clippy::too_many_arguments)]
fn standard_step<T: Real>(
    cur: MatMut<'_, T>,
    nxt: MatMut<'_, T>,
    cfg: &NsConfig<'_>,
    i: usize,
    squares: &mut [T],
    sum: GramSum<'_, T>,
    par: Par,
) -> Result<f64> {
    let (k, big) = (cur.nrows(), cur.ncols());
    let q = cfg.schedule.coefficient(i);
    let (a_buf, b_buf) = squares.split_at_mut(k * k);
    shard_gram(
        cfg.backend,
        MatMut::from_column_major_slice_mut(a_buf, k, k),
        Accum::Replace,
        cur.rb(),
        par,
    )?;
    sum(a_buf)?;
    let gram = MatRef::from_column_major_slice(a_buf, k, k);
    let mut step = MatMut::from_column_major_slice_mut(&mut b_buf[..k * k], k, k);
    step_matrix(cfg.backend, step.rb_mut(), gram, q, par)?;
    apply_step(cfg.backend, nxt, step.rb(), cur.rb(), par)?;
    Ok(flops::standard_step(k, big, q.is_cubic()))
}
