//! One request of the batched verify kernel: accept tests, residual and bonus draws,
//! per-request errors.

use crate::Real;
use crate::error::Error;
use crate::simd::Isa;

use super::batch::{Batch, Diag, Draft, Input, VerifyConfig};
use super::neighbors::{AbsorbError, absorb};
use super::rule::{Residual, Rule, mixture_lambda, typical_threshold};
use super::scan::{BLOCK, Bad, Dist, QSide, Weights, blocks_for, pick, scan};
use super::uniform::{Purpose, UniformKey, Uniforms, open_unit};

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

/// The accept step's outcome at one position.
struct AcceptTest {
    /// `p_eff(x)`: accept iff `u·q_eff(x) < p_eff(x)` (or `p_eff(x) > 0` without a coin).
    p_eff: f64,
    /// Whether a coin decides (false for typical acceptance's threshold test).
    coin: bool,
    /// LANTERN's absorbed mass `m_x` (0 for other rules).
    absorbed: f64,
    /// How many neighbours LANTERN absorbed.
    jstar: usize,
}

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
        for i in 0..k {
            let x = self.batch.draft_tokens[first + i] as usize;
            if x >= v {
                return Err(Error::InvalidParameter {
                    name: "draft_tokens",
                    reason: "token ids below the vocabulary size",
                });
            }
            let row = first_row + i;
            let d = diag.as_deref_mut().map(|d| &mut d[i]);
            let (y, stop) = if greedy {
                self.greedy_position(row, x, d)?
            } else {
                self.position(r, i, first + i, row, x, d, blocks, dense)?
            };
            tokens[i] = y as i32;
            if stop {
                return Ok(i as u32 + 1);
            }
        }
        // Every draft accepted: the bonus token from row k.
        let row = first_row + k;
        let y = if greedy {
            self.argmax(self.target, row)?
        } else {
            let u = self.uniform(r, k as u64, Purpose::Bonus);
            self.sample(self.target, row, r, u, blocks)?
        };
        tokens[k] = y as i32;
        Ok(k as u32 + 1)
    }

    /// Greedy position: the target's argmax is emitted; verification stops unless it is the
    /// drafted `x`. Returns (emitted token, stop).
    fn greedy_position(
        &self,
        row: usize,
        x: usize,
        diag: Option<&mut Diag>,
    ) -> core::result::Result<(usize, bool), Error> {
        let a = self.argmax(self.target, row)?;
        let hit = a == x;
        if let Some(d) = diag {
            *d = Diag {
                accept_prob: if hit { 1.0 } else { 0.0 },
                flags: if hit { Diag::ACCEPTED } else { Diag::REJECTED },
                ..Diag::default()
            };
        }
        Ok((a, !hit))
    }

    /// Sampled draft position `i` (flat draft index `j`, target row `row`, drafted `x`): the
    /// accept test, then on rejection the residual draw. Returns (emitted token, stop).
    #[allow(clippy::too_many_arguments)]
    fn position(
        &self,
        r: usize,
        i: usize,
        j: usize,
        row: usize,
        x: usize,
        diag: Option<&mut Diag>,
        blocks: &mut [f64],
        dense: &mut [f64],
    ) -> core::result::Result<(usize, bool), Error> {
        let v = self.batch.vocab;
        let p = self.dist(self.target, row, r, blocks, "spec::verify: target rows")?;
        let px = p
            .prob(x, self.cfg.isa)
            .map_err(|b| bad_error(b, row, v, "target"))?;
        let (q, qx) = self.draft_side(r, j, x, blocks)?;
        let omega = self.cfg.rule.omega(i).ok_or(Error::InvalidParameter {
            name: "omega",
            reason: "one value, or one per draft position",
        })?;
        let t = self.accept_test(row, x, &p, px, q, qx, omega, blocks)?;
        let accept = if t.coin {
            let u = self.uniform(r, i as u64, Purpose::Accept);
            u * qx < t.p_eff
        } else {
            t.p_eff > 0.0
        };
        let accept_prob = if !t.coin {
            t.p_eff
        } else if qx > 0.0 {
            (t.p_eff / qx).min(1.0)
        } else if t.p_eff > 0.0 {
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
        let (y, residual_mass) = if accept {
            (x, 0.0)
        } else {
            let u = self.uniform(r, i as u64, Purpose::Residual);
            let (y, mass, degenerate) =
                self.reject(row, x, p, q, omega, t.jstar, u, blocks, dense)?;
            if degenerate {
                flags |= Diag::RESIDUAL_DEGENERATE;
            }
            (y, mass)
        };
        if let Some(d) = diag {
            *d = Diag {
                accept_prob,
                absorbed: t.absorbed,
                residual_mass,
                flags,
            };
        }
        Ok((y, !accept))
    }

    /// The accept step's `p_eff(x)` under the rule (and whether it is compared against a coin).
    #[allow(clippy::too_many_arguments)]
    fn accept_test(
        &self,
        row: usize,
        x: usize,
        p: &Dist<'_, T>,
        px: f64,
        q: QSide<'_, T>,
        qx: f64,
        omega: f64,
        blocks: &mut [f64],
    ) -> core::result::Result<AcceptTest, Error> {
        let v = self.batch.vocab;
        let isa = self.cfg.isa;
        let plain = |p_eff| AcceptTest {
            p_eff,
            coin: true,
            absorbed: 0.0,
            jstar: 0,
        };
        Ok(match self.cfg.rule {
            Rule::Exact | Rule::Greedy => plain(px),
            Rule::Lantern { .. } | Rule::LanternPP { .. } => {
                let (table, kk, budget) =
                    self.cfg
                        .rule
                        .lantern_budget(px)
                        .ok_or(Error::InvalidParameter {
                            name: "rule",
                            reason: "a LANTERN rule",
                        })?;
                let a =
                    absorb(p, &table, x, kk, budget, isa).map_err(|e| absorb_error(e, row, v))?;
                AcceptTest {
                    p_eff: px + a.mass,
                    coin: true,
                    absorbed: a.mass,
                    jstar: a.count,
                }
            }
            Rule::CoolSd { .. } => plain(omega * px),
            Rule::MixtureBudget { delta } => {
                let tv = match q {
                    QSide::Row(qd) => scan(&Weights::Excess { p: *p, q: qd }, isa, blocks)
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
                plain(px + lambda * excess)
            }
            Rule::Typical { eps, alpha } => {
                let h = entropy(p, isa).map_err(|b| bad_error(b, row, v, "target"))?;
                let thr = typical_threshold(eps, alpha, h);
                AcceptTest {
                    p_eff: if px > thr { 1.0 } else { 0.0 },
                    coin: false,
                    absorbed: 0.0,
                    jstar: 0,
                }
            }
        })
    }

    /// The reject step: draws the replacement for a rejected `x` with uniform `u` from the
    /// residual. Returns (token, residual mass, degenerate residual replaced by `p`).
    #[allow(clippy::too_many_arguments)]
    fn reject(
        &self,
        row: usize,
        x: usize,
        p: Dist<'_, T>,
        q: QSide<'_, T>,
        omega: f64,
        jstar: usize,
        u: f64,
        blocks: &mut [f64],
        dense: &mut [f64],
    ) -> core::result::Result<(usize, f64, bool), Error> {
        let v = self.batch.vocab;
        let isa = self.cfg.isa;
        let weights = self.residual(row, x, p, q, omega, jstar, dense)?;
        let total =
            scan(&weights, isa, blocks).map_err(|b| bad_error(b, row, v, "target or draft"))?;
        let eps = v as f64 * T::EPS.as_f64() * 1e-6;
        if total > eps {
            return Ok((pick(&weights, isa, blocks, total, u), total, false));
        }
        let w = Weights::Dist(p);
        let t = scan(&w, isa, blocks).map_err(|b| bad_error(b, row, v, "target"))?;
        if !(t > 0.0) {
            return Err(Error::InvalidParameter {
                name: "target rows",
                reason: "positive total mass",
            });
        }
        Ok((pick(&w, isa, blocks, t, u), total, true))
    }

    /// The residual step: the weights the replacement of a rejected `x` is drawn from.
    #[allow(clippy::too_many_arguments)]
    fn residual<'w>(
        &self,
        row: usize,
        x: usize,
        p: Dist<'w, T>,
        q: QSide<'w, T>,
        omega: f64,
        jstar: usize,
        dense: &'w mut [f64],
    ) -> core::result::Result<Weights<'w, T>, Error> {
        let v = self.batch.vocab;
        if matches!(self.cfg.rule, Rule::Typical { .. }) {
            return Ok(Weights::Dist(p));
        }
        if self.cfg.residual.is_lantern_ref()
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
                self.cfg.isa,
            )
            .map_err(|b| bad_error(b, row, v, "target or draft"))?;
            return Ok(Weights::Dense(&dense[..v]));
        }
        let w = match self.cfg.residual {
            Residual::Optimal => omega.min(1.0),
            _ => 1.0,
        };
        Ok(Weights::Residual { p, q, omega: w })
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
