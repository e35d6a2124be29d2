//! Gram Newton–Schulz (Zhang, Amsel, Chen, Dao 2026; `Dao-AILab/gram-newton-schulz`).
//!
//! With `Mᵢ = aᵢI + bᵢRᵢ + cᵢRᵢ²` the standard step is `Xᵢ₊₁ = Mᵢ·Xᵢ`, and the Gram matrix follows
//! `Rᵢ₊₁ = Mᵢ·Rᵢ·Mᵢ`. So the iteration can run on k×k matrices only — `R`, the step matrix `M`
//! and the accumulated product `Q = Mᵢ⋯M₀` — and touch the k×N `X` once at the end: for a k×N
//! input with `N ≫ k` that replaces `3k²N` flops per step by `O(k³)`. All k×k matrices are
//! polynomials in `R₀`, hence symmetric and commuting in exact arithmetic; every k×k product is
//! computed as one triangle and mirrored, which both halves its cost and re-symmetrizes it.
//! Round-off in `R` is amplified by later polynomials, so at a *restart* `X ← Q·X`, `R ← XXᵀ`,
//! `Q ← I` recomputes everything from the current iterate.

use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef};

use super::config::{NsConfig, Restarts};
use super::flops;
use super::newton_schulz::GramSum;
use super::shard::{apply_step, shard_gram, step_matrix};
use crate::Par;
use crate::linalg::symmetric_result_with;
use crate::{Real, Result};

/// How many times the Gram path writes `X` (restarts plus the final application).
pub(crate) fn x_writes(restarts: Restarts, steps: usize) -> usize {
    if steps == 0 {
        return 0;
    }
    1 + (1..steps).filter(|&i| restarts.before(i, steps)).count()
}

fn sq<T>(buf: &mut [T], k: usize) -> MatMut<'_, T> {
    MatMut::from_column_major_slice_mut(&mut buf[..k * k], k, k)
}

fn sq_ref<T>(buf: &[T], k: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice(&buf[..k * k], k, k)
}

/// Runs the schedule on the normalized `cur` (k×N); the result ends in `cur` (`nxt` is scratch).
/// `squares` holds `4k²` elements; `sum` completes each Gram matrix. Returns the flops.
pub(crate) fn run<'a, T: Real>(
    cur: &mut MatMut<'a, T>,
    nxt: &mut MatMut<'a, T>,
    cfg: &NsConfig<'_>,
    restarts: Restarts,
    squares: &mut [T],
    sum: GramSum<'_, T>,
    par: Par,
) -> Result<f64> {
    let steps = cfg.schedule.steps;
    if steps == 0 {
        return Ok(0.0);
    }
    let (k, n) = (cur.nrows(), cur.ncols());
    let be = cfg.backend;
    let (r_buf, rest) = squares.split_at_mut(k * k);
    let (m_buf, rest) = rest.split_at_mut(k * k);
    let (mut q_buf, mut t_buf) = rest.split_at_mut(k * k);
    let one = T::one();
    let zero = T::zero();

    shard_gram(be, sq(r_buf, k), Accum::Replace, cur.as_ref(), par)?;
    sum(&mut r_buf[..k * k])?;
    let mut total = flops::gram(k, n);
    let mut fresh = true; // Q = I
    for i in 0..steps {
        let q = cfg.schedule.coefficient(i);
        if restarts.before(i, steps) {
            apply_step(be, nxt.rb_mut(), sq_ref(q_buf, k), cur.as_ref(), par)?;
            core::mem::swap(cur, nxt);
            shard_gram(be, sq(r_buf, k), Accum::Replace, cur.as_ref(), par)?;
            sum(&mut r_buf[..k * k])?;
            total += flops::apply(k, n) + flops::gram(k, n);
            fresh = true;
        }
        step_matrix(be, sq(m_buf, k), sq_ref(r_buf, k), q, par)?;
        if !q.is_cubic() {
            total += flops::square(k);
        }
        if fresh {
            q_buf[..k * k].copy_from_slice(&m_buf[..k * k]);
            fresh = false;
        } else {
            let (qm, mm) = (sq_ref(q_buf, k), sq_ref(m_buf, k));
            symmetric_result_with(be, sq(t_buf, k), zero, qm, mm, one, par)?;
            core::mem::swap(&mut q_buf, &mut t_buf);
            total += flops::square(k);
        }
        if i + 1 < steps && !restarts.before(i + 1, steps) {
            // R ← M·(R·M)
            symmetric_result_with(
                be,
                sq(t_buf, k),
                zero,
                sq_ref(r_buf, k),
                sq_ref(m_buf, k),
                one,
                par,
            )?;
            symmetric_result_with(
                be,
                sq(r_buf, k),
                zero,
                sq_ref(m_buf, k),
                sq_ref(t_buf, k),
                one,
                par,
            )?;
            total += 2.0 * flops::square(k);
        }
    }
    apply_step(be, nxt.rb_mut(), sq_ref(q_buf, k), cur.as_ref(), par)?;
    core::mem::swap(cur, nxt);
    Ok(total + flops::apply(k, n))
}
