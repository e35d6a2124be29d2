//! The public inputs, configuration and output buffers of the batched verify kernel, and the
//! batch-level checks they must pass.

use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::simd::Isa;

use super::rule::{Residual, Rule};

/// Rows of a distribution over the vocabulary, row-major `[rows, V]`.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Input<'a, T> {
    /// Probabilities, taken as given (the caller applied CFG, temperature, top-k/top-p).
    Probs(&'a [T]),
    /// Logits; row `i` of request `r` is `softmax(logits / temperature[r])`. A temperature of 0
    /// makes the request greedy (target rows) or its draft one-hot at the argmax (draft rows).
    Logits {
        /// `[rows, V]` logits (`−∞` allowed: masked tokens).
        logits: &'a [T],
        /// One temperature per request.
        temperature: &'a [f32],
    },
}

/// The draft side of a batch.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Draft<'a, T> {
    /// Full draft rows, one per draft token.
    Full(Input<'a, T>),
    /// Deterministic drafts (EAGLE, MTP, n-gram; vLLM's `draft_probs=None`): `q` is one-hot at
    /// the drafted token, so `x` is accepted with probability `p(x)` and the residual is `p` with
    /// `x` zeroed. Exact when the draft token is a function of the prefix.
    OneHot,
    /// Only `q_j(x_j)` per draft token, e.g. the without-replacement conditional probabilities of
    /// EAGLE-1/LANTERN++'s sampler. The accept test uses it; the residual treats `q` as a point
    /// mass `q_j(x_j)` at `x_j` (`p` with `p(x)` reduced by the accepted mass), which is exact
    /// only when that is the draft's law; pass [`Draft::Full`] rows when you have them.
    CondProbs(&'a [T]),
}

/// A ragged batch of requests.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Vocabulary size `V` (row length).
    pub vocab: usize,
    /// All draft tokens, request after request.
    pub draft_tokens: &'a [u32],
    /// `B + 1` offsets into `draft_tokens`, starting at 0 (an exclusive prefix sum).
    pub cu_num_drafts: &'a [usize],
    /// One seed per request (the uniforms' key).
    pub seeds: &'a [u64],
    /// Absolute position of each request's first draft token (added to the draft position in
    /// the uniforms' counter, so consecutive steps draw fresh noise); `None` = 0.
    pub positions: Option<&'a [u64]>,
}

/// Rule, residual, SIMD level and trial index of a verify call. Build it with
/// [`VerifyConfig::new`] or [`Default`] and the `with_*` methods (fields may be added).
///
/// ```
/// use mlkern::spec::{Residual, Rule, VerifyConfig};
/// let cfg = VerifyConfig::new(Rule::Greedy).with_residual(Residual::Vanilla).with_trial(3);
/// assert_eq!(cfg.trial, 3);
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct VerifyConfig<'a> {
    /// The acceptance rule.
    pub rule: Rule<'a>,
    /// The residual after a rejection.
    pub residual: Residual,
    /// SIMD level (default: detected). Results do not depend on it.
    pub isa: Isa,
    /// Trial index forwarded to the uniforms (repeated simulations of one batch).
    pub trial: u32,
}

impl Default for VerifyConfig<'_> {
    /// Exact speculative sampling, optimal residual, detected SIMD level, trial 0.
    fn default() -> Self {
        Self {
            rule: Rule::Exact,
            residual: Residual::Optimal,
            isa: Isa::detect(),
            trial: 0,
        }
    }
}

impl<'a> VerifyConfig<'a> {
    /// The default configuration with `rule`.
    pub fn new(rule: Rule<'a>) -> Self {
        Self {
            rule,
            ..Self::default()
        }
    }

    /// This configuration with the acceptance rule `rule`.
    #[must_use]
    pub fn with_rule(self, rule: Rule<'a>) -> Self {
        Self { rule, ..self }
    }

    /// This configuration with the residual `residual`.
    #[must_use]
    pub fn with_residual(self, residual: Residual) -> Self {
        Self { residual, ..self }
    }

    /// This configuration pinned to the SIMD level `isa` (results do not depend on it).
    #[must_use]
    pub fn with_isa(self, isa: Isa) -> Self {
        Self { isa, ..self }
    }

    /// This configuration with trial index `trial` (forwarded to the uniforms).
    #[must_use]
    pub fn with_trial(self, trial: u32) -> Self {
        Self { trial, ..self }
    }
}

/// Per-position diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Diag {
    /// `min(1, p_eff(x)/q_eff(x))` (1 or 0 for deterministic rules).
    pub accept_prob: f64,
    /// LANTERN's absorbed neighbour mass `m_x` (0 for other rules).
    pub absorbed: f64,
    /// Mass of the residual at the rejected position (0 elsewhere).
    pub residual_mass: f64,
    /// Bit set of [`Diag::ACCEPTED`], [`Diag::REJECTED`], [`Diag::Q_ZERO`],
    /// [`Diag::RESIDUAL_DEGENERATE`]; 0 for positions not reached.
    pub flags: u8,
}

impl Diag {
    /// The drafted token was accepted.
    pub const ACCEPTED: u8 = 1;
    /// The drafted token was rejected (a replacement was drawn).
    pub const REJECTED: u8 = 2;
    /// `q_eff(x) = 0` (accepted iff `p_eff(x) > 0`).
    pub const Q_ZERO: u8 = 4;
    /// The residual had (numerically) no mass; the replacement was drawn from `p`.
    pub const RESIDUAL_DEGENERATE: u8 = 8;
}

/// Caller buffers the verify kernels write.
#[derive(Debug)]
pub struct VerifyOutput<'o> {
    /// `[B, W]` tokens, `W ≥ k_max + 1`, `−1` after the emitted ones.
    pub tokens: &'o mut [i32],
    /// `[B]` tokens emitted per request (0 for a request with an error).
    pub num_emitted: &'o mut [u32],
    /// `[B]` `None`, or what was wrong with the request.
    pub errors: &'o mut [Option<Error>],
    /// Optional `[B, W − 1]` diagnostics per draft position.
    pub diag: Option<&'o mut [Diag]>,
}

fn shape(what: &'static str, expected: Shape, found: Shape) -> Error {
    Error::ShapeMismatch {
        what,
        expected,
        found,
    }
}

/// Batch-level checks of the inputs and configuration: everything whose failure makes the whole
/// call meaningless. Returns `k_max`, the most drafts of one request.
pub(crate) fn check_inputs<T: Real>(
    batch: &Batch<'_>,
    target: &Input<'_, T>,
    draft: &Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
) -> Result<usize> {
    let v = batch.vocab;
    if v == 0 {
        return Err(Error::Empty {
            what: "spec::verify: vocabulary",
        });
    }
    if v > i32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "vocab",
            reason: "at most i32::MAX (tokens are written as i32)",
        });
    }
    let cu = batch.cu_num_drafts;
    if cu.is_empty() || cu[0] != 0 {
        return Err(Error::InvalidParameter {
            name: "cu_num_drafts",
            reason: "B + 1 offsets starting at 0",
        });
    }
    let b = cu.len() - 1;
    if cu.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::InvalidParameter {
            name: "cu_num_drafts",
            reason: "non-decreasing",
        });
    }
    let n = cu[b];
    if batch.draft_tokens.len() != n {
        return Err(shape(
            "spec::verify: draft_tokens",
            Shape::d1(n),
            Shape::d1(batch.draft_tokens.len()),
        ));
    }
    if batch.seeds.len() != b {
        return Err(shape(
            "spec::verify: seeds",
            Shape::d1(b),
            Shape::d1(batch.seeds.len()),
        ));
    }
    if let Some(pos) = batch.positions
        && pos.len() != b
    {
        return Err(shape(
            "spec::verify: positions",
            Shape::d1(b),
            Shape::d1(pos.len()),
        ));
    }
    let k_max = cu.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let check_input = |inp: &Input<'_, T>, rows: usize, what| -> Result<()> {
        let data = match inp {
            Input::Probs(p) => p,
            Input::Logits {
                logits,
                temperature,
            } => {
                if temperature.len() != b {
                    return Err(shape(what, Shape::d1(b), Shape::d1(temperature.len())));
                }
                logits
            }
        };
        if rows.checked_mul(v) != Some(data.len()) {
            return Err(shape(what, Shape::d2(rows, v), Shape::d1(data.len())));
        }
        Ok(())
    };
    check_input(target, n + b, "spec::verify: target rows")?;
    match draft {
        Draft::Full(d) => check_input(d, n, "spec::verify: draft rows")?,
        Draft::OneHot => {}
        Draft::CondProbs(q) => {
            if q.len() != n {
                return Err(shape(
                    "spec::verify: draft conditional probabilities",
                    Shape::d1(n),
                    Shape::d1(q.len()),
                ));
            }
        }
    }
    cfg.rule.validate(v)?;
    if cfg.residual.is_lantern_ref() && cfg.rule.lantern().is_none() {
        return Err(Error::InvalidParameter {
            name: "residual",
            reason: "LANTERN's reference residuals need a LANTERN rule",
        });
    }
    if matches!(cfg.rule, Rule::MixtureBudget { .. }) && matches!(draft, Draft::CondProbs(_)) {
        return Err(Error::InvalidParameter {
            name: "rule",
            reason: "MixtureBudget needs full draft rows or one-hot drafts",
        });
    }
    Ok(k_max)
}

/// [`check_inputs`] and the output buffers' shapes. Returns the width `W` of a token row.
pub(crate) fn check_batch<T: Real>(
    batch: &Batch<'_>,
    target: &Input<'_, T>,
    draft: &Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    out: &VerifyOutput<'_>,
) -> Result<usize> {
    let k_max = check_inputs(batch, target, draft, cfg)?;
    let b = batch.cu_num_drafts.len() - 1;
    if b == 0 {
        if !out.tokens.is_empty() || !out.num_emitted.is_empty() || !out.errors.is_empty() {
            return Err(shape(
                "spec::verify: outputs of an empty batch",
                Shape::d1(0),
                Shape::d1(
                    out.tokens
                        .len()
                        .max(out.num_emitted.len())
                        .max(out.errors.len()),
                ),
            ));
        }
        return Ok(k_max + 1);
    }
    let width = out.tokens.len() / b;
    if width * b != out.tokens.len() || width < k_max + 1 {
        return Err(shape(
            "spec::verify: tokens",
            Shape::d2(b, k_max + 1),
            Shape::d1(out.tokens.len()),
        ));
    }
    if out.num_emitted.len() != b {
        return Err(shape(
            "spec::verify: num_emitted",
            Shape::d1(b),
            Shape::d1(out.num_emitted.len()),
        ));
    }
    if out.errors.len() != b {
        return Err(shape(
            "spec::verify: errors",
            Shape::d1(b),
            Shape::d1(out.errors.len()),
        ));
    }
    if let Some(d) = &out.diag
        && d.len() != b * (width - 1)
    {
        return Err(shape(
            "spec::verify: diag",
            Shape::d2(b, width - 1),
            Shape::d1(d.len()),
        ));
    }
    Ok(width)
}
