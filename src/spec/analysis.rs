//! Exact `f64` analysis of one verify step: the output law, acceptance, TV, expected tokens and
//! COOL-SD's `ω` for a TV budget. For tests, tuning and reproduction studies, not the hot path.

use crate::error::{Error, Result, Shape};
use crate::simd::Isa;

use super::neighbors::absorb;
use super::rule::{Residual, Rule, mixture_lambda, typical_threshold};
use super::scan::Dist;

fn check_pq(p: &[f64], q: &[f64], what: &'static str) -> Result<()> {
    if p.is_empty() {
        return Err(Error::Empty { what });
    }
    if q.len() != p.len() {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(p.len()),
            found: Shape::d1(q.len()),
        });
    }
    for (i, x) in p.iter().chain(q).enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite {
                what,
                index: i % p.len(),
            });
        }
        if *x < 0.0 {
            return Err(Error::InvalidParameter {
                name: "p, q",
                reason: "non-negative probabilities",
            });
        }
    }
    if !(p.iter().sum::<f64>() > 0.0 && q.iter().sum::<f64>() > 0.0) {
        return Err(Error::InvalidParameter {
            name: "p, q",
            reason: "probability rows with positive mass",
        });
    }
    Ok(())
}

/// `p_eff(x)` of `rule` at draft position `position` for every `x` (written to `out`), and
/// whether the rule is deterministic (no coin).
fn effective(
    p: &[f64],
    q: &[f64],
    rule: &Rule<'_>,
    position: usize,
    out: &mut [f64],
) -> Result<bool> {
    rule.validate(p.len())?;
    let omega = rule.omega(position).ok_or(Error::InvalidParameter {
        name: "omega",
        reason: "one value, or one per draft position",
    })?;
    let isa = Isa::detect();
    match *rule {
        Rule::Exact => out.copy_from_slice(p),
        Rule::Greedy => {
            let a = argmax(p);
            for (i, o) in out.iter_mut().enumerate() {
                *o = if i == a { 1.0 } else { 0.0 };
            }
            return Ok(true);
        }
        Rule::Lantern { .. } | Rule::LanternPP { .. } => {
            for (x, o) in out.iter_mut().enumerate() {
                let (table, k, budget) =
                    rule.lantern_budget(p[x]).ok_or(Error::InvalidParameter {
                        name: "rule",
                        reason: "a LANTERN rule",
                    })?;
                let a = absorb(&Dist::Probs(p), &table, x, k, budget, isa)
                    .map_err(|e| e.into_error(p))?;
                *o = p[x] + a.mass;
            }
        }
        Rule::CoolSd { .. } => {
            for (o, &px) in out.iter_mut().zip(p) {
                *o = omega * px;
            }
        }
        Rule::MixtureBudget { delta } => {
            let tv: f64 = p.iter().zip(q).map(|(a, b)| (b - a).max(0.0)).sum();
            let lambda = mixture_lambda(delta, tv);
            for ((o, &px), &qx) in out.iter_mut().zip(p).zip(q) {
                *o = px + lambda * (qx - px).max(0.0);
            }
        }
        Rule::Typical { eps, alpha } => {
            let h: f64 = p
                .iter()
                .filter(|x| **x > 0.0)
                .map(|x| -x * num_traits::Float::ln(x + 1e-5))
                .sum();
            let thr = typical_threshold(eps, alpha, h);
            for (o, &px) in out.iter_mut().zip(p) {
                *o = if px > thr { 1.0 } else { 0.0 };
            }
            return Ok(true);
        }
    }
    Ok(false)
}

fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in p.iter().enumerate() {
        if x > p[best] {
            best = i;
        }
    }
    best
}

/// The accepted mass `a(x) = q(x)·f(x)` (`min(q(x), p_eff(x))` for coin rules).
fn accepted(q: &[f64], eff: &mut [f64], deterministic: bool) {
    for (e, &qx) in eff.iter_mut().zip(q) {
        *e = if deterministic {
            qx * *e
        } else if qx <= *e {
            qx
        } else {
            *e
        };
    }
}

/// Probability that the drafted token `x ~ q` is accepted at draft position `position`:
/// `Σ_x q(x)·f(x)`, `f = min(1, p_eff/q)` (for `Exact`: `Σ min(p, q) = 1 − TV(p, q)`).
///
/// `scratch` holds `p.len()` values.
///
/// # Errors
/// Empty or mismatched rows, NaN/±Inf or negative entries, a row without mass, invalid rule
/// parameters.
///
/// ```
/// use mlkern::spec::{acceptance_probability, Rule};
/// let (p, q) = ([0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]);
/// let mut s = [0.0; 4];
/// let a = acceptance_probability(&p, &q, &Rule::Exact, 0, &mut s)?;
/// assert!((a - 0.6).abs() < 1e-15);
/// let a = acceptance_probability(&p, &q, &Rule::CoolSd { omega: &[1.5] }, 0, &mut s)?;
/// assert!((a - 0.75).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn acceptance_probability(
    p: &[f64],
    q: &[f64],
    rule: &Rule<'_>,
    position: usize,
    scratch: &mut [f64],
) -> Result<f64> {
    check_pq(p, q, "spec::acceptance_probability: p, q")?;
    let eff = scratch_row(scratch, p.len(), "spec::acceptance_probability: scratch")?;
    let det = effective(p, q, rule, position, eff)?;
    accepted(q, eff, det);
    Ok(eff.iter().sum())
}

fn scratch_row<'s>(s: &'s mut [f64], n: usize, what: &'static str) -> Result<&'s mut [f64]> {
    if s.len() < n {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(n),
            found: Shape::d1(s.len()),
        });
    }
    Ok(&mut s[..n])
}

/// The exact law of the token emitted first by one verify step at draft position `position`,
/// with the drafted token `x ~ q` marginalized: `P_out = a + Σ_x q(x)(1 − f(x))·R_x`, `R_x` the
/// residual after rejecting `x` (the same for every `x` except LANTERN's reference residuals,
/// which cost `O(V·(V + k))`). Written to `out`; `scratch` holds `2·p.len()` values.
///
/// For `Greedy` the law is the point mass at `argmax p`; for `Typical` the residual is `p`.
///
/// # Errors
/// As [`acceptance_probability`], plus a short `out`/`scratch`.
///
/// ```
/// use mlkern::spec::{step_law, tv_distance, Residual, Rule};
/// // COOL-SD worked vector (reference note §3): ω = 1.5 → P_out = [.15, .3, .2625, .2875], TV .15.
/// let (p, q) = ([0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]);
/// let (mut out, mut s) = ([0.0; 4], [0.0; 8]);
/// step_law(&p, &q, &Rule::CoolSd { omega: &[1.5] }, 0, Residual::Optimal, &mut out, &mut s)?;
/// for (a, b) in out.iter().zip([0.15, 0.3, 0.2625, 0.2875]) { assert!((a - b).abs() < 1e-15); }
/// assert!((tv_distance(&out, &p)? - 0.15).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn step_law(
    p: &[f64],
    q: &[f64],
    rule: &Rule<'_>,
    position: usize,
    residual: Residual,
    out: &mut [f64],
    scratch: &mut [f64],
) -> Result<()> {
    check_pq(p, q, "spec::step_law: p, q")?;
    let v = p.len();
    if out.len() != v {
        return Err(Error::ShapeMismatch {
            what: "spec::step_law: out",
            expected: Shape::d1(v),
            found: Shape::d1(out.len()),
        });
    }
    let s = scratch_row(scratch, 2 * v, "spec::step_law: scratch")?;
    let (a, r) = s.split_at_mut(v);
    let det = effective(p, q, rule, position, a)?;
    if matches!(rule, Rule::Greedy) {
        out.copy_from_slice(a);
        return Ok(());
    }
    // f(x) = a(x)/q(x) is needed for the reference residuals; keep p_eff in `r` first.
    r.copy_from_slice(a);
    accepted(q, a, det);
    let acc: f64 = a.iter().sum();
    out.copy_from_slice(a);
    let omega = rule.omega(position).unwrap_or(1.0);
    if residual.is_lantern_ref()
        && let Some((table, k)) = rule.lantern()
    {
        // Σ_x q(x)(1 − f(x)) R_x, each R_x built as the kernel builds it.
        let isa = Isa::detect();
        for x in 0..v {
            let rej = q[x] - a[x];
            if !(rej > 0.0) {
                continue;
            }
            let budget = rule.lantern_budget(p[x]).map_or(0.0, |(_, _, b)| b);
            let jstar = absorb(&Dist::Probs(p), &table, x, k, budget, isa)
                .map_err(|e| e.into_error(p))?
                .count;
            let nbrs = table.row(x).unwrap_or(&[]);
            super::request::check_zap(nbrs, k, v)?;
            let zap = if jstar >= 1 {
                &nbrs[..(k + 1).min(nbrs.len())]
            } else {
                &[][..]
            };
            // r ← R_x (unnormalized), then out += rej·R_x/ΣR_x. The static-tree variants subtract
            // q itself (the official code zeroes q only at siblings tried before x).
            for i in 0..v {
                r[i] = match residual {
                    Residual::LanternDynamicTree => {
                        if i == x {
                            0.0
                        } else {
                            p[i]
                        }
                    }
                    _ => (p[i] - q[i]).max(0.0),
                };
            }
            for &n in zap {
                let n = n as usize;
                r[n] = if residual == Residual::LanternLlamaGenStatic {
                    p[n]
                } else {
                    0.0
                };
            }
            let mut sum: f64 = r.iter().sum();
            if !(sum > 0.0) {
                r.fill(1.0);
                sum = v as f64;
            }
            for (o, ri) in out.iter_mut().zip(r.iter()) {
                *o += rej * ri / sum;
            }
        }
        return Ok(());
    }
    let w = match residual {
        Residual::Optimal => omega.min(1.0),
        _ => 1.0,
    };
    for ((ri, &pi), &qi) in r.iter_mut().zip(p).zip(q) {
        *ri = if det {
            pi
        } else {
            (pi - qi.min(w * pi)).max(0.0)
        };
    }
    let mut sum: f64 = r.iter().sum();
    if !(sum > 0.0) {
        r.copy_from_slice(p);
        sum = p.iter().sum();
    }
    let rest = (1.0 - acc).max(0.0);
    for (o, ri) in out.iter_mut().zip(r.iter()) {
        *o += rest * ri / sum;
    }
    Ok(())
}

/// Total variation `½ Σ |a − b|`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for different lengths.
///
/// ```
/// assert_eq!(mlkern::spec::tv_distance(&[0.5, 0.5], &[1.0, 0.0])?, 0.5);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn tv_distance(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::ShapeMismatch {
            what: "spec::tv_distance: b",
            expected: Shape::d1(a.len()),
            found: Shape::d1(b.len()),
        });
    }
    Ok(0.5 * a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>())
}

/// Expected tokens per verify step from per-position acceptance rates:
/// `1 + Σ_{j=1..k} Π_{i≤j} α_i` (Leviathan et al. Eq. 1 for constant `α`:
/// `(1 − α^{k+1})/(1 − α)`).
///
/// ```
/// let e = mlkern::spec::expected_tokens(&[0.8; 4]);
/// assert!((e - (1.0 - 0.8f64.powi(5)) / 0.2).abs() < 1e-12);
/// assert_eq!(mlkern::spec::expected_tokens(&[]), 1.0);
/// ```
pub fn expected_tokens(alphas: &[f64]) -> f64 {
    let mut prod = 1.0;
    let mut e = 1.0;
    for a in alphas {
        prod *= a;
        e += prod;
    }
    e
}

/// The largest COOL-SD `ω ≥ 1` whose single-step `TV(ω) = Σ_x min((q − p)₊, (ω − 1)·p)` is at
/// most `delta` (`TV(ω) ≤ δ < TV(next float above ω)`), found by bisection over the `f64` bit
/// patterns (≤ 64 evaluations of `O(V)`). `+∞` when no finite `ω` exceeds the budget (δ at
/// least the mass COOL-SD can ever move, `Σ_{q>p, p>0}(q − p)`).
///
/// # Errors
/// Bad rows as [`acceptance_probability`]; a negative or NaN `delta`.
///
/// ```
/// use mlkern::spec::cool_omega_for_budget;
/// let (p, q) = ([0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]);
/// let w = cool_omega_for_budget(&p, &q, 0.15)?; // ω = 1.5 gives TV 0.15 (worked vector)
/// assert!((w - 1.5).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn cool_omega_for_budget(p: &[f64], q: &[f64], delta: f64) -> Result<f64> {
    check_pq(p, q, "spec::cool_omega_for_budget: p, q")?;
    if !(delta >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "delta",
            reason: "non-negative",
        });
    }
    let tv = |w: f64| -> f64 {
        p.iter()
            .zip(q)
            .map(|(&a, &b)| (b - a).max(0.0).min((w - 1.0) * a))
            .sum()
    };
    // Beyond the largest finite ratio q/p every term is saturated.
    let hi_ratio = p
        .iter()
        .zip(q)
        .filter(|(a, b)| **a > 0.0 && **b > **a)
        .map(|(a, b)| b / a)
        .fold(1.0f64, f64::max);
    if tv(hi_ratio) <= delta {
        return Ok(f64::INFINITY);
    }
    let (mut lo, mut hi) = (1.0f64.to_bits(), hi_ratio.to_bits());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if tv(f64::from_bits(mid)) <= delta {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(f64::from_bits(lo))
}
