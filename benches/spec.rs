//! Speculative-decoding verification benchmarks (issue targets in brackets, one core unless
//! noted).
//!
//! `cargo bench --bench spec`:
//! * `verify_probs_k4/{16384,128256}/{reject_last,all_accepted}`: one request, k = 4,
//!   probability rows; the accept tests plus one residual draw (a rejection at the last
//!   position: an O(V) pass over two rows) or one bonus draw [≤ 8 µs at V = 16384, ≤ 40 µs at
//!   V = 128256];
//! * `verify_logits_k4/128256/all_accepted`: logits at T = 0.8, the worst path (nine
//!   log-sum-exp passes and a bonus draw) [≤ 250 µs];
//! * `lantern_absorbed_k1000/16384`: LANTERN's neighbour mass over 1000 neighbours, per drafted
//!   token [≤ 2 µs];
//! * `verify_batch8_k4/128256/{1,2}_threads`: 8 requests [2 threads ≥ 1.7× 1 thread].
//!
//! The side-by-side comparison with a NumPy implementation of vLLM's sampler is
//! `benches/compare/run.sh --only 'accept*'`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlkern::Par;
use mlkern::spec::{
    Batch, Draft, Input, NeighborTable, Philox, VerifyConfig, VerifyOutput, absorbed_mass,
    verify_into, verify_scratch_len,
};

mod common;
use common::data;

/// Softmax rows of `rows × v` Gaussian-ish logits.
fn rows(rows: usize, v: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let l: Vec<f32> = data::<f32>(rows * v, seed)
        .iter()
        .map(|x| x * 8.0)
        .collect();
    let mut p = l.clone();
    for r in p.chunks_mut(v) {
        mlkern::simd::softmax_in_place(r).unwrap();
    }
    (l, p)
}

struct Case {
    v: usize,
    k: usize,
    tokens: Vec<u32>,
    cu: Vec<usize>,
    seeds: Vec<u64>,
    p: Vec<f32>,
    q: Vec<f32>,
}

impl Case {
    fn run(
        &self,
        cfg: &VerifyConfig<'_>,
        out: &mut (Vec<i32>, Vec<u32>, Vec<Option<mlkern::Error>>),
        scratch: &mut [f64],
        par: Par,
    ) {
        let batch = Batch {
            vocab: self.v,
            draft_tokens: &self.tokens,
            cu_num_drafts: &self.cu,
            seeds: &self.seeds,
            positions: None,
        };
        let o = VerifyOutput {
            tokens: &mut out.0,
            num_emitted: &mut out.1,
            errors: &mut out.2,
            diag: None,
        };
        let (t, d) = (
            Input::Probs(&self.p[..]),
            Draft::Full(Input::Probs(&self.q[..])),
        );
        // With the default residual the minimal scratch has room for every group `par` makes.
        verify_into(o, &batch, t, d, cfg, &Philox, scratch, par).unwrap();
    }
}

/// `b` requests with k = 4; `reject_last`: positions 0..3 have p(x) ≥ q(x) (always accepted)
/// and position 3 has p(x) = 0 (always rejected).
fn case(b: usize, v: usize, reject_last: bool) -> Case {
    let k = 4;
    let (_, p) = rows(b * (k + 1), v, 7);
    let mut q = Vec::with_capacity(b * k * v);
    let mut tokens = Vec::new();
    let mut p = p;
    for r in 0..b {
        for i in 0..k {
            let row = r * (k + 1) + i;
            let prow = &mut p[row * v..(row + 1) * v];
            // the draft is a flattened copy of the target row: q = (p + 1/V)/2
            let qrow: Vec<f32> = prow.iter().map(|x| 0.5 * (x + 1.0 / v as f32)).collect();
            let x = (i * 7919 + r * 104_729) % v;
            if reject_last && i == k - 1 {
                prow[x] = 0.0;
            } else {
                prow[x] = prow[x].max(qrow[x]);
            }
            q.extend(qrow);
            tokens.push(x as u32);
        }
    }
    Case {
        v,
        k,
        tokens,
        cu: (0..=b).map(|r| r * k).collect(),
        seeds: (0..b as u64).collect(),
        p,
        q,
    }
}

fn outputs(b: usize, k: usize) -> (Vec<i32>, Vec<u32>, Vec<Option<mlkern::Error>>) {
    (vec![0; b * (k + 1)], vec![0; b], vec![None; b])
}

fn verify_probs(c: &mut Criterion) {
    let cfg = VerifyConfig::default();
    for v in [16384, 128256] {
        for (name, reject) in [("reject_last", true), ("all_accepted", false)] {
            let cs = case(1, v, reject);
            let mut out = outputs(1, cs.k);
            let mut scratch = vec![0.0; verify_scratch_len(v).unwrap()];
            cs.run(&cfg, &mut out, &mut scratch, Par::Seq);
            assert_eq!(out.1[0], if reject { 4 } else { 5 });
            c.bench_function(&format!("verify_probs_k4/{v}/{name}"), |b| {
                b.iter(|| cs.run(&cfg, &mut out, &mut scratch, Par::Seq))
            });
        }
    }
}

fn verify_logits(c: &mut Criterion) {
    let (v, k) = (128256, 4);
    let (l, _) = rows(k + 1, v, 11);
    let lq: Vec<f32> = l[..k * v].to_vec(); // q = p: every draft is accepted, then a bonus
    let tokens: Vec<u32> = (0..k as u32).map(|i| i * 1000).collect();
    let cfg = VerifyConfig::default();
    let mut scratch = vec![0.0; verify_scratch_len(v).unwrap()];
    let mut out = outputs(1, k);
    let mut go = |out: &mut (Vec<i32>, Vec<u32>, Vec<Option<mlkern::Error>>)| {
        let batch = Batch {
            vocab: v,
            draft_tokens: &tokens,
            cu_num_drafts: &[0, k],
            seeds: &[3],
            positions: None,
        };
        verify_into(
            VerifyOutput {
                tokens: &mut out.0,
                num_emitted: &mut out.1,
                errors: &mut out.2,
                diag: None,
            },
            &batch,
            Input::Logits {
                logits: &l,
                temperature: &[0.8],
            },
            Draft::Full(Input::Logits {
                logits: &lq,
                temperature: &[0.8],
            }),
            &cfg,
            &Philox,
            &mut scratch,
            Par::Seq,
        )
        .unwrap();
    };
    go(&mut out);
    assert_eq!(out.1[0], 5);
    c.bench_function("verify_logits_k4/128256/all_accepted", |b| {
        b.iter(|| go(&mut out))
    });
}

fn lantern(c: &mut Criterion) {
    let (v, k) = (16384, 1000);
    let (_, p) = rows(1, v, 13);
    // A table of pseudo-random neighbours (the access pattern of a real one: scattered ids).
    let ids: Vec<u32> = (0..v * k)
        .map(|i| ((i as u64 * 2_654_435_761) % v as u64) as u32)
        .collect();
    let t = NeighborTable::new(&ids, v, k).unwrap();
    let mut x = 0usize;
    c.bench_function("lantern_absorbed_k1000/16384", |b| {
        b.iter(|| {
            x = (x + 4099) % v;
            black_box(absorbed_mass(&p, &t, x, k, 1.0).unwrap())
        })
    });
}

fn batch(c: &mut Criterion) {
    let cs = case(8, 128256, false);
    let cfg = VerifyConfig::default();
    let mut out = outputs(8, cs.k);
    let mut scratch = vec![0.0; verify_scratch_len(cs.v).unwrap()];
    let mut g = c.benchmark_group("verify_batch8_k4/128256");
    g.bench_function("1_thread", |b| {
        b.iter(|| cs.run(&cfg, &mut out, &mut scratch, Par::Seq))
    });
    g.bench_function("2_threads", |b| {
        b.iter(|| cs.run(&cfg, &mut out, &mut scratch, Par::threads(2)))
    });
    g.finish();
}

criterion_group!(benches, verify_probs, verify_logits, lantern, batch);
criterion_main!(benches);
