//! Token-tree verification (one request): EAGLE/SGLang one-hot siblings, SpecInfer's
//! multi-round scheme, and recursive rejection sampling without replacement.

use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::simd::Isa;

use super::Input;
use super::scan::{BLOCK, Dist, Weights, blocks_for, pick, scan};
use super::uniform::{Purpose, UniformKey, Uniforms, open_unit};

/// How the siblings under one node are verified. All four are exact: the emitted sequence has
/// the target's law (verified by enumeration in `tests/spec.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeScheme {
    /// Deterministic siblings, `q` one-hot (EAGLE-2 dynamic tree, vLLM `draft_probs=None`):
    /// accept `x_j` with probability `p_j(x_j)`, on rejection `p_{j+1} = norm(p_j` with `x_j`
    /// zeroed`)`; one coin per sibling.
    OneHot,
    /// SGLang's `TreeSpeculativeSamplingTargetOnly` (thresholds 1): one coin `u` per node;
    /// sibling `j` is accepted iff `u < Σ_{i≤j} p(x_i)` (first such `j`); otherwise a draw from
    /// `p` with all siblings zeroed. Same law as [`TreeScheme::OneHot`], different coupling.
    CumulativeCoin,
    /// SpecInfer's multi-round speculative sampling (arXiv 2305.09781): siblings drawn i.i.d.
    /// from `q`; accept `x_j` with probability `min(1, p_j(x_j)/q(x_j))`, on rejection
    /// `p_{j+1} = norm((p_j − q)₊)`. Needs draft rows.
    MultiRound,
    /// Recursive rejection sampling for siblings drawn without replacement (EAGLE-1 static
    /// tree, LANTERN++): `q_j = norm(q` with `x_1..x_{j−1}` zeroed`)`, accept with
    /// `min(1, p_j(x_j)/q_j(x_j))`, on rejection `p_{j+1} = norm((p_j − q_j)₊)`. Needs draft rows.
    WithoutReplacement,
}

/// One request's token tree. Node `0` is the root (the verified prefix); draft node `j`
/// (`0 ≤ j < N`) is tree node `j + 1`, carries `tokens[j]` and hangs under tree node
/// `parents[j] ≤ j` (so parents come first). Siblings are tried in node order.
///
/// `target` has `N + 1` rows: row `c` is the target's next-token law after tree node `c`.
/// `draft` (for [`TreeScheme::MultiRound`] and [`TreeScheme::WithoutReplacement`]) has `N + 1`
/// rows: row `c` is the law the children of node `c` were drawn from. Logit inputs take one
/// temperature (`temperature[0]`), which must be positive.
#[derive(Clone, Copy, Debug)]
pub struct TreeVerify<'a, T> {
    /// Vocabulary size.
    pub vocab: usize,
    /// Token of each draft node.
    pub tokens: &'a [u32],
    /// Parent tree node of each draft node (`0` = root).
    pub parents: &'a [u32],
    /// `[N + 1, V]` target rows.
    pub target: Input<'a, T>,
    /// `[N + 1, V]` draft rows (`None` for the one-hot schemes).
    pub draft: Option<Input<'a, T>>,
    /// The verification scheme.
    pub scheme: TreeScheme,
    /// The request's seed.
    pub seed: u64,
    /// Absolute position added to the node ids in the uniforms' counter.
    pub position: u64,
}

/// `f64` scratch for [`verify_tree`]: two rows and the block sums.
///
/// # Errors
/// [`Error::OutOfMemory`] when the size overflows `usize`.
///
/// ```
/// assert_eq!(mlkern::spec::verify_tree_scratch_len(2048)?, 2 * 2048 + 2);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn verify_tree_scratch_len(vocab: usize) -> Result<usize> {
    vocab
        .checked_mul(2)
        .and_then(|n| n.checked_add(blocks_for(vocab)))
        .ok_or(Error::OutOfMemory {
            name: "vocab",
            bytes: usize::MAX,
        })
}

/// Verifies a token tree. Writes the emitted tokens to `out_tokens` and the tree node of each
/// accepted token to `out_nodes` (the last emitted token, a residual or bonus draw, has no node)
/// and returns the number of emitted tokens (accepted path + 1). Both outputs need room for the
/// tree's depth + 1 entries; unused entries are set to `−1` / `u32::MAX`.
///
/// Uniforms: the accept coin of draft node `j` uses position `position + j + 1` (the
/// cumulative-coin scheme: `position + parent`), the residual after node `c`'s siblings
/// `position + c`, the bonus after leaf `c` `position + c`.
///
/// # Errors
/// Shape errors, a parent that does not precede its child, duplicate sibling tokens (the
/// one-hot and without-replacement schemes), a missing draft for the schemes that need one,
/// token ids `≥ V`, NaN/±Inf/negative values in a row that is read, a row without mass;
/// [`Error::TooLarge`] for more than [`MAX_TREE_NODES`](crate::limits::MAX_TREE_NODES) draft
/// nodes (checked first: the tree checks and walk cost `O(N²)`).
///
/// ```
/// use mlkern::spec::{verify_tree, verify_tree_scratch_len, Input, Philox, TreeScheme, TreeVerify};
/// // Root with two candidate children 2 and 0; p = (0.5, 0, 0.5) at every node.
/// let p = [0.5f64, 0.0, 0.5];
/// let target = p.repeat(3);
/// let tree = TreeVerify { vocab: 3, tokens: &[2, 0], parents: &[0, 0], target: Input::Probs(&target),
///                         draft: None, scheme: TreeScheme::OneHot, seed: 1, position: 0 };
/// let (mut toks, mut nodes) = ([0i32; 2], [0u32; 2]);
/// let mut scratch = vec![0.0; verify_tree_scratch_len(3)?];
/// let n = verify_tree(&mut toks, &mut nodes, &tree, &Philox, &mut scratch)?;
/// assert_eq!(n, 2); // a sibling is always accepted (p puts all its mass on them), then a bonus
/// assert!(toks[0] == 2 || toks[0] == 0);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn verify_tree<T: Real, U: Uniforms + ?Sized>(
    out_tokens: &mut [i32],
    out_nodes: &mut [u32],
    tree: &TreeVerify<'_, T>,
    rng: &U,
    scratch: &mut [f64],
) -> Result<usize> {
    let v = tree.vocab;
    let n = tree.tokens.len();
    check_tree(tree, out_tokens, out_nodes, scratch)?;
    let isa = Isa::detect();
    out_tokens.fill(-1);
    out_nodes.fill(u32::MAX);
    let (pw, rest) = scratch.split_at_mut(v);
    let (qw, blocks) = rest.split_at_mut(v);
    let uni = |pos: u64, purpose| {
        open_unit(rng.uniform(UniformKey {
            request: 0,
            seed: tree.seed,
            position: tree.position.wrapping_add(pos),
            purpose,
            trial: 0,
        }))
    };
    let mut node = 0usize;
    let mut emitted = 0usize;
    loop {
        load(&tree.target, node, v, pw, blocks, isa)?;
        let p_sum = total(pw, blocks, isa)?;
        let children = (0..n).filter(|&j| tree.parents[j] as usize == node);
        if children.clone().next().is_none() {
            let y = draw(pw, p_sum, uni(node as u64, Purpose::Bonus), blocks, isa);
            out_tokens[emitted] = y as i32;
            return Ok(emitted + 1);
        }
        let needs_q = matches!(
            tree.scheme,
            TreeScheme::MultiRound | TreeScheme::WithoutReplacement
        );
        let mut q_sum = 0.0;
        if needs_q {
            let d = tree.draft.as_ref().ok_or(Error::InvalidParameter {
                name: "draft",
                reason: "draft rows for the MultiRound and WithoutReplacement schemes",
            })?;
            load(d, node, v, qw, blocks, isa)?;
            q_sum = total(qw, blocks, isa)?;
        }
        let mut s = p_sum; // Σ pw: pw is the unnormalized p_j
        let eps = v as f64 * T::EPS.as_f64() * 1e-6 * p_sum;
        let mut accepted = None;
        let coin = uni(node as u64, Purpose::Accept);
        let mut acc = 0.0f64;
        for j in children {
            if s <= eps {
                // Only rounding can empty the residual before a sibling is accepted: restart
                // from p (the reference note's degenerate-residual policy).
                load(&tree.target, node, v, pw, blocks, isa)?;
                s = p_sum;
            }
            let x = tree.tokens[j] as usize;
            let ok = match tree.scheme {
                TreeScheme::OneHot => {
                    let ok = uni(j as u64 + 1, Purpose::Accept) * s < pw[x];
                    if !ok {
                        pw[x] = 0.0;
                        s = mass(pw, blocks, isa)?;
                    }
                    ok
                }
                TreeScheme::CumulativeCoin => {
                    acc += pw[x] / p_sum;
                    let ok = coin < acc;
                    if !ok {
                        pw[x] = 0.0;
                    }
                    ok
                }
                TreeScheme::MultiRound | TreeScheme::WithoutReplacement => {
                    // p_j(x) = pw[x]/s, q_j(x) = qw[x]/q_sum; accept iff u·q_j(x) < p_j(x).
                    let ok = uni(j as u64 + 1, Purpose::Accept) * qw[x] * s < pw[x] * q_sum;
                    if !ok {
                        for (a, &b) in pw.iter_mut().zip(qw.iter()) {
                            let d = *a / s - b / q_sum;
                            *a = if d > 0.0 { d } else { 0.0 };
                        }
                        s = mass(pw, blocks, isa)?;
                        if tree.scheme == TreeScheme::WithoutReplacement {
                            qw[x] = 0.0;
                            q_sum = mass(qw, blocks, isa)?;
                        }
                    }
                    ok
                }
            };
            if ok {
                accepted = Some(j);
                break;
            }
        }
        match accepted {
            Some(j) => {
                out_tokens[emitted] = tree.tokens[j] as i32;
                out_nodes[emitted] = (j + 1) as u32;
                emitted += 1;
                node = j + 1;
            }
            None => {
                if tree.scheme == TreeScheme::CumulativeCoin {
                    s = mass(pw, blocks, isa)?;
                }
                let u = uni(node as u64, Purpose::Residual);
                let y = if s > eps {
                    draw(pw, s, u, blocks, isa)
                } else {
                    load(&tree.target, node, v, pw, blocks, isa)?;
                    draw(pw, p_sum, u, blocks, isa)
                };
                out_tokens[emitted] = y as i32;
                return Ok(emitted + 1);
            }
        }
    }
}

fn check_tree<T: Real>(
    tree: &TreeVerify<'_, T>,
    out_tokens: &[i32],
    out_nodes: &[u32],
    scratch: &[f64],
) -> Result<()> {
    let v = tree.vocab;
    let n = tree.tokens.len();
    if v == 0 {
        return Err(Error::Empty {
            what: "spec::verify_tree: vocabulary",
        });
    }
    if v > i32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "vocab",
            reason: "at most i32::MAX (tokens are written as i32)",
        });
    }
    // The checks below and the walk are O(N²) without allocation: bounded before any work.
    crate::limits::check(
        n,
        crate::limits::MAX_TREE_NODES,
        "verify_tree: tokens (nodes)",
    )?;
    if tree.parents.len() != n {
        return Err(Error::ShapeMismatch {
            what: "spec::verify_tree: parents",
            expected: Shape::d1(n),
            found: Shape::d1(tree.parents.len()),
        });
    }
    let rows_ok = |inp: &Input<'_, T>| -> Result<()> {
        let (len, temp_ok) = match inp {
            Input::Probs(p) => (p.len(), true),
            Input::Logits {
                logits,
                temperature,
            } => (
                logits.len(),
                temperature
                    .first()
                    .is_some_and(|t| *t > 0.0 && t.is_finite()),
            ),
        };
        if (n + 1).checked_mul(v) != Some(len) {
            return Err(Error::ShapeMismatch {
                what: "spec::verify_tree: rows",
                expected: Shape::d2(n + 1, v),
                found: Shape::d1(len),
            });
        }
        if !temp_ok {
            return Err(Error::InvalidParameter {
                name: "temperature",
                reason: "one finite positive temperature for tree logits",
            });
        }
        Ok(())
    };
    rows_ok(&tree.target)?;
    if let Some(d) = &tree.draft {
        rows_ok(d)?;
    }
    let mut max_depth = 0usize;
    // depth(j) = depth(parent) + 1, computed without allocation by walking up (N is small).
    for j in 0..n {
        let p = tree.parents[j] as usize;
        if p > j {
            return Err(Error::InvalidParameter {
                name: "parents",
                reason: "each parent precedes its child (parents[j] ≤ j)",
            });
        }
        if tree.tokens[j] as usize >= v {
            return Err(Error::InvalidParameter {
                name: "tokens",
                reason: "token ids below the vocabulary size",
            });
        }
        let mut d = 1;
        let mut a = p;
        while a != 0 {
            a = tree.parents[a - 1] as usize;
            d += 1;
        }
        max_depth = max_depth.max(d);
        if tree.scheme != TreeScheme::MultiRound
            && (0..j).any(|i| tree.parents[i] as usize == p && tree.tokens[i] == tree.tokens[j])
        {
            return Err(Error::InvalidParameter {
                name: "tokens",
                reason: "distinct sibling tokens (this scheme draws siblings without replacement)",
            });
        }
    }
    if out_tokens.len() < max_depth + 1 || out_nodes.len() < max_depth + 1 {
        return Err(Error::ShapeMismatch {
            what: "spec::verify_tree: outputs",
            expected: Shape::d1(max_depth + 1),
            found: Shape::d1(out_tokens.len().min(out_nodes.len())),
        });
    }
    let need = verify_tree_scratch_len(v)?;
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what: "spec::verify_tree: scratch",
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    Ok(())
}

/// Row `row` of `inp` as `f64` probabilities in `out` (validated).
fn load<T: Real>(
    inp: &Input<'_, T>,
    row: usize,
    v: usize,
    out: &mut [f64],
    blocks: &mut [f64],
    isa: Isa,
) -> Result<()> {
    let d = match *inp {
        Input::Probs(p) => Dist::Probs(&p[row * v..(row + 1) * v]),
        Input::Logits {
            logits,
            temperature,
        } => Dist::logits(
            &logits[row * v..(row + 1) * v],
            f64::from(temperature[0]),
            isa,
            blocks,
        )
        .map_err(|_| Error::NonFinite {
            what: "spec::verify_tree: logits (NaN/+Inf, or no finite logit)",
            index: row * v,
        })?,
    };
    let mut tmp = [T::zero(); BLOCK];
    for start in (0..v).step_by(BLOCK) {
        let n = BLOCK.min(v - start);
        d.fill(start, &mut out[start..start + n], &mut tmp[..n], isa);
    }
    if let Some(i) = out.iter().position(|x| !(*x >= 0.0 && x.is_finite())) {
        return Err(Error::NonFinite {
            what: "spec::verify_tree: rows (NaN, ±Inf or negative)",
            index: row * v + i,
        });
    }
    Ok(())
}

fn total(w: &[f64], blocks: &mut [f64], isa: Isa) -> Result<f64> {
    let t = scan::<f64>(&Weights::Dense(w), isa, blocks).map_err(|_| Error::NonFinite {
        what: "spec::verify_tree: rows",
        index: 0,
    })?;
    if !(t > 0.0) {
        return Err(Error::InvalidParameter {
            name: "rows",
            reason: "positive total mass",
        });
    }
    Ok(t)
}

/// `Σ w` (0 allowed); `Err` only for non-finite sums.
fn mass(w: &[f64], blocks: &mut [f64], isa: Isa) -> Result<f64> {
    scan::<f64>(&Weights::Dense(w), isa, blocks).map_err(|_| Error::NonFinite {
        what: "spec::verify_tree: rows",
        index: 0,
    })
}

fn draw(w: &[f64], total: f64, u: f64, blocks: &mut [f64], isa: Isa) -> usize {
    // `total` came from a scan of `w`, but the block sums may have been overwritten since.
    let _ = scan::<f64>(&Weights::Dense(w), isa, blocks);
    pick::<f64>(&Weights::Dense(w), isa, blocks, total, u)
}
