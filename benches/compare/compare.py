#!/usr/bin/env python3
"""Side-by-side benchmark of the `mlkern` CLI against reference libraries ("anchors").

For every registered workload this script

1. generates the inputs with a fixed seed and writes them as ``.npy`` files into a
   scratch directory (``benches/compare/.work`` by default, gitignored),
2. times each anchor in-process (one warm-up call, then ``--repeat`` timed calls;
   median and min), with the thread count pinned,
3. runs ``mlkern <subcommand> ... --json --repeat R --threads N`` and reads the kernel
   timing that mlkern itself reports (``timing.median_s``, excluding file IO),
4. loads mlkern's output ``.npy`` (or takes the outputs from its JSON report) and
   compares it with every anchor's result (or with the workload's float64 reference),
5. prints one markdown table (and optionally writes the rows as JSON with ``--out``).

Normally started through ``run.sh`` (which sets up the venv and builds the binary);
see README.md in this folder. To add a workload, add a ``register(Workload(...))`` call
in the WORKLOADS section below.
"""

from __future__ import annotations

import os
import sys

# ----------------------------------------------------------------------------------------
# Environment that must be fixed *before* numpy / scipy / torch are imported.
# ----------------------------------------------------------------------------------------


def _early_threads(argv: list[str]) -> str:
    threads = "2"
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    return threads


# On some processors OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set machine-wide (older
# OpenBLAS builds misbehave there); they slow a current numpy, so the benchmark process
# drops both. Only this process (and its children) is affected.
_UNSET_ENV = {k: os.environ.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
_EARLY_THREADS = _early_threads(sys.argv[1:])
for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = _EARLY_THREADS

import argparse  # noqa: E402
import fnmatch  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

try:  # optional, but run.sh installs it
    import threadpoolctl  # noqa: E402
except ImportError:  # pragma: no cover
    threadpoolctl = None

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------------------
# Anchors: reference implementations timed in-process.
# ----------------------------------------------------------------------------------------

_torch_mod: Any = None
_torch_err: str | None = None


def get_torch() -> Any:
    """Import torch lazily (it takes a second or two); raise AnchorUnavailable if absent."""
    global _torch_mod, _torch_err
    if _torch_mod is None and _torch_err is None:
        try:
            import torch

            _torch_mod = torch
        except Exception as exc:  # ImportError, OSError from missing shared libraries, ...
            _torch_err = f"{type(exc).__name__}: {exc}"
    if _torch_mod is None:
        raise AnchorUnavailable(f"torch not importable ({_torch_err})")
    return _torch_mod


class AnchorUnavailable(Exception):
    """The anchor's library is not installed / importable; the row is reported, not failed."""


@dataclass
class Anchor:
    """One reference implementation of a workload.

    ``prepare(inputs)`` gets the dict of numpy input arrays and returns a zero-argument
    callable that runs the kernel once (everything done in ``prepare`` — conversions,
    plans, tensor wrapping — is excluded from the timing). The callable's return value
    is turned into numpy by ``to_numpy`` (default: ``.numpy()`` for tensors) and must be
    a single array (compared with mlkern output ``out``) or a dict ``{output_name: array}``.

    ``timing_only`` marks a yardstick that does not compute the workload's result (e.g. a
    plain copy of the input as a memory-bandwidth bound): it is timed and its ratio shown,
    its result is never compared, and the row's check reads ``timing only``. In a workload
    with ``validate``, mlkern's own validation still decides such a row.

    ``max_repeat`` caps the timed runs of a slow anchor (pgmpy: seconds per call) below
    ``--repeat``; the row's ``repeat`` and notes say so.
    """

    label: str
    prepare: Callable[[dict[str, np.ndarray]], Callable[[], Any]]
    to_numpy: Callable[[Any], Any] | None = None
    library: str = "numpy"  # "torch" anchors make main() import torch and pin its threads
    timing_only: bool = False
    max_repeat: int | None = None


def numpy_anchor(label: str, fn: Callable[..., Any]) -> Anchor:
    """Anchor calling ``fn(**inputs)`` on the numpy arrays (numpy, scipy, pgmpy, ...)."""
    return Anchor(label, lambda x: lambda: fn(**x))


def torch_anchor(label: str, fn: Callable[..., Any]) -> Anchor:
    """Anchor calling ``fn(torch, **tensors)``; inputs wrapped with ``torch.from_numpy``."""

    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        torch = get_torch()
        t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in x.items()}
        return lambda: fn(torch, **t)

    return Anchor(label, prepare, library="torch")


def _default_to_numpy(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: _default_to_numpy(v) for k, v in result.items()}
    if hasattr(result, "detach"):  # torch.Tensor
        return result.detach().cpu().numpy()
    return np.asarray(result)


# ----------------------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------------------


@dataclass
class Workload:
    """One benchmark case.

    name      unique id (used by ``--only``; glob patterns allowed there)
    shape     human-readable problem size for the table
    inputs    ``rng -> {input_name: array}``; each array is written to ``<input_name>.npy``
    anchors   reference implementations (see Anchor); each gives one table row
    cli       ``files -> argv`` after the binary, *without* --json/--repeat/--threads.
              ``files`` maps every input name and every output name to its path.
    outputs   names of the .npy files mlkern writes (default: just ``out``)
    json_outputs
              the outputs are keys of mlkern's ``--json`` report (numbers or lists of
              numbers, e.g. ``singular_values``) instead of ``.npy`` files
    expect_json
              ``{key: value}`` that mlkern's JSON report must contain (the path taken,
              e.g. ``method: gram``); a mismatch is an ``mlkern-error``
    rtol      pass/fail bound on the max relative error (see ``errors``)
    compare   optional ``(mlkern: dict, anchor: dict) -> (max_abs, max_rel)`` override,
              e.g. for results defined only up to sign or permutation
    reference optional ``fn(**inputs)`` giving the outputs in float64, computed once and
              untimed. When set, mlkern is checked against it instead of against each
              anchor (for summaries where a float32 anchor's own error would hide
              mlkern's), and each anchor's error against it goes into the row's detail
    validate  optional ``fn(outputs, **inputs) -> (problems, summary)`` for sampled
              outputs that no two implementations share (random tokens from different
              RNGs). Nothing is compared: mlkern's outputs and each anchor's are checked
              against the inputs on their own (``problems``: list of strings, empty if
              valid; ``summary``: one line for the row's notes). ``rtol`` is unused and
              the error columns stay empty
    seed      RNG seed; default derived from the name, so it is fixed per workload
    """

    name: str
    shape: str
    inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    anchors: list[Anchor]
    cli: Callable[[dict[str, str]], list[str]]
    outputs: list[str] = field(default_factory=lambda: ["out"])
    json_outputs: bool = False
    expect_json: dict[str, Any] = field(default_factory=dict)
    rtol: float = 1e-6
    compare: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], tuple[float, float]] | None = None
    reference: Callable[..., Any] | None = None
    validate: Callable[..., tuple[list[str], str]] | None = None
    seed: int | None = None

    def rng(self) -> np.random.Generator:
        seed = self.seed if self.seed is not None else zlib.crc32(self.name.encode())
        return np.random.default_rng(seed)


WORKLOADS: dict[str, Workload] = {}


def register(w: Workload) -> Workload:
    if w.name in WORKLOADS:
        raise ValueError(f"duplicate workload {w.name}")
    WORKLOADS[w.name] = w
    return w


# --- matmul: C = A · B ---------------------------------------------------------------


def matmul_workload(name: str, m: int, k: int, n: int, dtype: Any, rtol: float) -> Workload:
    dt = np.dtype(dtype)
    return register(
        Workload(
            name=name,
            shape=f"{m}x{k} · {k}x{n} {dt.name}",
            inputs=lambda rng: {
                "a": rng.standard_normal((m, k)).astype(dt),
                "b": rng.standard_normal((k, n)).astype(dt),
            },
            anchors=[
                numpy_anchor("numpy a @ b", lambda a, b: a @ b),
                torch_anchor("torch.mm", lambda torch, a, b: torch.mm(a, b)),
            ],
            cli=lambda f: ["matmul", f["a"], f["b"], "-o", f["out"]],
            rtol=rtol,
        )
    )


matmul_workload("matmul_f32_512", 512, 512, 512, np.float32, rtol=1e-4)
matmul_workload("matmul_f32_1024", 1024, 1024, 1024, np.float32, rtol=1e-4)
matmul_workload("matmul_f64_1024", 1024, 1024, 1024, np.float64, rtol=1e-11)


# --- eigvalsh: eigenvalues of a symmetric matrix (values only) ------------------------
#
# NumPy's eigvalsh is LAPACK syevd without vectors (one-stage sytrd + sterf); mlkern reduces in
# two stages from n = 2048 (GEMM panels to a band of 32, bulge chasing, the sterf algorithm in
# f64). Input: (G + Gᵀ)/2 with G standard normal (semicircle spectrum, ‖A‖₂ ≈ √(2n)). Errors
# are normwise against float64 eigvalsh of the same matrix: max |λᵢ − λᵢ*| / max |λᵢ*|.


def eigvalsh_workload(name: str, n: int, dtype: Any, rtol: float) -> Workload:
    dt = np.dtype(dtype)

    def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
        g = rng.standard_normal((n, n))
        return {"a": ((g + g.T) / 2).astype(dt)}

    return register(
        Workload(
            name=name,
            shape=f"{n}x{n} {dt.name}",
            inputs=inputs,
            anchors=[
                numpy_anchor("numpy eigvalsh", lambda a: np.linalg.eigvalsh(a)),
                torch_anchor("torch.linalg.eigvalsh", lambda torch, a: torch.linalg.eigvalsh(a)),
            ],
            cli=lambda f: ["eigvalsh", f["a"], "-o", f["out"]],
            reference=lambda a: {"out": np.linalg.eigvalsh(a.astype(np.float64))},
            rtol=rtol,
        )
    )


for _n in (1024, 2048, 4096):
    eigvalsh_workload(f"eigvalsh_f64_{_n}", _n, np.float64, rtol=1e-12)
    eigvalsh_workload(f"eigvalsh_f32_{_n}", _n, np.float32, rtol=1e-5)


# --- ortho: Newton–Schulz orthogonalization (Muon's "zeropower" step) ---------------
#
# keller schedule (Keller Jordan's Muon): X = G / (‖G‖_F + 1e-7) on the short-fat
# orientation (transposed if m > n; per matrix for a b×m×n batch), then `steps` times
# { A = X Xᵀ; B = b·A + c·(A @ A); X = a·X + B @ X }, transposed back. The anchors run it
# in f32 exactly as written (Muon's reference casts to bf16; here everything stays f32).

KELLER_ABC = (3.4445, -4.7750, 2.0315)

# Pass bound for the ortho rows (max rel err, normwise as everywhere in this file): 1e-3.
# f32 implementations differ by their summation order, and the keller polynomial (slope
# a = 3.44 at 0, applied 5 times) amplifies differences along small singular values.
# Measured on these inputs against the same map in float64: numpy f32 and mlkern f32
# (standard and Gram paths) are within ~1e-5; torch f32 is off by up to ~1e-4, almost all
# of it from torch's float32 Frobenius norm of G (rel. error ~1e-5 at 1024² entries, ~8e-5
# at 4M, vs ~1e-8 for numpy's), which rescales the whole output. tests/ortho.rs
# (gram_path_tracks_the_standard_path) bounds the Gram path (--algo auto) at 5e-4 rel.
# Frobenius from the standard f32 path, on ill-conditioned inputs. 1e-3 covers these with
# margin and still catches real mistakes: one step more or fewer gives ~0.3, a coefficient
# off by 0.01 gives ~2e-2 (an output left transposed fails on its shape).
ORTHO_RTOL = 1e-3


def newton_schulz_numpy(g: np.ndarray, steps: int, abc: tuple[float, float, float] = KELLER_ABC) -> np.ndarray:
    """NS iteration on an m×n or b×m×n array, in g's dtype (NEP 50 keeps float32 float32)."""
    a, b, c = abc
    tall = g.shape[-2] > g.shape[-1]
    # Copy the transpose: left as a view (F order), every a·X + B@X below adds an F-order
    # array to a C-order product, which made the 4096x1024 anchor 1.6x slower than 1024x4096.
    x = np.ascontiguousarray(g.mT) if tall else g
    x = x / (np.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
    for _ in range(steps):
        xxt = x @ x.mT
        poly = b * xxt + c * (xxt @ xxt)
        x = a * x + poly @ x
    return x.mT if tall else x


def newton_schulz_torch(torch: Any, g: Any, steps: int, abc: tuple[float, float, float] = KELLER_ABC) -> Any:
    """The same in torch eager (``@`` is mm for 2-D, bmm for a 3-D batch)."""
    a, b, c = abc
    x = g.to(torch.float32)  # no-op for f32 input; Muon's reference would cast to bfloat16
    tall = g.size(-2) > g.size(-1)
    if tall:
        x = x.mT
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        xxt = x @ x.mT
        poly = b * xxt + c * (xxt @ xxt)
        x = a * x + poly @ x
    return x.mT if tall else x


def ortho_workload(name: str, shape: tuple[int, ...], algo: str, steps: int = 5) -> Workload:
    dims = "x".join(map(str, shape))
    opts = ["--schedule", "keller", "--steps", str(steps), "--algo", algo, "--precision", "f32"]
    return register(
        Workload(
            name=name,
            shape=f"{dims} float32, {steps}× keller, algo {algo}",
            inputs=lambda rng: {"g": rng.standard_normal(shape).astype(np.float32)},
            anchors=[
                numpy_anchor("numpy NS (keller, f32)", lambda g: newton_schulz_numpy(g, steps)),
                torch_anchor("torch NS (keller, f32)", lambda torch, g: newton_schulz_torch(torch, g, steps)),
            ],
            cli=lambda f: ["ortho", f["g"], "-o", f["out"], *opts],
            rtol=ORTHO_RTOL,
            seed=zlib.crc32(f"ortho {dims}".encode()),  # same G for the standard and auto variants
        )
    )


# One mlkern invocation per workload, so each --algo variant is its own workload (the anchors
# are the same and are timed again). auto picks the Gram path at aspect ratio >= 2.
ortho_workload("ortho-256", (256, 256), "standard")
ortho_workload("ortho-1024", (1024, 1024), "standard")
ortho_workload("ortho-768x3072", (768, 3072), "standard")
ortho_workload("ortho-768x3072-auto", (768, 3072), "auto")
ortho_workload("ortho-1024x4096", (1024, 4096), "standard")
ortho_workload("ortho-1024x4096-auto", (1024, 4096), "auto")
ortho_workload("ortho-batch-64x128x512", (64, 128, 512), "auto")
ortho_workload("ortho-batch-64x128x512-standard", (64, 128, 512), "standard")
ortho_workload("ortho-4096x1024-tall", (4096, 1024), "auto")  # tall: transposed on both sides


# --- spectrum: singular spectrum and the metrics over it ------------------------------
#
# mlkern writes no .npy here: the outputs are keys of its JSON report (json_outputs). The
# energy effective rank is exp(H(q)) with q = σ² / Σσ² (natural log, 0·log 0 = 0), on the
# column-centered matrix (--center). mlkern's timing covers centering + decomposition; the
# anchors time the same plus the O(n) erank.


def energy_erank(energy: Any) -> np.float64:
    """exp(H(q)), q = e / Σe, in float64, for energies e = σ² (or Gram eigenvalues, clipped at 0)."""
    e = np.clip(np.asarray(energy, dtype=np.float64), 0.0, None)
    q = e[e > 0] / e.sum()
    return np.exp(-np.sum(q * np.log(q)))


def energy_erank_f64(x: np.ndarray) -> np.float64:
    """The reference: SVD of the float64 cast of x, centered in float64."""
    xc = x.astype(np.float64)
    xc -= xc.mean(axis=0)
    return energy_erank(np.square(np.linalg.svd(xc, compute_uv=False)))


def hidden_states(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """m×n float32: column j ~ N(μ_j, s_j²), s = geomspace(1, 1e-2), μ_j ~ N(0, 1).

    The decaying scales give a spread spectrum; the offsets make centering matter (without
    --center the mean direction carries most of the energy and erank_energy is near 1).
    """
    return (rng.standard_normal((m, n)) * np.geomspace(1.0, 1e-2, n) + rng.standard_normal(n)).astype(np.float32)


def scipy_svdvals_anchor(label: str) -> Anchor:
    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        try:
            from scipy.linalg import svdvals
        except ImportError as exc:
            raise AnchorUnavailable(f"scipy not importable ({exc})") from exc
        (y,) = x.values()
        return lambda: svdvals(y)  # gesdd, as scipy.linalg.svd's default lapack_driver

    return Anchor(label, prepare)


# The anchors stay in x's dtype (float32) up to the spectrum; the erank itself is float64.
def erank_numpy_svd(x: np.ndarray) -> np.float64:
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    return energy_erank(np.square(s, dtype=np.float64))


def erank_numpy_eigvalsh(x: np.ndarray) -> np.float64:
    xc = x - x.mean(axis=0)
    return energy_erank(np.linalg.eigvalsh(xc.T @ xc))


def erank_torch_svdvals(torch: Any, x: Any) -> np.float64:
    s = torch.linalg.svdvals(x - x.mean(dim=0))
    return energy_erank(np.square(s.numpy(), dtype=np.float64))


# Pass bound for the energy erank rows: 1e-5 relative to the float64 reference (workload
# `reference`; each anchor's own error against it is in the row's detail). Measured on this
# input: numpy f32 svd 2e-9, numpy f32 eigvalsh 4e-10, torch f32 svdvals 1e-7, mlkern
# --energy-only (f32 eigensolver) 2.5e-6, mlkern without it (f64 eigensolver) 3e-14.
SPECTRUM_ENERGY_RTOL = 1e-5


def spectrum_energy_workload(name: str, m: int, n: int, energy_only: bool) -> Workload:
    flags = ["--center", "--energy-only"] if energy_only else ["--center"]
    return register(
        Workload(
            name=name,
            shape=f"{m}x{n} float32, centered, {'--energy-only' if energy_only else 'all metrics'}",
            inputs=lambda rng: {"x": hidden_states(rng, m, n)},
            anchors=[
                numpy_anchor("numpy svd", erank_numpy_svd),
                numpy_anchor("numpy eigvalsh(XcᵀXc)", erank_numpy_eigvalsh),
                torch_anchor("torch.linalg.svdvals", erank_torch_svdvals),
            ],
            cli=lambda f: ["spectrum", f["x"], *flags],  # --method auto: Gram at aspect ≥ 2
            outputs=["erank_energy"],
            json_outputs=True,
            expect_json={"rows": m, "cols": n, "centered": True, "method": "gram", "backend": "cpu"},
            rtol=SPECTRUM_ENERGY_RTOL,
            reference=energy_erank_f64,
            seed=zlib.crc32(f"spectrum {m}x{n} float32".encode()),  # same X for both variants
        )
    )


# One mlkern invocation per workload, so --energy-only (f32 eigensolver) and the default
# (f64 eigensolver; all metrics exact) are two workloads on the same X.
spectrum_energy_workload("spectrum_energy_4096x1024_f32", 4096, 1024, energy_only=True)
spectrum_energy_workload("spectrum_energy_4096x1024_f32_full", 4096, 1024, energy_only=False)

# Spectra at scale (issue 20): the SLQ estimator (`--estimate`) against the exact paths on
# 8192×4096 f32 hidden states, decaying (as above) and flat (i.i.d. N(0, 1)). The estimate is
# checked against the float64 reference at 1 % (its default target); the exact mlkern path on
# the same X is its own row, so the two timings compare in one run.


def flat_states(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return rng.standard_normal((m, n), dtype=np.float32)


def erank_f64_eigvalsh(x: np.ndarray) -> np.float64:
    """Reference at scale: eigvalsh of the float64 Gram of the centered float64 cast."""
    xc = x.astype(np.float64)
    xc -= xc.mean(axis=0)
    return energy_erank(np.linalg.eigvalsh(xc.T @ xc))


def spectrum_scale_workload(name: str, m: int, n: int, kind: str, estimate: bool) -> Workload:
    gen = hidden_states if kind == "decaying" else flat_states
    flags = ["--center", "--estimate"] if estimate else ["--center"]
    return register(
        Workload(
            name=name,
            shape=f"{m}x{n} float32 {kind}, centered, {'--estimate (SLQ)' if estimate else 'exact'}",
            inputs=lambda rng: {"x": gen(rng, m, n)},
            anchors=[numpy_anchor("numpy eigvalsh(XcᵀXc)", erank_numpy_eigvalsh)],
            cli=lambda f: ["spectrum", f["x"], *flags],
            outputs=["erank_energy"],
            json_outputs=True,
            expect_json={"rows": m, "cols": n, "centered": True, "method": "slq" if estimate else "gram"},
            rtol=1e-2 if estimate else SPECTRUM_ENERGY_RTOL,
            reference=erank_f64_eigvalsh,
            seed=zlib.crc32(f"spectrum scale {m}x{n} {kind}".encode()),  # same X for both paths
        )
    )


for _kind in ("decaying", "flat"):
    spectrum_scale_workload(f"spectrum_scale_8192x4096_{_kind}_estimate", 8192, 4096, _kind, estimate=True)
    spectrum_scale_workload(f"spectrum_scale_8192x4096_{_kind}_exact", 8192, 4096, _kind, estimate=False)

# Singular values by SVD in float64. max rel err is max|Δσ| / σ₁ (errors() is normwise).
# Measured: mlkern vs LAPACK gesdd ~1e-14; numpy vs scipy agree exactly.
register(
    Workload(
        name="spectrum_svd_1024x1024_f64",
        shape="1024x1024 float64, --method svd",
        inputs=lambda rng: {"y": rng.standard_normal((1024, 1024))},
        anchors=[
            numpy_anchor("numpy svd", lambda y: np.linalg.svd(y, compute_uv=False)),
            scipy_svdvals_anchor("scipy.linalg.svdvals"),
            torch_anchor("torch.linalg.svdvals", lambda torch, y: torch.linalg.svdvals(y)),
        ],
        cli=lambda f: ["spectrum", f["y"], "--method", "svd"],
        outputs=["singular_values"],
        json_outputs=True,
        expect_json={"rows": 1024, "cols": 1024, "centered": False, "method": "svd", "backend": "cpu"},
        rtol=1e-12,
    )
)

# --- accept: speculative-decoding verification (exact rule) ---------------------------
#
# mlkern accept --target P --draft Q --tokens T verifies a batch of B requests with k draft
# tokens each: P is [B, k+1, V] (row k is the bonus row), Q [B, k, V], T [B, k]. Exact
# speculative sampling (Leviathan et al.; vLLM's rejection sampler): position i accepts x_i
# with probability min(1, p_i(x_i) / q_i(x_i)); the first rejection emits a token from
# norm(max(p_i - q_i, 0)) and stops; if all k are accepted, a bonus token from p_k follows.
# Output: tokens [B, k+1] (-1 after the last emitted one) and num_emitted [B] in 1..k+1.
# --one-hot is vLLM's draft_probs=None (q is one-hot at x_i: accept with probability
# p_i(x_i), the residual is p_i with x_i zeroed).
#
# The tokens are random and every implementation has its own RNG, so nothing is compared
# token by token: each output (mlkern's and each anchor's) is validated against the inputs
# (`validate_verify`).

SPEC_LOGIT_SCALE = 3.0  # target logits ~ N(0, 3²)
SPEC_DRAFT_NOISE = 0.7  # draft logits = target logits + N(0, 0.7²): mean acceptance ≈ 0.73


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def spec_inputs(rng: np.random.Generator, b: int, k: int, v: int, one_hot: bool) -> dict[str, np.ndarray]:
    """P (and Q) in float32 and T drawn from Q's rows (inverse CDF, float64)."""
    logits = SPEC_LOGIT_SCALE * rng.standard_normal((b, k + 1, v))
    q = softmax(logits[:, :k] + SPEC_DRAFT_NOISE * rng.standard_normal((b, k, v)))
    cdf = np.cumsum(q, axis=-1)
    u = rng.random((b, k)) * cdf[..., -1]
    t = np.array([[np.searchsorted(cdf[r, i], u[r, i], side="right") for i in range(k)] for r in range(b)])
    out = {"p": softmax(logits).astype(np.float32), "t": np.minimum(t, v - 1).astype(np.int32)}
    if not one_hot:
        out["q"] = q.astype(np.float32)
    return out


def verify_vllm_numpy(
    rng: np.random.Generator, p: np.ndarray, q: np.ndarray | None, t: np.ndarray
) -> dict[str, np.ndarray]:
    """vLLM V1's rejection sampler (probabilities in, vllm/v1/sample/rejection_sampler.py) in numpy.

    float64 uniforms; accept iff q > 0 and p / q >= u (q = 1 with q None, i.e. draft_probs=None);
    the recovered token at the first rejection and the bonus token by the exponential race
    argmax(w / E), E ~ Exp(1) in float32, one E vector per request (w = max(p - q, 0), or p
    with the draft token zeroed, for a rejected request; w = p_k for a fully accepted one).
    """
    b, k = t.shape
    rows = np.arange(b)
    pos = np.arange(k)
    pt = p[rows[:, None], pos, t].astype(np.float64)  # [B, k]: p_i(x_i)
    u = rng.random((b, k))
    if q is None:
        accept = pt >= u
    else:
        qt = q[rows[:, None], pos, t].astype(np.float64)
        accept = (qt > 0) & (pt / np.where(qt > 0, qt, 1.0) >= u)
    rejected = ~accept
    n_acc = np.where(rejected.any(axis=1), rejected.argmax(axis=1), k)  # leading accepts
    out = np.full((b, k + 1), -1, dtype=np.int32)
    keep = pos < n_acc[:, None]
    out[:, :k][keep] = t[keep]
    w = p[rows, n_acc]  # [B, V]: the bonus row (copied), or the target row at the rejection
    rej = np.flatnonzero(n_acc < k)
    if rej.size:
        if q is None:
            w[rej, t[rej, n_acc[rej]]] = 0.0
        else:
            w[rej] = np.maximum(w[rej] - q[rej, n_acc[rej]], 0.0)
    e = rng.standard_exponential(w.shape, dtype=np.float32)
    # numpy's float32 ziggurat returns exact zeros (probability 2^-23 each: one call in ~8 at
    # 8×128256), and a 0/0 = NaN would win the argmax with a zero-weight token.
    np.maximum(e, np.finfo(np.float32).tiny, out=e)
    out[rows, n_acc] = np.argmax(w / e, axis=1)
    return {"tokens": out, "num_emitted": n_acc + 1}


def verify_vllm_torch(torch: Any, gen: Any, p: Any, q: Any | None, t: Any) -> dict[str, Any]:
    """The same in torch eager (CPU), with a torch.Generator."""
    b, k = t.shape
    rows = torch.arange(b)
    pos = torch.arange(k)
    pt = p[rows[:, None], pos, t].double()
    u = torch.rand((b, k), dtype=torch.float64, generator=gen)
    if q is None:
        accept = pt >= u
    else:
        qt = q[rows[:, None], pos, t].double()
        accept = (qt > 0) & (pt / torch.where(qt > 0, qt, 1.0) >= u)
    rejected = ~accept
    n_acc = torch.where(rejected.any(dim=1), rejected.to(torch.int8).argmax(dim=1), k)
    out = torch.full((b, k + 1), -1, dtype=torch.int32)
    keep = pos < n_acc[:, None]
    out[:, :k][keep] = t[keep].to(torch.int32)
    w = p[rows, n_acc]
    rej = torch.nonzero(n_acc < k).flatten()
    if rej.numel():
        if q is None:
            w[rej, t[rej, n_acc[rej]]] = 0.0
        else:
            w[rej] = torch.clamp_min(w[rej] - q[rej, n_acc[rej]], 0.0)
    # E = -log U (U in [0, 1), so E > 0; U = 0 gives E = inf, weight 0). vLLM calls
    # exponential_(), which on CPU takes ~5x as long (21 ms vs 4 ms for 8×128256, torch 2.15, 1 thread).
    e = torch.rand(w.shape, generator=gen).log_().neg_()
    out[rows, n_acc] = torch.argmax(w / e, dim=1).to(torch.int32)
    return {"tokens": out, "num_emitted": n_acc + 1}


def vllm_numpy_anchor(label: str) -> Anchor:
    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        rng = np.random.default_rng(0)  # created once, outside the timing
        return lambda: verify_vllm_numpy(rng, x["p"], x.get("q"), x["t"])

    return Anchor(label, prepare)


def vllm_torch_anchor(label: str) -> Anchor:
    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        torch = get_torch()
        gen = torch.Generator().manual_seed(0)
        p, t = torch.from_numpy(x["p"]), torch.from_numpy(x["t"]).long()
        q = torch.from_numpy(x["q"]) if "q" in x else None
        return lambda: verify_vllm_torch(torch, gen, p, q, t)

    return Anchor(label, prepare, library="torch")


# A batch whose number of accepted drafts is this many standard deviations from its
# expectation (given P, Q and T) is reported as implausible.
SPEC_ACCEPT_SIGMAS = 4.0


def validate_verify(
    out: dict[str, np.ndarray], p: np.ndarray, t: np.ndarray, q: np.ndarray | None = None
) -> tuple[list[str], str]:
    """Structural check of one verify (mlkern's or an anchor's); tokens are never compared.

    Per request: 1 ≤ n ≤ k+1; the first n-1 tokens are the draft tokens; -1 after the n-th;
    the n-th token is in [0, V) and possible under the exact rule: a bonus token with
    p_k > 0, or, after a rejection at position j = n-1 (which needs p_j(x_j) < q_j(x_j)), a
    token in the residual's support (p_j > q_j; with one-hot drafts p_j > 0 and not x_j).
    Batch: the total of accepted drafts within SPEC_ACCEPT_SIGMAS standard deviations of
    its expectation Σ_r Σ_m m·P(A_r = m), P(A_r = m) = a_0⋯a_{m-1}·(1 - a_m) with
    a_i = min(1, p_i(x_i) / q_i(x_i)) (a_i = p_i(x_i) one-hot) and a_k = 0.
    """
    b, k1, v = p.shape
    k = k1 - 1
    tokens, n = np.asarray(out["tokens"]), np.asarray(out["num_emitted"])
    if tokens.shape != (b, k1) or n.shape != (b,):
        return [f"shapes: tokens {tokens.shape}, num_emitted {n.shape}; expected ({b}, {k1}), ({b},)"], "invalid"
    if not (np.array_equal(tokens, np.round(tokens)) and np.array_equal(n, np.round(n))):
        return ["tokens / num_emitted are not integers"], "invalid"
    tokens, n = tokens.astype(np.int64), n.astype(np.int64)
    p64 = p.astype(np.float64)
    rows, pos = np.arange(b)[:, None], np.arange(k)
    pt = p64[rows, pos, t]
    qt = np.ones_like(pt) if q is None else q.astype(np.float64)[rows, pos, t]
    problems = []
    for r in range(b):
        nr = int(n[r])
        if not 1 <= nr <= k1:
            problems.append(f"request {r}: num_emitted {nr} not in [1, {k1}]")
            continue
        j, last = nr - 1, int(tokens[r, nr - 1])
        if np.any(tokens[r, nr:] != -1):
            problems.append(f"request {r}: tokens after the {nr} emitted are not -1: {tokens[r].tolist()}")
        if np.any(tokens[r, :j] != t[r, :j]):
            problems.append(f"request {r}: accepted prefix {tokens[r, :j].tolist()} is not the draft {t[r, :j].tolist()}")
        if np.any(pt[r, :j] <= 0):
            problems.append(f"request {r}: accepted a draft token with p = 0")
        if not 0 <= last < v:
            problems.append(f"request {r}: emitted token {last} not in [0, {v})")
        elif j == k:
            if p64[r, k, last] <= 0:
                problems.append(f"request {r}: bonus token {last} has p = 0")
        else:
            x = int(t[r, j])
            if pt[r, j] >= qt[r, j]:
                problems.append(f"request {r}: rejected draft {x} at position {j}, where p ≥ q (always accepted)")
            floor = q[r, j, last] if q is not None else (np.inf if last == x else 0.0)
            if not p64[r, j, last] > floor:
                problems.append(f"request {r}: recovered token {last} at position {j} is outside the residual's support")
    a = np.minimum(1.0, pt / qt)
    reach = np.concatenate([np.ones((b, 1)), np.cumprod(a, axis=1)], axis=1)  # P(A ≥ m), m = 0..k
    law = reach * (1.0 - np.concatenate([a, np.zeros((b, 1))], axis=1))  # P(A = m)
    m = np.arange(k1)
    mean = (law * m).sum(axis=1)
    var = (law * m**2).sum(axis=1) - mean**2
    expected, sd = mean.sum(), float(np.sqrt(max(var.sum(), 0.0)))
    accepted = int(np.clip(n - 1, 0, k).sum())
    if abs(accepted - expected) > SPEC_ACCEPT_SIGMAS * sd + 1e-9:
        problems.append(f"{accepted} drafts accepted, implausible: expected {expected:.2f} ± {sd:.2f}")
    return problems, f"{accepted} of {b * k} drafts accepted (expected {expected:.1f} ± {sd:.1f})"


def accept_workload(name: str, b: int, k: int, v: int, one_hot: bool = False) -> Workload:
    def cli(f: dict[str, str]) -> list[str]:
        draft = ["--one-hot"] if one_hot else ["--draft", f["q"]]
        return ["accept", "--target", f["p"], *draft, "--tokens", f["t"], "--rule", "exact"]

    return register(
        Workload(
            name=name,
            shape=f"B={b}, k={k}, V={v} float32" + (", one-hot drafts" if one_hot else ""),
            inputs=lambda rng: spec_inputs(rng, b, k, v, one_hot),
            anchors=[
                vllm_numpy_anchor("numpy (vLLM semantics)"),
                vllm_torch_anchor("torch (vLLM semantics)"),
            ],
            cli=cli,
            outputs=["tokens", "num_emitted"],
            json_outputs=True,
            expect_json={"errors": [None] * b},
            validate=validate_verify,
            seed=zlib.crc32(f"accept {b}x{k}x{v}".encode()),  # the one-hot variant sees the same P and T
        )
    )


# The issue's headline: Llama-3's vocabulary, 8 requests × 4 drafts (mlkern ≥ 10× numpy at 2 threads).
accept_workload("accept_b8_k4_v128256", 8, 4, 128256)
accept_workload("accept_b1_k4_v16384", 1, 4, 16384)
accept_workload("accept_b1_k4_v128256", 1, 4, 128256)
accept_workload("accept_b8_k4_v128256_onehot", 8, 4, 128256, one_hot=True)

# --- stft / istft: short-time Fourier transform with torch.stft's conventions ------------
#
# mlkern stft X -o OUT --n-fft N --hop H --window hann: X float32 [B, L] -> complex64
# [B, F, T] with F = N//2 + 1 and T = 1 + L//H, as torch.stft(x, N, H, window=
# torch.hann_window(N), return_complex=True): periodic window, center=True (reflect padding
# of N//2 on both sides), onesided, unnormalized, each frame's phase referred to its first
# sample. mlkern istft SPEC -o OUT ... --length L is torch.istft(spec, N, H, window=...,
# length=L): irfft of each frame, times the window, overlap-added, divided by the
# overlap-added squared window, the first N//2 samples dropped. Both workloads use the same
# signal (the istft input is its spectrum, computed in float64 and stored as complex64).
#
# Pass bound: 1e-5 normwise (max |Δ| / max |anchor|), for float32. Measured on these inputs
# against the float64 STFT: torch 1.7e-7, scipy 1.2e-7; for the inverse, both anchors are
# within 2e-7 of the float64 inverse. Mistakes are far above it: a symmetric instead of
# periodic window gives 4e-3, zero instead of reflect padding 0.5, a one-sample framing
# offset 2, the conjugate (other sign convention) 1.8.
STFT_RTOL = 1e-5

# (a_0, a_1, ...) of w[n] = Σ_k (-1)^k a_k cos(2πkn/D): torch.{hann,hamming,blackman}_window
COSINE_WINDOWS = {"rect": (1.0,), "hann": (0.5, 0.5), "hamming": (0.54, 0.46), "blackman": (0.42, 0.5, 0.08)}


def anchor_threads() -> int:
    """The --threads value (read before numpy was imported), for anchors that take a thread count."""
    return int(_EARLY_THREADS) if _EARLY_THREADS.strip().isdigit() else 1


def cosine_window(kind: str, n: int, periodic: bool = True) -> np.ndarray:
    """float64 window of length n: D = n (periodic, torch's default) or n - 1 (symmetric)."""
    denom = n if periodic else n - 1
    if denom <= 0:
        return np.ones(n)
    t = 2.0 * np.pi * np.arange(n) / denom
    return sum((-1) ** k * a * np.cos(k * t) for k, a in enumerate(COSINE_WINDOWS[kind])) + np.zeros(n)


def stft_numpy(x: np.ndarray, n_fft: int, hop: int, win: np.ndarray, rfft: Callable[..., Any] = np.fft.rfft) -> np.ndarray:
    """torch.stft(center=True, pad_mode='reflect', onesided) of x [..., L]: [..., F, T] (a view)."""
    from numpy.lib.stride_tricks import sliding_window_view

    pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
    frames = sliding_window_view(np.pad(x, pad, mode="reflect"), n_fft, axis=-1)[..., ::hop, :]  # [..., T, n_fft]
    return rfft(frames * win, axis=-1).swapaxes(-1, -2)


def overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """Σ_t frames[..., t, :] placed at t·hop: [..., (T - 1)·hop + n]."""
    *batch, t, n = frames.shape
    if n % hop == 0:  # n/hop shifted adds of [T, hop] blocks instead of T adds of one frame
        q = n // hop
        y = np.zeros((*batch, t + q - 1, hop), dtype=frames.dtype)
        for j in range(q):
            y[..., j : j + t, :] += frames[..., j * hop : (j + 1) * hop]
        return y.reshape(*batch, (t + q - 1) * hop)
    y = np.zeros((*batch, (t - 1) * hop + n), dtype=frames.dtype)
    for i in range(t):
        y[..., i * hop : i * hop + n] += frames[..., i, :]
    return y


def istft_numpy(
    spec: np.ndarray,
    n_fft: int,
    hop: int,
    win: np.ndarray,
    length: int,
    irfft: Callable[..., Any] = np.fft.irfft,
    envelope: np.ndarray | None = None,
) -> np.ndarray:
    """torch.istft(center=True, onesided, length=length) of spec [..., F, T]: [..., length]."""
    frames = irfft(spec.swapaxes(-1, -2), n=n_fft, axis=-1)  # [..., T, n_fft], real dtype of spec
    frames *= win
    y = overlap_add(frames, hop)
    if envelope is None:
        envelope = overlap_add(np.broadcast_to(np.square(win), frames.shape[-2:]), hop)
    start = n_fft // 2
    stop = min(start + length, y.shape[-1])
    out = y[..., start:stop] / envelope[start:stop]  # torch raises where it is < 1e-11 (NOLA)
    if stop - start < length:  # torch pads with zeros past the last frame
        out = np.concatenate([out, np.zeros((*out.shape[:-1], length - (stop - start)), out.dtype)], axis=-1)
    return out


def errors_of_dtype(**dtypes: Any) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], tuple[float, float]]:
    """``errors`` after checking the dtype of mlkern's outputs (a wrong dtype fails the row)."""

    def compare(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> tuple[float, float]:
        for key, dt in dtypes.items():
            if key in got and np.asarray(got[key]).dtype != np.dtype(dt):
                raise ValueError(f"output {key!r}: dtype {np.asarray(got[key]).dtype} from mlkern, expected {np.dtype(dt)}")
        return errors(got, want)

    return compare


def scipy_fft(name: str) -> Callable[..., Any]:
    """scipy.fft.<name> with workers = --threads (scipy.fft threads only through `workers`)."""
    try:
        import scipy.fft
    except ImportError as exc:
        raise AnchorUnavailable(f"scipy not importable ({exc})") from exc
    fn, workers = getattr(scipy.fft, name), anchor_threads()
    return lambda *a, **k: fn(*a, workers=workers, **k)


def stft_anchors(n_fft: int, hop: int) -> list[Anchor]:
    def torch_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        torch = get_torch()
        t = torch.from_numpy(x["x"])
        w = torch.hann_window(n_fft, dtype=t.dtype)  # periodic
        return lambda: torch.stft(t, n_fft, hop, window=w, return_complex=True)

    def shorttime_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        try:
            from scipy.signal import ShortTimeFFT
        except ImportError as exc:
            raise AnchorUnavailable(f"scipy not importable ({exc})") from exc
        sig = x["x"]
        # Slice p is centred on sample p·hop (torch's center=True); padding='even' is reflect;
        # phase_shift=None refers the phase to the slice start as torch does. Output complex128.
        sft = ShortTimeFFT(cosine_window("hann", n_fft).astype(sig.dtype), hop=hop, fs=1.0, fft_mode="onesided", mfft=n_fft, phase_shift=None)
        return lambda: sft.stft(sig, p0=0, p1=1 + sig.shape[-1] // hop, padding="even")

    def framed_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        rfft, sig = scipy_fft("rfft"), x["x"]
        win = cosine_window("hann", n_fft).astype(sig.dtype)
        return lambda: stft_numpy(sig, n_fft, hop, win, rfft=rfft)

    return [
        Anchor("torch.stft", torch_prepare, library="torch"),
        Anchor("scipy ShortTimeFFT.stft", shorttime_prepare),
        Anchor(f"numpy frames + scipy.fft.rfft (workers={anchor_threads()})", framed_prepare),
    ]


def istft_anchors(n_fft: int, hop: int, length: int) -> list[Anchor]:
    def torch_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        torch = get_torch()
        s = torch.from_numpy(x["spec"])
        w = torch.hann_window(n_fft, dtype=s.real.dtype)
        return lambda: torch.istft(s, n_fft, hop, window=w, length=length)

    def ola_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        irfft, spec = scipy_fft("irfft"), x["spec"]
        win = cosine_window("hann", n_fft).astype(spec.real.dtype)
        env = overlap_add(np.broadcast_to(np.square(win), (spec.shape[-1], n_fft)), hop)  # data-independent
        return lambda: istft_numpy(spec, n_fft, hop, win, length, irfft=irfft, envelope=env)

    return [
        Anchor("torch.istft", torch_prepare, library="torch"),
        Anchor(f"scipy.fft.irfft (workers={anchor_threads()}) + numpy overlap-add", ola_prepare),
    ]


def stft_workloads(b: int, length: int, n_fft: int, hop: int) -> None:
    """stft_{b}x{length} and istft_{b}x{length} on the same float32 signal (Hann, periodic)."""
    seed = zlib.crc32(f"stft {b}x{length}".encode())
    signal = lambda rng: rng.standard_normal((b, length)).astype(np.float32)  # noqa: E731
    framing = ["--n-fft", str(n_fft), "--hop", str(hop), "--window", "hann"]
    frames = 1 + length // hop

    def spectrum(rng: np.random.Generator) -> dict[str, np.ndarray]:
        x = signal(rng).astype(np.float64)
        return {"spec": stft_numpy(x, n_fft, hop, cosine_window("hann", n_fft)).astype(np.complex64)}

    register(
        Workload(
            name=f"stft_{b}x{length}",
            shape=f"{b}x{length} float32, n_fft {n_fft}, hop {hop}, Hann",
            inputs=lambda rng: {"x": signal(rng)},
            anchors=stft_anchors(n_fft, hop),
            cli=lambda f: ["stft", f["x"], "-o", f["out"], *framing],
            compare=errors_of_dtype(out=np.complex64),  # [b, n_fft//2 + 1, frames]
            rtol=STFT_RTOL,
            seed=seed,
        )
    )
    register(
        Workload(
            name=f"istft_{b}x{length}",
            shape=f"{b}x{n_fft // 2 + 1}x{frames} complex64 -> {b}x{length}",
            inputs=spectrum,
            anchors=istft_anchors(n_fft, hop, length),
            cli=lambda f: ["istft", f["spec"], "-o", f["out"], *framing, "--length", str(length)],
            compare=errors_of_dtype(out=np.float32),  # [b, length]
            rtol=STFT_RTOL,
            seed=seed,
        )
    )


# 64 one-second clips at 16 kHz (the target: mlkern ≥ 2× torch.stft at 2 threads).
stft_workloads(64, 16000, n_fft=512, hop=128)


# --- tiara: TiARA's STFT-driven reweighting of the attention diagonal ------------------
#
# mlkern tiara P -o OUT --alpha A --window-len L --phi1 F1 --phi2 F2 (probabilities in): P float32
# [..., N, N] (rows are probability distributions) -> float32, same shape. For row i of each
# matrix (shared/reference/tiara_stft.md §1.7): y_r = ψ_r·p[(i − L//2 + r) mod N], r < L,
# with ψ the *symmetric* Blackman window of length L; X_k = Σ_r y_r e^{−2πi k r/N} for
# k < φ2 (only |X_k| matters); ρ_i = Σ_{φ1≤k<φ2} |X_k|² / Σ_{k<φ2} |X_k|² (0 if the
# denominator is 0); g_i = exp(−α(1 − ρ_i)); out_ij = p_ij·g_ij / Σ_j p_ij·g_ij with
# g_ii = g_i and 1 off the diagonal, i.e. softmax(logits + Λ) written on probabilities.
#
# Anchors: the definition vectorized over the whole [M, N, N] array (one gather of the L
# taps per row, one [M·N, L] × [L, 2φ2] product for the φ2 bins' real and imaginary parts),
# in float32 and in float64, plus a timing-only copy of P (np.copyto into a preallocated
# array): the memory-bandwidth bound for a kernel that reads P once and writes OUT once.
#
# Pass bound: 1e-5 normwise (max |Δ| / max |anchor|; the entries are probabilities, so it is
# also ~1e-5 absolute). Measured: the float32 anchor is within 4e-7 of the float64 one.
TIARA_RTOL = 1e-5


def tiara_numpy_fn(n: int, alpha: float, window_len: int, phi1: int, phi2: int, dtype: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The vectorized definition for [..., n, n] probabilities, computed in ``dtype``."""
    dt = np.dtype(dtype)
    taps = np.arange(window_len)
    gather = (np.arange(n)[:, None] - window_len // 2 + taps) % n  # [N, L]: key frame of tap r in row i
    flat = (np.arange(n)[:, None] * n + gather).ravel()  # the same in the flattened N·N matrix
    psi = cosine_window("blackman", window_len, periodic=False)
    phase = 2.0 * np.pi * np.outer(np.arange(phi2), taps) / n  # [φ2, L]
    table = np.concatenate([psi * np.cos(phase), psi * np.sin(phase)]).T.astype(dt)  # [L, 2φ2]: ψ folded in
    bands = np.zeros((2 * phi2, 2), dtype=dt)  # |X_k|² = Re² + Im²: column 0 sums k < φ2, column 1 φ1 ≤ k < φ2
    bands[:, 0] = 1
    bands[phi1:phi2, 1] = bands[phi2 + phi1 :, 1] = 1
    alpha = dt.type(alpha)

    def tiara(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=dt)
        flat_p = p.reshape(-1, n * n)
        y = np.take(flat_p, flat, axis=1).reshape(-1, window_len)  # [M·N, L]: the L taps of each row
        z = y @ table  # [M·N, 2φ2]: Re and Im of X_k, k < φ2
        z *= z
        energy = z @ bands  # [M·N, 2]
        total = energy[:, 0]
        rho = np.divide(energy[:, 1], total, out=np.zeros_like(total), where=total > 0)
        gain = np.exp(alpha * (rho - 1)).reshape(-1, n)  # e^{λ_i}, λ_i = −α(1 − ρ_i)
        diag = flat_p[:, :: n + 1]  # [M, N] view of the diagonals
        norm = np.einsum("mij->mi", flat_p.reshape(-1, n, n)) + diag * (gain - 1)  # Σ_j p_ij g_ij (einsum: 2× .sum(-1))
        out = flat_p.reshape(-1, n, n) / norm[..., None]
        out.reshape(-1, n * n)[:, :: n + 1] *= gain
        return out.reshape(p.shape)

    return tiara


def tiara_anchors(n: int, alpha: float, window_len: int, phi1: int, phi2: int) -> list[Anchor]:
    def numpy_prepare(dtype: Any) -> Callable[[dict[str, np.ndarray]], Callable[[], Any]]:
        def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
            fn, p = tiara_numpy_fn(n, alpha, window_len, phi1, phi2, dtype), x["p"].astype(dtype)  # cast untimed
            return lambda: fn(p)

        return prepare

    def copy_prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        p = x["p"]
        out = np.empty_like(p)
        return lambda: np.copyto(out, p)

    return [
        Anchor("numpy TiARA, vectorized f32", numpy_prepare(np.float32)),
        Anchor("numpy TiARA, vectorized f64 (accuracy check)", numpy_prepare(np.float64)),
        Anchor("np.copyto of P (memcpy bound, not TiARA)", copy_prepare, timing_only=True),
    ]


def tiara_workload(m: int, n: int, alpha: float = 5.0, window_len: int = 7, phi1: int = 2, phi2: int = 6) -> Workload:
    def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
        logits = rng.standard_normal((m, n, n)) + 2.0 * np.eye(n)  # self-attention boosted
        return {"p": softmax(logits).astype(np.float32)}

    # Probabilities in is the CLI's default, so no input-kind flag is passed.
    opts = ["--alpha", f"{alpha:g}", "--window-len", str(window_len), "--phi1", str(phi1), "--phi2", str(phi2)]
    return register(
        Workload(
            name=f"tiara_{m}x{n}",
            shape=f"{m}x{n}x{n} float32 probs, α {alpha:g}, L {window_len}, φ {phi1}..{phi2}",
            inputs=inputs,
            anchors=tiara_anchors(n, alpha, window_len, phi1, phi2),
            cli=lambda f: ["tiara", f["p"], "-o", f["out"], *opts],
            compare=errors_of_dtype(out=np.float32),
            rtol=TIARA_RTOL,
        )
    )


# 16384 matrices of 16 frames (e.g. batch 2 × heads 8 × 32×32 latent positions): mlkern
# ≥ 5× the float32 numpy anchor and ≤ 2× the copy at 2 threads.
tiara_workload(16384, 16)

# --- tree: Chow–Liu trees and latent-tree learners ------------------------------------
#
# mlkern tree DATA --kind discrete|gaussian|distances --method chow-liu|rg|clrg|nj|snj --json
# prints one JSON object: {"kind", "method", "n_samples", "n_vars", "n_observed", "n_nodes",
# "nodes", "edges": [[i, j, w], ...] (i < j, sorted by (i, j)), "timing"}. w is the plug-in
# (discrete) or Gaussian MI in nats for chow-liu on samples, the information distance for the
# latent methods. Observed nodes are 0..m-1, hidden ones m.. (hidden ids are arbitrary, so
# latent trees are validated, not compared). mlkern's timing covers statistics + tree, not
# file parsing. Reference: shared/reference/latent_tree.md (§1, §2.3, §4.2, §5.1, §7.4).
#
# Inputs are tie-free: the maximum spanning tree on the anchor's MI must be unique, checked
# with the strict cycle property (every non-tree pair's MI below the smallest MI on its tree
# path by >= TREE_GAP_REL x max MI); a draw that fails is replaced by the next draw of the same
# seeded rng. Equal MI between far-apart pairs (same 2x2 table) is harmless and allowed.
TREE_GAP_REL = 1e-9
TREE_CL_RTOL_BINARY = 1e-9  # MI weights of the (identical) edge sets, normwise
TREE_CL_RTOL_GAUSS = 1e-8  # MI from correlations: summation order differs more than for counts
TREE_METRIC_RTOL = 1e-8  # latent trees: path-length metric vs D, elementwise relative


def tree_parents(rng: np.random.Generator, p: int) -> np.ndarray:
    """Random recursive tree in generation order: parent[k] uniform in [0, k) (parent[0] = -1)."""
    par = np.floor(rng.random(p) * np.arange(p)).astype(np.int64)
    par[0] = -1
    return par


def tree_binary_data(rng: np.random.Generator, p: int, n: int) -> np.ndarray:
    """uint8 [n, p] from a random binary tree model, columns randomly permuted.

    Root ~ Bernoulli(U[0.2, 0.8]); child = parent XOR Bernoulli(f), f ~ U[0.05, 0.3] per edge.
    """
    par = tree_parents(rng, p)
    x = np.empty((p, n), dtype=np.uint8)  # variable-major while sampling
    x[0] = rng.random(n) < rng.uniform(0.2, 0.8)
    flips = rng.uniform(0.05, 0.3, size=p)
    for k in range(1, p):
        np.bitwise_xor(x[par[k]], rng.random(n) < flips[k], out=x[k])
    return np.ascontiguousarray(x[rng.permutation(p)].T)


def tree_gauss_data(rng: np.random.Generator, p: int, n: int) -> np.ndarray:
    """float64 [n, p] from a Gaussian tree (unit variances, edge correlations ±U[0.2, 0.8]), columns permuted."""
    par = tree_parents(rng, p)
    rho = rng.uniform(0.2, 0.8, size=p) * rng.choice([-1.0, 1.0], size=p)
    x = np.empty((p, n))
    x[0] = rng.standard_normal(n)
    for k in range(1, p):
        x[k] = rho[k] * x[par[k]] + np.sqrt(1.0 - rho[k] ** 2) * rng.standard_normal(n)
    return np.ascontiguousarray(x[rng.permutation(p)].T)


def binary_mi(x: np.ndarray) -> np.ndarray:
    """Plug-in MI (nats) of every pair of 0/1 columns of x [n, p] from one Gram matrix; diagonal 0.

    XᵀX in float32 is exact (0/1 products, counts < 2²⁴) and gives n11; the marginals n1 give the
    other three cells of each 2×2 table (latent_tree.md §1.2). 0·log 0 = 0.
    """
    n = x.shape[0]
    if n >= 1 << 24:
        raise ValueError("float32 Gram counts are exact only below 2^24 samples")
    xf = x.astype(np.float32)
    n11 = (xf.T @ xf).astype(np.float64)
    n1 = np.diag(n11).copy()
    p1 = n1 / n
    p0 = 1.0 - p1
    cells = (
        (n11, p1, p1),
        (n1[:, None] - n11, p1, p0),
        (n1[None, :] - n11, p0, p1),
        (n - n1[:, None] - n1[None, :] + n11, p0, p0),
    )
    mi = np.zeros_like(n11)
    with np.errstate(divide="ignore", invalid="ignore"):
        for c, pa, pb in cells:
            pab = c / n
            mi += np.where(c > 0, pab * np.log(pab / np.outer(pa, pb)), 0.0)
    np.fill_diagonal(mi, 0.0)
    return mi


def gauss_mi(x: np.ndarray) -> np.ndarray:
    """Gaussian MI −½ ln(1 − ρ²) from np.corrcoef (Pearson, centred); diagonal 0."""
    rho = np.corrcoef(x, rowvar=False)
    np.fill_diagonal(rho, 0.0)
    return -0.5 * np.log1p(-np.square(rho))


def max_spanning_tree(w: np.ndarray) -> np.ndarray:
    """Maximum spanning tree of the dense symmetric weights w: [p-1, 3] rows (i, j, w_ij), i < j, sorted.

    scipy's minimum_spanning_tree reads a dense 0 as "no edge" and rounds entries below 1e-8 to 0
    (latent_tree.md §1.4), so MI itself (0 for independent pairs) cannot go in. It gets C − w with
    C = max(w) + 1: every pair weighs ≥ 1, the diagonal is 0 (no self-loops), and minimising
    Σ(C − w) maximises Σ w. The weights reported are w_ij itself, not C − (C − w_ij).
    """
    p = w.shape[0]
    cost = (w.max() + 1.0) - w
    np.fill_diagonal(cost, 0.0)
    t = _csgraph().minimum_spanning_tree(cost).tocoo()
    i, j = np.minimum(t.row, t.col), np.maximum(t.row, t.col)
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    if i.size != p - 1:
        raise RuntimeError(f"spanning forest with {i.size} edges, expected {p - 1}")
    return np.column_stack([i, j, w[i, j]]).astype(np.float64)


def _csgraph() -> Any:
    try:
        import scipy.sparse.csgraph as csgraph
    except ImportError as exc:
        raise AnchorUnavailable(f"scipy not importable ({exc})") from exc
    return csgraph


def mst_gap_rel(w: np.ndarray, edges: np.ndarray) -> float:
    """min over non-tree pairs (u, v) of (smallest w on the tree path u..v) − w_uv, over max w.

    > 0 iff the maximum spanning tree is unique (strict cycle property). The path minima come from
    merging the tree's components heaviest edge first: the pairs joined by an edge have it as
    their bottleneck.
    """
    p = w.shape[0]
    if p <= 2:
        return float("inf")
    members = {v: [v] for v in range(p)}
    owner = np.arange(p)
    bottleneck = np.full((p, p), np.inf)
    for i, j, wij in sorted(edges.tolist(), key=lambda e: -e[2]):
        a, b = owner[int(i)], owner[int(j)]
        if len(members[a]) < len(members[b]):
            a, b = b, a
        ia, ib = members[a], members[b]
        bottleneck[np.ix_(ia, ib)] = wij
        bottleneck[np.ix_(ib, ia)] = wij
        owner[ib] = a
        ia += members.pop(b)
    non_tree = ~np.eye(p, dtype=bool)
    non_tree[edges[:, 0].astype(int), edges[:, 1].astype(int)] = False
    non_tree[edges[:, 1].astype(int), edges[:, 0].astype(int)] = False
    return float((bottleneck - w)[non_tree].min() / w.max())


def tie_free(draw: Callable[[], np.ndarray], mi: Callable[[np.ndarray], np.ndarray], what: str) -> np.ndarray:
    """Redraw until the maximum spanning tree on the anchor's MI is unique by TREE_GAP_REL."""
    for _ in range(20):
        x = draw()
        w = mi(x)
        if mst_gap_rel(w, max_spanning_tree(w)) >= TREE_GAP_REL:
            return x
    raise RuntimeError(f"{what}: no draw with a unique Chow–Liu tree in 20 tries")


def compare_cl_edges(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> tuple[float, float]:
    """Chow–Liu rows: the edge lists must hold the same pairs; then ``errors`` on the MI weights.

    mlkern's list must follow the CLI contract (i < j, sorted by (i, j)); a different pair set
    fails the row with a count and examples of the pairs only on one side.
    """
    g, w = np.asarray(got["edges"], dtype=np.float64), np.asarray(want["edges"], dtype=np.float64)
    if g.ndim != 2 or g.shape[1:] != (3,):
        raise ValueError(f"mlkern edges: shape {g.shape}, expected [p-1, 3] rows [i, j, w]")
    gi, gj = g[:, 0], g[:, 1]
    if not (np.array_equal(gi, np.round(gi)) and np.array_equal(gj, np.round(gj))):
        raise ValueError("mlkern edges: node ids are not integers")
    if np.any(gi >= gj) or np.any(np.diff(gi * (gj.max() + 1) + gj) <= 0):
        raise ValueError("mlkern edges: not i < j and strictly sorted by (i, j) (the CLI contract)")
    gs = {(int(a), int(b)) for a, b in g[:, :2]}
    ws = {(int(a), int(b)) for a, b in w[:, :2]}
    if gs != ws or g.shape != w.shape:
        only_g, only_w = sorted(gs - ws), sorted(ws - gs)
        raise ValueError(
            f"edge sets differ: {len(only_g)} pairs only in mlkern {only_g[:4]}, {len(only_w)} only in the anchor {only_w[:4]}"
            f" ({g.shape[0]} vs {w.shape[0]} edges)"
        )
    return errors({"w": g[:, 2]}, {"w": w[:, 2]})


def cl_numpy_anchor(label: str, mi: Callable[[np.ndarray], np.ndarray]) -> Anchor:
    """mi(x) then the scipy maximum spanning tree; the whole pipeline is timed from the stored dtype."""

    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        _csgraph()
        data = x["x"]
        return lambda: {"edges": max_spanning_tree(mi(data))}

    return Anchor(label, prepare)


def pgmpy_cl_anchor(label: str, max_repeat: int) -> Anchor:
    """pgmpy TreeSearch(df, root_node=first column, n_jobs=1).estimate("chow-liu") (~1.3 ms per pair).

    The DataFrame is built outside the timing. pgmpy returns a DAG without weights, so the
    weights of its edges are computed afterwards (untimed, in ``to_numpy``) with pgmpy's own
    edge-weight function, sklearn's mutual_info_score.
    """

    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pgmpy's deprecation notices on import
            try:
                import pandas as pd
                from pgmpy.estimators import TreeSearch
            except Exception as exc:
                raise AnchorUnavailable(f"pgmpy not importable ({type(exc).__name__}: {exc})") from exc
        df = pd.DataFrame(x["x"], columns=[f"X{j}" for j in range(x["x"].shape[1])])
        root = df.columns[0]
        # The DataFrame rides along for to_numpy (untimed): the DAG's nodes are column names.
        return lambda: (TreeSearch(df, root_node=root, n_jobs=1).estimate(estimator_type="chow-liu", show_progress=False), df)

    def to_numpy(result: Any) -> dict[str, np.ndarray]:
        from sklearn.metrics import mutual_info_score

        dag, df = result
        col = {c: k for k, c in enumerate(df.columns)}
        pairs = sorted((min(col[u], col[v]), max(col[u], col[v])) for u, v in dag.edges())
        data = df.to_numpy()
        return {"edges": np.array([[i, j, mutual_info_score(data[:, i], data[:, j])] for i, j in pairs], dtype=np.float64)}

    return Anchor(label, prepare, to_numpy=to_numpy, max_repeat=max_repeat)


def tree_cl_workload(name: str, kind: str, p: int, n: int, anchors: list[Anchor], rtol: float) -> Workload:
    if kind == "discrete":
        draw, mi, dtype = tree_binary_data, binary_mi, "uint8 0/1"
    else:
        draw, mi, dtype = tree_gauss_data, gauss_mi, "float64 gaussian"
    return register(
        Workload(
            name=name,
            shape=f"{n}x{p} {dtype}, chow-liu",
            inputs=lambda rng: {"x": tie_free(lambda: draw(rng, p, n), mi, name)},
            anchors=anchors,
            cli=lambda f: ["tree", f["x"], "--kind", kind, "--method", "chow-liu"],
            outputs=["edges"],
            json_outputs=True,
            expect_json={"kind": kind, "method": "chow-liu", "n_samples": n, "n_vars": p, "n_observed": p, "n_nodes": p},
            compare=compare_cl_edges,
            rtol=rtol,
        )
    )


# Binary p=100 (latent_tree.md §7.4): mlkern ≤ 20 ms and ≥ 300× pgmpy (6.8 s measured there).
# pgmpy is timed over at most 3 runs (after the warm-up call): ~30 s for the row.
tree_cl_workload(
    "tree_cl_binary_100x10000",
    "discrete",
    100,
    10_000,
    [
        pgmpy_cl_anchor("pgmpy TreeSearch chow-liu (n_jobs=1)", max_repeat=3),
        cl_numpy_anchor("numpy f32 Gram -> 2x2 MI + scipy MST", binary_mi),
    ],
    TREE_CL_RTOL_BINARY,
)
# Binary p=1000: mlkern ≤ 1 s. No pgmpy row: at ~1.3 ms per pair its 499 500 pairs take ~10 min.
tree_cl_workload(
    "tree_cl_binary_1000x10000",
    "discrete",
    1000,
    10_000,
    [cl_numpy_anchor("numpy f32 Gram -> 2x2 MI + scipy MST", binary_mi)],
    TREE_CL_RTOL_BINARY,
)
# Gaussian p=1000: mlkern ≥ 2× the numpy + scipy pipeline at 2 threads (§7.4: ≤ 0.5 s).
# pgmpy has no row: it treats floats as categories and returns a wrong tree (§4.2).
tree_cl_workload(
    "tree_cl_gauss_1000x10000",
    "gaussian",
    1000,
    10_000,
    [cl_numpy_anchor("np.corrcoef -> -0.5 log1p(-rho^2) + scipy MST", gauss_mi)],
    TREE_CL_RTOL_GAUSS,
)


# --- latent trees from an exact tree metric (CLRG, SNJ) ---------------------------------
#
# D is the exact path-length metric of a random *minimal* latent tree (hidden nodes of degree
# ≥ 3) on its observed nodes, edge lengths −ln U[0.2, 0.8] (ρ_e ∈ [0.2, 0.8] of a Gaussian
# tree, latent_tree.md §5.2). From population distances CLRG (and NJ / SNJ on trivalent trees
# with observed leaves) must recover the tree exactly (§7.3 item 7). The generating tree goes
# to the work dir as `truth` ([edges, 2] node ids, observed 0..m-1 in random order, hidden m..);
# mlkern does not read it.


def latent_tree_random(rng: np.random.Generator, m: int, hidden_frac: float = 0.15) -> np.ndarray:
    """Edges [N-1, 2] of a random minimal latent tree with m observed nodes (ids 0..m-1).

    A random recursive tree on N = round(m / (1 - hidden_frac)) nodes (half leaves, a quarter of
    degree ≥ 3); N - m of its degree-≥3 nodes, chosen at random, become hidden. Observed nodes
    are leaves or internal (any degree), as in Choi et al.'s CLRG setting.
    """
    big_n = int(round(m / (1.0 - hidden_frac)))
    for _ in range(100):
        par = tree_parents(rng, big_n)
        deg = np.bincount(par[1:], minlength=big_n) + (np.arange(big_n) > 0)
        eligible = np.flatnonzero(deg >= 3)
        if eligible.size >= big_n - m:
            break
    else:
        raise RuntimeError("latent_tree_random: too few nodes of degree >= 3")
    hidden = rng.choice(eligible, size=big_n - m, replace=False)
    is_hidden = np.zeros(big_n, dtype=bool)
    is_hidden[hidden] = True
    label = np.empty(big_n, dtype=np.int64)
    label[~is_hidden] = rng.permutation(m)
    label[is_hidden] = m + rng.permutation(big_n - m)
    return np.column_stack([label[1:], label[par[1:]]])


def latent_tree_trivalent(rng: np.random.Generator, m: int) -> np.ndarray:
    """Edges [2m-3, 2] of a random unrooted binary tree: m observed leaves (0..m-1), m-2 hidden nodes of degree 3.

    Yule process: start from a star of three leaves and split a uniformly random leaf into a
    cherry until there are m leaves (balanced-ish: depth O(log m), so e^{-d} stays well above
    underflow for SNJ's similarities). Leaf labels are then shuffled.
    """
    adj: dict[int, int] = {0: 3, 1: 3, 2: 3}  # leaf -> its (hidden) neighbour
    edges = [(0, 3), (1, 3), (2, 3)]
    nxt = 4
    leaves = [0, 1, 2]
    while len(leaves) < m:
        k = int(rng.integers(len(leaves)))
        leaf = leaves[k]
        h, new = nxt, nxt + 1  # leaf becomes hidden node h with children: leaf' (reuse id `leaf`) and `new`
        nxt += 2
        edges.remove((leaf, adj[leaf]))
        edges += [(h, adj[leaf]), (leaf, h), (new, h)]
        adj[leaf] = h
        adj[new] = h
        leaves.append(new)
    e = np.array(edges, dtype=np.int64)
    ids = np.unique(e)
    is_leaf = np.isin(ids, leaves)
    label = np.empty(ids.max() + 1, dtype=np.int64)
    label[ids[is_leaf]] = rng.permutation(m)
    label[ids[~is_leaf]] = m + rng.permutation(ids.size - m)
    return label[e]


def tree_lengths_metric(edges: np.ndarray, lengths: np.ndarray, m: int) -> np.ndarray:
    """[m, m] path-length metric between nodes 0..m-1 (exactly symmetric, zero diagonal)."""
    csgraph = _csgraph()
    from scipy.sparse import coo_matrix

    n_nodes = int(edges.max()) + 1
    g = coo_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes)).tocsr()
    d = csgraph.shortest_path(g, method="D", directed=False, indices=np.arange(m))[:, :m]
    d = np.minimum(d, d.T)  # the two Dijkstra sums may differ in the last bit
    np.fill_diagonal(d, 0.0)
    return d


def tree_hops(edges: np.ndarray, n_nodes: int, m: int) -> np.ndarray:
    """[m, m] hop counts between nodes 0..m-1 of the tree given by edges [E, 2]."""
    from scipy.sparse import coo_matrix

    g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes)).tocsr()
    return _csgraph().shortest_path(g, method="D", directed=False, unweighted=True, indices=np.arange(m))[:, :m]


def validate_latent_tree(out: dict[str, Any], d: np.ndarray, truth: np.ndarray) -> tuple[list[str], str]:
    """Exact recovery of the generating tree from the population metric D (mlkern's or an anchor's output).

    Structure: n_observed = m; edges [n_nodes - 1, 3] with integer ids in [0, n_nodes), i < j,
    sorted by (i, j); connected (so a tree); every hidden node (id ≥ m) of degree ≥ 3; lengths
    finite and > 0. Recovery (Choi's isExactRecovery, latent_tree.md §5.1): the hop-count matrix
    between observed nodes equals the generating tree's, which for minimal trees fixes the tree up
    to hidden relabelling. Lengths: the weighted path metric between observed nodes reproduces D
    elementwise to TREE_METRIC_RTOL.
    """
    m = d.shape[0]
    e = np.asarray(out["edges"], dtype=np.float64)
    n_obs, n_nodes = int(np.asarray(out["n_observed"])), int(np.asarray(out["n_nodes"]))
    true_nodes = int(truth.max()) + 1
    if n_obs != m:
        return [f"n_observed {n_obs}, expected {m}"], "invalid"
    if e.ndim != 2 or e.shape != (n_nodes - 1, 3):
        return [f"edges shape {e.shape}, expected ({n_nodes - 1}, 3) for n_nodes {n_nodes}"], "invalid"
    if not np.array_equal(e[:, :2], np.round(e[:, :2])):
        return ["node ids are not integers"], "invalid"
    i, j, w = e[:, 0].astype(np.int64), e[:, 1].astype(np.int64), e[:, 2]
    if np.any(i < 0) or np.any(j >= n_nodes) or np.any(i >= j):
        return [f"node ids outside 0 <= i < j < n_nodes ({n_nodes})"], "invalid"
    problems = []
    if np.any(np.diff(i * n_nodes + j) <= 0):
        problems.append("edges not strictly sorted by (i, j) (the CLI contract)")
    from scipy.sparse import coo_matrix

    g = coo_matrix((np.ones(len(i)), (i, j)), shape=(n_nodes, n_nodes))
    n_comp = _csgraph().connected_components(g, directed=False)[0]
    if n_comp != 1:
        return problems + [f"not a tree: {n_comp} connected components"], "invalid"
    deg = np.bincount(np.concatenate([i, j]), minlength=n_nodes)
    low = np.flatnonzero(deg[m:] < 3)
    if low.size:
        h = m + int(low[0])
        problems.append(f"{low.size} hidden nodes of degree < 3 (not minimal), e.g. node {h} of degree {deg[h]}")
    hops = tree_hops(np.column_stack([i, j]), n_nodes, m)
    true_hops = tree_hops(truth, true_nodes, m)
    bad = np.triu(hops != true_hops, 1)
    recovered = not bad.any()
    if not recovered:
        k = int(bad.sum())
        problems.append(
            f"not an exact recovery: hop counts differ on {k} of {m * (m - 1) // 2} observed pairs"
            f" (max |Δhops| {np.abs(hops - true_hops).max():.0f})"
        )
    rel = float("nan")
    if not np.all(np.isfinite(w) & (w > 0)):
        problems.append(f"{int(np.sum(~(np.isfinite(w) & (w > 0))))} edge lengths not finite and > 0")
    else:
        metric = tree_lengths_metric(np.column_stack([i, j]), w, m)
        off = ~np.eye(m, dtype=bool)
        rel = float(np.max(np.abs(metric[off] - d[off]) / d[off]))
        if not rel <= TREE_METRIC_RTOL:
            problems.append(f"path metric vs D: max rel err {rel:.2e} > {TREE_METRIC_RTOL:.0e}")
    summary = (
        f"{'exact recovery' if recovered else 'NOT recovered'}, {n_nodes - m} hidden nodes (truth {true_nodes - m}),"
        f" path metric vs D max rel err {rel:.1e}"
    )
    return problems, summary


def nj_numpy(d: np.ndarray) -> dict[str, Any]:
    """Saitou–Nei neighbour joining (Studier–Keppler Q), vectorised per merge: O(m²) per step, O(m³) total.

    Leaves 0..m-1, the m-2 joined nodes m..2m-3; output in the CLI's JSON layout. Exact for an
    additive metric of a trivalent tree whose observed nodes are its leaves.
    """
    m = d.shape[0]
    dm = d.astype(np.float64, copy=True)
    act = np.arange(m)
    edges = []
    nxt = m
    r = m
    while r > 2:
        v = dm[:r, :r]
        rs = v.sum(axis=1)
        q = (r - 2) * v - rs[:, None] - rs[None, :]
        np.fill_diagonal(q, np.inf)
        a, b = divmod(int(np.argmin(q)), r)
        a, b = min(a, b), max(a, b)
        dab = v[a, b]
        la = 0.5 * dab + (rs[a] - rs[b]) / (2 * (r - 2))
        edges += [(act[a], nxt, la), (act[b], nxt, dab - la)]
        new = 0.5 * (v[a] + v[b] - dab)
        v[a, :] = new
        v[:, a] = new
        v[a, a] = 0.0
        act[a] = nxt
        nxt += 1
        last = r - 1
        if b != last:  # move the last active node into slot b
            v[b, :] = v[last, :]
            v[:, b] = v[:, last]
            v[b, b] = 0.0
            act[b] = act[last]
        r -= 1
    edges.append((act[0], act[1], dm[0, 1]))
    e = np.array([(min(x, y), max(x, y), w) for x, y, w in edges], dtype=np.float64)
    e = e[np.lexsort((e[:, 1], e[:, 0]))]
    return {"edges": e, "n_observed": m, "n_nodes": nxt}


def mst_timing_anchor(label: str) -> Anchor:
    """scipy minimum_spanning_tree of D: CLRG's first step only (D > 0 off the diagonal, so no zero pitfall)."""

    def prepare(x: dict[str, np.ndarray]) -> Callable[[], Any]:
        mst, d = _csgraph().minimum_spanning_tree, x["d"]
        return lambda: mst(d)

    return Anchor(label, prepare, timing_only=True)


def nj_anchor(label: str) -> Anchor:
    return Anchor(label, lambda x: lambda: nj_numpy(x["d"]))


def latent_workload(
    name: str, method: str, m: int, truth: Callable[[np.random.Generator], np.ndarray], anchors: list[Anchor], shape: str
) -> Workload:
    def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
        edges = truth(rng)
        lengths = -np.log(rng.uniform(0.2, 0.8, size=len(edges)))
        return {"d": tree_lengths_metric(edges, lengths, m), "truth": edges}

    return register(
        Workload(
            name=name,
            shape=shape,
            inputs=inputs,
            anchors=anchors,
            cli=lambda f: ["tree", f["d"], "--kind", "distances", "--method", method],
            outputs=["edges", "n_observed", "n_nodes"],
            json_outputs=True,
            expect_json={"kind": "distances", "method": method, "n_observed": m},
            validate=validate_latent_tree,
        )
    )


# CLRG on m = 1000 observed nodes (~176 hidden): mlkern ≤ 50 ms (§7.4). There is no Python
# CLRG; the scipy MST of D (CLRG's first step) is a timing reference only, and mlkern's row
# is decided by validate_latent_tree.
latent_workload(
    "tree_clrg_1000",
    "clrg",
    1000,
    lambda rng: latent_tree_random(rng, 1000),
    [mst_timing_anchor("scipy MST of D (CLRG step 1 only, timing reference)")],
    "D 1000x1000 f64: minimal latent tree metric",
)
# SNJ on m = 256 leaves of a random trivalent tree: mlkern ≤ 1 s (§7.4). The anchor is plain
# neighbour joining in numpy (not SNJ), which also recovers this tree exactly from D.
latent_workload(
    "tree_snj_256",
    "snj",
    256,
    lambda rng: latent_tree_trivalent(rng, 256),
    [nj_anchor("numpy neighbour joining (Saitou–Nei; not SNJ)")],
    "D 256x256 f64: binary tree metric, leaves",
)


# ----------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------


def time_callable(fn: Callable[[], Any], repeat: int, warmup: int) -> tuple[Any, list[float]]:
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return result, times


def errors(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> tuple[float, float]:
    """Max abs error and max rel error over all outputs.

    The relative error is normwise: max|got - want| / max|want| per output (elementwise
    relative error is meaningless where an entry of the result is near zero).
    """
    max_abs = 0.0
    max_rel = 0.0
    for key, w in want.items():
        if key not in got:
            raise ValueError(f"mlkern wrote no output {key!r}")
        g = np.asarray(got[key])
        w = np.asarray(w)
        if g.shape != w.shape:
            raise ValueError(f"output {key!r}: shape {g.shape} from mlkern, {w.shape} from the anchor")
        wide = np.complex128 if (np.iscomplexobj(g) or np.iscomplexobj(w)) else np.float64
        d = np.abs(g.astype(wide) - w.astype(wide))
        if d.size == 0:
            continue
        if not np.all(np.isfinite(d)):
            return float("inf"), float("inf")
        a = float(d.max())
        scale = float(np.abs(w.astype(wide)).max())
        max_abs = max(max_abs, a)
        max_rel = max(max_rel, a / scale if scale > 0 else (0.0 if a == 0 else float("inf")))
    return max_abs, max_rel


@dataclass
class MlkernRun:
    median_s: float | None = None
    min_s: float | None = None
    runs: int | None = None
    outputs: dict[str, np.ndarray] | None = None
    status: str = "ok"  # ok | missing (subcommand not implemented) | error
    detail: str = ""


def run_mlkern(binary: str, w: Workload, files: dict[str, str], repeat: int, threads: int, timeout: float) -> MlkernRun:
    argv = [binary, *w.cli(files), "--json", "--repeat", str(repeat), "--threads", str(threads)]
    for name in [] if w.json_outputs else w.outputs:
        Path(files[name]).unlink(missing_ok=True)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return MlkernRun(status="error", detail=f"timed out after {timeout:.0f}s: {' '.join(argv)}")
    except OSError as exc:
        return MlkernRun(status="error", detail=f"cannot run {binary}: {exc}")
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip()
        if "unrecognized subcommand" in err or "unrecognized_subcommand" in err:
            return MlkernRun(status="missing", detail=f"`{w.cli(files)[0]}` subcommand not in this binary")
        return MlkernRun(status="error", detail=f"exit {proc.returncode}: {err[-2000:]}")
    report = _parse_json(proc.stdout)
    if report is None:
        return MlkernRun(status="error", detail=f"no JSON object on stdout: {proc.stdout[-500:]!r}")
    timing = report.get("timing") or {}
    run = MlkernRun(median_s=timing.get("median_s"), min_s=timing.get("min_s"), runs=timing.get("runs"))
    if run.median_s is None:
        return MlkernRun(status="error", detail=f"JSON has no timing.median_s: {json.dumps(report)[:500]}")
    if run.runs is not None and run.runs != repeat:
        run.detail = f"mlkern reported {run.runs} runs, asked for {repeat}"
    wrong = [f"{k} = {report.get(k)!r}, expected {v!r}" for k, v in w.expect_json.items() if report.get(k) != v]
    if wrong:
        return MlkernRun(status="error", detail="JSON report: " + "; ".join(wrong))
    if w.json_outputs:
        missing = [name for name in w.outputs if report.get(name) is None]
        if missing:
            return MlkernRun(status="error", detail=f"JSON has no (or null) {', '.join(missing)}: {json.dumps(report)[:500]}")
        try:
            run.outputs = {name: np.asarray(report[name], dtype=np.float64) for name in w.outputs}
        except (TypeError, ValueError) as exc:  # e.g. ragged lists
            return MlkernRun(status="error", detail=f"JSON outputs are not numeric arrays: {exc}")
        return run
    try:
        run.outputs = {name: np.load(files[name], allow_pickle=False) for name in w.outputs}
    except Exception as exc:
        return MlkernRun(status="error", detail=f"cannot read mlkern output: {exc}")
    return run


def _parse_json(text: str) -> dict | None:
    text = text.strip()
    try:
        obj = json.loads(text)
        return obj if isinstance(obj, dict) else None
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):  # tolerate log lines before the object
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def run_workload(w: Workload, args: argparse.Namespace, workdir: Path) -> list[dict]:
    wdir = workdir / w.name
    wdir.mkdir(parents=True, exist_ok=True)
    inputs = w.inputs(w.rng())
    files: dict[str, str] = {}
    for name, arr in inputs.items():
        path = wdir / f"{name}.npy"
        np.save(path, arr, allow_pickle=False)
        files[name] = str(path)
    for name in [] if w.json_outputs else w.outputs:
        files[name] = str(wdir / f"{name}.mlkern.npy")

    mk = run_mlkern(args.bin, w, files, args.repeat, args.threads, args.timeout)
    reference = None
    if w.reference is not None and mk.status == "ok":
        reference = _as_outputs(w, _default_to_numpy(w.reference(**inputs)))
    mk_check = None
    if w.validate is not None and mk.status == "ok":
        mk_check = _validate(w, mk.outputs or {}, inputs)

    rows = []
    for anchor in w.anchors:
        row: dict[str, Any] = {
            "workload": w.name,
            "shape": w.shape,
            "anchor": anchor.label,
            "anchor_median_s": None,
            "anchor_min_s": None,
            "mlkern_median_s": mk.median_s,
            "mlkern_min_s": mk.min_s,
            "ratio": None,
            "max_abs_err": None,
            "max_rel_err": None,
            "anchor_ref_rel_err": None,
            "rtol": w.rtol,
            "repeat": args.repeat,
            "threads": args.threads,
            "status": "ok",
            "timing_only": anchor.timing_only,
            "detail": mk.detail,
        }
        repeat = args.repeat if anchor.max_repeat is None else max(1, min(args.repeat, anchor.max_repeat))
        row["repeat"] = repeat
        try:
            fn = anchor.prepare(inputs)
            result, times = time_callable(fn, repeat, args.warmup)
        except AnchorUnavailable as exc:
            row.update(status="anchor-unavailable", detail=str(exc))
            rows.append(row)
            continue
        row["anchor_median_s"] = statistics.median(times)
        row["anchor_min_s"] = min(times)
        if anchor.timing_only:  # a yardstick (e.g. a copy of the input): nothing to compare
            row.update(rtol=None, timing_only=True)
            notes = [mk.detail] if mk.detail else []
            if mk.status == "ok":
                row["ratio"] = row["anchor_median_s"] / mk.median_s if mk.median_s > 0 else None
                if mk_check is not None:  # a validated workload: mlkern's own check still decides the row
                    problems, summary = mk_check
                    notes.append(f"mlkern: {summary}")
                    notes += _problem_notes("mlkern", problems)
                    if problems:
                        row["status"] = "FAIL"
            else:
                row["status"] = f"mlkern-{mk.status}"
            row["detail"] = "; ".join([*notes, "timing only: this anchor does not compute the result"])
            rows.append(row)
            continue
        if w.validate is not None:
            if mk.status == "ok":
                row["ratio"] = row["anchor_median_s"] / mk.median_s if mk.median_s > 0 else None
            anchor_out = _as_outputs(w, (anchor.to_numpy or _default_to_numpy)(result))
            rows.append(_validated_row(row, mk, mk_check, _validate(w, anchor_out, inputs)))
            continue
        if mk.status != "ok":
            row.update(status=f"mlkern-{mk.status}", detail=mk.detail)
            rows.append(row)
            continue
        row["ratio"] = row["anchor_median_s"] / mk.median_s if mk.median_s > 0 else None
        ref = _as_outputs(w, (anchor.to_numpy or _default_to_numpy)(result))
        compare = w.compare or errors
        notes = [mk.detail] if mk.detail else []
        try:
            if reference is None:
                abs_err, rel_err = compare(mk.outputs or {}, ref)
            else:  # mlkern against the float64 reference; the anchor's own error goes in the notes
                abs_err, rel_err = compare(mk.outputs or {}, reference)
                _, row["anchor_ref_rel_err"] = compare(ref, reference)
                over = "" if row["anchor_ref_rel_err"] <= w.rtol else f", above rtol {w.rtol:.0e}"
                notes.append(f"errors are against the float64 reference; this anchor's own max rel err: {row['anchor_ref_rel_err']:.2e}{over}")
        except Exception as exc:
            row.update(status="FAIL", detail=f"comparison failed: {exc}")
            rows.append(row)
            continue
        row["max_abs_err"] = abs_err
        row["max_rel_err"] = rel_err
        if not rel_err <= w.rtol:  # also catches NaN
            row["status"] = "FAIL"
            notes.insert(0, f"max rel err {rel_err:.3g} > rtol {w.rtol:.0e}")
        row["detail"] = "; ".join(notes)
        rows.append(row)
    for row in rows:  # anchors with max_repeat: say that they were timed over fewer runs
        if row["repeat"] < args.repeat and row["anchor_median_s"] is not None:
            capped = f"anchor timed over {row['repeat']} runs (capped; --repeat {args.repeat})"
            row["detail"] = "; ".join(filter(None, [row["detail"], capped]))
    return rows


def _validate(w: Workload, outputs: dict[str, Any], inputs: dict[str, np.ndarray]) -> tuple[list[str], str]:
    assert w.validate is not None
    try:
        return w.validate(outputs, **inputs)
    except Exception as exc:  # malformed outputs: a failed check, not a crashed harness
        return [f"validation failed: {type(exc).__name__}: {exc}"], "invalid"


def _validated_row(
    row: dict, mk: MlkernRun, mk_check: tuple[list[str], str] | None, anchor_check: tuple[list[str], str]
) -> dict:
    """Status and notes of a row whose outputs are validated (``Workload.validate``), not compared.

    A problem in mlkern's outputs or in the anchor's (a broken anchor is a harness bug)
    fails the row; each side's summary goes into the notes.
    """
    row["rtol"] = None
    notes = [mk.detail] if mk.detail else []
    if mk.status != "ok":
        row["status"] = f"mlkern-{mk.status}"
    elif mk_check is not None:
        problems, summary = mk_check
        notes.append(f"mlkern: {summary}")
        notes += _problem_notes("mlkern", problems)
        if problems:
            row["status"] = "FAIL"
    problems, summary = anchor_check
    notes.append(f"anchor: {summary}")
    notes += _problem_notes("anchor", problems)
    if problems:
        row["status"] = "FAIL"
    row["detail"] = "; ".join(notes)
    return row


def _problem_notes(who: str, problems: list[str], limit: int = 3) -> list[str]:
    more = [f"{who}: … and {len(problems) - limit} more problems"] if len(problems) > limit else []
    return [f"{who}: **{p}**" for p in problems[:limit]] + more


def _as_outputs(w: Workload, result: Any) -> dict[str, Any]:
    """A single array stands for the workload's first output."""
    return result if isinstance(result, dict) else {w.outputs[0]: result}


# ----------------------------------------------------------------------------------------
# Machine description
# ----------------------------------------------------------------------------------------


BUSY_WARN = 0.15  # cores busy (outside this process) above which timings are flagged


def cpu_busy(interval: float = 0.5) -> float | None:
    """Cores kept busy by *other* processes, sampled from /proc/stat while this one sleeps."""

    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as fh:
                vals = [int(v) for v in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
        return sum(vals[:8]) - idle, sum(vals[:8])

    a = sample()
    time.sleep(interval)
    b = sample()
    if a is None or b is None or b[1] == a[1]:
        return None
    return (b[0] - a[0]) / (b[1] - a[1]) * (os.cpu_count() or 1)


def machine_info(binary: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    cpu: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break  # first processor block is enough
                key, _, val = line.partition(":")
                cpu[key.strip()] = val.strip()
    except OSError:
        pass
    flags = set(cpu.get("flags", "").split())
    info["cpu_model"] = cpu.get("model name") or platform.processor() or "unknown"
    info["cpu_id"] = " ".join(
        f"{k.replace('cpu ', '')} {cpu[k]}" for k in ("vendor_id", "cpu family", "model", "stepping") if k in cpu
    )
    info["cpu_simd"] = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile") if f in flags)
    info["logical_cpus"] = os.cpu_count()
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        info["usable_cpus"] = os.cpu_count()
    info["numpy"] = np.__version__
    for mod in ("scipy", "pgmpy", "threadpoolctl"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's own BLAS so threadpoolctl lists it)
    except Exception:
        pass
    try:
        torch = get_torch()
        info["torch"] = torch.__version__
        cfg = torch.__config__.show()
        cap = [ln.split(":", 1)[1].strip() for ln in cfg.splitlines() if "CPU capability usage" in ln]
        info["torch_blas"] = ("MKL" if torch.backends.mkl.is_available() else "no MKL") + (f", {cap[0]}" if cap else "")
        info["torch_threads"] = torch.get_num_threads()
    except AnchorUnavailable as exc:
        info["torch"] = f"unavailable ({exc})"
    info["blas"] = []
    if threadpoolctl is not None:
        for lib in threadpoolctl.threadpool_info():
            info["blas"].append(
                {
                    k: lib.get(k)
                    for k in ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
                }
            )
    else:
        try:
            cfg = np.show_config(mode="dicts")
            info["blas"].append({"numpy_build": cfg.get("Build Dependencies", {}).get("blas")})
        except Exception:
            pass
    info["unset_env"] = dict(_UNSET_ENV)
    info["cpu_busy_before"] = cpu_busy()
    if binary:
        try:
            out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
            info["mlkern"] = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"
        except Exception as exc:
            info["mlkern"] = f"? ({exc})"
        info["mlkern_bin"] = binary
    return info


def _lib_owner(path: str | None) -> str:
    """The package a shared library ships in (numpy.libs, scipy.libs, torch, ...)."""
    if not path:
        return "?"
    parts = Path(path).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1]
    return str(Path(path).parent)


def print_machine(info: dict[str, Any], args: argparse.Namespace) -> None:
    print("## mlkern vs anchors")
    print()
    print(f"- CPU: {info['cpu_model']} ({info['cpu_id']}; {info['cpu_simd']})")
    print(f"- cores: {info['logical_cpus']} logical, {info['usable_cpus']} usable; benchmark threads: {args.threads}")
    print(
        f"- Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, torch {info.get('torch')}"
        f" ({info.get('torch_blas', '-')}), pgmpy {info['pgmpy']}, threadpoolctl {info['threadpoolctl']}"
    )
    if "torch_threads" in info:
        print(f"- torch intra-op threads: {info['torch_threads']}")
    busy = info.get("cpu_busy_before")
    if busy is not None:
        note = " — **something else is using the CPU: timings are unreliable**" if busy > BUSY_WARN else ""
        print(f"- other CPU load just before the run: {busy:.2f} cores busy{note}")
    for lib in info["blas"]:
        if "internal_api" in lib:
            where = _lib_owner(lib.get("filepath"))
            print(
                f"- thread pool: {lib['internal_api']} {lib.get('version') or ''} kernel={lib.get('architecture') or '-'} "
                f"threads={lib['num_threads']} ({where})"
            )
        else:
            print(f"- BLAS: {lib}")
    if info["unset_env"]:
        print("- unset for this run: " + ", ".join(f"{k}={v}" for k, v in info["unset_env"].items()))
    else:
        print("- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    if "mlkern" in info:
        print(f"- mlkern: {info['mlkern']} ({info['mlkern_bin']})")
    print(f"- repeat: {args.repeat} timed runs after {args.warmup} warm-up; times are medians")
    print()


# ----------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"


def fmt_err(e: float | None) -> str:
    return "—" if e is None else f"{e:.2e}"


def print_table(rows: list[dict]) -> None:
    head = [
        "workload",
        "shape",
        "anchor",
        "anchor median",
        "mlkern median",
        "ratio (anchor/mlkern)",
        "max rel err",
        "max abs err",
        "check",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * 5 + ["---"]) + "|"]
    for r in rows:
        if r["status"] == "ok" and r.get("timing_only"):
            check = "timing only"
        elif r["status"] == "ok":
            check = "ok (valid)" if r["rtol"] is None else f"ok (≤ {r['rtol']:.0e})"
        elif r["status"] == "FAIL":
            check = "**FAIL**"
        else:
            check = r["status"]
        cells = [
            r["workload"],
            r["shape"],
            r["anchor"],
            fmt_time(r["anchor_median_s"]),
            fmt_time(r["mlkern_median_s"]),
            "—" if r["ratio"] is None else f"{r['ratio']:.2f}×",
            fmt_err(r["max_rel_err"]),
            fmt_err(r["max_abs_err"]),
            check,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    notes = [r for r in rows if r["detail"]]
    if notes:
        print()
        for r in notes:
            print(f"- {r['workload']} / {r['anchor']}: {r['status']}: {r['detail']}")


# ----------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--bin", default=os.environ.get("MLKERN_BIN"), help="mlkern binary (default: $MLKERN_BIN)")
    p.add_argument("--threads", type=int, default=2, help="threads for mlkern and every anchor (default 2)")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default 10, --quick: 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed anchor calls before timing (default 1)")
    p.add_argument("--only", default=None, help="comma-separated workload names or glob patterns")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer repeats")
    p.add_argument("--list", action="store_true", help="list workloads and exit")
    p.add_argument("--out", default=None, help="also write machine info and rows as JSON to this path")
    p.add_argument("--work-dir", default=str(HERE / ".work"), help="scratch dir for .npy files (default benches/compare/.work)")
    p.add_argument("--keep-work", action="store_true", help="keep the generated .npy files")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per mlkern invocation")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 10
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0:
        p.error("--threads and --repeat must be >= 1, --warmup >= 0")
    if not _EARLY_THREADS.strip().isdigit() or int(_EARLY_THREADS) != args.threads:
        p.error("--threads must be given as `--threads N` or `--threads=N`")
    return args


def select(only: str | None) -> list[Workload]:
    if not only:
        return list(WORKLOADS.values())
    chosen: list[Workload] = []
    for pat in (s.strip() for s in only.split(",") if s.strip()):
        hits = [w for name, w in WORKLOADS.items() if fnmatch.fnmatchcase(name, pat)]
        if not hits:
            sys.exit(f"compare.py: no workload matches {pat!r}; known: {', '.join(WORKLOADS)}")
        chosen += [w for w in hits if w not in chosen]
    return chosen


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        width = max(len(w.name) for w in WORKLOADS.values())
        for w in WORKLOADS.values():
            print(f"{w.name:{width}s} {w.shape:45s} anchors: {', '.join(a.label for a in w.anchors)}")
        return 0
    workloads = select(args.only)
    if not args.bin:
        sys.exit("compare.py: no mlkern binary: pass --bin or set MLKERN_BIN (run.sh does this)")
    args.bin = str(Path(args.bin).resolve()) if os.sep in args.bin else (shutil.which(args.bin) or args.bin)

    limiter = threadpoolctl.threadpool_limits(limits=args.threads) if threadpoolctl is not None else None
    if any(a.library == "torch" for w in workloads for a in w.anchors):
        try:
            torch = get_torch()
            torch.set_num_threads(args.threads)
            try:
                torch.set_num_interop_threads(args.threads)
            except RuntimeError:
                pass
        except AnchorUnavailable:
            pass  # reported per row
        if limiter is not None:  # torch loads its own OpenMP runtime; pin it too
            limiter = threadpoolctl.threadpool_limits(limits=args.threads)

    info = machine_info(args.bin)
    print_machine(info, args)

    base = Path(args.work_dir)
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    rows: list[dict] = []
    try:
        for w in workloads:
            print(f"… {w.name}", file=sys.stderr, flush=True)
            rows += run_workload(w, args, workdir)
    finally:
        if not args.keep_work:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"inputs and outputs kept in {workdir}", file=sys.stderr)
    print_table(rows)
    busy_after = cpu_busy()
    info["cpu_busy_after"] = busy_after
    if busy_after is not None and busy_after > BUSY_WARN:
        print(f"\n**warning**: {busy_after:.2f} cores busy with other work right after the run: timings are unreliable")

    if args.out:
        out = {"machine": info, "settings": {"threads": args.threads, "repeat": args.repeat, "warmup": args.warmup}, "rows": rows}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nrows written to {args.out}", file=sys.stderr)
    del limiter
    bad = [r for r in rows if r["status"] in ("FAIL", "mlkern-error")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
