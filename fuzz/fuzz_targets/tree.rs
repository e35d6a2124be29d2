//! Fuzzes the tree module: discrete codes (any states, including out-of-range codes), Gaussian
//! samples with any f64 bit pattern (plain and robust Chow–Liu), categorical CSV text, and
//! distance matrices for every latent learner. Accepted outcomes: `Err`, or `Ok` with a valid
//! tree (checked by `Tree::new`) — and a matrix that is a valid distance matrix must never be
//! rejected by a learner.
//!
//! The sizes a caller passes apart from the data (`n`, `p`, `m`, state counts, trim counts) are
//! drawn from the whole `usize` range: when they do not fit the data the fuzzer can build, the
//! constructors and learners must refuse them (under the capped allocator: never by trying an
//! absurd allocation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Par;
use mlkern::limits::MAX_INDICATOR_COLUMNS;
use mlkern::tree::{
    ChowLiuConfig, Codes, Correction, NjConfig, RgConfig, Samples, SnjConfig, Tree,
    chow_liu_discrete, chow_liu_gaussian, clrg, exact_recovery, neighbor_joining,
    recursive_grouping, spectral_nj, truncated_dot,
};
use mlkern_fuzz::Bytes;

/// This target's floats: mostly in [-4, 12), sometimes 0, 1e300, −1e-300 or raw bits.
trait Floats {
    fn f64(&mut self) -> f64;
}

impl Floats for Bytes<'_> {
    fn f64(&mut self) -> f64 {
        self.mixed_f64(8, &[0.0, 1e300, -1e-300], |v| f64::from(v) / 16.0 - 4.0)
    }
}

fn check(t: &Tree, m: usize) {
    assert_eq!(t.n_observed(), m);
    assert_eq!(t.edges().len() + 1, t.n_nodes().max(1));
    assert!(t.edges().iter().all(|e| e.weight.is_finite()));
    assert!(exact_recovery(t, t));
}

/// Most values the fuzzer builds for one input; larger `n·p` or `m²` go to the refusal checks.
const BUILD: usize = 4096;

/// `n·p` when it is small enough to build.
fn buildable(n: usize, p: usize) -> Option<usize> {
    n.checked_mul(p).filter(|&len| len <= BUILD)
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    match b.u8() % 4 {
        0 => {
            let (n, p) = (b.size(70), b.size(7));
            let Some(len) = buildable(n, p) else {
                let short = [0u8; 16];
                assert!(Samples::row_major(&short, n, p).is_err());
                assert!(Samples::variable_major(&short, p, n).is_err());
                return;
            };
            // A p too large for the states the fuzzer builds (n = 0) must fail in Codes::new.
            let states: Vec<u8> = (0..p.min(BUILD)).map(|_| (b.size(5) % 256) as u8).collect();
            let declared: usize = states.iter().map(|&k| usize::from(k.max(1)) - 1).sum();
            let codes: Vec<u8> = (0..len).map(|_| b.u8() % 6).collect();
            let samples = if b.u8() % 2 == 0 {
                Samples::row_major(&codes, n, p)
            } else {
                Samples::variable_major(&codes, p, n)
            }
            .expect("n·p codes");
            if let Ok(c) = Codes::new(samples, &states) {
                let opts = ChowLiuConfig::new().correction(if b.u8() % 2 == 0 {
                    Correction::None
                } else {
                    Correction::MillerMadow
                });
                match chow_liu_discrete(&c, &opts, Par::Seq) {
                    Ok(t) => check(&t, p),
                    Err(_) => assert!(
                        (n < 2 && p > 1)
                            || n > u32::MAX as usize
                            || declared > MAX_INDICATOR_COLUMNS,
                        "valid codes rejected"
                    ),
                }
            } else {
                assert!(states.len() != p || states.contains(&0) || n > 0);
            }
        }
        1 => {
            let (n, p) = (b.size(40), b.size(6));
            let Some(len) = buildable(n, p) else {
                let short = [0.0f64; 16];
                assert!(Samples::row_major(&short, n, p).is_err());
                assert!(Samples::variable_major(&short, p, n).is_err());
                return;
            };
            let x: Vec<f64> = (0..len).map(|_| b.f64()).collect();
            let opts = ChowLiuConfig::new().robust_trim(b.size(5));
            let samples = if b.u8() % 2 == 0 {
                Samples::row_major(&x, n, p)
            } else {
                Samples::variable_major(&x, p, n)
            }
            .expect("n·p values");
            if let Ok(t) = chow_liu_gaussian(samples, &opts, Par::Seq) {
                check(&t, p);
            }
        }
        2 => {
            let text: String = b.0.iter().map(|&c| char::from(c % 128)).collect();
            if let Ok(t) = mlkern::io::csv::parse_categorical(&text) {
                let p = t.names.len();
                let c = Samples::variable_major(&t.codes, p, t.rows)
                    .and_then(|s| Codes::new(s, &t.states))
                    .expect("parser output is valid");
                match chow_liu_discrete(&c, &ChowLiuConfig::new(), Par::Seq) {
                    Ok(tree) => check(&tree, p),
                    Err(_) => assert!(t.rows < 2 && p > 1, "parsed codes rejected"),
                }
            }
        }
        _ => {
            let m = b.size(12);
            if m > 12 {
                // More observed nodes than the fuzzer builds: a 4×4 matrix must be refused.
                let d = [0.0f64; 16];
                let rg = RgConfig::samples(m);
                assert!(recursive_grouping(&d, m, &rg).is_err());
                assert!(clrg(&d, m, &rg).is_err());
                assert!(neighbor_joining(&d, m, &NjConfig::new()).is_err());
                assert!(spectral_nj(&d, m, &SnjConfig::population()).is_err());
                return;
            }
            let mut d = vec![0.0f64; m * m];
            let symmetric = b.u8() % 4 != 0;
            for i in 0..m {
                for j in 0..m {
                    if i != j && (!symmetric || i < j) {
                        let v = if b.u8() % 8 == 0 {
                            b.f64()
                        } else {
                            f64::from(b.u8()) / 32.0
                        };
                        d[i * m + j] = v;
                        if symmetric {
                            d[j * m + i] = v;
                        }
                    }
                }
            }
            let valid = d.iter().all(|v| v.is_finite() && *v >= 0.0)
                && (0..m).all(|i| (0..m).all(|j| d[i * m + j] == d[j * m + i]));
            let eps = f64::from(b.u8()) / 64.0;
            let rg = RgConfig::samples(100).eps(eps);
            let results = [
                recursive_grouping(&d, m, &rg),
                clrg(&d, m, &rg),
                neighbor_joining(&d, m, &NjConfig::new().tol(eps)),
                spectral_nj(&d, m, &SnjConfig::population()),
            ];
            for r in results {
                match r {
                    Ok(t) => check(&t, m),
                    Err(e) => assert!(!valid, "valid distances rejected: {e}"),
                }
            }
            let mut heap = vec![0.0; m];
            let _ = truncated_dot(&d[..m], &d[m * m - m..], b.size(m / 2 + 1), &mut heap);
        }
    }
});
