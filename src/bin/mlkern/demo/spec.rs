//! `mlkern demo` rows for speculative-decoding verification, each checked against a closed form
//! or an independent f64 computation.

use mlkern::Par;
use mlkern::spec::{
    Batch, Diag, Draft, Input, NeighborTable, Philox, Purpose, Residual, Rule, UniformKey,
    Uniforms, VerifyConfig, VerifyOutput, cool_omega_for_budget, step_law, tv_distance, verify,
    verify_into, verify_scratch_len,
};

use super::row::{Row, Step, data};
use crate::timing::Timing;

/// Uniforms fixed per purpose (grid integration).
struct Grid {
    accept: f64,
    residual: f64,
}

impl Uniforms for Grid {
    fn uniform(&self, key: UniformKey) -> f64 {
        match key.purpose {
            Purpose::Accept => self.accept,
            _ => self.residual,
        }
    }
}

const P: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
const Q: [f64; 4] = [0.4, 0.3, 0.2, 0.1];

/// Batch verify at Llama-3's vocabulary: 8 requests, k = 4, f32 probabilities, `--threads`.
/// Check: the output contract (accepted prefix = drafts, one replacement or bonus, −1 after).
fn batch_row() -> Step {
    Box::new(|repeat, par| {
        let (b, k, v) = (8usize, 4usize, 128_256usize);
        let soft = |seed: u64, rows: usize| -> Vec<f32> {
            let l = data(rows * v, seed);
            let mut out = Vec::with_capacity(rows * v);
            for row in l.chunks(v) {
                let e: Vec<f64> = row.iter().map(|x| (6.0 * x).exp()).collect();
                let s: f64 = e.iter().sum();
                out.extend(e.iter().map(|x| (x / s) as f32));
            }
            out
        };
        let p = soft(81, b * (k + 1));
        let q = soft(82, b * k);
        let tokens: Vec<u32> = (0..b * k).map(|i| ((i * 7919) % v) as u32).collect();
        let cu: Vec<usize> = (0..=b).map(|r| r * k).collect();
        let seeds: Vec<u64> = (0..b as u64).collect();
        let batch = Batch {
            vocab: v,
            draft_tokens: &tokens,
            cu_num_drafts: &cu,
            seeds: &seeds,
            positions: None,
        };
        let (out, timing) = Timing::measure(repeat, || {
            verify(
                &batch,
                Input::Probs(&p),
                Draft::Full(Input::Probs(&q)),
                &VerifyConfig::default(),
                &Philox,
                par,
            )
        })?;
        let (toks, n) = (out.token_rows(), out.num_emitted());
        let ok = (0..b).all(|r| {
            let m = n[r] as usize;
            let row = &toks[r * (k + 1)..(r + 1) * (k + 1)];
            out.errors()[r].is_none()
                && (1..=k + 1).contains(&m)
                && row[..m - 1]
                    .iter()
                    .zip(&tokens[r * k..])
                    .all(|(a, b)| *a == *b as i32)
                && (0..v as i32).contains(&row[m - 1])
                && row[m..].iter().all(|&t| t == -1)
        });
        let mean = n.iter().map(|&x| f64::from(x)).sum::<f64>() / b as f64;
        Ok(Row {
            kernel: "spec verify (exact, f32)",
            shape: format!("{b}×{k}×{v}"),
            summary: format!("mean tokens/step {mean:.2}, vLLM output layout"),
            ok,
            timing,
        })
    })
}

/// The kernel's law of the first token, integrated over a 200×200 grid of injected uniforms
/// with x ~ q marginalised: the exact rule must give p, LANTERN δ = .25 the note's
/// counterexample law (TV 0.30 > δ).
fn grid_row(lantern: bool) -> Step {
    Box::new(move |repeat, _| {
        let nb = [1u32, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0];
        let table = NeighborTable::new(&nb, 4, 3)?;
        let rule = if lantern {
            Rule::Lantern {
                k: 3,
                delta: 0.25,
                neighbors: table,
            }
        } else {
            Rule::Exact
        };
        let cfg = VerifyConfig::new(rule);
        let rows: Vec<f64> = [P, P].concat();
        let grid = 200usize;
        let (law, timing) = Timing::measure(repeat, || -> Result<Vec<f64>, mlkern::Error> {
            let mut law = vec![0.0; 4];
            let mut scratch = vec![0.0; verify_scratch_len(4)?];
            for x in 0..4u32 {
                for i in 0..grid {
                    for j in 0..grid {
                        let u = Grid {
                            accept: (i as f64 + 0.5) / grid as f64,
                            residual: (j as f64 + 0.5) / grid as f64,
                        };
                        let mut t = [0i32; 2];
                        let (mut n, mut e) = ([0u32], [None]);
                        let mut d = [Diag::default()];
                        verify_into(
                            VerifyOutput {
                                tokens: &mut t,
                                num_emitted: &mut n,
                                errors: &mut e,
                                diag: Some(&mut d),
                            },
                            &Batch {
                                vocab: 4,
                                draft_tokens: &[x],
                                cu_num_drafts: &[0, 1],
                                seeds: &[0],
                                positions: None,
                            },
                            Input::Probs(&rows),
                            Draft::Full(Input::Probs(&Q)),
                            &cfg,
                            &u,
                            &mut scratch,
                            Par::Seq,
                        )?;
                        law[t[0] as usize] += Q[x as usize] / (grid * grid) as f64;
                    }
                }
            }
            Ok(law)
        })?;
        let want: [f64; 4] = if lantern { [0.3, 0.3, 0.225, 0.175] } else { P };
        let err = law
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let tv = tv_distance(&law, &P)?;
        Ok(Row {
            kernel: if lantern {
                "spec LANTERN δ=.25 law (grid)"
            } else {
                "spec exact law (grid)"
            },
            shape: format!("V=4, {grid}² uniforms"),
            summary: format!("TV(P_out, p) {tv:.4}, max |Δ| vs closed form {err:.1e}"),
            ok: err < 8.0 / grid as f64,
            timing,
        })
    })
}

/// COOL-SD: the largest ω with single-step TV ≤ δ, and the analytic law at that ω.
fn cool_row() -> Step {
    Box::new(|repeat, _| {
        let (w, timing) = Timing::measure(repeat, || cool_omega_for_budget(&P, &Q, 0.15))?;
        let mut law = [0.0; 4];
        let mut s = [0.0; 8];
        step_law(
            &P,
            &Q,
            &Rule::CoolSd { omega: &[w] },
            0,
            Residual::Optimal,
            &mut law,
            &mut s,
        )?;
        let tv = tv_distance(&law, &P)?;
        Ok(Row {
            kernel: "spec COOL-SD ω for TV ≤ 0.15",
            shape: "V=4".into(),
            summary: format!("ω = {w:.12} (closed form 1.5), TV {tv:.12}"),
            ok: (w - 1.5).abs() < 1e-12 && (tv - 0.15).abs() < 1e-12,
            timing,
        })
    })
}

/// The spec rows of `mlkern demo`.
pub(crate) fn rows() -> Vec<Step> {
    vec![batch_row(), grid_row(false), grid_row(true), cool_row()]
}
