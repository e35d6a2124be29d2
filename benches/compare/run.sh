#!/usr/bin/env bash
# Side-by-side benchmark of the mlkern CLI against numpy / scipy / torch / pgmpy.
#
#   benches/compare/run.sh [--threads N] [--only NAME[,NAME]] [--repeat R] [--quick] [--out FILE] ...
#   benches/compare/run.sh --setup-only        # just create / refresh the venv
#
# Every flag except --setup-only is passed to compare.py (see `compare.py --help`).
# The table goes to stdout; setup and build logs go to stderr.
#
# Environment:
#   MLKERN_BIN       use this binary instead of building one (skips cargo)
#   MLKERN_FEATURES  cargo features for the build (default: cli)
#   PYTHON           interpreter for the venv (default: python3; the pins below suit 3.11+)
#   COMPARE_TORCH    stub (default): the PyPI torch wheel without its CUDA dependencies,
#                    made importable on CPU with generated stub libraries (see README);
#                    full: `pip install torch` with all its CUDA wheels (several GB);
#                    none: no torch (torch rows are reported as unavailable)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
TORCH_MODE="${COMPARE_TORCH:-stub}"

# Anchor versions: pinned so that numbers from different days compare. Bump deliberately.
PINS=(numpy==2.4.6 scipy==1.17.1 threadpoolctl==3.8.0 pgmpy==1.1.2)
TORCH_PIN="torch==2.15.0"
SETUP_REV=1 # bump when the setup steps below change

log() { printf '[compare] %s\n' "$*" >&2; }
die() { printf '[compare] error: %s\n' "$*" >&2; exit 1; }

setup_only=0
args=()
for a in "$@"; do
    case "$a" in
        --setup-only) setup_only=1 ;;
        -h|--help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
            if [[ -x "$VENV/bin/python" ]]; then echo; exec "$VENV/bin/python" "$HERE/compare.py" --help; fi
            exit 0 ;;
        *) args+=("$a") ;;
    esac
done

case "$TORCH_MODE" in stub|full|none) ;; *) die "COMPARE_TORCH must be stub, full or none (got '$TORCH_MODE')" ;; esac

# --- CUDA stub libraries ------------------------------------------------------------------
# The torch wheels on PyPI for Linux x86_64 are CUDA builds: libtorch.so links
# libtorch_cuda.so, which links libcudart, libcublas, libcudnn, ... from ~3 GB of nvidia-*
# wheels. For CPU work none of that code runs, so instead of installing those wheels we
# compile, for every CUDA library the dynamic linker cannot find, a tiny stand-in with the
# same SONAME, symbol versions and symbols (each function returns an error code, e.g.
# cudaErrorNoDevice), and place it in torch/lib (on torch's RPATH). torch then imports,
# reports torch.cuda.is_available() == False, and its CPU kernels (MKL, oneDNN) run as usual.
make_cuda_stubs() {
    local torch_dir
    torch_dir="$("$VENV/bin/python" -c 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))')"
    for tool in gcc ldd nm readelf; do
        command -v "$tool" >/dev/null || die "'$tool' is needed to build CPU stubs for torch (apt-get install gcc binutils), or use COMPARE_TORCH=full|none"
    done
    "$VENV/bin/python" - "$torch_dir" <<'PY' >&2
import glob, os, re, subprocess, sys, tempfile

torch_dir = sys.argv[1]
libdir = os.path.join(torch_dir, "lib")
marker = os.path.join(libdir, ".mlkern-compare-cuda-stubs")
if os.path.exists(marker):  # drop stubs from an earlier setup (torch may have changed)
    for name in open(marker).read().split():
        try:
            os.remove(os.path.join(libdir, name))
        except FileNotFoundError:
            pass
    os.remove(marker)

elfs = sorted(glob.glob(os.path.join(libdir, "*.so*")) + glob.glob(os.path.join(torch_dir, "_C*.so")))
def out(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout

missing, resolved = set(), set()
for e in elfs + [sys.executable]:
    for line in out("ldd", e).splitlines():
        m = re.match(r"\s*(\S+) => (not found|(\S+))", line)
        if m and m.group(2) == "not found":
            missing.add(m.group(1))
        elif m:
            resolved.add(os.path.realpath(m.group(3)))
if not missing:
    print("torch needs no stub libraries")
    sys.exit(0)

ver2file = {}  # symbol-version name -> library that must define it (from .gnu.version_r)
for e in elfs:
    cur = None
    for line in out("readelf", "-V", "-W", e).splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            cur = m.group(1)
            continue
        m = re.search(r"Name: (\S+)\s+Flags", line)
        if m and cur in missing:
            ver2file[m.group(1)] = cur
defined = set()
for lib in sorted(resolved) + elfs + [os.path.realpath(sys.executable)]:
    for line in out("nm", "-D", "--defined-only", lib).splitlines():
        p = line.split()
        if len(p) >= 3:
            defined.add(p[2].split("@")[0])
objects = set()
for e in elfs:
    for line in out("readelf", "--dyn-syms", "-W", e).splitlines():
        p = line.split()
        if len(p) >= 8 and p[6] == "UND" and p[3] == "OBJECT":
            objects.add(p[7].split("@")[0])
per = {f: set() for f in missing}
loose = set()  # unversioned (libnccl, libcufile, libcusparseLt, libcuda): defined in every unversioned stub
for e in elfs:
    for line in out("nm", "-D", "--undefined-only", e).splitlines():
        p = line.split()
        if len(p) != 2 or p[0] != "U":
            continue
        name, _, ver = p[1].partition("@")
        if ver in ver2file:
            per[ver2file[ver]].add(name)
        elif not ver and name not in defined:
            loose.add(name)

versions = {}
for v, f in ver2file.items():
    versions.setdefault(f, []).append(v)
returns_string = re.compile(r"(GetErrorString|GetErrorName|GetStatusString|GetStatusName)$|^ncclGetLastError$")
made = []
with tempfile.TemporaryDirectory() as tmp:
    for f in sorted(missing):
        syms = per[f] | (set() if f in versions else loose)
        src = ['static const char msg[] = "CUDA is not available (CPU-only torch: mlkern benches/compare stub)";']
        for s in sorted(syms):
            if s in objects:
                src.append(f"char {s}[4096];")
            elif returns_string.search(s) and not re.match(r"cu[A-Z]", s):  # cuGetErrorString (driver API) uses an out-parameter
                src.append(f"const char *{s}(void) {{ return msg; }}")
            elif s == "cudaGetDeviceCount":
                src.append("int cudaGetDeviceCount(int *n) { if (n) *n = 0; return 100; }")
            elif s.startswith("__cuda"):  # fat-binary registration run by static constructors
                src.append(f"void *{s}(void) {{ return 0; }}")
            else:  # 100 = cudaErrorNoDevice; any non-zero status is an error for cuBLAS/cuDNN/NCCL/...
                src.append(f"long {s}(void) {{ return 100; }}")
        c, vs = os.path.join(tmp, "stub.c"), os.path.join(tmp, "stub.map")
        open(c, "w").write("\n".join(src) + "\n")
        open(vs, "w").write("".join(f"{v} {{ global: *; }};\n" for v in versions.get(f, [])) or "{ global: *; };\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-w", "-o", os.path.join(libdir, f),
                        "-Wl,-soname," + f, "-Wl,--version-script=" + vs, c], check=True)
        made.append(f)
open(marker, "w").write("\n".join(made) + "\n")
print(f"built {len(made)} CUDA stub libraries in {libdir}: {' '.join(made)}")
PY
}

setup_venv() {
    local want have=""
    want="rev=$SETUP_REV python=$("$PYTHON" -c 'import sys; print(sys.version.split()[0])') pins=${PINS[*]} torch=$TORCH_MODE:$TORCH_PIN"
    [[ -f "$VENV/.compare-setup" ]] && have="$(cat "$VENV/.compare-setup")"
    if [[ "$have" == "$want" && -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import numpy, scipy, threadpoolctl' 2>/dev/null; then
        return 0 # up to date: nothing to do
    fi
    log "setting up $VENV (first time: a few minutes)"
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
    "${pip[@]}" install "${PINS[@]}" >&2
    case "$TORCH_MODE" in
        full) "${pip[@]}" install "$TORCH_PIN" >&2 ;;
        stub)
            "${pip[@]}" install --no-deps "$TORCH_PIN" >&2
            # torch's own pure-Python requirements (sympy, networkx, jinja2, ...), without
            # the CUDA wheels (nvidia-*, cuda-*, triton) and extras.
            local deps
            deps="$("$VENV/bin/python" - <<'PY'
import re
from importlib.metadata import requires
keep = []
for req in requires("torch") or []:
    spec, _, marker = req.partition(";")
    name = re.match(r"[A-Za-z0-9_.\-]+", spec.strip()).group(0).lower()
    if "extra" in marker or re.match(r"(nvidia|cuda|triton)", name):
        continue
    keep.append(spec.strip().replace(" ", ""))
print(" ".join(keep))
PY
)"
            log "installing torch's pure-Python requirements; pip's warning that torch's CUDA requirements are missing is expected"
            # shellcheck disable=SC2086
            [[ -z "$deps" ]] || "${pip[@]}" install $deps >&2
            make_cuda_stubs
            ;;
        none) ;;
    esac
    if [[ "$TORCH_MODE" != none ]]; then
        "$VENV/bin/python" - <<'PY' >&2 || die "torch does not work in $VENV (try COMPARE_TORCH=full or none)"
import numpy as np, torch
a, b = torch.randn(64, 48, dtype=torch.float64), torch.randn(48, 32, dtype=torch.float64)
assert np.allclose(torch.mm(a, b).numpy(), a.numpy() @ b.numpy())
print(f"torch {torch.__version__} works on CPU (cuda available: {torch.cuda.is_available()})")
PY
    fi
    echo "$want" >"$VENV/.compare-setup"
    log "venv ready"
}

setup_venv
if [[ "$setup_only" == 1 ]]; then
    "$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null |
        grep -iE '^(numpy|scipy|torch|pgmpy|threadpoolctl) ' >&2 || true
    exit 0
fi

if [[ -z "${MLKERN_BIN:-}" ]]; then
    log "building mlkern (cargo build --release --features ${MLKERN_FEATURES:-cli})"
    (cd "$ROOT" && cargo build --release --features "${MLKERN_FEATURES:-cli}") >&2
    MLKERN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/mlkern"
    [[ "$MLKERN_BIN" = /* ]] || MLKERN_BIN="$ROOT/$MLKERN_BIN"
fi
[[ -x "$MLKERN_BIN" ]] || die "mlkern binary not found or not executable: $MLKERN_BIN"

exec "$VENV/bin/python" "$HERE/compare.py" --bin "$MLKERN_BIN" ${args[@]+"${args[@]}"}
