//! Acceptance rules and residual choices, and the acceptance decision of one draft position.

use num_traits::Float;

use crate::error::{Error, Result};

use super::neighbors::NeighborTable;

/// How a drafted token is accepted.
///
/// Every coin-based rule accepts the drafted token `x` iff `u·q_eff(x) < p_eff(x)`, with
/// `u ∈ (0, 1)`, a strict inequality and no division (so `q(x) = 0 < p(x)` accepts, as
/// `min(1, p/q) = 1` would, and `p_eff(x) = 0` never accepts). The rules differ in `p_eff`:
///
/// | rule | `p_eff(x)` | `TV(P_out, p)` of one step (optimal residual) |
/// |---|---|---|
/// | `Exact` | `p(x)` | 0 |
/// | `Lantern { k, delta }` | `p(x) + m_x`, `m_x` = the longest prefix of the `k` nearest neighbours with mass `≤ δ` | `Σ_x min(m_x, (q−p)₊(x))` (not bounded by `δ`) |
/// | `LanternPP { k, lambda }` | same with budget `(λ − 1)·p(x)` | as above |
/// | `CoolSd { omega }` | `ω_i·p(x)` at draft position `i` | `Σ min((q−p)₊, (ω−1)p)` for `ω ≥ 1`, 0 for `ω ≤ 1` |
/// | `MixtureBudget { delta }` | `p(x) + λ(q(x) − p(x))₊`, `λ = min(1, δ/TV(p,q))` | `min(δ, TV(p, q))` exactly |
/// | `Typical { eps, alpha }` | deterministic: accept iff `p(x) > min(ε, α·e^{−H(p)})` | unbounded |
/// | `Greedy` | accept iff `x = argmax p` (first index on ties) | — |
///
/// Reductions: `Lantern { delta: 0 }` (when no neighbour has `p = 0`), `LanternPP { lambda: 1 }`,
/// `CoolSd` with `ω ≡ 1` and `MixtureBudget { delta: 0 }` compute exactly `Exact`'s `p_eff`, so
/// they give bit-identical outputs for the same uniforms.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Rule<'a> {
    /// Exact speculative sampling (Leviathan et al. 2023, Chen et al. 2023).
    Exact,
    /// Greedy verification at temperature 0.
    Greedy,
    /// LANTERN (arXiv 2410.03355; official code `jadohu/LANTERN`): absolute budget `delta ∈ [0, 1]`
    /// over the `k` nearest latent neighbours.
    Lantern {
        /// Neighbours considered (LANTERN's default 1000).
        k: usize,
        /// Budget `δ ∈ [0, 1]` (LANTERN's default 0.1).
        delta: f64,
        /// The neighbour table.
        neighbors: NeighborTable<'a>,
    },
    /// LANTERN++ (arXiv 2502.06352): multiplicative budget, `p̃(x) ≤ λ·p(x)`, `lambda ≥ 1`.
    LanternPP {
        /// Neighbours considered.
        k: usize,
        /// `λ ≥ 1`.
        lambda: f64,
        /// The neighbour table.
        neighbors: NeighborTable<'a>,
    },
    /// COOL-SD (arXiv 2601.09212): `f_i = min(1, ω_i·p/q)` at draft position `i` (0-based). One
    /// value applies to every position; otherwise `omega[i]` is used (positions past the end of
    /// the slice are an error for the request). See [`cool_sd_schedule`](super::cool_sd_schedule).
    CoolSd {
        /// `ω_i ≥ 0`, one value or one per draft position.
        omega: &'a [f64],
    },
    /// The TV-optimal relaxed sampler with budget `δ ≥ 0`: the output law is
    /// `(1−λ)p + λq`, `λ = min(1, δ/TV(p,q))`, and the acceptance `1 − TV(p,q) + min(δ, TV(p,q))`
    /// is the largest possible under `TV(P_out, p) ≤ δ`. Needs full draft rows or one-hot drafts.
    MixtureBudget {
        /// TV budget per position.
        delta: f64,
    },
    /// Medusa's typical acceptance (arXiv 2401.10774 §3.3.1): accept iff
    /// `p(x) > min(eps, alpha·exp(−H(p)))`, `H(p) = −Σ p·ln(p + 10⁻⁵)`; no coin; at the first
    /// rejection a token is drawn from `p`. Lossy, not TV-bounded; ignores `q`.
    Typical {
        /// `ε` (Medusa's `posterior_threshold`, 0.09).
        eps: f64,
        /// `α` (Medusa's `posterior_alpha`, 0.3).
        alpha: f64,
    },
}

/// What is drawn after a rejection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Residual {
    /// `G* = norm([p − q·f]₊)`, which makes `TV(P_out, p) = Σ(q·f − p)₊`, the minimum over all
    /// residuals for the rule's `f`. Equals [`Residual::Vanilla`] for every rule except
    /// `CoolSd` with `ω < 1`, where it is `norm(max(p − q, (1 − ω)p, 0))` and the step is exact.
    #[default]
    Optimal,
    /// `norm((p − q)₊)` (one-hot drafts: `p` with the drafted token zeroed).
    Vanilla,
    /// LANTERN's EAGLE-2 dynamic-tree code (`ea_model_llamagen.py::evaluate_posterior`): `p` with
    /// `x` and, if any neighbour was absorbed, the first `k + 1` table neighbours zeroed; uniform
    /// if nothing is left. The three reference variants use the first `min(k + 1, K)` columns of
    /// a `K`-wide table (LANTERN's own table has `V − 1` columns) and apply to the LANTERN rules
    /// only (other rules reject them).
    LanternDynamicTree,
    /// LANTERN's Lumina static-tree code: `p` zeroed at the first `k + 1` neighbours (if any was
    /// absorbed), then `(p − q)₊`; uniform if empty. (The official code subtracts `q` with the
    /// siblings tried *before* `x` zeroed; with one drafted token per position that is `q`.)
    LanternLuminaStatic,
    /// LANTERN's LlamaGen static-tree code (`evaluate_posterior_v1`): `q` (not `p`) zeroed at the
    /// first `k + 1` neighbours (if any was absorbed), then `(p − q')₊`; uniform if empty.
    LanternLlamaGenStatic,
}

impl Residual {
    /// Whether this is one of LANTERN's reference variants.
    pub(crate) fn is_lantern_ref(self) -> bool {
        matches!(
            self,
            Residual::LanternDynamicTree
                | Residual::LanternLuminaStatic
                | Residual::LanternLlamaGenStatic
        )
    }
}

impl Rule<'_> {
    /// Checks the rule's parameters (not the per-request ones).
    pub(crate) fn validate(&self, vocab: usize) -> Result<()> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        match *self {
            Rule::Lantern {
                k,
                delta,
                neighbors,
            } => {
                if !(0.0..=1.0).contains(&delta) {
                    return bad(
                        "delta",
                        "in [0, 1] (use LanternPP for a multiplicative budget)",
                    );
                }
                check_table(k, &neighbors, vocab)
            }
            Rule::LanternPP {
                k,
                lambda,
                neighbors,
            } => {
                if !(lambda >= 1.0 && lambda.is_finite()) {
                    return bad("lambda", "finite and at least 1");
                }
                check_table(k, &neighbors, vocab)
            }
            Rule::CoolSd { omega } => {
                if omega.is_empty() {
                    return bad("omega", "at least one value");
                }
                if !omega.iter().all(|w| *w >= 0.0 && w.is_finite()) {
                    return bad("omega", "finite and non-negative");
                }
                Ok(())
            }
            Rule::MixtureBudget { delta } => {
                if !(delta >= 0.0) {
                    return bad("delta", "non-negative");
                }
                Ok(())
            }
            Rule::Typical { eps, alpha } => {
                if !(eps >= 0.0 && eps.is_finite() && alpha >= 0.0 && alpha.is_finite()) {
                    return bad("eps, alpha", "finite and non-negative");
                }
                Ok(())
            }
            Rule::Exact | Rule::Greedy => Ok(()),
        }
    }

    /// The neighbour table and `k` of the LANTERN rules.
    pub(crate) fn lantern(&self) -> Option<(NeighborTable<'_>, usize)> {
        match *self {
            Rule::Lantern { k, neighbors, .. } | Rule::LanternPP { k, neighbors, .. } => {
                Some((neighbors, k))
            }
            _ => None,
        }
    }

    /// The neighbour table, `k` and the absorption budget for drafted probability `px` of the
    /// LANTERN rules: `δ` for `Lantern`, `(λ − 1)·px` for `LanternPP`.
    pub(crate) fn lantern_budget(&self, px: f64) -> Option<(NeighborTable<'_>, usize, f64)> {
        match *self {
            Rule::Lantern {
                k,
                delta,
                neighbors,
            } => Some((neighbors, k, delta)),
            Rule::LanternPP {
                k,
                lambda,
                neighbors,
            } => Some((neighbors, k, (lambda - 1.0) * px)),
            _ => None,
        }
    }

    /// `ω` at draft position `i` for `CoolSd` (1 for the other rules); `None` past the schedule.
    pub(crate) fn omega(&self, i: usize) -> Option<f64> {
        match *self {
            Rule::CoolSd { omega } if omega.len() == 1 => Some(omega[0]),
            Rule::CoolSd { omega } => omega.get(i).copied(),
            _ => Some(1.0),
        }
    }
}

/// The mixture rule's `λ = min(1, δ/TV(p, q))` (0 for `δ = 0`, 1 for `TV = 0`).
pub(crate) fn mixture_lambda(delta: f64, tv: f64) -> f64 {
    if delta == 0.0 {
        0.0
    } else if tv > 0.0 {
        (delta / tv).min(1.0)
    } else {
        1.0
    }
}

/// Medusa's typical-acceptance threshold `min(ε, α·e^{−H})` for entropy `h`.
pub(crate) fn typical_threshold(eps: f64, alpha: f64, h: f64) -> f64 {
    eps.min(alpha * Float::exp(-h))
}

fn check_table(k: usize, t: &NeighborTable<'_>, vocab: usize) -> Result<()> {
    if t.vocab() != vocab {
        return Err(Error::InvalidParameter {
            name: "neighbors",
            reason: "one row per vocabulary entry",
        });
    }
    if k > t.width() {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "at most the neighbour table's width",
        });
    }
    Ok(())
}

/// COOL-SD's position-decaying schedule `ω_i = δ·exp(−ν·i − μ)`, `i = 1..=L` (written to
/// `out[i − 1]`), with `μ = ln(mean_{i=1..L} e^{−ν·i})` so that the mean of the `ω_i` is `δ`.
///
/// **Labelled guess.** The paper (arXiv 2601.09212) gives the form and `ν = 0.7`, and reports
/// `δ ∈ {1.1, 2}`; the value of `μ`, whether `i` starts at 0 or 1, and `L` are not in any source
/// available to us (the code is unreleased). The mean normalisation follows a secondary summary
/// ("the mean-normalised schedule may push later coefficients below 1"). With `L = 5`, `δ = 1.1`
/// this gives `ω ≈ 2.86, 1.42, 0.71, 0.35, 0.17`. Pass your own `ω` to [`Rule::CoolSd`] when you
/// know better.
///
/// ```
/// let mut w = [0.0; 5];
/// mlkern::spec::cool_sd_schedule(1.1, 0.7, &mut w)?;
/// assert!((w.iter().sum::<f64>() / 5.0 - 1.1).abs() < 1e-12);
/// assert!((w[0] - 2.86).abs() < 0.01 && w[4] < w[3]);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] unless `delta ≥ 0` and `nu` are finite.
pub fn cool_sd_schedule(delta: f64, nu: f64, out: &mut [f64]) -> Result<()> {
    if !(delta >= 0.0 && delta.is_finite() && nu.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "delta, nu",
            reason: "finite, delta non-negative",
        });
    }
    let n = out.len();
    if n == 0 {
        return Ok(());
    }
    // ω_i = δ·e^{−ν i} / mean_j e^{−ν j}, with every exponent shifted by the largest one (≤ 0
    // after the shift), so nothing overflows and the mean is at least 1/L.
    let top = if nu >= 0.0 {
        0.0
    } else {
        -nu * (n as f64 - 1.0)
    };
    let mean = (0..n)
        .map(|j| Float::exp(-nu * j as f64 - top))
        .sum::<f64>()
        / n as f64;
    for (i, o) in out.iter_mut().enumerate() {
        *o = delta * Float::exp(-nu * i as f64 - top) / mean;
    }
    Ok(())
}
