#!/usr/bin/env bash
# Builds the binaries scripts/gpu-check.sh runs on a GPU machine (no Rust toolchain there) into
# BIN_DIR (default: gpu-bin, git-ignored). x86-64 Linux, glibc ≥ 2.34 on the target.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-gpu-bin}"
mkdir -p "$BIN"
exe() { python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$1" | tail -1; }
cp "$(cargo test --release --features cublas --test gpu --no-run --message-format=json | exe gpu)" "$BIN/gpu-tests"
cp "$(cargo bench --features cublas --bench gpu --no-run --message-format=json | exe gpu)" "$BIN/gpu-bench"
cargo build --release --features cli,cublas
cp target/release/mlkern "$BIN/mlkern"
ls -l "$BIN"
