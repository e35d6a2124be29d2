//! Speculative-decoding verification: exact speculative sampling and TV-bounded relaxed rules
//! (LANTERN, LANTERN++, COOL-SD, the mixture budget, typical acceptance), batched, with
//! counter-based injected randomness; tree verification; exact `f64` analysis of one step.
//!
//! # The verify step
//!
//! A ragged batch of `B` requests; request `r` drafted `k_r` tokens
//! (`cu_num_drafts[r]..cu_num_drafts[r+1]` in the flat `draft_tokens`). The target gives `k_r + 1`
//! rows per request (the last one is the bonus row), the draft `k_r` rows, one-hot drafts, or the
//! conditional probabilities `q_j(x_j)` of drafts sampled without replacement. Rows are
//! probabilities (taken as given, after the caller's CFG/top-k/top-p) or logits with a
//! per-request temperature (0 = greedy). Output follows vLLM's layout: `tokens [B, k_max + 1]`
//! with `−1` placeholders and `num_emitted[r] ∈ 1..=k_r + 1`.
//!
//! At each position the drafted `x` is accepted iff `u·q_eff(x) < p_eff(x)` ([`Rule`]); at the
//! first rejection a token is drawn from the [`Residual`]; if all are accepted, a bonus token is
//! drawn from the last row. Draws are inverse CDF over `1024`-element block sums accumulated in
//! `f64` in a fixed order, so results are bit-identical across thread counts, batch order and
//! SIMD levels ([`VerifyConfig::isa`] pins one for tests).
//!
//! # Bad input
//!
//! Batch-level shape errors return `Err`. Anything wrong with one request (a NaN/±Inf or negative
//! value in a row the kernel reads, a token id `≥ V`, a bad temperature, a row without mass) is
//! written to `errors[r]`, its tokens stay `−1` and `num_emitted[r] = 0`; the other requests are
//! unaffected. Probability rows are validated where they are read (the gathered `p(x)`, `q(x)`,
//! and the whole row pair of an `O(V)` pass); logit rows are validated in full by their
//! log-sum-exp pass. A residual whose mass is at most `V·ε·10⁻⁶` (possible only after a
//! rounding-induced rejection when `p ≈ q`) is replaced by `p` and flagged
//! [`Diag::RESIDUAL_DEGENERATE`].
//!
//! | function | what |
//! |---|---|
//! | [`verify`] / [`verify_par`] | the batched kernel (core tier; `verify_par` with `std`, on rayon's pool with `rayon`) |
//! | [`verify_tree`] | one request's token tree: one-hot siblings (EAGLE-2, SGLang), SpecInfer multi-round, without replacement |
//! | [`absorbed_mass`], [`nearest_neighbors`] | LANTERN's `m_x` and neighbour-table builder |
//! | [`cool_sd_schedule`] | COOL-SD's position-decaying `ω` (constants partly guessed, labelled) |
//! | [`step_law`], [`acceptance_probability`], [`tv_distance`], [`expected_tokens`], [`cool_omega_for_budget`] | exact `f64` analysis of one step |
//! | [`Philox`] | Philox4x32-10 uniforms keyed by (seed, position, purpose) |
//!
//! ```
//! use mlkern::spec::{verify, verify_scratch_len, Batch, Diag, Draft, Input, Philox, VerifyConfig, VerifyOutput};
//! // One request, V = 4, two drafted tokens; p = q, so every draft is accepted.
//! let p = [0.1f32, 0.2, 0.3, 0.4];
//! let target: Vec<f32> = p.repeat(3);  // k + 1 = 3 rows
//! let draft: Vec<f32> = p.repeat(2);   // k = 2 rows
//! let batch = Batch { vocab: 4, draft_tokens: &[3, 1], cu_num_drafts: &[0, 2], seeds: &[7], positions: None };
//! let (mut tokens, mut n, mut errors) = ([0i32; 3], [0u32; 1], [None; 1]);
//! let mut scratch = vec![0.0; verify_scratch_len(4)];
//! verify(&batch, Input::Probs(&target), Draft::Full(Input::Probs(&draft)), &VerifyConfig::default(),
//!        &Philox, VerifyOutput { tokens: &mut tokens, num_emitted: &mut n, errors: &mut errors, diag: None },
//!        &mut scratch)?;
//! assert_eq!((n[0], &tokens[..2]), (3, &[3, 1][..]));
//! assert!(errors[0].is_none() && (0..4).contains(&tokens[2]));
//! # Ok::<(), mlkern::Error>(())
//! ```

// `!(x >= 0.0)` is the NaN-rejecting test this module wants everywhere.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod analysis;
mod neighbors;
mod rule;
mod scan;
mod tree;
mod uniform;
mod verify;

pub use analysis::{
    acceptance_probability, cool_omega_for_budget, expected_tokens, step_law, tv_distance,
};
#[cfg(feature = "alloc")]
pub use neighbors::nearest_neighbors;
pub use neighbors::{Absorbed, NeighborTable, absorbed_mass};
pub use rule::{Residual, Rule, cool_sd_schedule};
pub use tree::{TreeScheme, TreeVerify, verify_tree, verify_tree_scratch_len};
pub use uniform::{Philox, Purpose, UniformKey, Uniforms};
pub use verify::verify_scratch_len;

use crate::Real;
use crate::error::{Error, Result};
use crate::simd::Isa;

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

/// Rule, residual, SIMD level and trial index of a verify call.
#[derive(Clone, Copy, Debug)]
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

/// Verifies a batch on the calling thread (core tier: no allocation; `scratch` holds
/// [`verify_scratch_len`]`(V)` values).
///
/// # Errors
/// Batch-level problems only ([`Error::ShapeMismatch`] for inconsistent lengths,
/// [`Error::InvalidParameter`] for bad offsets or rule parameters, [`Error::Empty`] for `V = 0`);
/// per-request problems go to `out.errors`.
///
/// See the [module documentation](self) for an example.
pub fn verify<T: Real, U: Uniforms + ?Sized>(
    batch: &Batch<'_>,
    target: Input<'_, T>,
    draft: Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    rng: &U,
    out: VerifyOutput<'_>,
    scratch: &mut [f64],
) -> Result<()> {
    let width = verify::check_batch(batch, &target, &draft, cfg, &out)?;
    let need = verify_scratch_len(batch.vocab);
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "spec::verify: scratch",
            expected: crate::Shape::d1(need),
            found: crate::Shape::d1(scratch.len()),
        });
    }
    let ctx = verify::Ctx {
        batch,
        target: &target,
        draft: &draft,
        cfg,
        rng,
    };
    run_requests(
        &ctx,
        0,
        width,
        out.tokens,
        out.num_emitted,
        out.errors,
        out.diag,
        scratch,
    );
    Ok(())
}

/// Verifies the consecutive requests `first..first + n.len()` into their output rows (`width`
/// tokens, `width − 1` diagnostics each); a failed request gets `−1` tokens and its error.
#[allow(clippy::too_many_arguments)]
fn run_requests<T: Real, U: Uniforms + ?Sized>(
    ctx: &verify::Ctx<'_, '_, T, U>,
    first: usize,
    width: usize,
    tokens: &mut [i32],
    n: &mut [u32],
    errors: &mut [Option<Error>],
    mut diag: Option<&mut [Diag]>,
    scratch: &mut [f64],
) {
    let dw = width - 1;
    for j in 0..n.len() {
        let row = &mut tokens[j * width..(j + 1) * width];
        let d = diag.as_deref_mut().map(|d| &mut d[j * dw..(j + 1) * dw]);
        match ctx.request(first + j, row, d, scratch) {
            Ok(k) => {
                n[j] = k;
                errors[j] = None;
            }
            Err(e) => {
                row.fill(-1);
                n[j] = 0;
                errors[j] = Some(e);
            }
        }
    }
}

/// [`verify`] with the requests split into contiguous groups verified in parallel: `4·threads`
/// tasks on rayon's current thread pool with the `rayon` feature (so that workers balance
/// requests of different cost), `threads` scoped threads (`std::thread::scope`, one start-up per
/// call) without it; scratch is allocated per group.
/// The output is bit-identical to [`verify`]'s for every thread count.
///
/// # Errors
/// As [`verify`].
///
/// ```
/// use mlkern::spec::{verify_par, Batch, Draft, Input, Philox, VerifyConfig, VerifyOutput};
/// let p = [0.25f32; 4];
/// let target = p.repeat(4); // two requests with one draft token each
/// let batch = Batch { vocab: 4, draft_tokens: &[0, 2], cu_num_drafts: &[0, 1, 2], seeds: &[1, 2], positions: None };
/// let (mut tokens, mut n, mut errors) = ([0i32; 4], [0u32; 2], [None; 2]);
/// verify_par(&batch, Input::Probs(&target), Draft::OneHot, &VerifyConfig::default(), &Philox,
///            VerifyOutput { tokens: &mut tokens, num_emitted: &mut n, errors: &mut errors, diag: None }, 2)?;
/// assert!(n.iter().all(|&k| k == 1 || k == 2));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[cfg(feature = "std")]
pub fn verify_par<T: Real, U: Uniforms + ?Sized>(
    batch: &Batch<'_>,
    target: Input<'_, T>,
    draft: Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    rng: &U,
    out: VerifyOutput<'_>,
    threads: usize,
) -> Result<()> {
    let width = verify::check_batch(batch, &target, &draft, cfg, &out)?;
    let b = out.num_emitted.len();
    let ctx = verify::Ctx {
        batch,
        target: &target,
        draft: &draft,
        cfg,
        rng,
    };
    // The V-long row of the scratch serves LANTERN's reference residuals only.
    let need = if cfg.residual.is_lantern_ref() {
        verify_scratch_len(batch.vocab)
    } else {
        scan::blocks_for(batch.vocab)
    };
    let VerifyOutput {
        tokens,
        num_emitted,
        errors,
        diag,
    } = out;
    // Rejections cost an O(V) pass over two rows, full acceptance one over one row, so requests
    // differ in cost: with rayon, four groups per thread let idle workers steal the slack.
    let groups = crate::jobs::job_count(b, crate::Par::threads(threads));
    let per = b.div_ceil(groups).max(1);
    let dw = width - 1;
    let mut diag_chunks: alloc::vec::Vec<Option<&mut [Diag]>> = match diag {
        Some(d) if dw > 0 => d.chunks_mut(per * dw).map(Some).collect(),
        _ => alloc::vec::Vec::new(),
    };
    diag_chunks.resize_with(b.div_ceil(per), || None);
    let ctx = &ctx;
    let work = move |c: usize,
                     tok: &mut [i32],
                     n: &mut [u32],
                     err: &mut [Option<Error>],
                     dg: Option<&mut [Diag]>| {
        let mut scratch = alloc::vec![0.0f64; need];
        run_requests(ctx, c * per, width, tok, n, err, dg, &mut scratch);
    };
    let jobs: alloc::vec::Vec<_> = tokens
        .chunks_mut(per * width)
        .zip(num_emitted.chunks_mut(per))
        .zip(errors.chunks_mut(per))
        .zip(diag_chunks)
        .enumerate()
        .collect();
    crate::jobs::run_jobs(jobs, |(c, (((tok, n), err), dg))| work(c, tok, n, err, dg));
    Ok(())
}
