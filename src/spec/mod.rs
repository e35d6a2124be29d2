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
//! | [`verify`] → [`Verified`] | the batched kernel, owned result (alloc tier) |
//! | [`verify_into`] | the batched kernel into caller buffers, never allocating (core tier) |
//! | [`verify_tree`] | one request's token tree: one-hot siblings (EAGLE-2, SGLang), SpecInfer multi-round, without replacement |
//! | [`absorbed_mass`], [`nearest_neighbors`] | LANTERN's `m_x` and neighbour-table builder |
//! | [`cool_sd_schedule`] | COOL-SD's position-decaying `ω` (constants partly guessed, labelled) |
//! | [`step_law`], [`acceptance_probability`], [`tv_distance`], [`expected_tokens`], [`cool_omega_for_budget`] | exact `f64` analysis of one step |
//! | [`Philox`] | Philox4x32-10 uniforms keyed by (seed, position, purpose) |
//!
//! Both take a [`Par`](crate::Par) last: requests are split into groups verified in parallel
//! (on rayon's pool with the `rayon` feature, scoped threads with `std` alone, sequentially
//! without `std`), with bit-identical results for every `Par`.
//!
//! ```
//! use mlkern::Par;
//! use mlkern::spec::{verify, Batch, Draft, Input, Philox, VerifyConfig};
//! // One request, V = 4, two drafted tokens; p = q, so every draft is accepted.
//! let p = [0.1f32, 0.2, 0.3, 0.4];
//! let target: Vec<f32> = p.repeat(3);  // k + 1 = 3 rows
//! let draft: Vec<f32> = p.repeat(2);   // k = 2 rows
//! let batch = Batch { vocab: 4, draft_tokens: &[3, 1], cu_num_drafts: &[0, 2], seeds: &[7], positions: None };
//! let out = verify(&batch, Input::Probs(&target), Draft::Full(Input::Probs(&draft)),
//!                  &VerifyConfig::default(), &Philox, Par::Seq)?;
//! assert_eq!((out.num_emitted()[0], &out.tokens(0)[..2]), (3, &[3, 1][..]));
//! assert!(out.errors()[0].is_none() && (0..4).contains(&out.tokens(0)[2]));
//! # Ok::<(), mlkern::Error>(())
//! ```

// `!(x >= 0.0)` is the NaN-rejecting test this module wants everywhere.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod analysis;
mod batch;
mod neighbors;
mod request;
mod rule;
mod scan;
mod token_tree;
mod uniform;
mod verify;

pub use analysis::{
    acceptance_probability, cool_omega_for_budget, expected_tokens, step_law, tv_distance,
};
pub use batch::{Batch, Diag, Draft, Input, VerifyConfig, VerifyOutput};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use neighbors::nearest_neighbors;
pub use neighbors::{Absorbed, NeighborTable, absorbed_mass};
pub use rule::{Residual, Rule, cool_sd_schedule};
pub use token_tree::{TreeScheme, TreeVerify, verify_tree, verify_tree_scratch_len};
pub use uniform::{Philox, Purpose, UniformKey, Uniforms};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use verify::{Verified, verify};
pub use verify::{verify_into, verify_scratch_len};
