//! The `mlkern` binary: file round trips, the JSON contract, and bad input → one line, exit 2.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
