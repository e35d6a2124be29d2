//! Elementwise passes over two same-shaped views, by contiguous column (or row) slices when the
//! layouts allow it — the slice loops vectorize, per-element indexing does not — and by
//! cache-sized tiles when one side is the transpose of the other's layout.

use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef};

/// Rows per strip of a transposing pass. Small on purpose: rows of power-of-two length map to the
/// same L1 sets, and more than 8 of them (the associativity) evict each other.
const TILE: usize = 8;

/// `dst[i, j] ← f(dst[i, j], src[i, j])` for every entry (shapes must match).
pub(crate) fn zip_map<T: Copy, U: Copy>(
    mut dst: MatMut<'_, T>,
    src: MatRef<'_, U>,
    f: impl Fn(T, U) -> T,
) {
    debug_assert_eq!((dst.nrows(), dst.ncols()), (src.nrows(), src.ncols()));
    if dst.nrows() == 0 || dst.ncols() == 0 {
        // Nothing to touch; and a 0×2⁴⁰ view (an empty slice passes the shape check) must not
        // cost 2⁴⁰ empty column iterations.
        return;
    }
    if dst.row_stride() != 1 && dst.col_stride() == 1 {
        // Row-major destination: walk the transposes, whose destination is column-major.
        return zip_map(dst.transpose_mut(), src.transpose(), f);
    }
    let (rows, cols) = (dst.nrows(), dst.ncols());
    let Some(mut d) = dst.rb_mut().try_as_col_major_mut() else {
        for j in 0..cols {
            for i in 0..rows {
                dst[(i, j)] = f(dst[(i, j)], src[(i, j)]);
            }
        }
        return;
    };
    if let Some(s) = src.try_as_col_major() {
        for j in 0..cols {
            let dc = d.rb_mut().col_mut(j).as_slice_mut();
            for (x, &y) in dc.iter_mut().zip(s.col(j).as_slice()) {
                *x = f(*x, y);
            }
        }
    } else if let Some(s) = src.try_as_row_major() {
        // Transposing pass: strips of TILE rows of `src` (read along the rows) written column
        // by column into `dst`.
        for i0 in (0..rows).step_by(TILE) {
            let i1 = (i0 + TILE).min(rows);
            let src_rows: [&[U]; TILE] = core::array::from_fn(|r| {
                if i0 + r < i1 {
                    s.rb().row(i0 + r).as_slice()
                } else {
                    &[]
                }
            });
            for j in 0..cols {
                let dc = &mut d.rb_mut().col_mut(j).as_slice_mut()[i0..i1];
                for (x, row) in dc.iter_mut().zip(&src_rows) {
                    *x = f(*x, row[j]);
                }
            }
        }
    } else {
        for j in 0..cols {
            let dc = d.rb_mut().col_mut(j).as_slice_mut();
            for (i, x) in dc.iter_mut().enumerate() {
                *x = f(*x, src[(i, j)]);
            }
        }
    }
}
