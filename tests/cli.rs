//! The `mlkern` binary: file round trips, the JSON contract, and bad input → one line, exit 2.
#![cfg(feature = "cli")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixture_json, fixture_path as fixture, max_abs_diff as max_diff};
use mlkern::io::npy::{self, NpyArray, NpyData};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlkern"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlkern-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, shape: &[usize], data: NpyData) {
    std::fs::write(
        path,
        npy::to_bytes(&NpyArray {
            shape: shape.to_vec(),
            data,
        }),
    )
    .unwrap();
}

/// Runs the binary and asserts that it succeeded.
fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Asserts the failure contract: exit code 2, exactly one line on stderr, no panic text.
fn assert_clean_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr:?}");
}

#[test]
fn matmul_f32_round_trip_and_json_timing() {
    let d = tmpdir("mm32");
    // A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]] → C = [[4,5],[10,11]]
    write(
        &d.join("a.npy"),
        &[2, 3],
        NpyData::F32(vec![1., 2., 3., 4., 5., 6.]),
    );
    write(
        &d.join("b.npy"),
        &[3, 2],
        NpyData::F32(vec![1., 0., 0., 1., 1., 1.]),
    );
    let out = run_ok(
        bin()
            .args([
                "matmul",
                "a.npy",
                "b.npy",
                "-o",
                "c.npy",
                "--json",
                "--repeat",
                "3",
                "--threads",
                "1",
            ])
            .current_dir(&d),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["timing"]["runs"], 3);
    assert!(v["timing"]["median_s"].as_f64().unwrap() >= v["timing"]["min_s"].as_f64().unwrap());
    assert_eq!(v["dtype"], "f32");
    let c = npy::parse(&std::fs::read(d.join("c.npy")).unwrap()).unwrap();
    assert_eq!(c.shape, vec![2, 2]);
    assert_eq!(c.data, NpyData::F32(vec![4., 5., 10., 11.]));
}

#[test]
fn matmul_fortran_f64_and_csv_inputs() {
    let d = tmpdir("mmcsv");
    let a = NpyArray {
        shape: vec![2, 2],
        data: NpyData::F64(vec![1., 2., 3., 4.]),
    };
    std::fs::write(d.join("a.npy"), npy::to_bytes_fortran(&a)).unwrap();
    std::fs::write(d.join("b.csv"), "x,y\n1,1\n# comment\n2,0\n").unwrap();
    for backend in ["auto", "faer", "portable"] {
        run_ok(
            bin()
                .args([
                    "matmul",
                    "a.npy",
                    "b.csv",
                    "-o",
                    "c.npy",
                    "--backend",
                    backend,
                ])
                .current_dir(&d),
        );
        let c = npy::parse(&std::fs::read(d.join("c.npy")).unwrap()).unwrap();
        assert_eq!(c.data, NpyData::F64(vec![5., 1., 11., 3.]), "{backend}");
    }
}

#[test]
fn bad_inputs_fail_cleanly() {
    let d = tmpdir("bad");
    write(&d.join("a.npy"), &[2, 3], NpyData::F32(vec![0.0; 6]));
    write(&d.join("v.npy"), &[3], NpyData::F32(vec![0.0; 3]));
    write(&d.join("z.npy"), &[2, 2], NpyData::C64(vec![[0.0; 2]; 4]));
    std::fs::write(d.join("junk.npy"), b"\x93NUMPY\x01\x00\xff\xff{'descr'").unwrap();
    std::fs::write(d.join("ragged.csv"), "1,2\n3\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["matmul", "a.npy", "a.npy"], "inner dimensions"),
        (&["matmul", "a.npy", "missing.npy"], "missing.npy"),
        (&["matmul", "junk.npy", "a.npy"], "junk.npy"),
        (&["matmul", "v.npy", "a.npy"], "2-D"),
        (&["matmul", "z.npy", "z.npy"], "complex"),
        (&["matmul", "ragged.csv", "a.npy"], "line 2"),
        (&["matmul", "a.npy", "a.npy", "--repeat", "0"], "repeat"),
        (&["matmul", "a.npy", "a.npy", "--backend", "gpu"], "gpu"),
        (&["no-such-subcommand"], "no-such-subcommand"),
    ];
    for (args, needle) in cases {
        let out = bin().args(*args).current_dir(&d).output().unwrap();
        assert_clean_error(&out, needle);
    }
}

/// `mlkern eigvalsh`: the (2, −1) Toeplitz matrix of order 300 (two-stage path) against its
/// closed form 2 − 2·cos(kπ/(n+1)), f64 and f32 files, the .npy output, the lower triangle
/// alone being read (garbage above the diagonal), and clean errors.
#[test]
fn eigvalsh_closed_form_output_and_errors() {
    let d = tmpdir("eigvalsh");
    let n = 300usize;
    let a: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            match i.abs_diff(j) {
                0 => 2.0,
                1 if i > j => -1.0,
                _ if j > i => 7.5, // upper triangle: never read
                _ => 0.0,
            }
        })
        .collect();
    let want: Vec<f64> = (1..=n)
        .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos())
        .collect();
    write(&d.join("a.npy"), &[n, n], NpyData::F64(a.clone()));
    let f32s: Vec<f32> = a.iter().map(|&x| x as f32).collect();
    write(&d.join("a32.npy"), &[n, n], NpyData::F32(f32s));
    for (file, tol) in [("a.npy", 1e-13), ("a32.npy", 1e-5)] {
        let json = json_of(&run_ok(
            bin()
                .args(["eigvalsh", file, "--json", "-o", "w.npy"])
                .current_dir(&d),
        ));
        let got: Vec<f64> = json["eigenvalues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(json["n"], n);
        let (shape, written) = read_f64(&d.join("w.npy"));
        assert_eq!(shape, vec![n]);
        // The .npy holds the exact f64 values; the JSON's decimal round trip may differ by an ulp.
        for ((g, x), w) in got.iter().zip(&written).zip(&want) {
            assert!(
                (g - x).abs() <= 4.0 * f64::EPSILON * x.abs(),
                "{file}: {g} vs {x}"
            );
            assert!((x - w).abs() <= tol * 4.0, "{file}: {x} vs {w}");
        }
    }
    let text = run_ok(bin().args(["eigvalsh", "a.npy"]).current_dir(&d));
    assert!(String::from_utf8_lossy(&text.stdout).contains("λ_max"));
    write(&d.join("rect.npy"), &[2, 3], NpyData::F64(vec![0.0; 6]));
    write(
        &d.join("nan.npy"),
        &[2, 2],
        NpyData::F64(vec![1.0, 0.0, f64::NAN, 1.0]),
    );
    let cases: &[(&[&str], &str)] = &[
        (&["eigvalsh", "rect.npy"], "square"),
        (&["eigvalsh", "nan.npy"], "NaN"),
        (&["eigvalsh", "missing.npy"], "missing.npy"),
    ];
    for (args, needle) in cases {
        let out = bin().args(*args).current_dir(&d).output().unwrap();
        assert_clean_error(&out, needle);
    }
}

#[test]
fn demo_json_reports_every_row_ok() {
    let out = run_ok(bin().args(["demo", "--json", "--repeat", "1", "--threads", "1"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() >= 7);
    for r in rows {
        assert_eq!(r["ok"], true, "{r}");
        assert!(r["timing"]["median_s"].as_f64().unwrap() > 0.0);
    }
}

fn read_f64(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let a = common::read_npy(path);
    (a.shape.clone(), a.to_f64_vec().unwrap())
}

#[test]
fn ortho_matches_numpy_fixtures_and_keeps_shape_and_dtype() {
    let d = tmpdir("ortho");
    for (input, sched, algo) in [
        ("tv2", "keller", "standard"),
        ("tv2t", "polar-express", "standard"),
        ("gauss12x20", "you", "gram"),
        ("gauss20x12", "cans", "auto"),
    ] {
        let out = d.join(format!("{input}-{sched}.npy"));
        let stdout = run_ok(bin().args([
            "ortho",
            fixture(&format!("ortho/{input}.npy")).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--schedule",
            sched,
            "--algo",
            algo,
            "--json",
        ]))
        .stdout;
        let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
        assert_eq!(v["schedule"], sched);
        let (shape, got) = read_f64(&out);
        let (want_shape, want) = read_f64(&fixture(&format!("ortho/{input}__{sched}.npy")));
        assert_eq!(shape, want_shape);
        assert!(max_diff(&got, &want) < 1e-11, "{input} {sched} {algo}");
    }
    // f32 batch in, f32 batch out; --steps overrides; --precision f64 computes in f64.
    let g: Vec<f32> = (0..2 * 3 * 4).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
    write(&d.join("b.npy"), &[2, 3, 4], NpyData::F32(g));
    for extra in [&[][..], &["--precision", "f64", "--steps", "3"][..]] {
        run_ok(
            bin()
                .args(["ortho", "b.npy", "-o", "bo.npy"])
                .args(extra)
                .current_dir(&d),
        );
        let a = npy::parse(&std::fs::read(d.join("bo.npy")).unwrap()).unwrap();
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert!(matches!(a.data, NpyData::F32(_)));
    }
}

#[test]
fn muon_step_matches_the_torch_fixture() {
    let d = tmpdir("muon");
    let f = |name: &str| {
        fixture(&format!("muon/a__{name}.npy"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let prefix = d.join("step1");
    run_ok(bin().args([
        "muon",
        "--param",
        &f("param0"),
        "--grad",
        &f("grad1"),
        "--momentum",
        &f("momentum0"),
        "-o",
        prefix.to_str().unwrap(),
        "--lr",
        "0.02",
        "--beta",
        "0.95",
        "--wd",
        "0.1",
        "--scale",
        "keller",
        "--eps-mode",
        "max",
    ]));
    let (_, p) = read_f64(&d.join("step1_param.npy"));
    let (_, m) = read_f64(&d.join("step1_momentum.npy"));
    assert!(max_diff(&p, &read_f64(&fixture("muon/a__param1.npy")).1) < 1e-12);
    assert!(max_diff(&m, &read_f64(&fixture("muon/a__momentum1.npy")).1) < 1e-12);
}

/// Five chained `mlkern amuse` steps reproduce the NumPy transcription's Y, Z, X and momentum.
#[test]
fn amuse_steps_chain_through_files_and_match_the_numpy_fixture() {
    let d = tmpdir("amuse");
    let f = |name: &str| fixture(&format!("amuse/wide__{name}.npy"));
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let mut state: Option<std::path::PathBuf> = None;
    for t in 1..=5u32 {
        let prefix = d.join(format!("step{t}"));
        let mut cmd = bin();
        cmd.args(["amuse", "--grad", &s(&f(&format!("grad{t}")))]);
        match &state {
            None => cmd.args(["--param", &s(&f("w0"))]),
            Some(p) => cmd.args([
                "--param",
                &format!("{}_param.npy", s(p)),
                "--z",
                &format!("{}_z.npy", s(p)),
                "--x",
                &format!("{}_x.npy", s(p)),
                "--momentum",
                &format!("{}_momentum.npy", s(p)),
            ]),
        };
        cmd.args([
            "--t",
            &t.to_string(),
            "-o",
            &s(&prefix),
            "--lr",
            "0.02",
            "--wd",
            "0.05",
            "--beta",
            "0.95",
            "--beta1",
            "0.6",
            "--warmup",
            "3",
            "--rho",
            "0.7",
            "--eps-mode",
            "plus",
        ]);
        run_ok(&mut cmd);
        for (out, want) in [
            ("param", format!("y{}", t + 1)),
            ("z", format!("z{}", t + 1)),
            ("x", format!("x{}", t + 1)),
            ("momentum", format!("m{t}")),
        ] {
            let got = read_f64(&d.join(format!("step{t}_{out}.npy"))).1;
            let diff = max_diff(&got, &read_f64(&f(&want)).1);
            assert!(diff <= 1e-12, "step {t} {out}: {diff:e}");
        }
        state = Some(prefix);
    }
    // After the first step the state files are required; shapes must agree.
    let w0 = s(&f("w0"));
    let g = s(&f("grad1"));
    let out = bin()
        .args(["amuse", "--param", &w0, "--grad", &g, "--t", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--z and --x"));
    let tall = s(&fixture("amuse/tall__w0.npy"));
    let out = bin()
        .args(["amuse", "--param", &w0, "--grad", &g, "--x", &tall])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("amuse: x"));
}

#[test]
fn ortho_and_muon_bad_inputs_fail_cleanly() {
    let d = tmpdir("ortho-bad");
    write(&d.join("v.npy"), &[3], NpyData::F32(vec![0.0; 3]));
    write(
        &d.join("a.npy"),
        &[2, 3],
        NpyData::F32(vec![1.0, f32::NAN, 0.0, 1.0, 2.0, 3.0]),
    );
    write(&d.join("b.npy"), &[3, 2], NpyData::F32(vec![1.0; 6]));
    let cases: &[(&[&str], &str)] = &[
        (&["ortho", "v.npy"], "m×n or b×m×n"),
        (&["ortho", "a.npy"], "non-finite"),
        (
            &["ortho", "b.npy", "--schedule", "nope"],
            "unknown schedule",
        ),
        (&["ortho", "b.npy", "--backend", "cublas"], "cublas"),
        (&["muon", "--param", "b.npy", "--grad", "a.npy"], "shape"),
        (
            &["muon", "--param", "v.npy", "--grad", "v.npy"],
            "at least 2 dimensions",
        ),
        (
            &[
                "muon", "--param", "b.npy", "--grad", "b.npy", "--beta", "1.5",
            ],
            "momentum",
        ),
    ];
    for (args, needle) in cases {
        let out = bin().args(*args).current_dir(&d).output().unwrap();
        assert_clean_error(&out, needle);
    }
}

#[test]
fn spectrum_json_layers_plot_and_errors() {
    let d = tmpdir("spectrum");
    // diag(3, 4) padded: singular values (4, 3) exactly; raw, no centering.
    write(
        &d.join("m.npy"),
        &[3, 2],
        NpyData::F64(vec![3.0, 0.0, 0.0, 4.0, 0.0, 0.0]),
    );
    let out = run_ok(bin().args(["spectrum", "m.npy", "--json"]).current_dir(&d));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "rows",
        "cols",
        "centered",
        "method",
        "erank_sigma",
        "erank_energy",
        "entropy_sigma_nats",
        "entropy_energy_nats",
        "stable_rank",
        "participation_ratio",
        "numerical_rank",
        "rankme",
        "singular_values",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!((v["rows"].as_u64(), v["cols"].as_u64()), (Some(3), Some(2)));
    assert_eq!(v["centered"], false);
    let s: Vec<f64> = serde_json::from_value(v["singular_values"].clone()).unwrap();
    assert!((s[0] - 4.0).abs() < 1e-12 && (s[1] - 3.0).abs() < 1e-12);
    // Closed forms: stable rank (16 + 9)/16; energy weights (16, 9)/25.
    assert!((v["stable_rank"].as_f64().unwrap() - 25.0 / 16.0).abs() < 1e-12);
    let (p, q) = (16.0f64 / 25.0, 9.0f64 / 25.0);
    let h = -(p * p.ln() + q * q.ln());
    assert!((v["entropy_energy_nats"].as_f64().unwrap() - h).abs() < 1e-12);
    assert_eq!(v["numerical_rank"].as_u64(), Some(2));
    // 3-D: layers × samples × width, with centering and an SVG plot.
    let mut x = Vec::new();
    for l in 0..2 {
        for i in 0..40 {
            for j in 0..5 {
                x.push(((i * 7 + j * 3 + l) % 11) as f32 + 10.0);
            }
        }
    }
    write(&d.join("h.npy"), &[2, 40, 5], NpyData::F32(x));
    let out = run_ok(
        bin()
            .args(["spectrum", "h.npy", "--center", "--json", "--plot", "s.svg"])
            .current_dir(&d),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert!(
        layers
            .iter()
            .all(|l| l["centered"] == true && l["rows"] == 40)
    );
    let svg = std::fs::read_to_string(d.join("s.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("layer 1"));
    // The terminal table has one row per layer.
    let out = run_ok(
        bin()
            .args(["spectrum", "h.npy", "--center"])
            .current_dir(&d),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 layers of 40×5") && text.lines().count() >= 4,
        "{text}"
    );
    // Zero matrix: metrics are null, never NaN.
    write(&d.join("z.npy"), &[2, 2], NpyData::F64(vec![0.0; 4]));
    let out = run_ok(bin().args(["spectrum", "z.npy", "--json"]).current_dir(&d));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["erank_sigma"].is_null() && v["numerical_rank"] == 0);
    // Bad input.
    write(&d.join("v.npy"), &[3], NpyData::F32(vec![0.0; 3]));
    write(
        &d.join("n.npy"),
        &[2, 2],
        NpyData::F64(vec![1.0, f64::NAN, 0.0, 1.0]),
    );
    let cases: &[(&[&str], &str)] = &[
        (&["spectrum", "v.npy"], "layers × samples × width"),
        (&["spectrum", "n.npy"], "non-finite"),
        (&["spectrum", "m.npy", "--method", "qr"], "invalid value"),
        (&["spectrum", "m.npy", "--backend", "cublas"], "cublas"),
    ];
    for (args, needle) in cases {
        let out = bin().args(*args).current_dir(&d).output().unwrap();
        assert_clean_error(&out, needle);
    }
}

#[test]
fn spectrum_estimate_json_intervals_and_errors() {
    let d = tmpdir("spectrum_estimate");
    // 300 samples × 60, columns decaying as (1 + j)^(−0.7), an offset removed by --center.
    let (n, p) = (300usize, 60usize);
    let x: Vec<f64> = (0..n * p)
        .map(|k| {
            let u = ((k as u64).wrapping_mul(2_654_435_761) % 10_007) as f64 / 10_007.0 - 0.5;
            2.0 + u * (1.0 + (k % p) as f64).powf(-0.7)
        })
        .collect();
    write(&d.join("h.npy"), &[n, p], NpyData::F64(x.clone()));
    let exact = json_of(&run_ok(
        bin()
            .args(["spectrum", "h.npy", "--center", "--json"])
            .current_dir(&d),
    ));
    let est_args = [
        "spectrum",
        "h.npy",
        "--center",
        "--estimate",
        "--seed",
        "3",
        "--json",
    ];
    let est = json_of(&run_ok(bin().args(est_args).current_dir(&d)));
    assert_eq!(est["method"], "slq");
    for key in [
        "erank_energy",
        "entropy_energy_nats",
        "erank_sigma",
        "stable_rank",
        "participation_ratio",
        "rankme",
    ] {
        let (e, v) = (exact[key].as_f64().unwrap(), est[key].as_f64().unwrap());
        let iv = est["interval"][key].as_array().unwrap();
        let (lo, hi) = (iv[0].as_f64().unwrap(), iv[1].as_f64().unwrap());
        assert!((v / e - 1.0).abs() < 0.02, "{key}: {v} vs exact {e}");
        assert!(lo <= v && v <= hi, "{key}: {v} outside [{lo}, {hi}]");
    }
    assert!(est["probes"].as_u64().unwrap() >= 16 && est["products"].as_u64().unwrap() > 0);
    // Same seed, same report (timing aside); fixed probes and depth are honoured.
    let again = json_of(&run_ok(bin().args(est_args).current_dir(&d)));
    assert_eq!(again["erank_energy"], est["erank_energy"]);
    assert_eq!(again["interval"], est["interval"]);
    let fixed = json_of(&run_ok(
        bin()
            .args([
                "spectrum",
                "h.npy",
                "--estimate",
                "--probes",
                "8",
                "--lanczos-steps",
                "5",
                "--json",
            ])
            .current_dir(&d),
    ));
    assert_eq!(
        (fixed["probes"].as_u64(), fixed["lanczos_steps"].as_u64()),
        (Some(8), Some(5))
    );
    // 3-D input: one report per layer; the terminal table names the intervals.
    let mut x3 = x.clone();
    x3.extend(x.iter().map(|v| v * 3.0));
    write(&d.join("l.npy"), &[2, n, p], NpyData::F64(x3));
    let layers = json_of(&run_ok(
        bin()
            .args(["spectrum", "l.npy", "--center", "--estimate", "--json"])
            .current_dir(&d),
    ));
    assert_eq!(layers["layers"].as_array().unwrap().len(), 2);
    let text = run_ok(
        bin()
            .args(["spectrum", "l.npy", "--estimate"])
            .current_dir(&d),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("95 % intervals") && text.contains("layer 1"),
        "{text}"
    );
    // Bad combinations and a zero matrix are clean errors.
    write(&d.join("z.npy"), &[4, 3], NpyData::F64(vec![0.0; 12]));
    let cases: &[(&[&str], &str)] = &[
        (&["spectrum", "h.npy", "--probes", "8"], "--estimate"),
        (
            &["spectrum", "h.npy", "--estimate", "--method", "svd"],
            "exact spectrum only",
        ),
        (
            &["spectrum", "h.npy", "--estimate", "--plot", "s.svg"],
            "exact spectrum only",
        ),
        (
            &["spectrum", "h.npy", "--estimate", "--probes", "2"],
            "probes",
        ),
        (&["spectrum", "h.npy", "--estimate", "--rtol", "0"], "rtol"),
        (&["spectrum", "z.npy", "--estimate"], "zero matrix"),
    ];
    for (args, needle) in cases {
        let out = bin().args(*args).current_dir(&d).output().unwrap();
        assert_clean_error(&out, needle);
    }
}

/// The reference note's 4-token example as a 1-request batch: P [1, 2, 4], Q [1, 1, 4].
fn write_accept_inputs(d: &Path) {
    let p = [0.1, 0.2, 0.3, 0.4];
    let q = [0.4, 0.3, 0.2, 0.1];
    write(&d.join("p.npy"), &[1, 2, 4], NpyData::F64([p, p].concat()));
    write(&d.join("q.npy"), &[1, 1, 4], NpyData::F64(q.to_vec()));
    write(&d.join("t.npy"), &[1, 1], NpyData::I64(vec![0]));
    // Neighbours nearest first: 0:[1,2,3], 1:[0,2,3], 2:[3,1,0], 3:[2,1,0].
    write(
        &d.join("nb.npy"),
        &[4, 3],
        NpyData::I32(vec![1, 2, 3, 0, 2, 3, 3, 1, 0, 2, 1, 0]),
    );
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn accept_plain_analytic_and_trials() {
    let d = tmpdir("accept");
    write_accept_inputs(&d);
    let s = |p: &str| d.join(p).to_str().unwrap().to_string();
    let base = [
        "accept",
        "--target",
        &s("p.npy"),
        "--draft",
        &s("q.npy"),
        "--tokens",
        &s("t.npy"),
    ];
    // Plain: token 0 has p = 0.1 < q = 0.4: accepted w.p. 1/4; one or two tokens.
    let j = json_of(&run_ok(bin().args(base).args(["--json", "--seed", "3"])));
    let n = j["num_emitted"][0].as_u64().unwrap();
    assert!(n == 1 || n == 2, "{j}");
    assert!(j["errors"][0].is_null());
    assert_eq!(j["tokens"][0].as_array().unwrap().len(), 2);
    // Analytic LANTERN δ = .25: the note's counterexample (TV .30, acceptance .90).
    let j = json_of(&run_ok(bin().args(base).args([
        "--rule",
        "lantern",
        "--delta",
        "0.25",
        "--neighbors",
        &s("nb.npy"),
        "--analytic",
        "--json",
    ])));
    assert!(
        (j["tv_to_target"][0].as_f64().unwrap() - 0.30).abs() < 1e-12,
        "{j}"
    );
    assert!((j["acceptance_probability"][0].as_f64().unwrap() - 0.90).abs() < 1e-12);
    let law: Vec<f64> = j["first_token_distribution"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(max_diff(&law, &[0.3, 0.3, 0.225, 0.175]) < 1e-12);
    // COOL-SD ω = 1.5 analytic: TV .15; exact: law = p, acceptance .6.
    let j = json_of(&run_ok(bin().args(base).args([
        "--rule",
        "cool-sd",
        "--omega",
        "1.5",
        "--analytic",
        "--json",
    ])));
    assert!((j["tv_to_target"][0].as_f64().unwrap() - 0.15).abs() < 1e-12);
    let j = json_of(&run_ok(bin().args(base).args(["--analytic", "--json"])));
    assert!(j["tv_to_target"][0].as_f64().unwrap() < 1e-15);
    assert!((j["acceptance_probability"][0].as_f64().unwrap() - 0.6).abs() < 1e-12);
    // Trials: the empirical first-token law of the exact rule is p (n = 20000, 5σ per class).
    let j = json_of(&run_ok(bin().args([
        "accept",
        "--target",
        &s("p.npy"),
        "--draft",
        &s("q.npy"),
        "--trials",
        "20000",
        "--json",
    ])));
    let counts: Vec<f64> = j["first_token_counts"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (c, p) in counts.iter().zip([0.1, 0.2, 0.3, 0.4]) {
        let e = 20000.0 * p;
        assert!((c - e).abs() < 5.0 * (e * (1.0 - p)).sqrt(), "{counts:?}");
    }
    let mean = j["mean_emitted"][0].as_f64().unwrap();
    assert!(
        (mean - 1.6).abs() < 0.03,
        "mean emitted {mean} (1 + acceptance 0.6)"
    );
    // Human output works too.
    run_ok(bin().args(base));
}

#[test]
fn accept_bad_inputs_fail_cleanly() {
    let d = tmpdir("accept-bad");
    write_accept_inputs(&d);
    let s = |p: &str| d.join(p).to_str().unwrap().to_string();
    // Q with the wrong shape.
    write(&d.join("q2.npy"), &[1, 2, 4], NpyData::F64(vec![0.25; 8]));
    let out = bin()
        .args([
            "accept",
            "--target",
            &s("p.npy"),
            "--draft",
            &s("q2.npy"),
            "--tokens",
            &s("t.npy"),
        ])
        .output()
        .unwrap();
    assert_clean_error(&out, "--draft");
    // LANTERN without a table.
    let out = bin()
        .args([
            "accept",
            "--target",
            &s("p.npy"),
            "--draft",
            &s("q.npy"),
            "--tokens",
            &s("t.npy"),
            "--rule",
            "lantern",
        ])
        .output()
        .unwrap();
    assert_clean_error(&out, "--neighbors");
    // Negative token ids.
    write(&d.join("tn.npy"), &[1, 1], NpyData::I64(vec![-1]));
    let out = bin()
        .args([
            "accept",
            "--target",
            &s("p.npy"),
            "--draft",
            &s("q.npy"),
            "--tokens",
            &s("tn.npy"),
        ])
        .output()
        .unwrap();
    assert_clean_error(&out, "token");
    // A NaN row is a per-request error in the JSON, not a crash.
    let p = [f64::NAN, 0.2, 0.3, 0.4];
    write(&d.join("pn.npy"), &[1, 2, 4], NpyData::F64([p, p].concat()));
    let j = json_of(&run_ok(bin().args([
        "accept",
        "--target",
        &s("pn.npy"),
        "--draft",
        &s("q.npy"),
        "--tokens",
        &s("t.npy"),
        "--json",
    ])));
    assert!(
        j["errors"][0].as_str().unwrap().contains("NaN")
            || j["errors"][0].as_str().unwrap().contains("non-finite"),
        "{j}"
    );
    assert_eq!(j["num_emitted"][0], 0);
    // A token id out of the vocabulary: per-request error.
    write(&d.join("t9.npy"), &[1, 1], NpyData::I64(vec![9]));
    let j = json_of(&run_ok(bin().args([
        "accept",
        "--target",
        &s("p.npy"),
        "--draft",
        &s("q.npy"),
        "--tokens",
        &s("t9.npy"),
        "--json",
    ])));
    assert!(j["errors"][0].is_string());
}

fn flat_json(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat_json).collect(),
        serde_json::Value::String(s) if s == "-inf" => vec![f64::NEG_INFINITY],
        _ => vec![v.as_f64().unwrap()],
    }
}

#[test]
fn stft_and_istft_match_torch_fixtures_through_files() {
    let d = tmpdir("stft");
    let f = fixture_json("stft/stft_fixtures.json");
    // Every batched Hann/Hamming/Blackman case with reflect or constant padding.
    let mut ran = 0;
    for c in f["stft"].as_array().unwrap() {
        let kind = c["window"].as_str().unwrap();
        if c["error"] == true || c["batch"].is_null() || kind == "custom" {
            continue;
        }
        let b = c["batch"].as_u64().unwrap() as usize;
        let x = flat_json(&c["signal"]);
        let l = x.len() / b;
        let (input, output) = (d.join("x.npy"), d.join("s.npy"));
        write(&input, &[b, l], NpyData::F64(x));
        let mut cmd = bin();
        cmd.arg("stft").arg(&input).arg("-o").arg(&output);
        cmd.args([
            "--n-fft",
            &c["n_fft"].to_string(),
            "--hop",
            &c["hop"].to_string(),
        ]);
        cmd.args([
            "--win-length",
            &c["win_length"].to_string(),
            "--window",
            kind,
        ]);
        cmd.args(["--pad-mode", c["pad_mode"].as_str().unwrap(), "--json"]);
        for (key, flag, when) in [
            ("periodic", "--symmetric-window", false),
            ("center", "--no-center", false),
            ("onesided", "--two-sided", false),
            ("normalized", "--normalized", true),
        ] {
            if c[key].as_bool().unwrap() == when {
                cmd.arg(flag);
            }
        }
        let out = run_ok(&mut cmd);
        let report = json_of(&out);
        let a = npy::parse(&std::fs::read(&output).unwrap()).unwrap();
        let (re, im) = (flat_json(&c["re"]), flat_json(&c["im"]));
        let t = c["re"][0][0].as_array().unwrap().len();
        let fbins = re.len() / (b * t);
        assert_eq!(a.shape, vec![b, fbins, t], "{}", c["name"]);
        assert_eq!(report["shape"], serde_json::json!([b, fbins, t]));
        assert_eq!(report["dtype"], "complex128");
        let NpyData::C128(z) = a.data else {
            panic!("stft must write complex128 for float64 input")
        };
        let scale = re.iter().chain(&im).fold(1.0f64, |m, v| m.max(v.abs()));
        for ((g, r), i) in z.iter().zip(&re).zip(&im) {
            assert!(
                (g[0] - r).abs() <= 1e-12 * scale && (g[1] - i).abs() <= 1e-12 * scale,
                "{}",
                c["name"]
            );
        }
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} batched fixture cases");

    // f32 round trip through both subcommands: complex64 out, float32 back.
    let x: Vec<f32> = (0..3 * 1000)
        .map(|j| ((j * 37 % 101) as f32 / 50.0 - 1.0) * 0.5)
        .collect();
    write(&d.join("x32.npy"), &[3, 1000], NpyData::F32(x.clone()));
    run_ok(
        bin()
            .arg("stft")
            .arg(d.join("x32.npy"))
            .arg("-o")
            .arg(d.join("s32.npy"))
            .args(["--n-fft", "64", "--threads", "2"]),
    );
    let s = npy::parse(&std::fs::read(d.join("s32.npy")).unwrap()).unwrap();
    assert_eq!(s.shape, vec![3, 33, 1 + 1000 / 16]);
    assert!(matches!(s.data, NpyData::C64(_)));
    let out = run_ok(
        bin()
            .arg("istft")
            .arg(d.join("s32.npy"))
            .arg("-o")
            .arg(d.join("y32.npy"))
            .args(["--n-fft", "64", "--length", "1000", "--json"]),
    );
    assert_eq!(json_of(&out)["dtype"], "float32");
    let y = npy::parse(&std::fs::read(d.join("y32.npy")).unwrap()).unwrap();
    assert_eq!(y.shape, vec![3, 1000]);
    let back = y.to_f32_vec().unwrap();
    assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5));
    // A 1-D signal gives [F, T].
    write(&d.join("one.npy"), &[100], NpyData::F64(vec![0.25; 100]));
    run_ok(
        bin()
            .arg("stft")
            .arg(d.join("one.npy"))
            .arg("-o")
            .arg(d.join("one_s.npy"))
            .args(["--n-fft", "16", "--fft", "builtin"]),
    );
    assert_eq!(
        npy::parse(&std::fs::read(d.join("one_s.npy")).unwrap())
            .unwrap()
            .shape,
        vec![9, 26]
    );
}

#[test]
fn tiara_matches_the_numpy_fixture_through_files() {
    let d = tmpdir("tiara");
    let f = fixture_json("stft/tiara_fixtures.json");
    let mut ran = 0;
    for c in f["cases"].as_array().unwrap() {
        let w = &c["window"];
        if !c["far"].is_null() || w["kind"] != "blackman" {
            continue;
        }
        let (n, m) = (
            c["n"].as_u64().unwrap() as usize,
            c["m"].as_u64().unwrap() as usize,
        );
        write(
            &d.join("p.npy"),
            &[m, n, n],
            NpyData::F64(flat_json(&c["input"])),
        );
        let mut cmd = bin();
        cmd.arg("tiara")
            .arg(d.join("p.npy"))
            .arg("-o")
            .arg(d.join("o.npy"));
        cmd.args([
            "--alpha",
            &c["alpha"].to_string(),
            "--window-len",
            &w["len"].to_string(),
        ]);
        match (c["freq1"].as_f64(), c["freq2"].as_f64()) {
            (Some(f1), Some(f2)) => {
                cmd.args(["--freq1", &f1.to_string(), "--freq2", &f2.to_string()])
            }
            _ => cmd.args([
                "--phi1",
                &c["phi1"].to_string(),
                "--phi2",
                &c["phi2"].to_string(),
            ]),
        };
        if w["periodic"] == true {
            cmd.arg("--periodic-window");
        }
        if c["adaptive"] == false {
            cmd.arg("--fixed");
        }
        cmd.args(["--input", c["input_kind"].as_str().unwrap()]);
        run_ok(&mut cmd);
        let (shape, got) = read_f64(&d.join("o.npy"));
        assert_eq!(shape, vec![m, n, n]);
        assert!(
            max_diff(&got, &flat_json(&c["output"])) <= 1e-12,
            "{}",
            c["name"]
        );
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} fixture cases");
}

#[test]
fn stft_istft_tiara_bad_inputs_fail_cleanly() {
    let d = tmpdir("stft-bad");
    let mut p = vec![0.25f32; 2 * 16];
    p[21] = f32::NAN;
    write(&d.join("nan.npy"), &[2, 4, 4], NpyData::F32(p));
    let tiara = |file: &str, extra: &[&str]| {
        bin()
            .arg("tiara")
            .arg(d.join(file))
            .args(["--alpha", "5", "--window-len", "3"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert_clean_error(
        &tiara("nan.npy", &["--phi1", "1", "--phi2", "3"]),
        "index 21",
    );
    write(&d.join("rect.npy"), &[4, 3], NpyData::F32(vec![0.25; 12]));
    assert_clean_error(
        &tiara("rect.npy", &["--phi1", "1", "--phi2", "3"]),
        "square",
    );
    write(&d.join("ok.npy"), &[4, 4], NpyData::F32(vec![0.25; 16]));
    assert_clean_error(
        &tiara("ok.npy", &["--phi1", "3", "--phi2", "3"]),
        "phi1 < phi2",
    );
    assert_clean_error(&tiara("ok.npy", &[]), "--phi1");
    write(&d.join("sig.npy"), &[2, 6], NpyData::F32(vec![0.5; 12]));
    let stft = bin()
        .arg("stft")
        .arg(d.join("sig.npy"))
        .args(["--n-fft", "16"])
        .output()
        .unwrap();
    assert_clean_error(&stft, "reflect");
    let stft = bin()
        .arg("stft")
        .arg(d.join("nan.npy"))
        .args(["--n-fft", "4"])
        .output()
        .unwrap();
    assert_clean_error(&stft, "[B, L]");
    let istft = bin()
        .arg("istft")
        .arg(d.join("sig.npy"))
        .args(["--n-fft", "4"])
        .output()
        .unwrap();
    assert_clean_error(&istft, "complex");
    write(
        &d.join("spec.npy"),
        &[1, 5, 4],
        NpyData::C64(vec![[1.0, 0.0]; 20]),
    );
    let istft = bin()
        .arg("istft")
        .arg(d.join("spec.npy"))
        .args(["--n-fft", "16"])
        .output()
        .unwrap();
    assert_clean_error(&istft, "frequency bins");
    let istft = bin()
        .arg("istft")
        .arg(d.join("spec.npy"))
        .args([
            "--n-fft",
            "8",
            "--hop",
            "8",
            "--win-length",
            "4",
            "--no-center",
        ])
        .output()
        .unwrap();
    assert_clean_error(&istft, "hop <= win_length");
}

fn edge_pairs_json(v: &serde_json::Value) -> Vec<(u64, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap()))
        .collect()
}

#[test]
fn tree_matches_pgmpy_and_scipy_fixtures_through_files() {
    let d = tmpdir("tree");
    let f = fixture_json("tree/tree_fixtures.json");
    // Labelled CSV → pgmpy's edge set, names from the header.
    let out = run_ok(
        bin()
            .arg("tree")
            .arg(fixture("tree/labels.csv"))
            .args(["--kind", "discrete", "--json"]),
    );
    let j = json_of(&out);
    assert_eq!(
        edge_pairs_json(&j["edges"]),
        edge_pairs_json(&f["labels_csv"]["edges"])
    );
    assert_eq!(j["nodes"], f["labels_csv"]["names"]);
    assert_eq!(j["kind"], "discrete");
    assert_eq!(j["n_observed"], 6);
    // Integer .npy codes (samples × variables) → the same tree as the JSON fixture.
    let case = &f["pgmpy_binary"][3];
    let rows = case["data"].as_array().unwrap();
    let p = case["n_vars"].as_u64().unwrap() as usize;
    let codes: Vec<u8> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
        })
        .collect();
    write(&d.join("codes.npy"), &[rows.len(), p], NpyData::U8(codes));
    let out = run_ok(bin().arg("tree").arg(d.join("codes.npy")).args([
        "--kind",
        "discrete",
        "--json",
        "--threads",
        "2",
    ]));
    assert_eq!(
        edge_pairs_json(&json_of(&out)["edges"]),
        edge_pairs_json(&case["edges"])
    );
    // Gaussian .npy → SciPy's MST of the Gaussian MI, weights to 1e-12.
    for case in f["gaussian"].as_array().unwrap() {
        let file = fixture(&format!("tree/{}", case["file"].as_str().unwrap()));
        let j = json_of(&run_ok(
            bin()
                .arg("tree")
                .arg(&file)
                .args(["--kind", "gaussian", "--json", "--repeat", "2"]),
        ));
        assert_eq!(
            edge_pairs_json(&j["edges"]),
            edge_pairs_json(&case["edges"])
        );
        let p = case["n_vars"].as_u64().unwrap() as usize;
        let mi = flat_json(&case["mi"]);
        for e in j["edges"].as_array().unwrap() {
            let (a, b) = (
                e[0].as_u64().unwrap() as usize,
                e[1].as_u64().unwrap() as usize,
            );
            assert!((e[2].as_f64().unwrap() - mi[a * p + b]).abs() < 1e-12);
        }
        assert_eq!(j["timing"]["runs"], 2);
    }
}

#[test]
fn tree_latent_methods_and_formats() {
    let d = tmpdir("tree-latent");
    // Quartet ((0,1),(2,3)) as population distances: every latent method recovers it.
    let dist = vec![
        0.0, 2.0, 4.0, 4.0, 2.0, 0.0, 4.0, 4.0, 4.0, 4.0, 0.0, 2.0, 4.0, 4.0, 2.0, 0.0,
    ];
    write(&d.join("d.npy"), &[4, 4], NpyData::F64(dist));
    for method in ["rg", "clrg", "nj", "snj"] {
        let j = json_of(&run_ok(bin().arg("tree").arg(d.join("d.npy")).args([
            "--kind",
            "distances",
            "--method",
            method,
            "--json",
        ])));
        assert_eq!(j["n_nodes"], 6, "{method}");
        assert_eq!(j["nodes"][4], "h0");
        let total: f64 = j["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[2].as_f64().unwrap())
            .sum();
        assert!((total - 6.0).abs() < 1e-12, "{method}: {total}");
    }
    let out = run_ok(bin().arg("tree").arg(d.join("d.npy")).args([
        "--kind",
        "distances",
        "--method",
        "nj",
        "--format",
        "newick",
    ]));
    let newick = String::from_utf8(out.stdout).unwrap();
    assert!(
        newick.trim_end().ends_with(";") && newick.contains("h0") && newick.contains("h1"),
        "{newick}"
    );
    run_ok(
        bin()
            .arg("tree")
            .arg(d.join("d.npy"))
            .args([
                "--kind",
                "distances",
                "--method",
                "clrg",
                "--format",
                "dot",
                "-o",
            ])
            .arg(d.join("t.dot")),
    );
    let dot = std::fs::read_to_string(d.join("t.dot")).unwrap();
    assert!(dot.starts_with("graph tree {") && dot.matches(" -- ").count() == 5);
    // Chow–Liu on distances: the minimum spanning tree.
    let j = json_of(&run_ok(bin().arg("tree").arg(d.join("d.npy")).args([
        "--kind",
        "distances",
        "--json",
    ])));
    assert_eq!(j["n_nodes"], 4);
}

#[test]
fn tree_bad_inputs_fail_cleanly() {
    let d = tmpdir("tree-bad");
    let tree = |file: &str, extra: &[&str]| {
        bin()
            .arg("tree")
            .arg(d.join(file))
            .args(extra)
            .output()
            .unwrap()
    };
    std::fs::write(d.join("ragged.csv"), "a,b,c\nx,y,z\nx,y\n").unwrap();
    assert_clean_error(&tree("ragged.csv", &["--kind", "discrete"]), "line 3");
    std::fs::write(d.join("empty.csv"), "a,b\nx,\n").unwrap();
    assert_clean_error(&tree("empty.csv", &["--kind", "discrete"]), "empty field");
    let mut x = vec![0.5f64; 20];
    x[7] = f64::NAN;
    write(&d.join("nan.npy"), &[10, 2], NpyData::F64(x));
    assert_clean_error(
        &tree("nan.npy", &["--kind", "gaussian"]),
        "sample 3, variable 1",
    );
    write(
        &d.join("float.npy"),
        &[3, 2],
        NpyData::F64(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    );
    assert_clean_error(
        &tree("float.npy", &["--kind", "discrete"]),
        "--kind gaussian",
    );
    write(
        &d.join("const.npy"),
        &[5, 2],
        NpyData::F64(vec![1.0, 2.0, 1.0, 3.0, 1.0, 4.0, 1.0, 5.0, 1.0, 6.0]),
    );
    assert_clean_error(&tree("const.npy", &["--kind", "gaussian"]), "constant");
    assert_clean_error(&tree("float.npy", &["--kind", "distances"]), "square");
    write(
        &d.join("asym.npy"),
        &[2, 2],
        NpyData::F64(vec![0.0, 1.0, 2.0, 0.0]),
    );
    assert_clean_error(
        &tree("asym.npy", &["--kind", "distances", "--method", "clrg"]),
        "symmetric",
    );
    write(
        &d.join("codes.npy"),
        &[3, 2],
        NpyData::U8(vec![0, 1, 1, 0, 0, 1]),
    );
    assert_clean_error(
        &tree("codes.npy", &["--kind", "discrete", "--robust-trim", "1"]),
        "--kind gaussian",
    );
    assert_clean_error(&tree("codes.npy", &[]), "--kind");
    write(&d.join("cube.npy"), &[2, 2, 2], NpyData::F64(vec![0.0; 8]));
    assert_clean_error(&tree("cube.npy", &["--kind", "gaussian"]), "2-D");
}

#[test]
fn tree_flags_that_do_not_apply_are_errors() {
    let d = tmpdir("tree-flags");
    let dist = vec![
        0.0, 2.0, 4.0, 4.0, 2.0, 0.0, 4.0, 4.0, 4.0, 4.0, 0.0, 2.0, 4.0, 4.0, 2.0, 0.0,
    ];
    write(&d.join("d.npy"), &[4, 4], NpyData::F64(dist));
    let tree = |extra: &[&str]| {
        bin()
            .arg("tree")
            .arg(d.join("d.npy"))
            .args(["--kind", "distances"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert_clean_error(
        &tree(&["--method", "nj", "--contract", "0.1"]),
        "--contract",
    );
    assert_clean_error(&tree(&["--method", "snj", "--eps", "0.1"]), "--eps");
    assert_clean_error(
        &tree(&["--method", "clrg", "--miller-madow"]),
        "--miller-madow",
    );
    assert_clean_error(
        &tree(&["--method", "clrg", "--format", "dot", "--json"]),
        "-o OUT",
    );
    assert_clean_error(&tree(&["--center", "mean"]), "--robust-trim");
    std::fs::write(d.join("noheader.csv"), "1,2\n3,4\n1,2\n").unwrap();
    let out = bin()
        .arg("tree")
        .arg(d.join("noheader.csv"))
        .args(["--kind", "discrete"])
        .output()
        .unwrap();
    assert_clean_error(&out, "header");
    // A constant binary column (one observed state) with a latent method: padded to the common
    // state count, not an error.
    std::fs::write(
        d.join("c.csv"),
        "a,b,c,d\n0,1,1,0\n1,1,0,0\n0,1,1,1\n1,1,0,1\n0,1,0,0\n",
    )
    .unwrap();
    run_ok(
        bin()
            .arg("tree")
            .arg(d.join("c.csv"))
            .args(["--kind", "discrete", "--method", "nj"]),
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 23: absurd flags and shapes under a capped address space. Every case must exit 2 with
// exactly one line on stderr, within a time limit, while the process cannot map more than
// 4 GiB: an attempted huge allocation then fails (an abort, "memory allocation … failed")
// instead of passing by luck on a machine with a lot of memory, and a hang is killed and fails.
// ---------------------------------------------------------------------------------------------

/// The address-space cap, in KiB (`ulimit -v`): 4 GiB, room for rayon's thread stacks and
/// glibc's per-thread arenas, far below the 2⁴⁰-scale buffers the cases ask for.
const CAP_KIB: u64 = 4 << 20;
/// A case that runs longer than this is a hang.
const HANG_S: u64 = 20;

/// What a capped run gave: the exit code (`None` when a signal ended it: an abort), stderr, or
/// `Err` when it was killed after [`HANG_S`] seconds.
fn run_capped<S: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    case: &str,
    args: &[S],
) -> Result<(Option<i32>, String), String> {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let err_path = dir.join(format!("{case}.stderr"));
    let err_file = std::fs::File::create(&err_path).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(r#"ulimit -v {CAP_KIB} || exit 97; exec "$0" "$@""#))
        .arg(env!("CARGO_BIN_EXE_mlkern"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > Duration::from_secs(HANG_S) {
            // `exec` made the shell the binary itself: this kills mlkern, nothing else.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{case}: still running after {HANG_S} s (a hang)"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert_ne!(status.code(), Some(97), "{case}: `ulimit -v` failed");
    Ok((status.code(), stderr))
}

/// The needle of a case whose input is empty (a zero dimension beside absurd ones) and whose
/// empty result is a valid answer: exit 0 is accepted, as is exit 2 with one line; an abort, a
/// panic or a hang is not.
const EMPTY_OK: &str = "\0 empty result accepted";

/// One absurd case: exit 2, one line on stderr (containing `needle`), no panic, no abort, no
/// hang, under the cap. Returns the failure instead of panicking so a test reports them all.
fn absurd_case(dir: &Path, case: &str, args: &[&str], needle: &str) -> Option<String> {
    let (code, stderr) = match run_capped(dir, case, args) {
        Ok(r) => r,
        Err(hang) => return Some(hang),
    };
    let lines = stderr.trim_end().lines().count();
    eprintln!("{case}: exit {code:?}: {}", stderr.trim_end());
    if needle == EMPTY_OK && code == Some(0) && !stderr.contains("panicked") {
        return None;
    }
    let needle = if needle == EMPTY_OK { "" } else { needle };
    if code != Some(2)
        || lines != 1
        || stderr.contains("panicked")
        || stderr.contains("internal error")
        || !stderr.contains(needle)
    {
        return Some(format!(
            "{case}: exit {code:?} (expected 2), {lines} line(s) on stderr (expected 1, with \
             {needle:?}): {stderr:?}"
        ));
    }
    None
}

/// Runs every case, then fails once listing every case that did not hold.
fn absurd_cases(dir: &Path, cases: &[(&str, Vec<String>, &str)]) -> usize {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(case, args, needle)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            absurd_case(dir, case, &args, needle)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} case(s) failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// `.npy` files whose shapes are absurd but whose data is empty (a zero dimension), so that they
/// parse: only code that sizes something by the other dimensions alone can go wrong.
fn write_absurd_inputs(d: &Path) {
    let t40 = 1usize << 40;
    let empty = |name: &str, shape: &[usize]| write(&d.join(name), shape, NpyData::F32(vec![]));
    empty("rows40.npy", &[t40, 0]);
    empty("cols40.npy", &[0, t40]);
    empty("rows16.npy", &[1 << 16, 0]);
    empty("cols16.npy", &[0, 1 << 16]);
    empty("rows31.npy", &[1 << 31, 0]);
    empty("cols31.npy", &[0, 1 << 31]);
    empty("batch40.npy", &[t40, 0, 4]);
    empty("huge_empty3.npy", &[0, t40, t40]);
    empty("mats40.npy", &[0, t40, t40]);
    empty("layers40.npy", &[t40, 0, 8]);
    empty("rows_max.npy", &[usize::MAX, 0]);
    write(&d.join("m8x16.npy"), &[8, 16], NpyData::F32(vec![0.5; 128]));
    write(&d.join("sig.npy"), &[2, 256], NpyData::F32(vec![0.25; 512]));
    write(
        &d.join("spec.npy"),
        &[33, 17],
        NpyData::C64(vec![[0.5, 0.0]; 33 * 17]),
    );
    write(
        &d.join("att.npy"),
        &[2, 8, 8],
        NpyData::F32(vec![0.125; 128]),
    );
    // accept: B, k+1, V with one of them zero and the others absurd.
    write(&d.join("p_b40.npy"), &[t40, 1, 0], NpyData::F32(vec![]));
    write(&d.join("t_b40.npy"), &[t40, 0], NpyData::I64(vec![]));
    write(&d.join("p_k40.npy"), &[0, t40 + 1, 5], NpyData::F32(vec![]));
    write(&d.join("q_k40.npy"), &[0, t40, 5], NpyData::F32(vec![]));
    write(&d.join("p_v40.npy"), &[0, 2, t40], NpyData::F32(vec![]));
    write(&d.join("q_v40.npy"), &[0, 1, t40], NpyData::F32(vec![]));
    write(&d.join("t_v40.npy"), &[0, 1], NpyData::I64(vec![]));
    write(&d.join("p_ok.npy"), &[1, 2, 4], NpyData::F32(vec![0.25; 8]));
    write(&d.join("q_ok.npy"), &[1, 1, 4], NpyData::F32(vec![0.25; 4]));
    write(&d.join("t_ok.npy"), &[1, 1], NpyData::I64(vec![2]));
    write(
        &d.join("nb_ok.npy"),
        &[4, 1],
        NpyData::I64(vec![1, 0, 3, 2]),
    );
    write(&d.join("nb_w40.npy"), &[4, t40], NpyData::I64(vec![]));
    write(
        &d.join("x_ok.npy"),
        &[6, 3],
        NpyData::F64((0..18).map(|i| f64::from(i % 5) * 0.3 + 0.1).collect()),
    );
}

/// Every case holds under the cap; a valid run under the same cap (rayon threads included)
/// still succeeds, so the cap itself is not what makes the cases fail.
#[test]
fn absurd_flags_and_shapes_exit_2_under_a_capped_address_space() {
    let d = tmpdir("absurd");
    write_absurd_inputs(&d);
    let sanity = run_capped(&d, "sanity", &words("ortho m8x16.npy -o o.npy --threads 4")).unwrap();
    assert_eq!(
        sanity.0,
        Some(0),
        "a valid run fails under the cap: {}",
        sanity.1
    );
    let sanity = run_capped(
        &d,
        "sanity-stft",
        &words("stft sig.npy --n-fft 64 --threads 4"),
    );
    assert_eq!(
        sanity.unwrap().0,
        Some(0),
        "a valid stft fails under the cap"
    );

    let t40 = (1u64 << 40).to_string();
    let max = u64::MAX.to_string();
    let umax = usize::MAX.to_string();
    let mut cases: Vec<(&str, Vec<String>, &str)> = Vec::new();
    let mut case = |name: &'static str, args: String, needle: &'static str| {
        cases.push((name, words(&args), needle));
    };
    // Flags every timed subcommand shares (clap rejects them: one line, exit 2).
    for (sub, files) in [
        ("matmul", "m8x16.npy m8x16.npy"),
        ("ortho", "m8x16.npy"),
        ("spectrum", "m8x16.npy"),
        ("stft", "sig.npy --n-fft 64"),
        (
            "tiara",
            "att.npy --alpha 5 --window-len 3 --phi1 1 --phi2 3",
        ),
        ("tree", "x_ok.npy --kind gaussian"),
        ("demo", ""),
    ] {
        for (flag, value) in [
            ("--threads", t40.as_str()),
            ("--threads", "4294967295"),
            ("--threads", "1025"),
            ("--threads", "0"),
            ("--repeat", "1000000000000"),
            ("--repeat", "4294967295"),
            ("--repeat", "100001"),
            ("--repeat", "0"),
        ] {
            let name: &'static str = Box::leak(format!("{sub} {flag} {value}").into_boxed_str());
            case(name, format!("{sub} {files} {flag} {value}"), flag);
        }
    }
    // matmul: A (m×0) · B (0×n) is empty input with an m×n output.
    case(
        "matmul 2^40×0·0×2^40",
        "matmul rows40.npy cols40.npy".into(),
        "C = A·B",
    );
    case(
        "matmul 2^31×0·0×2^31",
        "matmul rows31.npy cols31.npy".into(),
        "C = A·B",
    );
    case(
        "matmul 2^16×0·0×2^16 (16 GiB)",
        "matmul rows16.npy cols16.npy".into(),
        "C = A·B",
    );
    case(
        "matmul usize::MAX×0·0×2^40",
        "matmul rows_max.npy cols40.npy".into(),
        "C = A·B",
    );
    case(
        "matmul 2^40×0·8×16",
        "matmul rows40.npy m8x16.npy".into(),
        "",
    );
    case("ortho 2^40×0", "ortho rows40.npy -o o.npy".into(), EMPTY_OK);
    case("ortho 0×2^40", "ortho cols40.npy -o o.npy".into(), EMPTY_OK);
    // ortho / muon: batch dimension alone, absurd steps.
    case("ortho 2^40×0×4", "ortho batch40.npy -o o.npy".into(), "");
    case(
        "ortho --steps 2^64",
        format!("ortho m8x16.npy --steps {max}0"),
        "--steps",
    );
    case(
        "muon 2^40×0",
        "muon --param rows40.npy --grad rows40.npy".into(),
        EMPTY_OK,
    );
    case(
        "muon 0×2^40",
        "muon --param cols40.npy --grad cols40.npy".into(),
        EMPTY_OK,
    );
    case(
        "muon 2^40×0 with momentum",
        "muon --param rows40.npy --grad rows40.npy --momentum rows40.npy".into(),
        EMPTY_OK,
    );
    case(
        "muon --steps 2^64",
        format!("muon --param m8x16.npy --grad m8x16.npy --steps {max}0"),
        "--steps",
    );
    case(
        "muon --threads 2^40",
        format!("muon --param m8x16.npy --grad m8x16.npy --threads {t40}"),
        "--threads",
    );
    case(
        "muon --repeat 10^12",
        "muon --param m8x16.npy --grad m8x16.npy --repeat 1000000000000".into(),
        "--repeat",
    );
    // spectrum: layers alone, overflowing layer size.
    case("spectrum 2^40×0×8", "spectrum layers40.npy".into(), "empty");
    case(
        "spectrum 0×2^40×2^40",
        "spectrum huge_empty3.npy".into(),
        "spectrum layer",
    );
    // An empty matrix has an empty spectrum (as 0×5 does): exit 0 or 2, never a hang.
    case("spectrum 0×2^40", "spectrum cols40.npy".into(), EMPTY_OK);
    // accept: B, k or V alone, and the trial count.
    case(
        "accept B=2^40",
        "accept --target p_b40.npy --tokens t_b40.npy --one-hot".into(),
        "",
    );
    case(
        "accept k=2^40 cool-sd",
        "accept --target p_k40.npy --draft q_k40.npy --rule cool-sd --trials 1".into(),
        "",
    );
    case(
        "accept V=2^40 analytic",
        "accept --target p_v40.npy --draft q_v40.npy --tokens t_v40.npy --analytic".into(),
        "",
    );
    case(
        "accept --trials 10^12",
        "accept --target p_ok.npy --draft q_ok.npy --trials 1000000000000".into(),
        "--trials",
    );
    case(
        "accept --trials 4294967295",
        "accept --target p_ok.npy --draft q_ok.npy --trials 4294967295".into(),
        "--trials",
    );
    case(
        "accept --trials 10^7+1",
        "accept --target p_ok.npy --draft q_ok.npy --trials 10000001".into(),
        "--trials",
    );
    case(
        "accept --k 2^40 lantern",
        format!(
            "accept --target p_ok.npy --draft q_ok.npy --tokens t_ok.npy --neighbors nb_ok.npy \
             --rule lantern --k {t40}"
        ),
        "",
    );
    case(
        "accept neighbours V×2^40",
        "accept --target p_ok.npy --draft q_ok.npy --tokens t_ok.npy --neighbors nb_w40.npy \
         --rule lantern"
            .into(),
        "too short",
    );
    case(
        "accept --threads 2^40",
        format!("accept --target p_ok.npy --draft q_ok.npy --tokens t_ok.npy --threads {t40}"),
        "--threads",
    );
    case(
        "accept --repeat 2^32-1",
        "accept --target p_ok.npy --draft q_ok.npy --tokens t_ok.npy --repeat 4294967295".into(),
        "--repeat",
    );
    // stft / istft: absurd framing beyond the n_fft repros (those are in `issue_23_repros`).
    case("stft --n-fft 0", "stft sig.npy --n-fft 0".into(), "n-fft");
    case(
        "stft --n-fft 2^64",
        format!("stft sig.npy --n-fft {max}0"),
        "n-fft",
    );
    case(
        "stft --hop 0",
        "stft sig.npy --n-fft 64 --hop 0".into(),
        "hop",
    );
    case(
        "stft --hop 2^64",
        format!("stft sig.npy --n-fft 64 --hop {max}0"),
        "hop",
    );
    case(
        "stft --win-length 2^40",
        format!("stft sig.npy --n-fft 64 --win-length {t40}"),
        "win_length",
    );
    case(
        "stft --win-length 0",
        "stft sig.npy --n-fft 64 --win-length 0".into(),
        "win_length",
    );
    case(
        "stft --win-length 2^64",
        format!("stft sig.npy --n-fft 64 --win-length {max}0"),
        "win-length",
    );
    case("stft 2^40×0", "stft rows40.npy --n-fft 64".into(), "");
    case(
        "istft --hop 0",
        "istft spec.npy --n-fft 64 --hop 0".into(),
        "hop",
    );
    case(
        "istft --n-fft 0",
        "istft spec.npy --n-fft 0".into(),
        "n-fft",
    );
    case(
        "istft --n-fft 2^64",
        format!("istft spec.npy --n-fft {max}0"),
        "n-fft",
    );
    case(
        "istft --length 2^64",
        format!("istft spec.npy --n-fft 64 --length {max}0"),
        "length",
    );
    case(
        "istft 2^40×0 real",
        "istft rows40.npy --n-fft 64".into(),
        "no frames",
    );
    case(
        "istft --length usize::MAX",
        format!("istft spec.npy --n-fft 64 --hop 16 --length {umax}"),
        "",
    );
    case(
        "istft --win-length 2^40",
        format!("istft spec.npy --n-fft 64 --win-length {t40}"),
        "",
    );
    case(
        "istft wrong bins, 2^40",
        format!("istft spec.npy --n-fft {t40}"),
        "",
    );
    // tiara: N alone, absurd window and band.
    case(
        "tiara --window-len 2^40",
        format!("tiara att.npy --alpha 5 --window-len {t40} --phi1 1 --phi2 3"),
        "",
    );
    case(
        "tiara --window-len 0",
        "tiara att.npy --alpha 5 --window-len 0 --phi1 1 --phi2 3".into(),
        "",
    );
    case(
        "tiara --phi2 2^40",
        format!("tiara att.npy --alpha 5 --window-len 3 --phi1 1 --phi2 {t40}"),
        "",
    );
    // tree: variables alone, samples alone, absurd trim.
    case(
        "tree 0×2^40 gaussian",
        "tree cols40.npy --kind gaussian".into(),
        "no data",
    );
    case(
        "tree 2^40×0 gaussian",
        "tree rows40.npy --kind gaussian".into(),
        "no data",
    );
    case(
        "tree 0×2^40 discrete",
        "tree cols40.npy --kind discrete".into(),
        "",
    );
    case(
        "tree 0×2^40 distances",
        "tree cols40.npy --kind distances".into(),
        "",
    );
    case(
        "tree --robust-trim 2^40",
        format!("tree x_ok.npy --kind gaussian --robust-trim {t40}"),
        "",
    );
    case(
        "tree --robust-trim usize::MAX",
        format!("tree x_ok.npy --kind gaussian --robust-trim {umax}"),
        "",
    );
    let n = absurd_cases(&d, &cases);
    assert!(n >= 100, "{n} cases");
}

/// The three reproductions of issue 23. They are fixed in the library (`stft::Stft::new`,
/// the ISTFT output length, the Newton–Schulz step limit); on a branch without those fixes
/// they fail here (an abort under the cap, or a hang killed after 20 s), not by hanging the test.
#[test]
fn issue_23_repros_exit_2_under_a_capped_address_space() {
    let d = tmpdir("issue23");
    write_absurd_inputs(&d);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "stft --n-fft 2^40",
            words("stft sig.npy -o o.npy --n-fft 1099511627776"),
            "",
        ),
        (
            "stft --n-fft 10^11",
            words("stft sig.npy -o o.npy --n-fft 100000000000"),
            "",
        ),
        (
            "istft --length 2^40",
            words("istft spec.npy -o o.npy --n-fft 64 --hop 16 --length 1099511627776"),
            "",
        ),
        (
            "ortho --steps 10^12 on 8×16",
            words("ortho m8x16.npy -o o.npy --steps 1000000000000"),
            "",
        ),
        (
            "muon --steps 10^12 on 8×16",
            words("muon --param m8x16.npy --grad m8x16.npy --steps 1000000000000"),
            "",
        ),
        // Found by this battery; fixed in the library by the ortho, spectrum and stft (TiARA)
        // families.
        (
            "ortho --steps usize::MAX",
            words(&format!("ortho m8x16.npy --steps {}", usize::MAX)),
            "",
        ),
        ("spectrum 2^40×0", words("spectrum rows40.npy"), EMPTY_OK),
        (
            "tiara 0×2^40×2^40",
            words("tiara mats40.npy --alpha 5 --window-len 3 --phi1 1 --phi2 3"),
            "",
        ),
    ];
    absurd_cases(&d, &cases);
}
