//! Finiteness and magnitude scans of faer matrices (alloc tier), with row-major indices in
//! their errors so a caller can find the offending element of the array it passed.

use faer::MatRef;

use super::pow2::exponent;
use crate::{Error, Real, Result};

/// Visits every element of `m` (column by column, or row by row when that is contiguous) with
/// its row-major flat index.
fn for_each<T: Copy>(m: MatRef<'_, T>, mut f: impl FnMut(usize, T)) {
    let (rows, cols) = (m.nrows(), m.ncols());
    if let Some(cm) = m.try_as_col_major() {
        for j in 0..cols {
            for (i, &x) in cm.col(j).as_slice().iter().enumerate() {
                f(i * cols + j, x);
            }
        }
    } else if let Some(rm) = m.try_as_row_major() {
        for i in 0..rows {
            for (j, &x) in rm.row(i).as_slice().iter().enumerate() {
                f(i * cols + j, x);
            }
        }
    } else {
        for i in 0..rows {
            for j in 0..cols {
                f(i * cols + j, m[(i, j)]);
            }
        }
    }
}

/// Visits `m` as contiguous slices (its columns or rows) when its layout allows, else element by
/// element.
fn for_each_slice<T: Copy>(m: MatRef<'_, T>, mut f: impl FnMut(&[T])) {
    if let Some(cm) = m.try_as_col_major() {
        for j in 0..m.ncols() {
            f(cm.col(j).as_slice());
        }
    } else if let Some(rm) = m.try_as_row_major() {
        for i in 0..m.nrows() {
            f(rm.row(i).as_slice());
        }
    } else {
        for_each(m, |_, x| f(core::slice::from_ref(&x)));
    }
}

/// Checks `m` for NaN/±∞ ([`Error::NonFinite`] with the row-major index of the first one) and
/// returns the exponent `e` at which its norm is accumulated: `2ᵉ ≤ max|gᵢⱼ| < 2ᵉ⁺¹` for f64
/// (0 for a zero matrix). For f32 it is always 0: squares of f32 values neither overflow nor
/// underflow in f64, so no scaling is needed (and powers of two still scale the sum exactly).
pub(crate) fn norm_exponent<T: Real>(m: MatRef<'_, T>, what: &'static str) -> Result<i32> {
    if T::MANTISSA_DIGITS <= 24 {
        check_finite_mat(m, what)?;
        return Ok(0);
    }
    Ok(max_abs_exponent(m, what)?.unwrap_or(0))
}

/// Checks `m` for NaN/±∞ ([`Error::NonFinite`], row-major index) and returns `e` with
/// `2ᵉ ≤ max|mᵢⱼ| < 2ᵉ⁺¹`, or `None` for a zero (or empty) matrix.
pub(crate) fn max_abs_exponent<T: Real>(
    m: MatRef<'_, T>,
    what: &'static str,
) -> Result<Option<i32>> {
    let mut amax = 0.0f64;
    let mut finite = true;
    for_each_slice(m, |s| {
        if crate::simd::find_non_finite(s).is_some() {
            finite = false;
        } else {
            amax = s.iter().fold(amax, |a, x| a.max(x.as_f64().abs()));
        }
    });
    if !finite {
        return Err(first_non_finite(what, m));
    }
    Ok((amax > 0.0).then(|| exponent(amax)))
}

/// [`Error::NonFinite`] with the row-major index of the first NaN/±∞ of `m`.
fn first_non_finite<T: Real>(what: &'static str, m: MatRef<'_, T>) -> Error {
    let mut bad = usize::MAX;
    for_each(m, |idx, x| {
        if !x.as_f64().is_finite() {
            bad = bad.min(idx);
        }
    });
    Error::NonFinite { what, index: bad }
}

/// `Ok` when every entry of `m` is finite (SIMD scan), else [`Error::NonFinite`].
pub(crate) fn check_finite_mat<T: Real>(m: MatRef<'_, T>, what: &'static str) -> Result<()> {
    let mut finite = true;
    for_each_slice(m, |s| finite &= crate::simd::find_non_finite(s).is_none());
    if finite {
        Ok(())
    } else {
        Err(first_non_finite(what, m))
    }
}
