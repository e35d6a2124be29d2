#!/usr/bin/env bash
# One prepared GPU check, for a machine with an NVIDIA GPU, CUDA 13 and PyTorch but no Rust
# toolchain and no network.
#
#   scripts/gpu-check.sh [BIN_DIR]      (default: gpu-bin)
#
# BIN_DIR holds x86-64 binaries built elsewhere by scripts/gpu-build.sh:
#   gpu-tests   the GPU integration tests (cargo test --features cublas --test gpu)
#   gpu-bench   the GPU timings (cargo bench --features cublas --bench gpu)
#   mlkern      the CLI (--features cli,cublas)
# Prints the driver/cuBLAS versions, runs the tests, runs the CLI once on the GPU, then times
# mlkern's GPU NS5 and PyTorch's eager NS5 side by side and prints the ratio table.
# Results go to $OUT (or a temporary folder). Exit status: 0 only when every step passed.
set -uo pipefail
BIN="$(cd "${1:-gpu-bin}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
RES="${OUT:-$(mktemp -d)}"
mkdir -p "$RES"
status=0
step() { printf '\n=== %s\n' "$*"; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || status=1
python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' || status=1

# mlkern loads libcuda/libcublas at run time by soname: make the CUDA toolkit's and PyTorch's
# pip-installed NVIDIA libraries findable.
libs=$(python3 - <<'PY'
import glob, os, site
dirs = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"]
for sp in site.getsitepackages():
    dirs += sorted({os.path.dirname(p) for p in glob.glob(sp + "/nvidia/**/libcublas*.so*", recursive=True)})
print(":".join(d for d in dirs if os.path.isdir(d)))
PY
)
if [ -n "$libs" ]; then
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

step "GPU tests"
"$BIN/gpu-tests" --test-threads=1 --nocapture 2>&1 | tee "$RES/tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
if grep -q "skipped: no GPU" "$RES/tests.txt"; then
  echo "GPU tests skipped: mlkern could not open the GPU (see above)"; status=1
fi

step "CLI: mlkern ortho --backend cublas"
python3 -c 'import numpy as np; np.save("'"$RES"'/g.npy", np.random.default_rng(0).standard_normal((3, 256, 1024)).astype(np.float32))' || status=1
for p in f32 bf16; do
  "$BIN/mlkern" ortho "$RES/g.npy" -o "$RES/o-$p.npy" --backend cublas --precision $p --algo auto --repeat 5 || status=1
done
python3 - "$RES" <<'PY' || status=1
import sys, numpy as np
r = sys.argv[1]
for p in ("f32", "bf16"):
    o = np.load(f"{r}/o-{p}.npy").astype(np.float64)
    s = np.linalg.svd(o, compute_uv=False)
    ok = 0.6 <= s.min() and s.max() <= 1.25
    print(f"{p}: output singular values in [{s.min():.3f}, {s.max():.3f}] (Keller Jordan band ≈ [0.68, 1.2]): {'ok' if ok else 'OUT OF BAND'}")
    if not ok:
        sys.exit(1)
PY
step "CLI: mlkern spectrum --backend cublas (vs NumPy SVD of the centered layers)"
"$BIN/mlkern" spectrum "$RES/g.npy" --backend cublas --center --json > "$RES/spectrum-f32.json" || status=1
python3 - "$RES" <<'PY' || status=1
import json, sys, numpy as np
r = sys.argv[1]
g = np.load(f"{r}/g.npy").astype(np.float64)
got = json.loads(open(f"{r}/spectrum-f32.json").read())["layers"]
for l, layer in enumerate(got):
    x = g[l] - g[l].mean(0)
    s = np.linalg.svd(x, compute_uv=False)
    err = np.max(np.abs(np.array(layer["singular_values"]) ** 2 - s ** 2)) / s[0] ** 2
    print(f"spectrum --backend cublas layer {l}: max |Δσ²|/σ₁² = {err:.2e}")
    if err > 1e-4:
        sys.exit(1)
PY

step "timings: mlkern GPU bench"
"$BIN/gpu-bench" --json | tee "$RES/mlkern.jsonl"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "timings: the same shapes in PyTorch eager, ratio table"
python3 "$HERE/gpu_compare.py" "$RES/mlkern.jsonl" 2>&1 | tee "$RES/compare.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "done (status $status); results in $RES"
exit $status
