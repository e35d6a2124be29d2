//! The tree module against independent references (`tests/fixtures/tree/make_tree_fixtures.py`:
//! pgmpy 1.1.2 TreeSearch, scikit-learn's `mutual_info_score`, NumPy `corrcoef` + SciPy's
//! minimum spanning tree, a sort-based truncated inner product).
//!
//! Tolerances: MI and correlations agree to 1e-12 (both sides are f64; the counts are exact
//! integers, so only the order of log/sum operations differs); edge sets agree exactly (the
//! script checked that the fixtures' spanning trees are unique, with a relative gap ≥ 1e-3).

mod common;

use mlkern::Par;
use mlkern::io::csv::parse_categorical;
use mlkern::io::npy;
use mlkern::tree::*;
use serde_json::Value;

fn fixtures() -> Value {
    common::fixture_json("tree/tree_fixtures.json")
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|x| match x.as_array() {
            Some(row) => row.iter().map(|y| y.as_f64().unwrap()).collect::<Vec<_>>(),
            None => vec![x.as_f64().unwrap()],
        })
        .collect()
}

fn pairs(v: &Value) -> Vec<(usize, usize)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| (usize_of(&e[0]), usize_of(&e[1])))
        .collect()
}

fn tree_pairs(t: &Tree) -> Vec<(usize, usize)> {
    t.edges().iter().map(|e| (e.a, e.b)).collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

/// Samples × variables (JSON rows) → variable-major codes.
fn codes_of(case: &Value) -> (Vec<u8>, Vec<u8>, usize, usize) {
    let (n, p) = (usize_of(&case["n_samples"]), usize_of(&case["n_vars"]));
    let rows = case["data"].as_array().unwrap();
    let mut x = vec![0u8; n * p];
    for (t, row) in rows.iter().enumerate() {
        for v in 0..p {
            x[v * n + t] = row[v].as_u64().unwrap() as u8;
        }
    }
    let states = case["n_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_u64().unwrap() as u8)
        .collect();
    (x, states, n, p)
}

#[test]
fn discrete_chow_liu_matches_pgmpy_and_sklearn() {
    let f = fixtures();
    assert_eq!(f["mi_diagonal"], "entropy");
    let cases: Vec<&Value> = f["pgmpy_binary"]
        .as_array()
        .unwrap()
        .iter()
        .chain(f["pgmpy_kary"].as_array().unwrap())
        .collect();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (x, states, n, p) = codes_of(case);
        let codes = Codes::new(Samples::variable_major(&x, p, n).unwrap(), &states).unwrap();
        for threads in [1, 2] {
            let pc = PairCounts::new(&codes, Par::threads(threads)).unwrap();
            assert_close(
                &pc.mutual_information(Correction::None).unwrap(),
                &f64s(&case["mi"]),
                1e-12,
                name,
            );
            let t =
                chow_liu_discrete(&codes, &ChowLiuConfig::new(), Par::threads(threads)).unwrap();
            assert_eq!(
                tree_pairs(&t),
                pairs(&case["edges"]),
                "{name}: edges differ from pgmpy's"
            );
        }
    }
}

#[test]
fn mi_and_distance_golden_tables() {
    let f = fixtures();
    for case in f["mi_golden"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let rows = case["table"].as_array().unwrap();
        let (ki, kj) = (rows.len(), rows[0].as_array().unwrap().len());
        let t: Vec<u32> = rows
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_u64().unwrap() as u32)
            })
            .collect();
        let mi = mutual_information(&t, ki, kj, Correction::None).unwrap();
        let mm = mutual_information(&t, ki, kj, Correction::MillerMadow).unwrap();
        assert!(
            (mi - case["mi"].as_f64().unwrap()).abs() < 1e-14,
            "{name}: {mi}"
        );
        assert!(
            (mm - case["mi_miller_madow"].as_f64().unwrap()).abs() < 1e-14,
            "{name}: {mm}"
        );
        if let Some(d) = case["det_distance"].as_f64() {
            let got = discrete_distance(&t, ki).unwrap();
            assert!((got - d).abs() < 1e-12 * (1.0 + d), "{name}: {got} vs {d}");
        }
    }
}

#[test]
fn gaussian_statistics_and_tree_match_numpy_and_scipy() {
    let f = fixtures();
    for case in f["gaussian"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let path = format!("tests/fixtures/tree/{}", case["file"].as_str().unwrap());
        let a = npy::parse(&std::fs::read(path).unwrap()).unwrap();
        let (n, p) = (a.shape[0], a.shape[1]);
        let v = a.to_f64_vec().unwrap();
        let x: Vec<f64> = (0..p * n).map(|k| v[(k % n) * p + k / n]).collect();
        let corr =
            correlation_matrix(Samples::variable_major(&x, p, n).unwrap(), Par::Seq).unwrap();
        assert_close(&corr, &f64s(&case["corr"]), 1e-12, name);
        let mi = gaussian_mi_matrix(&corr, p).unwrap();
        assert_close(&mi, &f64s(&case["mi"]), 1e-12, name);
        let t = chow_liu_gaussian(
            Samples::variable_major(&x, p, n).unwrap(),
            &ChowLiuConfig::new(),
            Par::Seq,
        )
        .unwrap();
        assert_eq!(tree_pairs(&t), pairs(&case["edges"]), "{name}");
        // f32 input: the same tree, MI within f32 data resolution.
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let t32 = chow_liu_gaussian(
            Samples::variable_major(&x32, p, n).unwrap(),
            &ChowLiuConfig::new(),
            Par::Seq,
        )
        .unwrap();
        assert_eq!(tree_pairs(&t32), tree_pairs(&t), "{name} f32");
    }
}

#[test]
fn truncated_dot_matches_the_sort_reference() {
    let f = fixtures();
    for case in f["robust_tip"].as_array().unwrap() {
        let (a, b) = (f64s(&case["a"]), f64s(&case["b"]));
        let k = usize_of(&case["n_trim"]);
        let want = case["value"].as_f64().unwrap();
        let got = truncated_dot(&a, &b, k, &mut vec![0.0; k]).unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
            "{}: {got} vs {want}",
            case["name"]
        );
    }
}

#[test]
fn labelled_csv_matches_pgmpy() {
    let f = fixtures();
    let case = &f["labels_csv"];
    let text = std::fs::read_to_string("tests/fixtures/tree/labels.csv").unwrap();
    let t = parse_categorical(&text).unwrap();
    let names: Vec<&str> = case["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(t.names, names);
    let states: Vec<u8> = case["n_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(t.states, states);
    for (c, cats) in case["categories"].as_array().unwrap().iter().enumerate() {
        let cats: Vec<&str> = cats
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(t.labels[c], cats);
    }
    let p = t.names.len();
    let codes = Codes::new(
        Samples::variable_major(&t.codes, p, t.rows).unwrap(),
        &t.states,
    )
    .unwrap();
    let pc = PairCounts::new(&codes, Par::Seq).unwrap();
    assert_close(
        &pc.mutual_information(Correction::None).unwrap(),
        &f64s(&case["mi"]),
        1e-12,
        "labels",
    );
    let tree = chow_liu_discrete(&codes, &ChowLiuConfig::new(), Par::Seq).unwrap();
    assert_eq!(tree_pairs(&tree), pairs(&case["edges"]));
}
