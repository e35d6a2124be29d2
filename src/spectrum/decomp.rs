//! Matrix → spectrum (alloc tier): values-only SVD, or the f64 Gram matrix and its symmetric
//! eigenvalues.

use alloc::vec::Vec;

use faer::MatMut;
use faer::diag::DiagMut;
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{Accum, MatRef};
use num_traits::Float;

use super::gram::{self, Affine, Samples, block_len};
use super::metrics::Spectrum;
use crate::Par;
use crate::base::{apply_parts, max_abs_exponent, mul_pow2, pow2_parts};
use crate::linalg::{eigvalsh_into, eigvalsh_scratch};
use crate::{Error, Real, Result, Shape};

/// How singular values are obtained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// [`Gram`](Self::Gram) when it is as accurate as the metrics need — aspect ratio ≥ 2 and
    /// either f32 input (whose f64-accumulated Gram resolves every singular value the f32 data
    /// resolves) or [`SpectrumConfig::energy_only`] — and [`Svd`](Self::Svd) otherwise.
    #[default]
    Auto,
    /// faer's values-only SVD in the input's precision: absolute error ≈ ε·σ₁ on every value.
    Svd,
    /// `G = XᵀX` (tall) or `XXᵀ` (wide) accumulated in f64, then symmetric eigenvalues:
    /// `σᵢ = √λᵢ` with absolute error ≈ `√(k·ε₆₄)·σ₁` — exact for energy-weighted metrics, and
    /// 3–8× cheaper than the SVD for tall matrices.
    Gram,
}

impl Method {
    /// The method `Auto` resolves to for a rows×cols input.
    pub fn resolve(self, rows: usize, cols: usize, f32_input: bool, energy_only: bool) -> Method {
        let (k, big) = (rows.min(cols), rows.max(cols));
        match self {
            Method::Auto if k > 0 && big >= 2 * k && (f32_input || energy_only) => Method::Gram,
            Method::Auto => Method::Svd,
            other => other,
        }
    }

    /// `"auto"`, `"svd"` or `"gram"`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Svd => "svd",
            Method::Gram => "gram",
        }
    }
}

/// Whether the columns are centered first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Centering {
    /// The raw matrix (second-moment spectrum). RankMe and weight matrices use this.
    #[default]
    None,
    /// Each column minus its mean over the rows (covariance spectrum of row samples) — what
    /// hidden-state measurements usually need: a common offset otherwise dominates the spectrum.
    ColumnMean,
}

/// Options of [`singular_values`].
///
/// ```
/// use mlkern::spectrum::{Centering, Method, SpectrumConfig};
/// let cfg = SpectrumConfig::new(Centering::ColumnMean, Method::Auto).with_energy_only(true);
/// assert_eq!(cfg.method.resolve(100, 10, false, cfg.energy_only), Method::Gram);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpectrumConfig {
    /// Column centering.
    pub centering: Centering,
    /// Decomposition.
    pub method: Method,
    /// The caller uses energy-weighted metrics only (energy erank, stable rank, participation
    /// ratio, …): lets [`Method::Auto`] take the Gram path for f64 input too, and lets the Gram
    /// path of f32 input run in f32 (products and eigensolver, as NumPy's f32 path does) —
    /// eigenvalue errors ≈ ε₃₂·λ_max, so energy-weighted metrics stay within ~1e-5 relative
    /// while σ-weighted ones and the numerical rank become approximate.
    pub energy_only: bool,
}

impl SpectrumConfig {
    /// The configuration with these centering and method, `energy_only = false`.
    pub const fn new(centering: Centering, method: Method) -> Self {
        SpectrumConfig {
            centering,
            method,
            energy_only: false,
        }
    }

    /// The same with `energy_only` set.
    pub const fn with_energy_only(mut self, energy_only: bool) -> Self {
        self.energy_only = energy_only;
        self
    }

    fn resolve<T: Real>(&self, rows: usize, cols: usize) -> Method {
        self.method
            .resolve(rows, cols, f32_input::<T>(), self.energy_only)
    }
}

fn f32_input<T: Real>() -> bool {
    core::mem::size_of::<T>() == 4
}

/// Energy-only metrics of f32 data: the Gram path may run entirely in f32.
fn f32_eigen<T: Real>(cfg: &SpectrumConfig) -> bool {
    cfg.energy_only && f32_input::<T>()
}

/// The singular values of a matrix and how they were obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSpectrum {
    /// Singular values, descending, length `min(rows, cols)`.
    pub sigma: Vec<f64>,
    /// Rows of the input (samples, for the streaming accumulator).
    pub rows: usize,
    /// Columns of the input.
    pub cols: usize,
    /// Machine epsilon of the input's dtype (for NumPy's rank tolerance).
    pub eps: f64,
    /// Centering applied.
    pub centering: Centering,
    /// The method used (never `Auto`).
    pub method: Method,
}

impl MatrixSpectrum {
    /// The spectrum, with the shape and ε recorded for [`RankTol::Numpy`](super::RankTol::Numpy).
    pub fn spectrum(&self) -> Spectrum<'_> {
        Spectrum::trusted(&self.sigma).with_shape(self.rows, self.cols, self.eps)
    }
}

/// Scratch length, in bytes, of [`singular_values_into`] for a rows×cols `T` input with this
/// configuration and `par`. The entry point takes the scratch as a faer [`MemStack`] over at least
/// this many bytes, of any alignment:
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout, MemBuffer, MemStack, StackReq};
/// use mlkern::spectrum::{singular_values_into, singular_values_scratch_len, SpectrumConfig};
/// let cfg = SpectrumConfig::default();
/// let len = singular_values_scratch_len::<f64>(3, 2, &cfg, Par::Seq)?;
/// let mut mem = MemBuffer::new(StackReq::new::<u8>(len)); // or vec![MaybeUninit::<u8>::uninit(); len]
/// let x = [3.0f64, 0.0, 0.0, 4.0, 0.0, 0.0];
/// let mut sigma = [0.0f64; 2];
/// singular_values_into(&mut sigma, view(&x, 3, 2, Layout::RowMajor)?, &cfg,
///                      MemStack::new(&mut mem), Par::Seq)?;
/// assert!((sigma[0] - 4.0).abs() < 1e-12 && (sigma[1] - 3.0).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// An empty matrix (`rows = 0` or `cols = 0`) needs no scratch, whatever the other dimension.
///
/// # Errors
/// [`Error::OutOfMemory`] (bytes `usize::MAX`) when the size overflows `usize`.
pub fn singular_values_scratch_len<T: Real>(
    rows: usize,
    cols: usize,
    cfg: &SpectrumConfig,
    par: Par,
) -> Result<usize> {
    bytes(singular_values_req::<T>(rows, cols, cfg, par))
}

/// The bytes a [`MemStack`] of any alignment needs to hold `req`; an error on overflow.
pub(crate) fn bytes(req: StackReq) -> Result<usize> {
    match req.layout() {
        Ok(_) if req.unaligned_bytes_required() != usize::MAX => Ok(req.unaligned_bytes_required()),
        _ => Err(Error::OutOfMemory {
            name: "x (spectrum scratch)",
            bytes: usize::MAX,
        }),
    }
}

/// `Ok` when `stack` can hold `req`, else the convention's short-scratch error.
pub(crate) fn check_stack(stack: &MemStack, req: StackReq, what: &'static str) -> Result<()> {
    let need = bytes(req)?;
    if stack.can_hold(req) {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        what,
        expected: Shape::d1(need),
        found: Shape::d1(stack.len_bytes()),
    })
}

fn singular_values_req<T: Real>(
    rows: usize,
    cols: usize,
    cfg: &SpectrumConfig,
    par: Par,
) -> StackReq {
    let k = rows.min(cols);
    if k == 0 {
        // Nothing is decomposed: no scratch, so a huge other dimension (an empty matrix whose
        // shape alone is absurd) asks for nothing.
        return StackReq::EMPTY;
    }
    // faer's scratch functions multiply the dimensions without checking (a debug panic, a
    // wrapped size in release): a shape no matrix in the address space can have (over
    // `isize::MAX / 16` bytes of data) gets the overflowed request before reaching them.
    let limit = (isize::MAX as usize / core::mem::size_of::<T>().max(1)) >> 4;
    if rows.checked_mul(cols).is_none_or(|n| n > limit) {
        return StackReq::OVERFLOW;
    }
    // Saturating products: an overflow becomes a request no allocator grants (checked by
    // `bytes`/`MemBuffer::try_new`), never a wrapped small size.
    let kk = k.saturating_mul(k);
    let kb = k.saturating_mul(block_len(k, rows.max(cols)));
    match cfg.resolve::<T>(rows, cols) {
        Method::Gram if f32_eigen::<T>(cfg) => StackReq::all_of(&[
            StackReq::new::<f64>(cols),
            StackReq::new::<f32>(kk),
            StackReq::new::<f32>(kb),
            eigvalsh_scratch::<f32>(k, par),
        ]),
        Method::Gram => StackReq::all_of(&[
            StackReq::new::<f64>(cols),
            StackReq::new::<f64>(kk),
            StackReq::new::<f64>(kb),
            eigvalsh_scratch::<f64>(k, par),
        ]),
        _ => StackReq::all_of(&[
            StackReq::new::<f64>(cols),
            StackReq::any_of(&[
                // The Gram fallback when the SVD does not converge.
                StackReq::all_of(&[
                    StackReq::new::<f64>(kk),
                    StackReq::new::<f64>(kb),
                    eigvalsh_scratch::<f64>(k, par),
                ]),
                StackReq::all_of(&[
                    // A centered and/or rescaled copy (rescaling depends on the data's magnitude).
                    StackReq::new::<T>(rows.saturating_mul(cols)),
                    StackReq::new::<T>(k),
                    svd_scratch::<T>(
                        rows,
                        cols,
                        ComputeSvdVectors::No,
                        ComputeSvdVectors::No,
                        par.faer(),
                        Default::default(),
                    ),
                ]),
            ]),
        ]),
    }
}

/// Singular values of `x` into `out` (length `min(rows, cols)`, descending), using only the
/// caller's `stack` (at least [`singular_values_scratch_len`] bytes; see there for how to make
/// one) and never allocating; returns the method used.
///
/// ```
/// use core::mem::MaybeUninit;
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout, MemStack};
/// use mlkern::spectrum::{singular_values_into, singular_values_scratch_len, Centering, Method,
///                        SpectrumConfig};
/// let cfg = SpectrumConfig::new(Centering::None, Method::Gram);
/// let x = [1.0f32, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0]; // 4×2
/// let mut scratch = vec![MaybeUninit::<u8>::uninit(); singular_values_scratch_len::<f32>(4, 2, &cfg, Par::Seq)?];
/// let mut sigma = [0.0f64; 2];
/// let used = singular_values_into(&mut sigma, view(&x, 4, 2, Layout::RowMajor)?, &cfg,
///                                 MemStack::new(&mut scratch), Par::Seq)?;
/// assert_eq!(used, Method::Gram);
/// assert!((sigma[0] - 2.0).abs() < 1e-12 && (sigma[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::ShapeMismatch`] when `out` has the wrong length or `stack` is too small
/// (`what: "singular_values: scratch"`, in bytes); [`Error::NonFinite`] for NaN/±∞ in `x`
/// (row-major index); [`Error::NoConvergence`] when the SVD or eigensolver fails.
pub fn singular_values_into<T: Real>(
    out: &mut [f64],
    x: MatRef<'_, T>,
    cfg: &SpectrumConfig,
    stack: &mut MemStack,
    par: Par,
) -> Result<Method> {
    let (rows, cols) = (x.nrows(), x.ncols());
    let k = rows.min(cols);
    if out.len() != k {
        return Err(Error::ShapeMismatch {
            what: "spectrum: singular values output",
            expected: Shape::d1(k),
            found: Shape::d1(out.len()),
        });
    }
    check_stack(
        stack,
        singular_values_req::<T>(rows, cols, cfg, par),
        "singular_values: scratch",
    )?;
    if k == 0 {
        // An empty matrix: no values, and no O(max(rows, cols)) scan of nothing.
        return Ok(cfg.resolve::<T>(rows, cols));
    }
    // Finiteness and the scale: the work runs on 2⁻ᵉ·x with 2ᵉ ≤ max|x| < 2ᵉ⁺¹ (exact), so
    // neither the Gram matrix nor the SVD meets overflow, underflow or subnormals.
    let e = max_abs_exponent(x, "spectrum: matrix")?;
    let method = cfg.resolve::<T>(rows, cols);
    let Some(e) = e.filter(|_| k > 0) else {
        out.fill(0.0);
        return Ok(method);
    };
    let down = pow2_parts(-e);
    let (mut means, stack) = stack.make_with::<f64>(cols, |_| 0.0);
    let means = &mut *means;
    let centered = cfg.centering == Centering::ColumnMean;
    if centered {
        gram::column_means(x, down, means);
    }
    let affine = Affine {
        mean: centered.then_some(&*means),
        scale: down,
    };
    match method {
        Method::Gram => {
            if f32_eigen::<T>(cfg) {
                // Energy-only f32 data: f32 products and eigensolver, like NumPy's f32 path.
                gram_eigen::<T, f32>(out, x, affine, par, stack)?;
            } else {
                gram_eigen::<T, f64>(out, x, affine, par, stack)?;
            }
        }
        _ => {
            let copy = centered || needs_copy::<T>(e);
            let converged = {
                let (mut s, stack) = stack.make_with::<T>(k, |_| T::zero());
                let dst = DiagMut::from_slice_mut(&mut s);
                let done = if copy {
                    let (mut c, stack) = stack.make_with::<T>(rows * cols, |_| T::zero());
                    let mut c = MatMut::from_column_major_slice_mut(&mut c, rows, cols);
                    for j in 0..cols {
                        let mu = if centered { means[j] } else { 0.0 };
                        for i in 0..rows {
                            c[(i, j)] = T::from_f64(apply_parts(x[(i, j)].as_f64(), down) - mu);
                        }
                    }
                    svd(
                        c.as_ref(),
                        dst,
                        None,
                        None,
                        par.faer(),
                        stack,
                        Default::default(),
                    )
                } else {
                    svd(x, dst, None, None, par.faer(), stack, Default::default())
                };
                let back = if copy { e } else { 0 };
                for (o, v) in out.iter_mut().zip(s.iter()) {
                    *o = mul_pow2(v.as_f64().max(0.0), back);
                }
                done.is_ok()
            };
            if converged {
                out.sort_unstable_by(|a, b| b.total_cmp(a));
                return finish(out, method);
            }
            // faer's SVD can fail to converge on matrices whose entries span hundreds of orders
            // of magnitude (found by fuzzing); the f64 Gram path still gives every singular value
            // above its √(k·ε)·σ₁ floor, and the report says which method ran.
            gram_eigen::<T, f64>(out, x, affine, par, stack)?;
            out.iter_mut().for_each(|o| *o = mul_pow2(*o, e));
            return finish(out, Method::Gram);
        }
    }
    out.iter_mut().for_each(|o| *o = mul_pow2(*o, e));
    finish(out, method)
}

/// The Gram matrix of `x`'s samples (rows if tall, columns if wide) in `U`, accumulated in
/// [`block_len`] chunks, then its eigenvalues → `out`.
fn gram_eigen<T: Real, U: Real>(
    out: &mut [f64],
    x: MatRef<'_, T>,
    affine: Affine<'_>,
    par: Par,
    stack: &mut MemStack,
) -> Result<()> {
    let (rows, cols) = (x.nrows(), x.ncols());
    let samples = if rows >= cols {
        Samples::Rows
    } else {
        Samples::Cols
    };
    let k = out.len();
    let block = k * block_len(k, rows.max(cols));
    let (mut g, stack) = stack.make_with::<U>(k * k, |_| U::zero());
    let (mut buf, stack) = stack.make_with::<U>(block, |_| U::zero());
    let mut g = MatMut::from_column_major_slice_mut(&mut g, k, k);
    gram::accumulate(
        g.as_mut(),
        Accum::Replace,
        x,
        samples,
        affine,
        &mut buf,
        par,
    )?;
    flush_tiny(g.as_mut());
    eigen_sigma(out, g.as_ref(), par, stack)
}

/// Whether the SVD must run on a scaled copy: the values are far enough from 1 that the
/// bidiagonalization's norms could overflow or go subnormal in `T`.
pub(crate) fn needs_copy<T: Real>(e: i32) -> bool {
    let limit = if f32_input::<T>() { 60 } else { 500 };
    !(-limit..=limit).contains(&e)
}

/// Rejects singular values that overflowed f64 when scaled back.
fn finish(out: &[f64], method: Method) -> Result<Method> {
    if out.first().is_some_and(|s| !s.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "spectrum: matrix",
            reason: "its largest singular value exceeds f64::MAX",
        });
    }
    Ok(method)
}

/// Zeroes the lower-triangle entries below `2⁻¹¹⁰·max|g|` (≈ ε²): the perturbation is far below
/// the eigensolver's own absolute error `≈ k·ε·λ_max`, and entries spanning hundreds of orders of
/// magnitude (or subnormal ones) can stall faer's iteration (found by fuzzing).
pub(crate) fn flush_tiny<U: Real>(mut g: MatMut<'_, U>) {
    let k = g.nrows();
    let mut top = 0.0f64;
    for j in 0..k {
        for i in j..k {
            top = top.max(g[(i, j)].as_f64().abs());
        }
    }
    let floor = top * mul_pow2(1.0, -110);
    for j in 0..k {
        for i in j..k {
            if g[(i, j)].as_f64().abs() < floor {
                g[(i, j)] = U::zero();
            }
        }
    }
}

/// `σ = √max(λ, 0)` of the symmetric `g` (lower triangle read), descending, by
/// [`eigvalsh_into`](crate::linalg::eigvalsh_into) (a tridiagonal reduction in `U` — faer's
/// one-stage below order 2048, the two-stage band reduction from 2048 — then the root-free
/// QL/QR in f64). With an f32 `g` the reduction runs in f32: eigenvalue errors
/// ≈ ε₃₂·λ_max, harmless to energy-weighted metrics, about 1.6× faster than f64.
pub(crate) fn eigen_sigma<U: Real>(
    out: &mut [f64],
    g: MatRef<'_, U>,
    par: Par,
    stack: &mut MemStack,
) -> Result<()> {
    eigvalsh_into(out, g, par, stack)?;
    for o in out.iter_mut() {
        *o = Float::sqrt(o.max(0.0));
    }
    out.reverse();
    Ok(())
}

/// Allocates a stack for `name`'s work, failing with [`Error::OutOfMemory`] instead of aborting
/// (the size is checked first: an overflowed request is refused without asking the allocator).
pub(crate) fn buffer(req: StackReq, name: &'static str) -> Result<MemBuffer> {
    let bytes = match req.layout() {
        Ok(l) if req.unaligned_bytes_required() != usize::MAX => l.size(),
        _ => usize::MAX,
    };
    if bytes == usize::MAX || bytes > isize::MAX as usize {
        return Err(Error::OutOfMemory { name, bytes });
    }
    MemBuffer::try_new(req).map_err(|_| Error::OutOfMemory { name, bytes })
}

/// Singular values of `x` (descending), allocating what it needs.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout};
/// use mlkern::spectrum::{singular_values, Centering, Method, SpectrumConfig, Weighting};
/// // Rows (1, 0), (0, 2), (0, 0), (0, 0): singular values 2 and 1 by either method.
/// let x = [1.0f64, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0];
/// for method in [Method::Svd, Method::Gram] {
///     let cfg = SpectrumConfig::new(Centering::None, method);
///     let s = singular_values(view(&x, 4, 2, Layout::RowMajor)?, &cfg, Par::Seq)?;
///     assert!((s.sigma[0] - 2.0).abs() < 1e-12 && (s.sigma[1] - 1.0).abs() < 1e-12);
///     assert_eq!(s.spectrum().numerical_rank(mlkern::spectrum::RankTol::Numpy)?, 2);
/// }
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// As [`singular_values_into`]; [`Error::OutOfMemory`] naming `x` when the scratch cannot be
/// allocated. An empty matrix gives no values and allocates nothing.
pub fn singular_values<T: Real>(
    x: MatRef<'_, T>,
    cfg: &SpectrumConfig,
    par: Par,
) -> Result<MatrixSpectrum> {
    let (rows, cols) = (x.nrows(), x.ncols());
    let mut sigma = crate::base::zeros::<f64>(rows.min(cols), "x (singular values)")?;
    let mut mem = buffer(
        singular_values_req::<T>(rows, cols, cfg, par),
        "x (spectrum scratch)",
    )?;
    let method = singular_values_into(&mut sigma, x, cfg, MemStack::new(&mut mem), par)?;
    Ok(MatrixSpectrum {
        sigma,
        rows,
        cols,
        eps: T::EPS.as_f64(),
        centering: cfg.centering,
        method,
    })
}
