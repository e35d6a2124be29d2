//! Newton–Schulz orthogonalization — the core of the Muon optimizer (alloc tier).
//!
//! For `G = UΣVᵀ` (m×n) the kernels compute `U·P(Σ/d)·Vᵀ`, where `d` is the schedule's
//! normalizer (e.g. `‖G‖_F + 1e-7`) and `P = p_T ∘ … ∘ p_1` composes the odd polynomials
//! `p(x) = a·x + b·x³ + c·x⁵` of the [`Schedule`]. One step on the short-fat orientation
//! (k×N, k ≤ N) is `A = XXᵀ`, `M = a·I + b·A + c·A²`, `X ← M·X`:
//!
//! * **Symmetric products**: `XXᵀ` and `A²` are computed as one triangle and mirrored, so a
//!   quintic step costs `3k²N + k³` flops instead of `4k²N + 2k³`; `a` is folded into `M`'s
//!   diagonal, so no elementwise pass touches the k×N matrix.
//! * **Tall inputs** (m > n) run on `Gᵀ` through a transposed view: the normalization pass writes
//!   `Gᵀ/d` into the row-major k×N work buffer and the result is written back through the
//!   transposed output view (one k×N pass). The products themselves are then identical for `G` and
//!   `Gᵀ`, so `NS(Gᵀ) = NS(G)ᵀ` holds bit for bit for m ≠ n (a square input is used as given).
//! * **[`Algo::Gram`]** iterates on the k×k Gram matrix with restarts (`6k²N + 14k³` flops for 5
//!   steps with one restart); [`Algo::Auto`] picks it when `N/k ≥ 2`.
//! * **Schedules as data**: [`KELLER_JORDAN`], [`YOU_5`], [`POLAR_EXPRESS`],
//!   [`POLAR_EXPRESS_MODDED`], [`CANS_5`], [`DEEPSEEK_V4_10`], [`CUBIC`], [`QUINTIC`], user lists
//!   ([`Schedule::custom`]) and the [`polar_express_schedule`] generator.
//! * **Normalization** ([`Normalize`]): `G/(s·‖G‖_F + eps)` or `G/max(s·‖G‖_F, eps)` with a norm
//!   that neither overflows nor underflows for any finite input.
//! * **Two tiers**: [`orthogonalize_into`] / [`orthogonalize_batch_into`] write into caller
//!   buffers (never allocating) with [`orthogonalize_scratch_len`] /
//!   [`orthogonalize_batch_scratch_len`] queries; [`orthogonalize`] / [`orthogonalize_batch`]
//!   allocate.
//! * **Batches** ([`orthogonalize_batch_into`]) and **sharded** callers ([`shard_gram`],
//!   [`step_matrix`], [`apply_step`], [`shard_norm`], [`normalize_shard`]).
//! * **Muon** ([`muon_step`], per-step [`Hyper`] learning rate and weight decay): momentum,
//!   Nesterov, update scale, weight decay, reshape; [`Muon`] owns the momentum and scratch.
//! * **AMUSE** ([`amuse_step`], [`AmuseConfig`]; [`Amuse`] owns the state): Muon on a fast
//!   sequence with Schedule-Free averaging and gradients at an interpolated point.
//!
//! ```
//! use mlkern::Par;
//! use mlkern::linalg::{view, Layout};
//! use mlkern::ortho::{orthogonalize, NsConfig, POLAR_EXPRESS};
//! // 2×3 with orthogonal rows of norms 4 and 3: its polar factor is [[0,1,0],[1,0,0]].
//! let g = [0.0f64, 4.0, 0.0, 3.0, 0.0, 0.0];
//! let (o, report) = orthogonalize(view(&g, 2, 3, Layout::RowMajor)?, &NsConfig::new(POLAR_EXPRESS), Par::Seq)?;
//! assert!((o[(0, 1)] - 1.0).abs() < 1e-9 && (o[(1, 0)] - 1.0).abs() < 1e-9);
//! assert_eq!((report.steps, report.zero_input), (8, false));
//! # Ok::<(), mlkern::Error>(())
//! ```

mod amuse;
mod amuse_optimizer;
mod batch;
mod config;
mod flops;
mod generator;
mod gram;
mod muon;
mod newton_schulz;
mod normalize;
mod optimizer;
mod owned;
mod schedule;
mod shard;
pub(crate) mod sharded;
pub(crate) mod sharded_amuse;

pub use amuse::{AmuseConfig, AmuseState, amuse_scratch_len, amuse_step};
pub use amuse_optimizer::Amuse;
pub use batch::{orthogonalize_batch_into, orthogonalize_batch_scratch_len};
pub use config::{Algo, NsConfig, NsReport, Restarts};
pub use generator::polar_express_schedule;
pub use muon::{
    Hyper, MomentumKind, MuonConfig, MuonReport, UpdateScale, muon_scratch_len, muon_step,
};
pub use newton_schulz::{orthogonalize_into, orthogonalize_scratch_len};
pub use normalize::{NormMode, Normalize};
pub use optimizer::Muon;
pub use owned::{orthogonalize, orthogonalize_batch};
pub use schedule::{
    CANS_5, CUBIC, DEEPSEEK_V4_10, KELLER_JORDAN, POLAR_EXPRESS, POLAR_EXPRESS_MODDED, PRESETS,
    QUINTIC, Quintic, Schedule, Tail, YOU_5,
};
pub use shard::{apply_step, normalize_shard, shard_gram, shard_norm, step_matrix};
