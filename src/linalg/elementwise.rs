//! Elementwise passes over two same-shaped views, by contiguous column (or row) slices when the
//! layouts allow it — the slice loops vectorize, per-element indexing does not.

use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef};

/// `dst[i, j] ← f(dst[i, j], src[i, j])` for every entry (shapes must match).
pub(crate) fn zip_map<T: Copy, U: Copy>(
    mut dst: MatMut<'_, T>,
    src: MatRef<'_, U>,
    f: impl Fn(T, U) -> T,
) {
    debug_assert_eq!((dst.nrows(), dst.ncols()), (src.nrows(), src.ncols()));
    if dst.row_stride() != 1 && dst.col_stride() == 1 && src.col_stride() == 1 {
        // Both row-major: walk the transposes column by column.
        return zip_map(dst.transpose_mut(), src.transpose(), f);
    }
    let cols = dst.ncols();
    match (dst.rb_mut().try_as_col_major_mut(), src.try_as_col_major()) {
        (Some(mut d), Some(s)) => {
            for j in 0..cols {
                let dc = d.rb_mut().col_mut(j).as_slice_mut();
                for (x, &y) in dc.iter_mut().zip(s.col(j).as_slice()) {
                    *x = f(*x, y);
                }
            }
        }
        _ => {
            for j in 0..cols {
                for i in 0..dst.nrows() {
                    dst[(i, j)] = f(dst[(i, j)], src[(i, j)]);
                }
            }
        }
    }
}
