//! `log Σ eˣ` and softmax, both shifted by the maximum so that no exponential overflows.
//!
//! `log_sum_exp` is one `max` pass (which also screens for NaN) and one fused pass that sums
//! `e^(xᵢ − m)` with the blocked pairwise scheme of [`super::reduce`] without storing anything.
//! `softmax_in_place` validates first (so that `x` is untouched on error), then writes
//! `e^(xᵢ − m)`, sums it pairwise, and multiplies by the reciprocal of the sum.

use crate::error::{Error, Result};

use super::axpy::scale;
use super::exp::{ExpShift, exp_shift_in_place};
use super::extremum::max;
use super::isa::Isa;
use super::lanes::Elem;
use super::reduce::{sum, sum_mapped};

/// `m + ln Σ e^(xᵢ − m)` with `m = max xᵢ`.
pub(crate) fn log_sum_exp<T: Elem>(isa: Isa, x: &[T]) -> Result<T> {
    const WHAT: &str = "log_sum_exp: x";
    if x.is_empty() {
        return Err(Error::Empty { what: WHAT });
    }
    let m = max(isa, x).map_err(|index| Error::NonFinite { what: WHAT, index })?;
    if m.is_infinite() {
        // +∞ dominates; all −∞ gives ln 0 = −∞.
        return Ok(m);
    }
    let s = sum_mapped(isa, x, ExpShift { shift: m });
    Ok(m + s.ln())
}

/// `xᵢ ← e^(xᵢ − m) / Σⱼ e^(xⱼ − m)`; `x` is unchanged on error.
pub(crate) fn softmax_in_place<T: Elem>(isa: Isa, x: &mut [T]) -> Result<()> {
    const WHAT: &str = "softmax: x";
    if x.is_empty() {
        return Err(Error::Empty { what: WHAT });
    }
    let first_bad = |x: &[T]| x.iter().position(|&v| v.is_nan() || v == T::infinity());
    let m = match max(isa, x) {
        Ok(m) if m != T::infinity() => m,
        _ => {
            let index = first_bad(x).unwrap_or(0);
            return Err(Error::NonFinite { what: WHAT, index });
        }
    };
    if m == T::neg_infinity() {
        return Err(Error::InvalidParameter {
            name: WHAT,
            reason: "every element is -inf, so the softmax is undefined (0/0)",
        });
    }
    exp_shift_in_place(isa, x, m);
    // s ≥ 1: the maximal element contributes e^0 = 1.
    let s = sum(isa, x);
    scale(isa, T::one() / s, x);
    Ok(())
}
