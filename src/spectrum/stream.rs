//! A streaming, mergeable covariance accumulator for hidden states (alloc tier).

use alloc::vec::Vec;

use faer::dyn_stack::MemStack;
use faer::{Accum, Mat, MatRef};

use super::decomp::{Centering, MatrixSpectrum, Method, buffer, eigen_sigma, flush_tiny};
use super::gram::{self, Affine, Samples, block_len};
use crate::Par;
use crate::base::{check_finite_mat, checked_len, zeros};
use crate::limits::{MAX_COV_DIM, check};
use crate::linalg::try_zeros_mat;
use crate::{Error, Real, Result, Shape};

/// No scaling: the accumulator keeps absolute second moments.
const UNIT: [f64; 3] = [1.0; 3];

/// What an allocation failure of the accumulator names.
const NAME: &str = "CovAccumulator: dim";

/// Accumulates `count`, the mean and `M₂ = Σ (x − μ)(x − μ)ᵀ` of d-dimensional samples pushed in
/// row chunks, in f64 — so a layer's spectrum can be measured over many batches without holding
/// them. Chunks are combined with Chan et al.'s update `M₂ = M₂ᵃ + M₂ᵇ + (nₐn_b/n)·δδᵀ`,
/// `δ = μ_b − μ_a`: exact in exact arithmetic, so push order and merge order change the result
/// only by rounding. Memory, all allocated by [`new`](Self::new) (so [`push`](Self::push) and
/// [`merge`](Self::merge) never allocate): d² f64 plus a conversion block of
/// `d·min(4096, max(256, 2²²/d))` f64 (at most 32 MiB).
///
/// ```
/// use mlkern::Par;
/// use mlkern::linalg::{view, Layout};
/// use mlkern::spectrum::{CovAccumulator, Centering, Weighting};
/// // Two chunks of 2-D samples; centered, they are ±(1, 0) and ±(0, 2): σ = (2·√2, √2).
/// let a = [6.0f64, 5.0, 4.0, 5.0];          // (6, 5), (4, 5)
/// let b = [5.0f64, 7.0, 5.0, 3.0];          // (5, 7), (5, 3)
/// let mut acc = CovAccumulator::new(2)?;
/// acc.push(view(&a, 2, 2, Layout::RowMajor)?, Par::Seq)?;
/// acc.push(view(&b, 2, 2, Layout::RowMajor)?, Par::Seq)?;
/// let s = acc.spectrum(Centering::ColumnMean, Par::Seq)?;
/// assert!((s.sigma[0] - 8f64.sqrt()).abs() < 1e-12 && (s.sigma[1] - 2f64.sqrt()).abs() < 1e-12);
/// assert_eq!(acc.count(), 4);
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CovAccumulator {
    pub(crate) dim: usize,
    pub(crate) count: u64,
    pub(crate) mean: Vec<f64>,
    /// Only the lower triangle is maintained.
    pub(crate) m2: Mat<f64>,
    chunk_mean: Vec<f64>,
    block: Vec<f64>,
    /// The largest unit roundoff of the pushed element types (0 before any push).
    pub(crate) eps: f64,
}

impl CovAccumulator {
    /// An empty accumulator of `dim`-dimensional samples.
    ///
    /// ```
    /// use mlkern::spectrum::CovAccumulator;
    /// let acc = CovAccumulator::new(3)?;
    /// assert_eq!((acc.dim(), acc.count(), acc.mean()), (3, 0, &[0.0; 3][..]));
    /// assert!(CovAccumulator::new(0).is_err());
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `dim = 0`; [`Error::TooLarge`] when `dim` is over
    /// [`MAX_COV_DIM`](crate::limits::MAX_COV_DIM) (checked before anything is allocated);
    /// [`Error::OutOfMemory`] naming `dim` when the buffers cannot be allocated.
    pub fn new(dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::InvalidParameter {
                name: "CovAccumulator: dim",
                reason: "must be ≥ 1",
            });
        }
        check(dim, MAX_COV_DIM, "CovAccumulator: dim")?;
        // faer's `Mat::zeros` aborts when it cannot allocate: reserved fallibly instead.
        let m2 = try_zeros_mat(dim, dim, NAME)?;
        // The largest block any push uses, so pushes never allocate (and, as every push of up to
        // that many rows is one block, the result does not depend on the block's size).
        let block = zeros::<f64>(checked_len(&[dim, block_len(dim, usize::MAX)], NAME)?, NAME)?;
        let mean = zeros::<f64>(dim, NAME)?;
        let chunk_mean = zeros::<f64>(dim, NAME)?;
        Ok(CovAccumulator {
            dim,
            count: 0,
            mean,
            m2,
            chunk_mean,
            block,
            eps: 0.0,
        })
    }

    /// Sample dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Samples pushed so far (merged accumulators included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The running mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Adds the rows of `rows` (b×d) as samples, without allocating.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::linalg::{view, Layout};
    /// use mlkern::spectrum::CovAccumulator;
    /// let mut acc = CovAccumulator::new(2)?;
    /// acc.push(view(&[1.0f32, 2.0, 3.0, 6.0], 2, 2, Layout::RowMajor)?, Par::Seq)?;
    /// assert_eq!((acc.count(), acc.mean()), (2, &[2.0, 4.0][..]));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the width is not `dim`; [`Error::NonFinite`] for NaN/±∞
    /// (row-major index within `rows`; the accumulator is then unchanged).
    pub fn push<T: Real>(&mut self, rows: MatRef<'_, T>, par: Par) -> Result<()> {
        if rows.ncols() != self.dim {
            return Err(Error::ShapeMismatch {
                what: "CovAccumulator::push: rows",
                expected: Shape::d2(rows.nrows(), self.dim),
                found: Shape::d2(rows.nrows(), rows.ncols()),
            });
        }
        check_finite_mat(rows, "CovAccumulator::push: rows")?;
        let nb = rows.nrows() as u64;
        if nb == 0 {
            return Ok(());
        }
        self.eps = self.eps.max(T::EPS.as_f64());
        gram::column_means(rows, UNIT, &mut self.chunk_mean);
        // M₂ += the chunk's own M₂ (centered at the chunk mean), then the Chan correction.
        gram::accumulate(
            self.m2.as_mut(),
            Accum::Add,
            rows,
            Samples::Rows,
            Affine {
                mean: Some(&self.chunk_mean),
                scale: UNIT,
            },
            &mut self.block,
            par,
        )?;
        let chunk_mean = core::mem::take(&mut self.chunk_mean);
        self.combine(nb, &chunk_mean);
        self.chunk_mean = chunk_mean;
        Ok(())
    }

    /// Folds another accumulator's samples into this one (no allocation): the same statistics as
    /// pushing both accumulators' rows into one, up to rounding.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::linalg::{view, Layout};
    /// use mlkern::spectrum::CovAccumulator;
    /// let (mut a, mut b) = (CovAccumulator::new(1)?, CovAccumulator::new(1)?);
    /// a.push(view(&[1.0f64, 3.0], 2, 1, Layout::RowMajor)?, Par::Seq)?;
    /// b.push(view(&[8.0f64], 1, 1, Layout::RowMajor)?, Par::Seq)?;
    /// a.merge(&b)?;
    /// assert_eq!((a.count(), a.mean()), (3, &[4.0][..]));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the dimensions differ.
    pub fn merge(&mut self, other: &CovAccumulator) -> Result<()> {
        if other.dim != self.dim {
            return Err(Error::ShapeMismatch {
                what: "CovAccumulator::merge: other",
                expected: Shape::d1(self.dim),
                found: Shape::d1(other.dim),
            });
        }
        if other.count == 0 {
            return Ok(());
        }
        for j in 0..self.dim {
            for i in j..self.dim {
                self.m2[(i, j)] += other.m2[(i, j)];
            }
        }
        self.eps = self.eps.max(other.eps);
        self.combine(other.count, &other.mean);
        Ok(())
    }

    /// Adds the between-group term for `nb` samples of mean `mb` whose own M₂ is already in
    /// `self.m2`, and updates the count and mean.
    fn combine(&mut self, nb: u64, mb: &[f64]) {
        let na = self.count;
        let n = na + nb;
        let w = na as f64 * nb as f64 / n as f64;
        if na > 0 {
            for (j, (&bj, &aj)) in mb.iter().zip(&self.mean).enumerate() {
                let dj = w * (bj - aj);
                for (i, (&bi, &ai)) in mb.iter().zip(&self.mean).enumerate().skip(j) {
                    self.m2[(i, j)] += (bi - ai) * dj;
                }
            }
        }
        let f = nb as f64 / n as f64;
        for (m, &b) in self.mean.iter_mut().zip(mb) {
            *m += (b - *m) * f;
        }
        self.count = n;
    }

    /// Singular values of the (centered or raw) sample matrix the pushed rows form: the square
    /// roots of the eigenvalues of `M₂` (`ColumnMean`) or of `M₂ + n·μμᵀ` (`None`), descending,
    /// `min(count, dim)` of them (the rest are zero). The owned tier: allocates the d×d matrix
    /// and the eigensolver's scratch.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::linalg::{view, Layout};
    /// use mlkern::spectrum::{Centering, CovAccumulator};
    /// let mut acc = CovAccumulator::new(2)?;
    /// acc.push(view(&[3.0f64, 0.0, 0.0, 4.0], 2, 2, Layout::RowMajor)?, Par::Seq)?;
    /// let raw = acc.spectrum(Centering::None, Par::Seq)?;
    /// assert!((raw.sigma[0] - 4.0).abs() < 1e-12 && (raw.sigma[1] - 3.0).abs() < 1e-12);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NoConvergence`] when the eigensolver fails; [`Error::OutOfMemory`] naming `dim`
    /// when the d×d matrix or the eigensolver's scratch cannot be allocated.
    pub fn spectrum(&self, centering: Centering, par: Par) -> Result<MatrixSpectrum> {
        let d = self.dim;
        let mut all = zeros::<f64>(d, NAME)?;
        let mut mem = buffer(crate::linalg::eigvalsh_scratch::<f64>(d, par), NAME)?;
        let mut g = try_zeros_mat::<f64>(d, d, NAME)?;
        let n = self.count as f64;
        for j in 0..d {
            for i in j..d {
                let raw = match centering {
                    Centering::ColumnMean => 0.0,
                    _ => n * self.mean[i] * self.mean[j],
                };
                g[(i, j)] = self.m2[(i, j)] + raw;
            }
        }
        if (0..d).any(|j| (j..d).any(|i| !g[(i, j)].is_finite())) {
            return Err(Error::InvalidParameter {
                name: "CovAccumulator: samples",
                reason: "the second moments overflowed f64 (values beyond ~1e150): scale the samples",
            });
        }
        flush_tiny(g.as_mut());
        eigen_sigma(&mut all, g.as_ref(), par, MemStack::new(&mut mem))?;
        let rows = usize::try_from(self.count).unwrap_or(usize::MAX);
        all.truncate(rows.min(d));
        Ok(MatrixSpectrum {
            sigma: all,
            rows,
            cols: d,
            eps: if self.eps > 0.0 {
                self.eps
            } else {
                f64::EPSILON
            },
            centering,
            method: Method::Gram,
        })
    }
}
