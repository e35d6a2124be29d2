//! `mlkern::spec`'s exact analysis against an independent float64 NumPy transcription of the
//! reference note's formulas (`tests/fixtures/spec/make_spec_fixtures.py`, run once; its output
//! `spec_fixtures.json` is committed): output laws, acceptance and TV for every rule and
//! residual (171 cases, V ≤ 37), and COOL-SD's ω for a TV budget (solved there exactly from the
//! sorted breakpoints; here by bisection).
//!
//! Tolerances: 1e-12 absolute on laws, acceptance and TV (sums of ≤ 37 terms ≤ 1 in f64, and the
//! two sides sum in different orders); 1e-11 relative on ω (the smallest slope p·ω in the set is
//! 0.02, so a 1e-13 change in TV moves ω by at most ~5e-12).

mod common;

use mlkern::spec::{
    NeighborTable, Residual, Rule, acceptance_probability, cool_omega_for_budget, step_law,
    tv_distance,
};
use serde_json::Value;

fn fixtures() -> Value {
    common::fixture_json("spec/spec_fixtures.json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn step_laws_match_the_numpy_reference() {
    let f = fixtures();
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 150);
    let mut by_kind = std::collections::BTreeMap::<String, usize>::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let p = floats(&c["p"]);
        let q = floats(&c["q"]);
        let v = p.len();
        let r = &c["rule"];
        let kind = r["kind"].as_str().unwrap();
        *by_kind.entry(kind.to_string()).or_default() += 1;
        let ids: Vec<u32> = match c["neighbors"].as_array() {
            Some(rows) => rows
                .iter()
                .flat_map(|row| {
                    row.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u32)
                })
                .collect(),
            None => Vec::new(),
        };
        let width = if ids.is_empty() { 0 } else { ids.len() / v };
        let table = NeighborTable::new(&ids, v, width).unwrap();
        let omega = [r["omega"].as_f64().unwrap_or(1.0)];
        let rule = match kind {
            "exact" => Rule::Exact,
            "lantern" => Rule::Lantern {
                k: r["k"].as_u64().unwrap() as usize,
                delta: r["delta"].as_f64().unwrap(),
                neighbors: table,
            },
            "lantern_pp" => Rule::LanternPP {
                k: r["k"].as_u64().unwrap() as usize,
                lambda: r["lambda"].as_f64().unwrap(),
                neighbors: table,
            },
            "cool_sd" => Rule::CoolSd { omega: &omega },
            "mixture" => Rule::MixtureBudget {
                delta: r["delta"].as_f64().unwrap(),
            },
            "typical" => Rule::Typical {
                eps: r["eps"].as_f64().unwrap(),
                alpha: r["alpha"].as_f64().unwrap(),
            },
            other => panic!("unknown rule {other}"),
        };
        let residual = match c["residual"].as_str().unwrap() {
            "optimal" => Residual::Optimal,
            "vanilla" => Residual::Vanilla,
            "lantern_dynamic_tree" => Residual::LanternDynamicTree,
            "lantern_lumina_static" => Residual::LanternLuminaStatic,
            "lantern_llamagen_static" => Residual::LanternLlamaGenStatic,
            other => panic!("unknown residual {other}"),
        };
        let mut law = vec![0.0; v];
        let mut s = vec![0.0; 2 * v];
        step_law(&p, &q, &rule, 0, residual, &mut law, &mut s).unwrap();
        let want = floats(&c["law"]);
        let err = law
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err < 1e-12,
            "{name}: law off by {err}\n got {law:?}\nwant {want:?}"
        );
        let acc = acceptance_probability(&p, &q, &rule, 0, &mut s).unwrap();
        let want_acc = c["acceptance"].as_f64().unwrap();
        assert!(
            (acc - want_acc).abs() < 1e-12,
            "{name}: acceptance {acc} vs {want_acc}"
        );
        let tv = tv_distance(&law, &p).unwrap();
        assert!((tv - c["tv"].as_f64().unwrap()).abs() < 1e-12, "{name}: tv");
        if let Some(t) = c["tv_formula"].as_f64() {
            assert!((tv - t).abs() < 1e-12, "{name}: tv vs Σ(q·f − p)₊");
        }
    }
    for kind in [
        "exact",
        "lantern",
        "lantern_pp",
        "cool_sd",
        "mixture",
        "typical",
    ] {
        assert!(
            by_kind.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} case"
        );
    }
}

#[test]
fn cool_omega_for_budget_matches_the_exact_solution() {
    let f = fixtures();
    let entries = f["omega_budget"].as_array().unwrap();
    assert!(entries.len() >= 20);
    for e in entries {
        let p = floats(&e["p"]);
        let q = floats(&e["q"]);
        let delta = e["delta"].as_f64().unwrap();
        let got = cool_omega_for_budget(&p, &q, delta).unwrap();
        match e["omega"].as_f64() {
            None => assert!(got.is_infinite(), "{}: {got}", e["name"]),
            Some(w) => assert!((got - w).abs() <= 1e-11 * w, "{}: {got} vs {w}", e["name"]),
        }
    }
}
