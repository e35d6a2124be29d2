//! Logit margins (core tier, SIMD through [`simd::max`](crate::simd::max) and
//! [`simd::argmax`](crate::simd::argmax)).
//!
//! * true-class margin `z_y − max_{j≠y} z_j` — negative exactly when the example is misclassified
//!   (ties count as 0); the multiclass margin of learning theory;
//! * top-2 margin `z₍₁₎ − z₍₂₎` — label-free confidence, equal to the true-class margin when the
//!   prediction is correct.
//!
//! Both are invariant to adding a constant to every logit and scale with a positive factor.
//! (The robustness paper arXiv 2606.09658 reports probe "logit margins" without a published
//! formula; these are the standard definitions.)

use crate::simd;
use crate::{Error, Real, Result, Shape};

/// Which margin [`margins`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarginKind {
    /// `z_y − max_{j≠y} z_j` (needs labels).
    TrueClass,
    /// `z₍₁₎ − z₍₂₎`.
    Top2,
}

fn check_row<T: Real>(logits: &[T]) -> Result<()> {
    if logits.len() < 2 {
        return Err(Error::InvalidParameter {
            name: "margin: logits",
            reason: "need at least 2 classes",
        });
    }
    simd::check_finite(logits, "margin: logits")
}

/// `z_y − max_{j≠y} z_j` for one row of logits.
///
/// ```
/// use mlkern::spectrum::{margin_true, margin_top2};
/// let z = [1.0f32, 3.0, 2.5];
/// assert_eq!(margin_true(&z, 1)?, 0.5);
/// assert_eq!(margin_true(&z, 0)?, -2.0);
/// assert_eq!(margin_top2(&z)?, 0.5);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for fewer than 2 classes or `label` out of range,
/// [`Error::NonFinite`] for NaN/±∞ logits.
pub fn margin_true<T: Real>(logits: &[T], label: usize) -> Result<T> {
    check_row(logits)?;
    if label >= logits.len() {
        return Err(Error::InvalidParameter {
            name: "margin_true: label",
            reason: "must be below the number of classes",
        });
    }
    true_unchecked(logits, label)
}

fn true_unchecked<T: Real>(logits: &[T], label: usize) -> Result<T> {
    Ok(logits[label] - max_except(logits, label)?)
}

fn top2_unchecked<T: Real>(logits: &[T]) -> Result<T> {
    let (i, top) = simd::argmax(logits)?;
    Ok(top - max_except(logits, i)?)
}

/// `z₍₁₎ − z₍₂₎` for one row of logits (0 for a tie at the top).
///
/// ```
/// use mlkern::spectrum::margin_top2;
/// assert_eq!(margin_top2(&[0.5f32, 3.0, 1.0])?, 2.0);
/// assert_eq!(margin_top2(&[2.0f64, 2.0])?, 0.0);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// As [`margin_true`].
pub fn margin_top2<T: Real>(logits: &[T]) -> Result<T> {
    check_row(logits)?;
    top2_unchecked(logits)
}

/// The largest logit outside position `i` (at least 2 logits).
fn max_except<T: Real>(logits: &[T], i: usize) -> Result<T> {
    let (left, right) = (&logits[..i], &logits[i + 1..]);
    match (simd::max(left), simd::max(right)) {
        (Ok(a), Ok(b)) => Ok(a.max(b)),
        (Ok(a), Err(_)) => Ok(a),
        (Err(_), Ok(b)) => Ok(b),
        (Err(e), Err(_)) => Err(e),
    }
}

/// Margins of a row-major `rows × classes` logit matrix into `out` (`rows` values); `labels`
/// (one per row) are required for [`MarginKind::TrueClass`] and ignored for `Top2`.
///
/// ```
/// use mlkern::spectrum::{margins, MarginKind};
/// let z = [2.0f64, 0.0, 1.0, /* row 2 */ 0.0, 5.0, 5.0];
/// let mut out = [0.0; 2];
/// margins(&z, 2, 3, Some(&[0, 1]), MarginKind::TrueClass, &mut out)?;
/// assert_eq!(out, [1.0, 0.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::ShapeMismatch`] for inconsistent lengths, [`Error::InvalidParameter`] for missing
/// labels, a label out of range or fewer than 2 classes, [`Error::NonFinite`] for NaN/±∞ (the
/// index is row-major over the whole matrix).
pub fn margins<T: Real>(
    logits: &[T],
    rows: usize,
    classes: usize,
    labels: Option<&[usize]>,
    kind: MarginKind,
    out: &mut [T],
) -> Result<()> {
    if rows.checked_mul(classes) != Some(logits.len()) {
        return Err(Error::ShapeMismatch {
            what: "margins: logits",
            expected: Shape::d2(rows, classes),
            found: Shape::d1(logits.len()),
        });
    }
    if out.len() != rows {
        return Err(Error::ShapeMismatch {
            what: "margins: out",
            expected: Shape::d1(rows),
            found: Shape::d1(out.len()),
        });
    }
    let labels = match (kind, labels) {
        (MarginKind::TrueClass, None) => {
            return Err(Error::InvalidParameter {
                name: "margins: labels",
                reason: "required for MarginKind::TrueClass",
            });
        }
        (MarginKind::TrueClass, Some(l)) if l.len() != rows => {
            return Err(Error::ShapeMismatch {
                what: "margins: labels",
                expected: Shape::d1(rows),
                found: Shape::d1(l.len()),
            });
        }
        (_, l) => l,
    };
    if rows == 0 {
        return Ok(());
    }
    if classes < 2 {
        return Err(Error::InvalidParameter {
            name: "margins: classes",
            reason: "need at least 2 classes",
        });
    }
    simd::check_finite(logits, "margins: logits")?;
    for (r, (row, o)) in logits.chunks_exact(classes).zip(out.iter_mut()).enumerate() {
        *o = match (kind, labels) {
            (MarginKind::TrueClass, Some(l)) => {
                if l[r] >= classes {
                    return Err(Error::InvalidParameter {
                        name: "margins: labels",
                        reason: "a label is not below the number of classes",
                    });
                }
                true_unchecked(row, l[r])?
            }
            _ => top2_unchecked(row)?,
        };
    }
    Ok(())
}
