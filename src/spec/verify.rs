//! The batched verify entry points: the caller-buffer [`verify_into`] (core tier), the owned
//! [`verify`] returning [`Verified`] (alloc tier), their scratch size, and the split of a batch
//! into jobs for a [`Par`] request.

use crate::error::{Error, Result, Shape};
use crate::{Par, Real};

use super::batch::{Batch, Diag, Draft, Input, VerifyConfig, VerifyOutput, check_batch};
use super::request::Ctx;
use super::scan::blocks_for;
use super::uniform::Uniforms;

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// `f64` scratch one worker of [`verify_into`] needs for vocabulary size `vocab`: `⌈V/1024⌉`
/// block sums plus one `V`-row for LANTERN's reference residuals.
///
/// # Errors
/// [`Error::OutOfMemory`] when the size overflows `usize`.
///
/// ```
/// assert_eq!(mlkern::spec::verify_scratch_len(16384)?, 16 + 16384);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn verify_scratch_len(vocab: usize) -> Result<usize> {
    blocks_for(vocab)
        .checked_add(vocab)
        .ok_or(Error::OutOfMemory {
            name: "vocab",
            bytes: usize::MAX,
        })
}

/// The `f64` scratch one job uses: the whole [`verify_scratch_len`] for LANTERN's reference
/// residuals, the block sums alone otherwise.
fn job_share(vocab: usize, cfg: &VerifyConfig<'_>, need: usize) -> usize {
    if cfg.residual.is_lantern_ref() {
        need
    } else {
        blocks_for(vocab)
    }
}

/// Verifies a batch into caller buffers (core tier; argument order: outputs, inputs, config,
/// scratch, `par`).
///
/// `scratch` holds at least [`verify_scratch_len`]`(V)` values. With `par` asking for threads
/// (and `std`), the requests are split into contiguous groups verified in parallel, each with
/// its own share of `scratch`: up to `scratch.len() / verify_scratch_len(V)` groups (with the
/// default residuals, up to `scratch.len() / ⌈V/1024⌉`), so a minimal `scratch` runs on the
/// calling thread. Without `std`, or for [`Par::Seq`], everything runs on the calling thread.
/// The output is bit-identical for every `par` and every scratch length. It never allocates on
/// the calling thread's path; a parallel run allocates only its job list (a few words per group).
///
/// # Errors
/// Batch-level problems only ([`Error::ShapeMismatch`] for inconsistent lengths or a short
/// `scratch` (`what: "spec::verify: scratch"`), [`Error::InvalidParameter`] for bad offsets or
/// rule parameters, [`Error::Empty`] for `V = 0`); per-request problems go to `out.errors`.
///
/// ```
/// use mlkern::Par;
/// use mlkern::spec::{verify_into, verify_scratch_len, Batch, Draft, Input, Philox, VerifyConfig, VerifyOutput};
/// // One request, V = 4, two drafted tokens; p = q, so every draft is accepted.
/// let p = [0.1f32, 0.2, 0.3, 0.4];
/// let target: Vec<f32> = p.repeat(3);  // k + 1 = 3 rows
/// let draft: Vec<f32> = p.repeat(2);   // k = 2 rows
/// let batch = Batch { vocab: 4, draft_tokens: &[3, 1], cu_num_drafts: &[0, 2], seeds: &[7], positions: None };
/// let (mut tokens, mut n, mut errors) = ([0i32; 3], [0u32; 1], [None; 1]);
/// let mut scratch = vec![0.0; verify_scratch_len(4)?];
/// verify_into(VerifyOutput { tokens: &mut tokens, num_emitted: &mut n, errors: &mut errors, diag: None },
///             &batch, Input::Probs(&target), Draft::Full(Input::Probs(&draft)), &VerifyConfig::default(),
///             &Philox, &mut scratch, Par::Seq)?;
/// assert_eq!((n[0], &tokens[..2]), (3, &[3, 1][..]));
/// assert!(errors[0].is_none() && (0..4).contains(&tokens[2]));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn verify_into<T: Real, U: Uniforms + ?Sized>(
    out: VerifyOutput<'_>,
    batch: &Batch<'_>,
    target: Input<'_, T>,
    draft: Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    rng: &U,
    scratch: &mut [f64],
    par: Par,
) -> Result<()> {
    let width = check_batch(batch, &target, &draft, cfg, &out)?;
    let need = verify_scratch_len(batch.vocab)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "spec::verify: scratch",
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    let ctx = Ctx {
        batch,
        target: &target,
        draft: &draft,
        cfg,
        rng,
    };
    let VerifyOutput {
        tokens,
        num_emitted,
        errors,
        diag,
    } = out;
    #[cfg(feature = "alloc")]
    {
        // Rejections cost an O(V) pass over two rows, full acceptance one over one row, so
        // requests differ in cost: with rayon, four groups per thread let idle workers steal
        // the slack.
        let share = job_share(batch.vocab, cfg, need);
        let groups = crate::jobs::job_count(num_emitted.len(), par).min(scratch.len() / share);
        if groups > 1 {
            run_groups(
                &ctx,
                width,
                Outputs {
                    tokens,
                    num_emitted,
                    errors,
                    diag,
                },
                scratch,
                share,
                groups,
            );
            return Ok(());
        }
    }
    #[cfg(not(feature = "alloc"))]
    let _ = (par, job_share);
    run_requests(&ctx, 0, width, tokens, num_emitted, errors, diag, scratch);
    Ok(())
}

/// Verifies the consecutive requests `first..first + n.len()` into their output rows (`width`
/// tokens, `width − 1` diagnostics each); a failed request gets `−1` tokens and its error.
#[allow(clippy::too_many_arguments)]
fn run_requests<T: Real, U: Uniforms + ?Sized>(
    ctx: &Ctx<'_, '_, T, U>,
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

/// The output buffers of a verify call, split into groups by [`run_groups`].
#[cfg(feature = "alloc")]
struct Outputs<'o> {
    tokens: &'o mut [i32],
    num_emitted: &'o mut [u32],
    errors: &'o mut [Option<Error>],
    diag: Option<&'o mut [Diag]>,
}

/// Splits the requests into `groups` contiguous groups (each with `share` values of `scratch`)
/// and verifies them with [`crate::jobs::run_jobs`].
#[cfg(feature = "alloc")]
fn run_groups<T: Real, U: Uniforms + ?Sized>(
    ctx: &Ctx<'_, '_, T, U>,
    width: usize,
    out: Outputs<'_>,
    scratch: &mut [f64],
    share: usize,
    groups: usize,
) {
    let b = out.num_emitted.len();
    let per = b.div_ceil(groups).max(1);
    let dw = width - 1;
    let mut diag_chunks: Vec<Option<&mut [Diag]>> = match out.diag {
        Some(d) if dw > 0 => d.chunks_mut(per * dw).map(Some).collect(),
        _ => Vec::new(),
    };
    diag_chunks.resize_with(b.div_ceil(per), || None);
    let jobs: Vec<_> = out
        .tokens
        .chunks_mut(per * width)
        .zip(out.num_emitted.chunks_mut(per))
        .zip(out.errors.chunks_mut(per))
        .zip(diag_chunks)
        .zip(scratch.chunks_mut(share))
        .enumerate()
        .collect();
    crate::jobs::run_jobs(jobs, |(c, ((((tok, n), err), dg), s))| {
        run_requests(ctx, c * per, width, tok, n, err, dg, s);
    });
}

/// The owned result of [`verify`]: vLLM's `[B, k_max + 1]` token layout (`−1` after the emitted
/// tokens), the count and error of every request, and per-position diagnostics.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    tokens: Vec<i32>,
    width: usize,
    num_emitted: Vec<u32>,
    errors: Vec<Option<Error>>,
    diag: Vec<Diag>,
}

#[cfg(feature = "alloc")]
impl Verified {
    /// The number of requests `B`.
    pub fn len(&self) -> usize {
        self.num_emitted.len()
    }

    /// Whether the batch had no request.
    pub fn is_empty(&self) -> bool {
        self.num_emitted.is_empty()
    }

    /// The row width `W = k_max + 1` of [`token_rows`](Self::token_rows).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The tokens request `r` emitted (empty for a request with an error).
    ///
    /// # Panics
    /// If `r ≥ B`.
    pub fn tokens(&self, r: usize) -> &[i32] {
        &self.tokens[r * self.width..][..self.num_emitted[r] as usize]
    }

    /// All tokens, row-major `[B, W]`, `−1` after the emitted ones (vLLM's layout).
    pub fn token_rows(&self) -> &[i32] {
        &self.tokens
    }

    /// `[B]` tokens emitted per request (0 for a request with an error).
    pub fn num_emitted(&self) -> &[u32] {
        &self.num_emitted
    }

    /// `[B]` `None`, or what was wrong with the request.
    pub fn errors(&self) -> &[Option<Error>] {
        &self.errors
    }

    /// Request `r`'s diagnostics, one per draft position (`W − 1` entries; positions not
    /// reached are zero).
    ///
    /// # Panics
    /// If `r ≥ B`.
    pub fn diag(&self, r: usize) -> &[Diag] {
        let dw = self.width - 1;
        &self.diag[r * dw..][..dw]
    }
}

/// Verifies a batch and returns the owned [`Verified`] (alloc tier; [`verify_into`] with
/// buffers and scratch allocated fallibly, enough scratch for every group `par` allows).
///
/// # Errors
/// As [`verify_into`]; [`Error::OutOfMemory`] naming `batch` (outputs) or `scratch` when they
/// cannot be allocated. An empty batch (`B = 0`) allocates nothing, whatever `vocab` says.
///
/// ```
/// use mlkern::Par;
/// use mlkern::spec::{verify, Batch, Draft, Input, Philox, VerifyConfig};
/// let p = [0.1f32, 0.2, 0.3, 0.4];
/// let (target, draft) = (p.repeat(3), p.repeat(2)); // k = 2 drafts: k + 1 target rows
/// let batch = Batch { vocab: 4, draft_tokens: &[3, 1], cu_num_drafts: &[0, 2], seeds: &[7], positions: None };
/// let out = verify(&batch, Input::Probs(&target), Draft::Full(Input::Probs(&draft)),
///                  &VerifyConfig::default(), &Philox, Par::Seq)?;
/// assert_eq!(out.tokens(0)[..2], [3, 1]); // p = q: every draft accepted, then a bonus token
/// assert_eq!((out.num_emitted(), out.errors()), (&[3][..], &[None][..]));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn verify<T: Real, U: Uniforms + ?Sized>(
    batch: &Batch<'_>,
    target: Input<'_, T>,
    draft: Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    rng: &U,
    par: Par,
) -> Result<Verified> {
    let k_max = super::batch::check_inputs(batch, &target, &draft, cfg)?;
    let b = batch.cu_num_drafts.len() - 1;
    let width = k_max + 1;
    if b == 0 {
        // No request: nothing to verify, and no scratch (with no rows, `vocab` is backed by no
        // data, so a scratch sized by it alone could be absurd).
        return Ok(Verified {
            tokens: Vec::new(),
            width,
            num_emitted: Vec::new(),
            errors: Vec::new(),
            diag: Vec::new(),
        });
    }
    // With B ≥ 1 the target holds at least one V-row, so every size below is backed by the
    // caller's data up to the factor B·k_max (ragged batches): checked, then reserved fallibly.
    let mut tokens = crate::base::filled(
        crate::base::checked_len(&[b, width], "batch")?,
        -1i32,
        "batch",
    )?;
    let mut num_emitted = crate::base::zeros::<u32>(b, "batch")?;
    let mut errors = crate::base::filled(b, None, "batch")?;
    let mut diag = crate::base::filled(
        crate::base::checked_len(&[b, k_max], "batch")?,
        Diag::default(),
        "batch",
    )?;
    let need = verify_scratch_len(batch.vocab)?;
    let groups = crate::jobs::job_count(b, par);
    let len = crate::base::checked_len(&[job_share(batch.vocab, cfg, need), groups], "scratch")?
        .max(need);
    let mut scratch = crate::base::zeros::<f64>(len, "scratch")?;
    verify_into(
        VerifyOutput {
            tokens: &mut tokens,
            num_emitted: &mut num_emitted,
            errors: &mut errors,
            diag: Some(&mut diag),
        },
        batch,
        target,
        draft,
        cfg,
        rng,
        &mut scratch,
        par,
    )?;
    Ok(Verified {
        tokens,
        width,
        num_emitted,
        errors,
        diag,
    })
}
