//! The batched verify kernel: accept tests, residual and bonus draws, per-request errors.

use crate::Real;
use crate::error::{Error, Result, Shape};
use crate::simd::Isa;

use super::neighbors::{AbsorbError, absorb};
use super::rule::{Residual, Rule, mixture_lambda, typical_threshold};
use super::scan::{BLOCK, Bad, Dist, QSide, Weights, blocks_for, pick, scan};
use super::uniform::{Purpose, UniformKey, Uniforms, open_unit};
use super::{Batch, Diag, Draft, Input, VerifyConfig, VerifyOutput};

/// `f64` scratch the verify kernels need for vocabulary size `vocab` (per worker):
/// `⌈V/1024⌉` block sums plus one `V`-row for LANTERN's reference residuals.
///
/// ```
/// assert_eq!(mlkern::spec::verify_scratch_len(16384), 16 + 16384);
/// ```
pub fn verify_scratch_len(vocab: usize) -> usize {
    blocks_for(vocab) + vocab
}

/// Batch-level checks: everything whose failure makes the whole call meaningless.
pub(crate) fn check_batch<T: Real>(
    batch: &Batch<'_>,
    target: &Input<'_, T>,
    draft: &Draft<'_, T>,
    cfg: &VerifyConfig<'_>,
    out: &VerifyOutput<'_>,
) -> Result<usize> {
    let v = batch.vocab;
    let shape = |what, expected, found| Error::ShapeMismatch {
        what,
        expected,
        found,
    };
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

/// Everything one request's verification reads.
pub(crate) struct Ctx<'c, 'a, T, U: ?Sized> {
    pub batch: &'c Batch<'a>,
    pub target: &'c Input<'a, T>,
    pub draft: &'c Draft<'a, T>,
    pub cfg: &'c VerifyConfig<'a>,
    pub rng: &'c U,
}

/// The outcome of one request: tokens emitted into its output row.
pub(crate) type RequestResult = core::result::Result<u32, Error>;

impl<T: Real, U: Uniforms + ?Sized> Ctx<'_, '_, T, U> {
    fn uniform(&self, r: usize, pos: u64, purpose: Purpose) -> f64 {
        let base = self.batch.positions.map_or(0, |p| p[r]);
        open_unit(self.rng.uniform(UniformKey {
            request: r,
            seed: self.batch.seeds[r],
            position: base.wrapping_add(pos),
            purpose,
            trial: self.cfg.trial,
        }))
    }

    /// Verifies request `r`, writing its tokens (from index 0, −1 elsewhere) and diagnostics.
    pub(crate) fn request(
        &self,
        r: usize,
        tokens: &mut [i32],
        mut diag: Option<&mut [Diag]>,
        scratch: &mut [f64],
    ) -> RequestResult {
        tokens.fill(-1);
        if let Some(d) = diag.as_deref_mut() {
            d.fill(Diag::default());
        }
        let v = self.batch.vocab;
        let isa = self.cfg.isa;
        let cu = self.batch.cu_num_drafts;
        let (first, k) = (cu[r], cu[r + 1] - cu[r]);
        let first_row = first + r; // target rows of request r: first_row ..= first_row + k
        let (blocks, dense) = scratch.split_at_mut(blocks_for(v));
        let target_t = match self.target {
            Input::Probs(_) => None,
            Input::Logits { temperature, .. } => Some(f64::from(temperature[r])),
        };
        if let Some(t) = target_t
            && !(t >= 0.0 && t.is_finite())
        {
            return Err(Error::InvalidParameter {
                name: "temperature",
                reason: "finite and non-negative (0 = greedy)",
            });
        }
        let greedy = matches!(self.cfg.rule, Rule::Greedy) || target_t == Some(0.0);
        if k > 0 && self.cfg.rule.omega(k - 1).is_none() {
            // Checked before any coin, so the outcome never depends on how far a request gets.
            return Err(Error::InvalidParameter {
                name: "omega",
                reason: "one value, or at least one per draft position",
            });
        }
        let mut emitted = 0usize;
        for i in 0..k {
            let x = self.batch.draft_tokens[first + i] as usize;
            if x >= v {
                return Err(Error::InvalidParameter {
                    name: "draft_tokens",
                    reason: "token ids below the vocabulary size",
                });
            }
            let row = first_row + i;
            if greedy {
                let a = self.argmax(self.target, row)?;
                let hit = a == x;
                if let Some(d) = diag.as_deref_mut() {
                    d[i] = Diag {
                        accept_prob: if hit { 1.0 } else { 0.0 },
                        flags: if hit { Diag::ACCEPTED } else { Diag::REJECTED },
                        ..Diag::default()
                    };
                }
                tokens[emitted] = a as i32;
                emitted += 1;
                if !hit {
                    return Ok(emitted as u32);
                }
                continue;
            }
            let p = self.dist(self.target, row, r, blocks, "spec::verify: target rows")?;
            let px = p.prob(x, isa).map_err(|b| bad_error(b, row, v, "target"))?;
            let (q, qx) = self.draft_side(r, first + i, x, blocks)?;
            let omega = self.cfg.rule.omega(i).ok_or(Error::InvalidParameter {
                name: "omega",
                reason: "one value, or one per draft position",
            })?;
            let mut absorbed = 0.0;
            let mut jstar = 0usize;
            let (p_eff, coin) = match self.cfg.rule {
                Rule::Exact | Rule::Greedy => (px, true),
                Rule::Lantern { .. } | Rule::LanternPP { .. } => {
                    let (table, kk, budget) =
                        self.cfg
                            .rule
                            .lantern_budget(px)
                            .ok_or(Error::InvalidParameter {
                                name: "rule",
                                reason: "a LANTERN rule",
                            })?;
                    let a = absorb(&p, &table, x, kk, budget, isa)
                        .map_err(|e| absorb_error(e, row, v))?;
                    (absorbed, jstar) = (a.mass, a.count);
                    (px + a.mass, true)
                }
                Rule::CoolSd { .. } => (omega * px, true),
                Rule::MixtureBudget { delta } => {
                    let tv = match q {
                        QSide::Row(qd) => scan(&Weights::Excess { p, q: qd }, isa, blocks)
                            .map_err(|b| bad_error(b, row, v, "target or draft"))?,
                        // One-hot q at `a` (the drafted token, or a greedy draft's argmax).
                        QSide::Point { x: a, qx: 1.0 } => {
                            let pa = if a == x {
                                px
                            } else {
                                p.prob(a, isa).map_err(|b| bad_error(b, row, v, "target"))?
                            };
                            1.0 - pa.min(1.0)
                        }
                        QSide::Point { .. } => {
                            return Err(Error::InvalidParameter {
                                name: "rule",
                                reason: "MixtureBudget needs full draft rows or one-hot drafts",
                            });
                        }
                    };
                    let lambda = mixture_lambda(delta, tv);
                    let excess = if qx > px { qx - px } else { 0.0 };
                    (px + lambda * excess, true)
                }
                Rule::Typical { eps, alpha } => {
                    let h = entropy(&p, isa).map_err(|b| bad_error(b, row, v, "target"))?;
                    let thr = typical_threshold(eps, alpha, h);
                    (if px > thr { 1.0 } else { 0.0 }, false)
                }
            };
            let accept = if coin {
                let u = self.uniform(r, i as u64, Purpose::Accept);
                u * qx < p_eff
            } else {
                p_eff > 0.0
            };
            let accept_prob = if !coin {
                p_eff
            } else if qx > 0.0 {
                (p_eff / qx).min(1.0)
            } else if p_eff > 0.0 {
                1.0
            } else {
                0.0
            };
            let mut flags = if accept {
                Diag::ACCEPTED
            } else {
                Diag::REJECTED
            };
            if qx == 0.0 {
                flags |= Diag::Q_ZERO;
            }
            if accept {
                if let Some(d) = diag.as_deref_mut() {
                    d[i] = Diag {
                        accept_prob,
                        absorbed,
                        residual_mass: 0.0,
                        flags,
                    };
                }
                tokens[emitted] = x as i32;
                emitted += 1;
                continue;
            }
            // Rejection: draw the replacement token.
            let u = self.uniform(r, i as u64, Purpose::Residual);
            let weights = if matches!(self.cfg.rule, Rule::Typical { .. }) {
                Weights::Dist(p)
            } else if self.cfg.residual.is_lantern_ref()
                && let Some((table, kk)) = self.cfg.rule.lantern()
            {
                check_zap(table.row(x).unwrap_or(&[]), kk, v)?;
                lantern_ref_row(
                    self.cfg.residual,
                    &p,
                    q,
                    x,
                    table.row(x).unwrap_or(&[]),
                    kk,
                    jstar,
                    &mut dense[..v],
                    isa,
                )
                .map_err(|b| bad_error(b, row, v, "target or draft"))?;
                Weights::Dense(&dense[..v])
            } else {
                let w = match self.cfg.residual {
                    Residual::Optimal => omega.min(1.0),
                    _ => 1.0,
                };
                Weights::Residual { p, q, omega: w }
            };
            let total =
                scan(&weights, isa, blocks).map_err(|b| bad_error(b, row, v, "target or draft"))?;
            let eps = v as f64 * T::EPS.as_f64() * 1e-6;
            let (y, mass) = if total > eps {
                (pick(&weights, isa, blocks, total, u), total)
            } else {
                flags |= Diag::RESIDUAL_DEGENERATE;
                let w = Weights::Dist(p);
                let t = scan(&w, isa, blocks).map_err(|b| bad_error(b, row, v, "target"))?;
                if !(t > 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "target rows",
                        reason: "positive total mass",
                    });
                }
                (pick(&w, isa, blocks, t, u), total)
            };
            if let Some(d) = diag.as_deref_mut() {
                d[i] = Diag {
                    accept_prob,
                    absorbed,
                    residual_mass: mass,
                    flags,
                };
            }
            tokens[emitted] = y as i32;
            emitted += 1;
            return Ok(emitted as u32);
        }
        // Every draft accepted: the bonus token from row k.
        let row = first_row + k;
        let y = if greedy {
            self.argmax(self.target, row)?
        } else {
            let u = self.uniform(r, k as u64, Purpose::Bonus);
            self.sample(self.target, row, r, u, blocks)?
        };
        tokens[emitted] = y as i32;
        Ok(emitted as u32 + 1)
    }

    /// Row `row` of `inp` as a distribution (logit rows at the request's temperature).
    fn dist<'x>(
        &self,
        inp: &Input<'x, T>,
        row: usize,
        r: usize,
        blocks: &mut [f64],
        what: &'static str,
    ) -> core::result::Result<Dist<'x, T>, Error> {
        let v = self.batch.vocab;
        match *inp {
            Input::Probs(p) => Ok(Dist::Probs(&p[row * v..(row + 1) * v])),
            Input::Logits {
                logits,
                temperature,
            } => {
                let t = f64::from(temperature[r]);
                if !(t > 0.0 && t.is_finite() && T::from_f64(1.0 / t).is_finite()) {
                    return Err(Error::InvalidParameter {
                        name: "temperature",
                        reason: "finite and positive for a sampled row (1/T finite in the row type)",
                    });
                }
                Dist::logits(&logits[row * v..(row + 1) * v], t, self.cfg.isa, blocks)
                    .map_err(|b| bad_error(b, row, v, what))
            }
        }
    }

    /// The draft side at flat draft position `j` for drafted token `x`: the residual's `q` and
    /// `q_eff(x)`.
    fn draft_side(
        &self,
        r: usize,
        j: usize,
        x: usize,
        blocks: &mut [f64],
    ) -> core::result::Result<(QSide<'_, T>, f64), Error> {
        let isa = self.cfg.isa;
        let v = self.batch.vocab;
        match self.draft {
            Draft::OneHot => Ok((QSide::Point { x, qx: 1.0 }, 1.0)),
            Draft::CondProbs(q) => {
                let qx = q[j].as_f64();
                if !(qx >= 0.0 && qx.is_finite()) {
                    return Err(Error::NonFinite {
                        what: "spec::verify: draft conditional probabilities (NaN, ±Inf or negative)",
                        index: j,
                    });
                }
                Ok((QSide::Point { x, qx }, qx))
            }
            Draft::Full(inp) => {
                if let Input::Logits { temperature, .. } = inp
                    && temperature[r] == 0.0
                {
                    let a = self.argmax(inp, j)?;
                    let qx = if a == x { 1.0 } else { 0.0 };
                    return Ok((QSide::Point { x: a, qx: 1.0 }, qx));
                }
                let q = self.dist(inp, j, r, blocks, "spec::verify: draft rows")?;
                let qx = q.prob(x, isa).map_err(|b| bad_error(b, j, v, "draft"))?;
                Ok((QSide::Row(q), qx))
            }
        }
    }

    fn argmax(&self, inp: &Input<'_, T>, row: usize) -> core::result::Result<usize, Error> {
        let v = self.batch.vocab;
        let data = match *inp {
            Input::Probs(p) => p,
            Input::Logits { logits, .. } => logits,
        };
        let r = &data[row * v..(row + 1) * v];
        if let Input::Probs(_) = inp {
            // Probabilities must be finite and non-negative here as everywhere (logits may be −∞).
            if let Some(i) = self.cfg.isa.find_non_finite(r) {
                return Err(Error::NonFinite {
                    what: "spec::verify: row (NaN or ±Inf)",
                    index: row * v + i,
                });
            }
            if r.iter().any(|x| *x < T::zero()) {
                return Err(Error::InvalidParameter {
                    name: "probabilities",
                    reason: "non-negative",
                });
            }
        }
        match self.cfg.isa.argmax(r) {
            Ok((i, _)) => Ok(i),
            Err(_) => Err(Error::NonFinite {
                what: "spec::verify: row (NaN)",
                index: row * v + r.iter().position(|x| x.is_nan()).unwrap_or(0),
            }),
        }
    }

    /// One inverse-CDF draw from row `row` of `inp`.
    fn sample(
        &self,
        inp: &Input<'_, T>,
        row: usize,
        r: usize,
        u: f64,
        blocks: &mut [f64],
    ) -> core::result::Result<usize, Error> {
        let v = self.batch.vocab;
        let isa = self.cfg.isa;
        let d = self.dist(inp, row, r, blocks, "spec::verify: target rows")?;
        let (d, total) = match d {
            // `Dist::logits` left the block sums of the unnormalized weights in `blocks`.
            Dist::Logits {
                row: lr,
                max,
                inv_t,
                z,
            } => (
                Dist::Logits {
                    row: lr,
                    max,
                    inv_t,
                    z: 1.0,
                },
                z,
            ),
            Dist::Probs(_) => {
                let t = scan(&Weights::Dist(d), isa, blocks)
                    .map_err(|b| bad_error(b, row, v, "target"))?;
                (d, t)
            }
        };
        if !(total > 0.0) {
            return Err(Error::InvalidParameter {
                name: "target rows",
                reason: "positive total mass",
            });
        }
        Ok(pick(&Weights::Dist(d), isa, blocks, total, u))
    }
}

/// `−Σ p ln(p + 10⁻⁵)` (Medusa's entropy, with its `10⁻⁵` inside the log).
fn entropy<T: Real>(p: &Dist<'_, T>, isa: Isa) -> core::result::Result<f64, Bad> {
    let v = p.len();
    let mut tmp = [T::zero(); BLOCK];
    let mut buf = [0.0f64; BLOCK];
    let mut h = 0.0;
    for start in (0..v).step_by(BLOCK) {
        let n = BLOCK.min(v - start);
        p.fill(start, &mut buf[..n], &mut tmp[..n], isa);
        for (j, &x) in buf[..n].iter().enumerate() {
            Bad::check(start + j, x)?;
            if x > 0.0 {
                h -= x * num_traits::Float::ln(x + 1e-5);
            }
        }
    }
    Ok(h)
}

/// LANTERN's reference residual rows (see [`Residual`]), written to `dense`.
#[allow(clippy::too_many_arguments)]
fn lantern_ref_row<T: Real>(
    mode: Residual,
    p: &Dist<'_, T>,
    q: QSide<'_, T>,
    x: usize,
    nbrs: &[u32],
    k: usize,
    jstar: usize,
    dense: &mut [f64],
    isa: Isa,
) -> core::result::Result<(), Bad> {
    let v = dense.len();
    let mut tmp = [T::zero(); BLOCK];
    for start in (0..v).step_by(BLOCK) {
        let n = BLOCK.min(v - start);
        p.fill(start, &mut dense[start..start + n], &mut tmp[..n], isa);
    }
    if let Some(b) = Bad::first(dense) {
        return Err(b);
    }
    let zap: &[u32] = if jstar >= 1 {
        &nbrs[..(k + 1).min(nbrs.len())]
    } else {
        &[]
    };
    match mode {
        Residual::LanternDynamicTree => {
            dense[x] = 0.0;
            for &n in zap {
                dense[n as usize] = 0.0;
            }
        }
        Residual::LanternLuminaStatic | Residual::LanternLlamaGenStatic => {
            // (p − q)₊ first: the official code zeroes q only at siblings tried before x, so for
            // one drafted token per position q' = q.
            match q {
                QSide::Row(qd) => {
                    let mut qbuf = [0.0f64; BLOCK];
                    for start in (0..v).step_by(BLOCK) {
                        let n = BLOCK.min(v - start);
                        qd.fill(start, &mut qbuf[..n], &mut tmp[..n], isa);
                        for (j, (d, &qv)) in dense[start..start + n]
                            .iter_mut()
                            .zip(&qbuf[..n])
                            .enumerate()
                        {
                            Bad::check(start + j, qv)?;
                            let r = *d - qv;
                            *d = if r > 0.0 { r } else { 0.0 };
                        }
                    }
                }
                QSide::Point { x: a, qx } => {
                    let r = dense[a] - qx;
                    dense[a] = if r > 0.0 { r } else { 0.0 };
                }
            }
            // Lumina zeroes p at the neighbours ((0 − q)₊ = 0); LlamaGen zeroes q there
            // ((p − 0)₊ = p).
            for &n in zap {
                let n = n as usize;
                dense[n] = if mode == Residual::LanternLuminaStatic {
                    0.0
                } else {
                    p.prob(n, isa)?
                };
            }
        }
        _ => {}
    }
    if !dense.iter().any(|x| *x > 0.0) {
        dense.fill(1.0);
    }
    Ok(())
}

/// The `k + 1` neighbours LANTERN's reference residuals zero must be token ids.
pub(crate) fn check_zap(nbrs: &[u32], k: usize, v: usize) -> core::result::Result<(), Error> {
    if nbrs[..(k + 1).min(nbrs.len())]
        .iter()
        .any(|&n| n as usize >= v)
    {
        return Err(Error::InvalidParameter {
            name: "neighbors",
            reason: "token ids below the vocabulary size",
        });
    }
    Ok(())
}

fn bad_error(b: Bad, row: usize, v: usize, which: &'static str) -> Error {
    match b {
        Bad::NonFinite(i) => Error::NonFinite {
            what: if which == "draft" {
                "spec::verify: draft rows"
            } else {
                "spec::verify: target or draft rows"
            },
            index: row * v + i,
        },
        Bad::Negative(_) => Error::InvalidParameter {
            name: "probabilities",
            reason: "non-negative",
        },
        Bad::NoMass => Error::InvalidParameter {
            name: "rows",
            reason: "positive total mass (at least one finite logit)",
        },
    }
}

fn absorb_error(e: AbsorbError, row: usize, v: usize) -> Error {
    match e {
        AbsorbError::Row(b) => bad_error(b, row, v, "target"),
        other => other.into_error::<f32>(&[]),
    }
}
