//! [`Samples`]: tabular data (samples × variables) whose constructor names its memory layout, so
//! a transposed array cannot pass the shape checks silently (core tier).

use crate::{Error, Result, Shape};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Sample `t` of variable `v` at `t·n_vars + v` (NumPy `(n, p)` C order).
    RowMajor,
    /// Sample `t` of variable `v` at `v·n_samples + t` (each variable one contiguous stream).
    VariableMajor,
}

/// Tabular data: `n_samples` samples of `n_vars` variables, borrowed in one of two layouts that
/// the constructor names:
///
/// * [`Samples::row_major`]`(data, n_samples, n_vars)`: a NumPy `(n, p)` C-order array, sample
///   `t` of variable `v` at `data[t·n_vars + v]`;
/// * [`Samples::variable_major`]`(data, n_vars, n_samples)`: each variable one contiguous
///   stream, sample `t` of variable `v` at `data[v·n_samples + t]` (the kernels' fast path).
///
/// Every kernel gives bit-identical results for an array and its transpose in the other layout.
///
/// ```
/// use mlkern::tree::Samples;
/// // 3 samples of 2 variables, NumPy (3, 2) C order, and the same data variable-major.
/// let rows = [1.0, 10.0,   2.0, 20.0,   3.0, 30.0];
/// let vars = [1.0, 2.0, 3.0,   10.0, 20.0, 30.0];
/// let a = Samples::row_major(&rows, 3, 2)?;
/// let b = Samples::variable_major(&vars, 2, 3)?;
/// assert_eq!((a.n_samples(), a.n_vars()), (3, 2));
/// assert_eq!(a.get(2, 1), b.get(2, 1)); // sample 2 of variable 1: 30
/// assert!(Samples::row_major(&rows, 4, 2).is_err()); // 8 values needed
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a, T> {
    data: &'a [T],
    n_samples: usize,
    n_vars: usize,
    layout: Layout,
}

impl<'a, T: Copy> Samples<'a, T> {
    /// Row-major samples (NumPy `(n_samples, n_vars)` C order): sample `t` of variable `v` at
    /// `data[t·n_vars + v]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `data.len() ≠ n_samples·n_vars`,
    /// [`Error::InvalidParameter`] when the product overflows.
    ///
    /// ```
    /// let x = [0u8, 1,   1, 1,   0, 0]; // 3 samples × 2 variables
    /// let s = mlkern::tree::Samples::row_major(&x, 3, 2)?;
    /// assert_eq!(s.get(1, 0), 1);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn row_major(data: &'a [T], n_samples: usize, n_vars: usize) -> Result<Self> {
        check_len(data.len(), n_samples, n_vars, Shape::d2(n_samples, n_vars))?;
        Ok(Samples {
            data,
            n_samples,
            n_vars,
            layout: Layout::RowMajor,
        })
    }

    /// Variable-major samples: sample `t` of variable `v` at `data[v·n_samples + t]` (a NumPy
    /// `(n_vars, n_samples)` C-order array, or an `(n_samples, n_vars)` Fortran-order one).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `data.len() ≠ n_vars·n_samples`,
    /// [`Error::InvalidParameter`] when the product overflows.
    ///
    /// ```
    /// let x = [0u8, 1, 0,   1, 1, 0]; // 2 variables × 3 samples
    /// let s = mlkern::tree::Samples::variable_major(&x, 2, 3)?;
    /// assert_eq!(s.get(1, 0), 1);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn variable_major(data: &'a [T], n_vars: usize, n_samples: usize) -> Result<Self> {
        check_len(data.len(), n_samples, n_vars, Shape::d2(n_vars, n_samples))?;
        Ok(Samples {
            data,
            n_samples,
            n_vars,
            layout: Layout::VariableMajor,
        })
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of variables.
    pub fn n_vars(&self) -> usize {
        self.n_vars
    }

    /// Whether the data are row-major ([`Samples::row_major`]).
    pub fn is_row_major(&self) -> bool {
        self.layout == Layout::RowMajor
    }

    /// The borrowed values in their layout.
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// Sample `t` of variable `v`.
    ///
    /// # Panics
    /// When `t ≥ n_samples` or `v ≥ n_vars`.
    pub fn get(&self, t: usize, v: usize) -> T {
        assert!(
            t < self.n_samples && v < self.n_vars,
            "Samples::get out of range"
        );
        self.data[self.index(t, v)]
    }

    /// Flat index of sample `t` of variable `v` in [`data`](Self::data).
    pub(crate) fn index(&self, t: usize, v: usize) -> usize {
        match self.layout {
            Layout::RowMajor => t * self.n_vars + v,
            Layout::VariableMajor => v * self.n_samples + t,
        }
    }

    /// Variable `v` as a contiguous slice (variable-major data only).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(crate) fn contiguous(&self, v: usize) -> Option<&'a [T]> {
        match self.layout {
            Layout::VariableMajor => Some(&self.data[v * self.n_samples..(v + 1) * self.n_samples]),
            Layout::RowMajor => None,
        }
    }

    /// The samples `t0..n_samples` of variable `v`, in order (strided for row-major data).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(crate) fn column(&self, v: usize, t0: usize) -> impl Iterator<Item = T> + 'a {
        let (start, step) = match self.layout {
            Layout::RowMajor => (t0 * self.n_vars + v, self.n_vars.max(1)),
            Layout::VariableMajor => (v * self.n_samples + t0, 1),
        };
        let end = match self.layout {
            Layout::RowMajor => self.data.len(),
            Layout::VariableMajor => (v + 1) * self.n_samples,
        };
        self.data[start.min(end)..end].iter().step_by(step).copied()
    }
}

fn check_len(len: usize, n_samples: usize, n_vars: usize, shape: Shape) -> Result<()> {
    let want = n_samples
        .checked_mul(n_vars)
        .ok_or(Error::InvalidParameter {
            name: "samples",
            reason: "n_samples·n_vars overflows usize",
        })?;
    if len != want {
        return Err(Error::ShapeMismatch {
            what: "samples: data",
            expected: shape,
            found: Shape::d1(len),
        });
    }
    Ok(())
}
