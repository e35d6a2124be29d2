//! `mpiexec -n R mlkern ortho|spectrum|tree` against the same subcommands in one process
//! (features `cli` and `mpi`; needs MPICH's `mpiexec`, or set `MPIEXEC`). Inputs are written
//! with mlkern's own `.npy` writer into a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlkern::io::npy::{self, NpyArray, NpyData};

const BIN: &str = env!("CARGO_BIN_EXE_mlkern");

fn launcher() -> String {
    std::env::var("MPIEXEC").unwrap_or_else(|_| "mpiexec".into())
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlkern-cli-mpi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn save(path: &Path, shape: Vec<usize>, data: NpyData) {
    std::fs::write(path, npy::to_bytes(&NpyArray::new(shape, data).unwrap())).unwrap();
}

fn load(path: &Path) -> Vec<f64> {
    npy::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .to_f64_vec()
        .unwrap()
}

/// Runs the CLI once alone and once under `mpiexec -n ranks`; both must succeed.
fn both(ranks: usize, args: &[&str]) -> (Output, Output) {
    let one = Command::new(BIN).args(args).output().unwrap();
    let many = Command::new(launcher())
        .args(["-n", &ranks.to_string(), BIN])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {} ({e}): install MPICH", launcher()));
    for o in [&one, &many] {
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (one, many)
}

use common::values;

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    (d / b.iter().map(|y| y * y).sum::<f64>()).sqrt()
}

#[test]
fn ortho_over_ranks_matches_one_process() {
    let d = dir();
    // Wide f64 (column split) and tall f32 (row split), Gram and standard.
    let wide = d.join("wide.npy");
    save(&wide, vec![24, 90], NpyData::F64(values(24 * 90, 1)));
    let tall = d.join("tall.npy");
    save(
        &tall,
        vec![70, 16],
        NpyData::F32(values(70 * 16, 2).iter().map(|&x| x as f32).collect()),
    );
    for (input, tol) in [(&wide, 1e-12), (&tall, 2e-6)] {
        for algo in ["standard", "gram"] {
            let (a, b) = (d.join("one.npy"), d.join("many.npy"));
            let i = input.to_str().unwrap();
            let one = ["ortho", i, "-o", a.to_str().unwrap(), "--algo", algo];
            let many = ["ortho", i, "-o", b.to_str().unwrap(), "--algo", algo];
            Command::new(BIN).args(one).output().unwrap();
            both(3, &many);
            let e = rel(&load(&b), &load(&a));
            assert!(e <= tol, "{input:?} {algo}: {e:e}");
        }
    }
}

#[test]
fn more_ranks_than_the_long_side() {
    // A 2×2 matrix over 3 ranks (one rank holds no column) and 2 samples over 3 ranks.
    let d = dir();
    let small = d.join("small.npy");
    save(&small, vec![2, 2], NpyData::F64(vec![3.0, 1.0, 0.5, 2.0]));
    let (a, b) = (d.join("small1.npy"), d.join("small3.npy"));
    Command::new(BIN)
        .args(["ortho", small.to_str().unwrap(), "-o", a.to_str().unwrap()])
        .output()
        .unwrap();
    both(
        3,
        &["ortho", small.to_str().unwrap(), "-o", b.to_str().unwrap()],
    );
    assert!(rel(&load(&b), &load(&a)) < 1e-14);
    both(
        3,
        &["spectrum", small.to_str().unwrap(), "--center", "--json"],
    );
}

#[test]
fn spectrum_and_tree_over_ranks_match_one_process() {
    let d = dir();
    let h = d.join("hidden.npy");
    let x: Vec<f64> = values(300 * 12, 3)
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + (i % 12) as f64) + 2.0)
        .collect();
    save(&h, vec![300, 12], NpyData::F64(x));
    let (one, many) = both(
        3,
        &[
            "spectrum",
            h.to_str().unwrap(),
            "--center",
            "--json",
            "--method",
            "gram",
        ],
    );
    let j = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    let (a, b) = (j(&one), j(&many));
    for key in [
        "erank_energy",
        "erank_sigma",
        "stable_rank",
        "participation_ratio",
        "rankme",
    ] {
        let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
        assert!((x - y).abs() <= 1e-12 * x.abs(), "{key}: {x} vs {y}");
    }
    // Discrete Chow–Liu on integer codes: the same edges, weights to rounding.
    let codes = d.join("codes.npy");
    let mut v = 0i64;
    let c: Vec<i64> = values(400 * 6, 4)
        .iter()
        .map(|&u| {
            if u > 0.2 {
                v = (v + 1) % 3;
            }
            v
        })
        .collect();
    save(&codes, vec![400, 6], NpyData::I64(c));
    for kind in ["discrete", "gaussian"] {
        let input = if kind == "discrete" { &codes } else { &h };
        let (one, many) = both(2, &["tree", input.to_str().unwrap(), "--kind", kind]);
        let (a, b) = (j(&one), j(&many));
        let edges = |v: &serde_json::Value| {
            v["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e[0].as_u64(), e[1].as_u64()))
                .collect::<Vec<_>>()
        };
        assert_eq!(edges(&a), edges(&b), "{kind}");
    }
}

#[test]
fn errors_over_ranks_are_one_line_and_exit_2() {
    let out = Command::new(launcher())
        .args([
            "-n",
            "2",
            BIN,
            "ortho",
            "/nonexistent/x.npy",
            "-o",
            "/tmp/never.npy",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = Command::new(launcher())
        .args(["-n", "2", BIN, "demo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only ortho, spectrum and tree"));
}
