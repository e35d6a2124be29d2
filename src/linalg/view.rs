//! Checked faer views over slices.

use faer::{MatMut, MatRef};

use crate::{Error, Result, Shape};

/// How a matrix is laid out in a slice.
///
/// Strided layouts describe a matrix inside a larger buffer: `RowMajorStrided { row_stride }`
/// puts element `(i, j)` at `i·row_stride + j`, `ColMajorStrided { col_stride }` at
/// `i + j·col_stride` (the BLAS "leading dimension").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Element `(i, j)` at `i·cols + j` (C order, NumPy's default); the slice holds exactly `rows·cols`.
    RowMajor,
    /// Element `(i, j)` at `i + j·rows` (Fortran order, faer's native layout); exactly `rows·cols`.
    ColMajor,
    /// Element `(i, j)` at `i·row_stride + j`, `row_stride ≥ cols`.
    RowMajorStrided {
        /// Distance between the starts of consecutive rows.
        row_stride: usize,
    },
    /// Element `(i, j)` at `i + j·col_stride`, `col_stride ≥ rows`.
    ColMajorStrided {
        /// Distance between the starts of consecutive columns.
        col_stride: usize,
    },
}

/// Normalized description: (outer count, inner count, outer stride, exact length required?).
fn check(len: usize, rows: usize, cols: usize, layout: Layout) -> Result<()> {
    let (outer, inner, stride, exact) = match layout {
        Layout::RowMajor => (rows, cols, cols, true),
        Layout::ColMajor => (cols, rows, rows, true),
        Layout::RowMajorStrided { row_stride } => (rows, cols, row_stride, false),
        Layout::ColMajorStrided { col_stride } => (cols, rows, col_stride, false),
    };
    if stride < inner {
        return Err(Error::InvalidParameter {
            name: "layout stride",
            reason: "the stride between rows (columns) must be at least the number of columns (rows)",
        });
    }
    let need = if outer == 0 || inner == 0 {
        Some(0)
    } else {
        (outer - 1)
            .checked_mul(stride)
            .and_then(|x| x.checked_add(inner))
    };
    let Some(need) = need else {
        return Err(Error::InvalidParameter {
            name: "matrix shape",
            reason: "the extent of the matrix overflows usize",
        });
    };
    if rows.checked_mul(cols).is_none() {
        return Err(Error::InvalidParameter {
            name: "matrix shape",
            reason: "rows·cols overflows usize",
        });
    }
    let ok = if exact {
        len == rows * cols
    } else {
        len >= need
    };
    if !ok {
        return Err(Error::ShapeMismatch {
            what: "matrix view: slice length",
            expected: Shape::d1(if exact { rows * cols } else { need }),
            found: Shape::d1(len),
        });
    }
    Ok(())
}

/// A read-only `rows × cols` faer view over `data`.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the slice length does not fit the shape (contiguous layouts need
/// exactly `rows·cols` elements, strided ones at least `(outer − 1)·stride + inner`);
/// [`Error::InvalidParameter`] for a stride smaller than the inner dimension or an overflowing shape.
///
/// ```
/// use mlkern::linalg::{view, Layout};
/// let data = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let m = view(&data, 2, 3, Layout::RowMajor)?;
/// assert_eq!(m[(1, 0)], 4.0);
/// let t = view(&data, 3, 2, Layout::ColMajor)?;
/// assert_eq!(t[(0, 1)], 4.0);
/// assert!(view(&data, 4, 2, Layout::RowMajor).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn view<T>(data: &[T], rows: usize, cols: usize, layout: Layout) -> Result<MatRef<'_, T>> {
    check(data.len(), rows, cols, layout)?;
    Ok(match layout {
        Layout::RowMajor => MatRef::from_row_major_slice(data, rows, cols),
        Layout::ColMajor => MatRef::from_column_major_slice(data, rows, cols),
        Layout::RowMajorStrided { row_stride } => {
            MatRef::from_row_major_slice_with_stride(data, rows, cols, row_stride)
        }
        Layout::ColMajorStrided { col_stride } => {
            MatRef::from_column_major_slice_with_stride(data, rows, cols, col_stride)
        }
    })
}

/// A mutable `rows × cols` faer view over `data`; same rules as [`view`].
///
/// # Errors
/// As [`view`].
///
/// ```
/// use mlkern::linalg::{view_mut, Layout};
/// let mut data = [0.0f64; 6];
/// let mut m = view_mut(&mut data, 2, 3, Layout::RowMajor)?;
/// m[(1, 2)] = 7.0;
/// assert_eq!(data[5], 7.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn view_mut<T>(
    data: &mut [T],
    rows: usize,
    cols: usize,
    layout: Layout,
) -> Result<MatMut<'_, T>> {
    check(data.len(), rows, cols, layout)?;
    Ok(match layout {
        Layout::RowMajor => MatMut::from_row_major_slice_mut(data, rows, cols),
        Layout::ColMajor => MatMut::from_column_major_slice_mut(data, rows, cols),
        // Not `MatMut::from_row_major_slice_with_stride_mut`: in faer 0.24.4 it builds the view
        // with the strides swapped (row stride 1, column stride `row_stride`), which addresses
        // memory outside the slice. The transposed column-major view is the same matrix, correctly.
        Layout::RowMajorStrided { row_stride } => {
            MatMut::from_column_major_slice_with_stride_mut(data, cols, rows, row_stride)
                .transpose_mut()
        }
        Layout::ColMajorStrided { col_stride } => {
            MatMut::from_column_major_slice_with_stride_mut(data, rows, cols, col_stride)
        }
    })
}
