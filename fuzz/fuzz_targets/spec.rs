//! Fuzzes speculative-decoding verification: arbitrary rows (any f32 bit pattern, so NaN, ±∞,
//! negatives, subnormals), token ids (some out of range), every rule, draft kind, residual and
//! input kind (probabilities or logits at any temperature), the parallel path, token trees and
//! the f64 analysis. Accepted outcomes: a batch-level `Err` only for invalid rule parameters;
//! per request either an error (tokens all −1, nothing emitted) or the vLLM contract (an
//! accepted prefix equal to the drafts, one final token in range, −1 after); for the exact rule
//! every emitted token has positive target probability. The parameters passed apart from the
//! data (the declared vocabulary, LANTERN's `k`, the analysis position, an empty batch's
//! vocabulary, `nearest_neighbors`' shape and `k`) are drawn from the whole `usize` range: a
//! declared vocabulary the rows do not back is a batch-level `Err`, never an allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Par;
use mlkern::spec::{
    Batch, Draft, Input, NeighborTable, Philox, Residual, Rule, TreeScheme, TreeVerify,
    VerifyConfig, VerifyOutput, acceptance_probability, nearest_neighbors, step_law, verify,
    verify_into, verify_scratch_len, verify_tree, verify_tree_scratch_len,
};
use mlkern_fuzz::Bytes;

/// This target's floats: mostly probabilities in [0, 1], sometimes 0 or raw bits.
trait Floats {
    fn f32(&mut self) -> f32;
}

impl Floats for Bytes<'_> {
    fn f32(&mut self) -> f32 {
        self.mixed_f32(8, &[0.0], |v| f32::from(v) / 255.0)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let v = 1 + usize::from(b.u8() % 40);
    // The vocabulary the batch declares: usually the rows' `v`, sometimes any size.
    let declared = if b.u8() % 4 == 0 { b.size(64) } else { v };
    let nreq = 1 + usize::from(b.u8() % 3);
    let ks: Vec<usize> = (0..nreq).map(|_| usize::from(b.u8() % 4)).collect();
    let mut cu = vec![0usize];
    for k in &ks {
        cu.push(cu.last().unwrap() + k);
    }
    let n = *cu.last().unwrap();
    let target: Vec<f32> = (0..(n + nreq) * v).map(|_| b.f32()).collect();
    let draft: Vec<f32> = (0..n * v).map(|_| b.f32()).collect();
    let tokens: Vec<u32> = (0..n).map(|_| b.u32() % (v as u32 + 2)).collect();
    let temps: Vec<f32> = (0..nreq).map(|_| b.f32() * 2.0).collect();
    let width = 1 + usize::from(b.u8() % 5);
    let nb: Vec<u32> = (0..v * width).map(|_| b.u32() % (v as u32 + 1)).collect();
    let table = NeighborTable::new(&nb, v, width).unwrap();
    let omega: Vec<f64> = (0..1 + usize::from(b.u8() % 4))
        .map(|_| f64::from(b.f32()) * 3.0)
        .collect();
    let param = f64::from(b.f32());
    let rule = match b.u8() % 7 {
        0 => Rule::Exact,
        1 => Rule::Greedy,
        2 => Rule::Lantern {
            k: b.size(width + 1),
            delta: param,
            neighbors: table,
        },
        3 => Rule::LanternPP {
            k: b.size(width + 1),
            lambda: 1.0 + param,
            neighbors: table,
        },
        4 => Rule::CoolSd { omega: &omega },
        5 => Rule::MixtureBudget { delta: param },
        _ => Rule::Typical {
            eps: param,
            alpha: f64::from(b.f32()),
        },
    };
    let residual = match b.u8() % 5 {
        0 => Residual::Optimal,
        1 => Residual::Vanilla,
        2 => Residual::LanternDynamicTree,
        3 => Residual::LanternLuminaStatic,
        _ => Residual::LanternLlamaGenStatic,
    };
    let logits = b.u8() % 3 == 0;
    let tin = if logits {
        Input::Logits {
            logits: &target,
            temperature: &temps,
        }
    } else {
        Input::Probs(&target)
    };
    let dr = match b.u8() % 3 {
        0 => Draft::OneHot,
        1 => Draft::CondProbs(&draft[..n]),
        _ if logits => Draft::Full(Input::Logits {
            logits: &draft,
            temperature: &temps,
        }),
        _ => Draft::Full(Input::Probs(&draft)),
    };
    let draft_len_ok = !matches!(dr, Draft::CondProbs(_)) || draft.len() >= n;
    let cfg = VerifyConfig::new(rule).with_residual(residual);
    // The parallel path: up to 3 threads (scratch for every group they can make).
    let par = Par::threads(1 + usize::from(b.u8() % 3));
    let batch = Batch {
        vocab: declared,
        draft_tokens: &tokens,
        cu_num_drafts: &cu,
        seeds: &[1, 2, 3][..nreq],
        positions: None,
    };
    let w = ks.iter().max().unwrap() + 1;
    let mut toks = vec![0i32; nreq * w];
    let mut ne = vec![0u32; nreq];
    let mut errs = vec![None; nreq];
    let mut scratch = vec![0.0; 12 * verify_scratch_len(v).unwrap()];
    let res = verify_into(
        VerifyOutput {
            tokens: &mut toks,
            num_emitted: &mut ne,
            errors: &mut errs,
            diag: None,
        },
        &batch,
        tin,
        dr,
        &cfg,
        &Philox,
        &mut scratch,
        par,
    );
    // The owned tier agrees with the caller-buffer tier.
    match verify(&batch, tin, dr, &cfg, &Philox, par) {
        Ok(o) => {
            assert_eq!((o.num_emitted(), o.errors()), (&ne[..], &errs[..]));
            for r in 0..nreq {
                assert_eq!(o.tokens(r), &toks[r * w..r * w + ne[r] as usize]);
            }
        }
        Err(e) => assert_eq!(res, Err(e)),
    }
    if declared != v {
        // Every request has at least one target row: the rows do not back `declared`.
        assert!(res.is_err(), "vocab {declared} accepted for rows of {v}");
        return;
    }
    let Ok(()) = res else {
        assert!(draft_len_ok);
        assert!(
            matches!(res, Err(mlkern::Error::InvalidParameter { .. })),
            "{res:?}"
        );
        return;
    };
    for r in 0..nreq {
        let row = &toks[r * w..(r + 1) * w];

        if errs[r].is_some() {
            assert_eq!(ne[r], 0);
            assert!(row.iter().all(|&t| t == -1));
            continue;
        }
        let m = ne[r] as usize;
        assert!((1..=ks[r] + 1).contains(&m), "emitted {m} of k = {}", ks[r]);
        for i in 0..m - 1 {
            assert_eq!(row[i], tokens[cu[r] + i] as i32);
        }
        assert!((0..v as i32).contains(&row[m - 1]));
        assert!(row[m..].iter().all(|&t| t == -1));
        if matches!(rule, Rule::Exact) && !logits {
            for (i, &t) in row[..m].iter().enumerate() {
                let p = target[(cu[r] + r + i) * v + t as usize];
                assert!(p > 0.0, "exact rule emitted a token with p = {p}");
            }
        }
    }
    // An empty batch: no row backs its vocabulary, so nothing may be sized by it.
    let vocab0 = b.size(64);
    let empty = Batch {
        vocab: vocab0,
        draft_tokens: &[],
        cu_num_drafts: &[0],
        seeds: &[],
        positions: None,
    };
    match verify(
        &empty,
        Input::Probs(&[] as &[f32]),
        Draft::OneHot,
        &VerifyConfig::default(),
        &Philox,
        Par::Seq,
    ) {
        Ok(o) => assert!(o.is_empty() && vocab0 >= 1 && vocab0 <= i32::MAX as usize),
        Err(_) => assert!(vocab0 == 0 || vocab0 > i32::MAX as usize),
    }
    // Trees: the first min(n, 6) draft tokens as nodes with fuzzed parents.
    let nodes = n.min(6);
    let parents: Vec<u32> = (0..nodes)
        .map(|j| u32::from(b.u8()) % (j as u32 + 1))
        .collect();
    let scheme = match b.u8() % 4 {
        0 => TreeScheme::OneHot,
        1 => TreeScheme::CumulativeCoin,
        2 => TreeScheme::MultiRound,
        _ => TreeScheme::WithoutReplacement,
    };
    if target.len() >= (nodes + 1) * v && draft.len() >= (nodes + 1) * v {
        let tree = TreeVerify {
            vocab: if b.u8() % 4 == 0 { b.size(64) } else { v },
            tokens: &tokens[..nodes],
            parents: &parents,
            target: Input::Probs(&target[..(nodes + 1) * v]),
            draft: Some(Input::Probs(&draft[..(nodes + 1) * v])),
            scheme,
            seed: 9,
            position: 0,
        };
        let mut out = vec![0i32; nodes + 1];
        let mut nid = vec![0u32; nodes + 1];
        let mut s = vec![0.0; verify_tree_scratch_len(v).unwrap()];
        if let Ok(m) = verify_tree(&mut out, &mut nid, &tree, &Philox, &mut s) {
            assert_eq!(tree.vocab, v);
            assert!(m >= 1 && m <= nodes + 1);
            assert!((0..v as i32).contains(&out[m - 1]));
        }
    }

    // Analysis on the first rows, as f64.
    let p: Vec<f64> = target[..v].iter().map(|&x| f64::from(x)).collect();
    let q: Vec<f64> = if n > 0 {
        draft[..v].iter().map(|&x| f64::from(x)).collect()
    } else {
        p.clone()
    };
    let mut law = vec![0.0; v];
    let mut s = vec![0.0; 2 * v];
    let position = b.size(8);
    if step_law(&p, &q, &rule, position, residual, &mut law, &mut s).is_ok() {
        assert!(law.iter().all(|x| x.is_finite() && *x >= 0.0), "{law:?}");
    }
    if let Ok(a) = acceptance_probability(&p, &q, &rule, position, &mut s) {
        assert!(a.is_finite() && a >= 0.0);
    }

    // LANTERN's neighbour tables from the target rows as a codebook, with a declared shape and
    // `k` from the whole range: an error, or a table of `vocab·k` ids that are not the row itself.
    let (cv, dim, kk) = (b.size(16), b.size(8), b.size(16));
    let len = cv.checked_mul(dim).filter(|&l| l <= target.len());
    let cb = &target[..len.unwrap_or(0)];
    if let Ok(t) = nearest_neighbors(cb, cv, dim, kk, Par::Seq) {
        assert_eq!(Some(t.len()), cv.checked_mul(kk));
        for (i, row) in t.chunks(kk.max(1)).enumerate() {
            assert!(row.iter().all(|&j| (j as usize) < cv && j as usize != i));
        }
    }
});
