//! Speculative-decoding verification on candle logit tensors, in vLLM's output layout.

use candle_core::{DType, Device, Tensor};
use mlkern::Par;
use mlkern::spec::{Batch, Draft, Input, Philox, VerifyConfig};

use crate::error::{Result, kernel, msg};
use crate::host::{self, DevicePolicy};

/// The result of [`verify`]: vLLM's `[B, k + 1]` token rows (`i32`, `−1` after the emitted
/// tokens) and the number of tokens each request emitted (`[B]`, `u32`), both on the CPU.
#[derive(Debug)]
pub struct VerifiedTokens {
    /// `[B, k + 1]` emitted tokens, `−1` padded (a request whose rows were invalid is all `−1`).
    pub tokens: Tensor,
    /// `[B]` tokens emitted per request (accepted drafts plus the recovered or bonus token).
    pub num_emitted: Tensor,
    /// Per request: `None`, or mlkern's error for a request whose rows were rejected (the other
    /// requests are unaffected).
    pub errors: Vec<Option<String>>,
}

/// Verifies `B` requests of `k` draft tokens each against the target model:
///
/// * `target_logits` `[B, k + 1, V]` (the last row of each request is the bonus row),
/// * `draft_logits` `[B, k, V]`, or `None` for deterministic drafts (EAGLE/MTP/n-gram: vLLM's
///   `draft_probs=None`, one-hot at the drafted token),
/// * `draft_tokens` `[B, k]` (integer dtype), `temperature` one per request (0 = greedy),
///   `seeds` one per request (the Philox key: the same seeds give the same tokens on any thread
///   count and SIMD level).
///
/// Any float dtype (computed in `f32`, `f64` for `f64` logits); the rule and residual come from
/// `cfg` (exact speculative sampling by default; LANTERN, COOL-SD, mixture, typical).
///
/// # Errors
/// Inconsistent shapes, token ids ≥ V, a wrong number of temperatures or seeds, a device other
/// than the CPU (unless opted in). Invalid rows of one request are reported in
/// [`VerifiedTokens::errors`], not as an error.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mlkern::Par;
/// use mlkern::spec::VerifyConfig;
/// use mlkern_candle::{verify, DevicePolicy};
/// let dev = Device::Cpu;
/// let target = Tensor::randn(0f32, 1.0, (2, 4, 50), &dev)?; // B = 2, k = 3, V = 50
/// let draft = Tensor::randn(0f32, 1.0, (2, 3, 50), &dev)?;
/// let tokens = Tensor::new(&[[1u32, 2, 3], [4, 5, 6]], &dev)?;
/// let out = verify(&target, Some(&draft), &tokens, &[0.8, 0.8], &[1, 2], &VerifyConfig::default(),
///                  Par::Seq, DevicePolicy::CpuOnly)?;
/// assert_eq!(out.tokens.dims(), &[2, 4]);
/// # Ok::<(), candle_core::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn verify(
    target_logits: &Tensor,
    draft_logits: Option<&Tensor>,
    draft_tokens: &Tensor,
    temperature: &[f32],
    seeds: &[u64],
    cfg: &VerifyConfig<'_>,
    par: Par,
    device: DevicePolicy,
) -> Result<VerifiedTokens> {
    let [b, rows, vocab] = *target_logits.dims() else {
        return Err(msg(format!(
            "mlkern-candle: verify: expected [B, k + 1, V] target logits, found shape {:?}",
            target_logits.dims()
        )));
    };
    let k = rows.checked_sub(1).ok_or_else(|| {
        msg("mlkern-candle: verify: target logits need k + 1 ≥ 1 rows per request".into())
    })?;
    if draft_tokens.dims() != [b, k] {
        return Err(msg(format!(
            "mlkern-candle: verify: draft tokens have shape {:?}, expected [{b}, {k}]",
            draft_tokens.dims()
        )));
    }
    if let Some(d) = draft_logits
        && d.dims() != [b, k, vocab]
    {
        return Err(msg(format!(
            "mlkern-candle: verify: draft logits have shape {:?}, expected [{b}, {k}, {vocab}]",
            d.dims()
        )));
    }
    let ids: Vec<u32> = host::on_host(draft_tokens, "draft tokens", device)?
        .to_dtype(DType::I64)?
        .flatten_all()?
        .to_vec1::<i64>()?
        .into_iter()
        .map(|t| u32::try_from(t).unwrap_or(u32::MAX))
        .collect();
    let cu: Vec<usize> = (0..=b).map(|r| r * k).collect();
    let batch = Batch {
        vocab,
        draft_tokens: &ids,
        cu_num_drafts: &cu,
        seeds,
        positions: None,
    };
    let verified = if target_logits.dtype() == DType::F64 {
        run::<f64>(
            target_logits,
            draft_logits,
            &batch,
            temperature,
            cfg,
            par,
            device,
        )?
    } else {
        run::<f32>(
            target_logits,
            draft_logits,
            &batch,
            temperature,
            cfg,
            par,
            device,
        )?
    };
    let tokens = Tensor::from_vec(verified.token_rows().to_vec(), (b, k + 1), &Device::Cpu)?;
    let num_emitted = Tensor::from_vec(verified.num_emitted().to_vec(), b, &Device::Cpu)?;
    let errors = verified
        .errors()
        .iter()
        .map(|e| e.as_ref().map(|e| e.to_string()))
        .collect();
    Ok(VerifiedTokens {
        tokens,
        num_emitted,
        errors,
    })
}

fn run<T: crate::host::HostFloat>(
    target: &Tensor,
    draft: Option<&Tensor>,
    batch: &Batch<'_>,
    temperature: &[f32],
    cfg: &VerifyConfig<'_>,
    par: Par,
    device: DevicePolicy,
) -> Result<mlkern::spec::Verified> {
    let call = |t: &[T], d: Option<&[T]>| {
        let target = Input::Logits {
            logits: t,
            temperature,
        };
        let draft = match d {
            Some(d) => Draft::Full(Input::Logits {
                logits: d,
                temperature,
            }),
            None => Draft::OneHot,
        };
        mlkern::spec::verify(batch, target, draft, cfg, &Philox, par)
            .map_err(|e| kernel("verify", e))
    };
    // The logits are borrowed in place when they are contiguous CPU tensors of this precision.
    host::with_values::<T, _>(target, "target logits", device, |t| match draft {
        Some(d) => host::with_values::<T, _>(d, "draft logits", device, |d| call(t, Some(d))),
        None => call(t, None),
    })
}
