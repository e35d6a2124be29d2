//! Symmetric positive semidefinite operators for the iterative estimators ([`top_eigenvalues`],
//! [`estimate`]): the covariance of samples given as a matrix ([`GramOperator`], the `p×p`
//! matrix never formed), an explicit symmetric matrix ([`DenseOperator`]), or anything that can
//! multiply a block of vectors ([`SymOperator`]).
//!
//! Every product is cut into fixed 256-row tiles, each one sequential GEMM, spread over threads
//! by tile: the result does not depend on the thread count, bit for bit.
//!
//! [`top_eigenvalues`]: super::top_eigenvalues
//! [`estimate`]: super::estimate

use alloc::vec::Vec;

use num_traits::Float;

use faer::{Accum, MatMut, MatRef};

use super::decomp::needs_copy;
use super::gram::column_means;
use crate::base::{apply_parts, max_abs_exponent, pow2_parts, try_vec, zeros};
use crate::jobs::round_robin;
use crate::linalg::matmul_tiled;
use crate::{Error, Par, Real, Result};

/// A symmetric positive semidefinite `d×d` operator `C`, known through products with blocks
/// of vectors.
///
/// The estimators only read `C` through [`apply`](Self::apply) and [`trace`](Self::trace); the
/// eigenvalues they report are those of `2^scale_log2 · C`.
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{MatMut, MatRef};
/// use mlkern::spectrum::SymOperator;
/// /// diag(1, 2, …, d), matrix-free.
/// struct Ramp(usize);
/// impl SymOperator for Ramp {
///     fn dim(&self) -> usize { self.0 }
///     fn trace(&self) -> f64 { (self.0 * (self.0 + 1) / 2) as f64 }
///     fn apply(&self, z: MatRef<'_, f64>, mut out: MatMut<'_, f64>, _par: Par) {
///         for j in 0..z.ncols() {
///             for i in 0..self.0 { out[(i, j)] = (i + 1) as f64 * z[(i, j)]; }
///         }
///     }
/// }
/// let top = mlkern::spectrum::top_eigenvalues(&Ramp(100), &Default::default(), Par::Seq)?;
/// assert!((top.values[0] - 100.0).abs() < 1e-6);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub trait SymOperator: Sync {
    /// The order `d`.
    fn dim(&self) -> usize;
    /// `tr C`, exactly (in the same units as [`apply`](Self::apply)).
    fn trace(&self) -> f64;
    /// `out ← C·z` for a `d×b` block `z` (any `b ≥ 1`); `out` is `d×b`.
    fn apply(&self, z: MatRef<'_, f64>, out: MatMut<'_, f64>, par: Par);
    /// The relative accuracy of [`apply`](Self::apply): f64 rounding by default; an operator
    /// that computes in f32 says `f32::EPSILON`, which sets how far residuals can shrink.
    fn epsilon(&self) -> f64 {
        f64::EPSILON
    }
    /// The reported eigenvalues are those of `2^scale_log2 · C` (operators over scaled copies of
    /// extreme data keep their products in range this way); 0 by default.
    fn scale_log2(&self) -> i32 {
        0
    }
}

/// A `rows×cols` buffer in `T`, column-major; an allocation failure is an error.
fn buffer<T: Real>(rows: usize, cols: usize) -> Result<Vec<T>> {
    zeros(rows.saturating_mul(cols), "operator block")
}

/// The data of an operator: borrowed, or a scaled copy (column-major) of extreme data.
enum Data<'a, T> {
    Borrowed(MatRef<'a, T>),
    Owned(Vec<T>, usize, usize),
}

impl<T: Real> Data<'_, T> {
    fn mat(&self) -> MatRef<'_, T> {
        match self {
            Data::Borrowed(m) => *m,
            Data::Owned(v, r, c) => MatRef::from_column_major_slice(v, *r, *c),
        }
    }
}

/// Borrows `m`, or copies it as `2⁻ᵉ·m` when its scale is extreme; returns the data, the
/// exponent still to apply to it (`e`, or 0 after copying) and `e`.
fn scaled_data<'a, T: Real>(
    m: MatRef<'a, T>,
    what: &'static str,
) -> Result<(Data<'a, T>, i32, i32)> {
    // Products in `T` cannot overflow unless the scale is extreme: the SVD path's rule.
    let e = max_abs_exponent(m, what)?.unwrap_or(0);
    if !needs_copy::<T>(e) {
        return Ok((Data::Borrowed(m), e, e));
    }
    let down = pow2_parts(-e);
    let mut v: Vec<T> = try_vec(m.nrows().saturating_mul(m.ncols()), "operator data")?;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            v.push(T::from_f64(apply_parts(m[(i, j)].as_f64(), down)));
        }
    }
    Ok((Data::Owned(v, m.nrows(), m.ncols()), 0, e))
}

/// The covariance operator of samples: `C = X̃cᵀX̃c` (or `X̃cX̃cᵀ`, whichever is smaller), where
/// `X̃ = 2⁻ᵉ·X` and `X̃c` is `X̃` with its column means removed when centering is asked for.
/// Its nonzero eigenvalues are the squared singular values of the (centered) matrix, scaled by
/// `2⁻²ᵉ` ([`scale_log2`](SymOperator::scale_log2) = `2e`), exactly what
/// [`singular_values`](super::singular_values) squares.
///
/// Products run in `T` (f32 GEMM for f32 data, as NumPy's f32 path), with the scaling and the
/// centering applied in f64 between the two products, so neither overflows nor cancels.
pub struct GramOperator<'a, T: Real> {
    data: Data<'a, T>,
    /// The data's own exponent `e` (the operator is `2⁻²ᵉ·XcᵀXc`).
    exp: i32,
    /// The part of `e` still to apply to the stored data (`e`, or 0 for a scaled copy).
    pending: i32,
    means: Option<Vec<f64>>,
    trace: f64,
    /// `true`: `C = X̃cᵀX̃c` (order = columns); `false`: `C = X̃cX̃cᵀ` (order = rows).
    cols_side: bool,
}

impl<'a, T: Real> GramOperator<'a, T> {
    /// The operator of `x`'s rows as samples, centered by column means when `center`.
    ///
    /// ```
    /// use mlkern::linalg::{view, Layout};
    /// use mlkern::spectrum::{GramOperator, SymOperator};
    /// let x = [3.0f32, 0.0, 0.0, 4.0, 0.0, 0.0]; // 3×2, σ = (4, 3)
    /// let op = GramOperator::new(view(&x, 3, 2, Layout::RowMajor)?, false)?;
    /// assert_eq!(op.dim(), 2);
    /// assert_eq!(op.trace() * 2f64.powi(op.scale_log2()), 25.0);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN/±∞ in `x` (row-major index); [`Error::OutOfMemory`] when a
    /// scaled copy of extreme data cannot be allocated.
    pub fn new(x: MatRef<'a, T>, center: bool) -> Result<Self> {
        let (data, pending, exp) = scaled_data(x, "spectrum estimate: matrix")?;
        let m = data.mat();
        let down = pow2_parts(-pending);
        let means = if center {
            let mut mu = zeros(m.ncols(), "column means")?;
            column_means(m, down, &mut mu);
            Some(mu)
        } else {
            None
        };
        let mut trace = 0.0;
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                let mu = means.as_ref().map_or(0.0, |mu| mu[j]);
                let v = apply_parts(m[(i, j)].as_f64(), down) - mu;
                trace += v * v;
            }
        }
        Ok(GramOperator {
            cols_side: m.ncols() <= m.nrows(),
            data,
            exp,
            pending,
            means,
            trace,
        })
    }
}

/// `dst (f64) ← 2⁻ᵉ·prod` for a column-major block `prod` in `T`.
fn finish_block<T: Real>(dst: &mut MatMut<'_, f64>, prod: &[T], down: [f64; 3]) {
    let rows = dst.nrows();
    for j in 0..dst.ncols() {
        for i in 0..rows {
            dst[(i, j)] = apply_parts(prod[i + j * rows].as_f64(), down);
        }
    }
}

/// `μᵀz` per column of the block.
fn weighted_sums(mu: &[f64], z: MatRef<'_, f64>) -> Vec<f64> {
    (0..z.ncols())
        .map(|j| mu.iter().enumerate().map(|(i, m)| m * z[(i, j)]).sum())
        .collect()
}

/// A block converted to `T` (column-major).
fn to_t<T: Real>(z: MatRef<'_, f64>) -> Result<Vec<T>> {
    let mut v = try_vec(z.nrows().saturating_mul(z.ncols()), "operator block")?;
    for j in 0..z.ncols() {
        for i in 0..z.nrows() {
            v.push(T::from_f64(z[(i, j)]));
        }
    }
    Ok(v)
}

impl<T: Real> SymOperator for GramOperator<'_, T> {
    fn dim(&self) -> usize {
        let m = self.data.mat();
        if self.cols_side { m.ncols() } else { m.nrows() }
    }

    fn trace(&self) -> f64 {
        self.trace
    }

    fn epsilon(&self) -> f64 {
        T::EPS.as_f64()
    }

    fn scale_log2(&self) -> i32 {
        2 * self.exp
    }

    fn apply(&self, z: MatRef<'_, f64>, mut out: MatMut<'_, f64>, par: Par) {
        let x = self.data.mat();
        // C = BᵀB with B = A − a·cᵀ: B = X̃c (A = X, a = 1, c = μ̃) on the column side,
        // B = X̃cᵀ (A = Xᵀ, a = μ̃, c = 1) on the row side.
        let a = if self.cols_side { x } else { x.transpose() };
        let (rows, dim) = (a.nrows(), a.ncols());
        let ones = self.means.as_ref().map(|_| alloc::vec![1.0; rows.max(dim)]);
        let shift = match (&self.means, &ones) {
            (Some(mu), Some(one)) if self.cols_side => Some((&one[..rows], &mu[..])),
            (Some(mu), Some(one)) => Some((&mu[..], &one[..dim])),
            _ => None,
        };
        // A failed allocation of a work block leaves NaN in `out`, which the estimators report.
        if fused_gram(a, shift, self.pending, z, out.as_mut(), par).is_err() {
            out.fill(f64::NAN);
        }
    }
}

/// Rows of `A` per tile of the fused product: at least 256, and at most 32 tiles (each keeps a
/// `d×b` partial result), so the tiling depends on the shape alone.
fn gram_tile(rows: usize) -> usize {
    rows.div_ceil(32).max(256).next_multiple_of(64)
}

/// `out ← BᵀB·z` with `B = 2⁻ᵉ·A − a·cᵀ` (`shift = (a, c)`, or none), in one pass over `A`: per
/// row tile `I`, `w = B_I·z` and then `B_Iᵀ·w` while the tile is still in cache, each tile's
/// result kept apart and the tiles summed in order (in f64), so the sum never depends on the
/// thread count.
fn fused_gram<T: Real>(
    a: MatRef<'_, T>,
    shift: Option<(&[f64], &[f64])>,
    pending: i32,
    z: MatRef<'_, f64>,
    mut out: MatMut<'_, f64>,
    par: Par,
) -> Result<()> {
    let (rows, d, b) = (a.nrows(), a.ncols(), z.ncols());
    let down = pow2_parts(-pending);
    let zt = to_t::<T>(z)?;
    let zt = MatRef::from_column_major_slice(&zt, d, b);
    // cᵀz per column (the shift of B·z).
    let cz: Vec<f64> = match shift {
        Some((_, c)) => weighted_sums(c, z),
        None => alloc::vec![0.0; b],
    };
    let h = gram_tile(rows);
    let tiles = rows.div_ceil(h);
    // Per tile: its d×b partial (in T) and aᵀw per column (f64).
    let mut partial: Vec<T> = zeros(
        tiles.saturating_mul(d).saturating_mul(b),
        "operator partials",
    )?;
    let mut aw: Vec<f64> = zeros(tiles * b, "operator partials")?;
    let mut jobs = Vec::with_capacity(tiles);
    for ((t, p), s) in partial
        .chunks_mut((d * b).max(1))
        .enumerate()
        .zip(aw.chunks_mut(b.max(1)))
    {
        jobs.push((t, p, s));
    }
    let failed = core::sync::atomic::AtomicBool::new(false);
    round_robin(jobs, par, |(t, p, s)| {
        let r0 = t * h;
        let hh = h.min(rows - r0);
        let at = a.submatrix(r0, 0, hh, d);
        let Ok(mut w) = buffer::<T>(hh, b) else {
            failed.store(true, core::sync::atomic::Ordering::Relaxed);
            return;
        };
        let mut wm = MatMut::from_column_major_slice_mut(&mut w, hh, b);
        faer::linalg::matmul::matmul(
            wm.as_mut(),
            Accum::Replace,
            at,
            zt,
            T::one(),
            faer::Par::Seq,
        );
        for j in 0..b {
            let mut sum = 0.0;
            for i in 0..hh {
                let ai = shift.map_or(0.0, |(av, _)| av[r0 + i]);
                let v = apply_parts(wm[(i, j)].as_f64(), down) - ai * cz[j];
                wm[(i, j)] = T::from_f64(v);
                sum += ai * v;
            }
            s[j] = sum;
        }
        faer::linalg::matmul::matmul(
            MatMut::from_column_major_slice_mut(p, d, b),
            Accum::Replace,
            at.transpose(),
            wm.as_ref(),
            T::one(),
            faer::Par::Seq,
        );
    });
    if failed.load(core::sync::atomic::Ordering::Relaxed) {
        return Err(crate::base::oom::<T>(h * b, "operator block"));
    }
    // Tile partials summed in tile order (contiguous passes), then scaled and shifted.
    let mut acc: Vec<f64> = zeros(d * b, "operator partials")?;
    for part in partial.chunks_exact((d * b).max(1)) {
        acc.iter_mut().zip(part).for_each(|(a, v)| *a += v.as_f64());
    }
    for j in 0..b {
        let aw_j: f64 = (0..tiles).map(|t| aw[t * b + j]).sum();
        for i in 0..d {
            let ci = shift.map_or(0.0, |(_, c)| c[i]);
            out[(i, j)] = apply_parts(acc[j * d + i], down) - ci * aw_j;
        }
    }
    Ok(())
}

/// An explicit symmetric positive semidefinite matrix `G` (a Gram or covariance matrix already
/// formed, a Hessian block, …), scaled by `2⁻ᵉ` internally like [`GramOperator`].
pub struct DenseOperator<'a, T: Real> {
    data: Data<'a, T>,
    exp: i32,
    pending: i32,
    trace: f64,
}

impl<'a, T: Real> DenseOperator<'a, T> {
    /// The operator of a square symmetric matrix.
    ///
    /// ```
    /// use mlkern::linalg::{view, Layout};
    /// use mlkern::spectrum::{DenseOperator, SymOperator};
    /// let g = [2.0f64, 1.0, 1.0, 2.0];
    /// let op = DenseOperator::new(view(&g, 2, 2, Layout::RowMajor)?)?;
    /// assert_eq!(op.trace() * 2f64.powi(op.scale_log2()), 4.0);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a non-square matrix; [`Error::NonFinite`] for NaN/±∞;
    /// [`Error::InvalidParameter`] when `G` is not symmetric (an entry differs from its mirror by
    /// more than `√ε·max|G|` in its own precision, more than rounding can explain).
    pub fn new(g: MatRef<'a, T>) -> Result<Self> {
        if g.nrows() != g.ncols() {
            return Err(Error::ShapeMismatch {
                what: "spectrum estimate: symmetric matrix",
                expected: crate::Shape::d2(g.nrows(), g.nrows()),
                found: crate::Shape::d2(g.nrows(), g.ncols()),
            });
        }
        let (data, pending, exp) = scaled_data(g, "spectrum estimate: symmetric matrix")?;
        let m = data.mat();
        let mut amax = 0.0f64;
        for j in 0..m.ncols() {
            for i in 0..m.nrows() {
                amax = amax.max(m[(i, j)].as_f64().abs());
            }
        }
        let tol = Float::sqrt(T::EPS.as_f64()) * amax;
        for j in 0..m.ncols() {
            for i in j + 1..m.nrows() {
                if (m[(i, j)].as_f64() - m[(j, i)].as_f64()).abs() > tol {
                    return Err(Error::InvalidParameter {
                        name: "matrix",
                        reason: "must be symmetric (an entry differs from its mirror)",
                    });
                }
            }
        }
        let down = pow2_parts(-pending);
        let trace = (0..m.nrows())
            .map(|i| apply_parts(m[(i, i)].as_f64(), down))
            .sum();
        Ok(DenseOperator {
            data,
            exp,
            pending,
            trace,
        })
    }
}

impl<T: Real> SymOperator for DenseOperator<'_, T> {
    fn dim(&self) -> usize {
        self.data.mat().nrows()
    }

    fn trace(&self) -> f64 {
        self.trace
    }

    fn epsilon(&self) -> f64 {
        T::EPS.as_f64()
    }

    fn scale_log2(&self) -> i32 {
        self.exp
    }

    fn apply(&self, z: MatRef<'_, f64>, mut out: MatMut<'_, f64>, par: Par) {
        let g = self.data.mat();
        let (d, b) = (g.nrows(), z.ncols());
        let down = pow2_parts(-self.pending);
        let run = |out: &mut MatMut<'_, f64>| -> Result<()> {
            let zt = to_t::<T>(z)?;
            let mut v = buffer::<T>(d, b)?;
            matmul_tiled(
                MatMut::from_column_major_slice_mut(&mut v, d, b),
                Accum::Replace,
                g,
                MatRef::from_column_major_slice(&zt, d, b),
                T::one(),
                par,
            )?;
            finish_block(out, &v, down);
            Ok(())
        };
        if run(&mut out).is_err() {
            out.fill(f64::NAN);
        }
    }
}
