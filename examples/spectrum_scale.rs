//! Spectra at scale: the exact spectrum path against the SLQ estimator and the top-k solver on
//! hidden-state-like matrices, one run, medians. Prints a markdown table.
//!
//! ```text
//! cargo run --release --example spectrum_scale -- [--samples N] [--width P] [--repeat R] [--threads T] > report.md
//! ```
//!
//! Inputs (f32, samples × width, centered): `decaying` — column j ~ N(μⱼ, sⱼ²) with
//! s = geomspace(1, 10⁻², p) and μⱼ ~ N(0, 1), as `benches/compare`'s hidden states; `power` —
//! columns scaled by (1 + j)^(−1/2) after a random rotation-free mix (λⱼ ∝ 1/j, a heavy tail);
//! `flat` — i.i.d. N(0, 1) (Marchenko–Pastur). The exact path is `singular_values` with
//! `Method::Auto` (the f64-accumulated Gram and f64 eigenvalues, every metric exact).

use std::fmt::Write as _;
use std::time::Instant;

use mlkern::Par;
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{
    Centering, Estimate, GramOperator, Method, RANKME_EPS, SlqConfig, SpectrumConfig, TopKConfig,
    Weighting, estimate, singular_values, top_eigenvalues,
};

/// Standard normals from xorshift64* and Box–Muller.
fn normals(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u, v) = (next(), next());
        let r = (-2.0 * u.ln()).sqrt();
        out.push((r * (std::f64::consts::TAU * v).cos()) as f32);
        out.push((r * (std::f64::consts::TAU * v).sin()) as f32);
    }
    out.truncate(n);
    out
}

fn matrix(kind: &str, n: usize, p: usize) -> Vec<f32> {
    let mut x = normals(n * p, 7);
    let mu = normals(p, 11);
    match kind {
        "decaying" => {
            for (k, v) in x.iter_mut().enumerate() {
                let j = k % p;
                let s = 10f64.powf(-2.0 * j as f64 / (p - 1).max(1) as f64) as f32;
                *v = mu[j] + *v * s;
            }
        }
        "power" => {
            for (k, v) in x.iter_mut().enumerate() {
                *v = mu[k % p] + *v / ((1 + k % p) as f32).sqrt();
            }
        }
        _ => {}
    }
    x
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<R>(repeat: usize, mut f: impl FnMut() -> R) -> (R, f64) {
    let mut out = f(); // warm-up
    let mut ts = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        out = f();
        ts.push(t.elapsed().as_secs_f64());
    }
    (out, median(ts))
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() -> Result<(), mlkern::Error> {
    let args: Vec<String> = std::env::args().collect();
    let (n, p) = (arg(&args, "--samples", 8192), arg(&args, "--width", 4096));
    let repeat = arg(&args, "--repeat", 3);
    let par = Par::threads(arg(&args, "--threads", 2));
    let isa = if std::arch::is_x86_feature_detected!("avx512f") {
        "AVX-512"
    } else {
        "AVX2 (no avx512f)"
    };
    let mut md = String::new();
    writeln!(
        md,
        "## {n}×{p} f32, centered; {isa}; {} threads; medians of {repeat} after a warm-up\n",
        par.thread_count()
    )
    .ok();
    writeln!(
        md,
        "| input | path | time | speed-up vs exact | erank (exact / estimate [95 % CI]) | rel. error | in CI | other metrics: error (CI half-width), out = exact value outside the CI |\n|---|---|---:|---:|---|---:|---|---|"
    )
    .ok();
    for kind in ["decaying", "power", "flat"] {
        let x = matrix(kind, n, p);
        let xv = view(&x, n, p, Layout::RowMajor)?;
        let cfg = SpectrumConfig::new(Centering::ColumnMean, Method::Auto);
        let (exact, t_exact) = time(repeat, || singular_values(xv, &cfg, par));
        let exact = exact?;
        let sp = exact.spectrum();
        let want = [
            sp.erank(Weighting::Energy).unwrap(),
            sp.erank(Weighting::Sigma).unwrap(),
            sp.stable_rank().unwrap(),
            sp.participation_ratio().unwrap(),
            sp.nuclear_ratio().unwrap(),
            sp.rankme(RANKME_EPS)?.unwrap(),
        ];
        writeln!(
            md,
            "| {kind} | exact (`singular_values`, {}) | {t_exact:.3} s | 1 | {:.3} | | | |",
            exact.method.name(),
            want[0]
        )
        .ok();
        let op = GramOperator::new(xv, true)?;
        for (label, cfg) in [
            ("SLQ estimate", SlqConfig::default()),
            (
                "SLQ estimate, energy_only",
                SlqConfig::default().with_energy_only(true),
            ),
        ] {
            let (r, t) = time(repeat, || estimate(&op, &cfg, par));
            let r = r?;
            let got: [Estimate; 6] = [
                r.erank,
                r.sigma_erank,
                r.stable_rank,
                r.participation_ratio,
                r.nuclear_ratio,
                r.rankme,
            ];
            let names = ["erank", "σ-erank", "stable", "PR", "nuclear", "RankMe"];
            let others: Vec<String> = (1..6)
                .map(|i| {
                    format!(
                        "{} {:+.2} % (±{:.2} %){}",
                        names[i],
                        100.0 * (got[i].value / want[i] - 1.0),
                        100.0 * got[i].rel_half_width(),
                        if got[i].contains(want[i]) {
                            ""
                        } else {
                            " (out)"
                        }
                    )
                })
                .collect();
            writeln!(
            md,
            "| {kind} | {label} ({} probes × {} steps, {} deflated, {} products) | {t:.3} s | {:.1}× | {:.3} [{:.3}, {:.3}] | {:.2e} | {} | {} |",
            r.probes,
            r.steps,
            r.deflated,
            r.products,
            t_exact / t,
            r.erank.value,
            r.erank.lo,
            r.erank.hi,
            (r.erank.value / want[0] - 1.0).abs(),
            if r.erank.contains(want[0]) { "yes" } else { "no" },
            others.join(", ")
        )
        .ok();
        }
        for k in [1usize, 8, 32] {
            let (top, t) = time(repeat, || top_eigenvalues(&op, &TopKConfig::new(k), par));
            let top = top?;
            let scale = top.values[0] / (exact.sigma[0] * exact.sigma[0]);
            let err = (0..k)
                .map(|i| (top.values[i] / (exact.sigma[i] * exact.sigma[i]) - 1.0).abs())
                .fold(0.0, f64::max);
            writeln!(
                md,
                "| {kind} | top-{k} eigenvalues ({} products, converged {}) | {t:.3} s | {:.1}× | λ₁ ratio {scale:.9} | {err:.1e} (max over k) | | |",
                top.products,
                top.converged,
                t_exact / t
            )
            .ok();
        }
        print!("{md}"); // one input at a time: the large runs take minutes
        md.clear();
    }
    Ok(())
}
