#!/usr/bin/env python3
"""Times PyTorch's eager NS5 on the shapes mlkern's GPU bench measured, in the same run, and
prints the ratio table.

usage: gpu_compare.py MLKERN_BENCH.jsonl   (the output of `gpu-bench --json`)

PyTorch side: Keller Jordan's `zeropower_via_newtonschulz5` as users run it (bf16 tensors, fp32
accumulation inside cuBLAS, coefficients (3.4445, -4.7750, 2.0315), X / (‖X‖_F + 1e-7), batched
through `@`), and the same five steps in f32 with TF32 off for mlkern's f32 rows. Timing method
identical to mlkern's bench: 3 warm-up runs, then wall clock from launch to
torch.cuda.synchronize(), median and minimum over the runs.
"""
import json
import statistics
import sys
import time

import torch

A, B, C = 3.4445, -4.7750, 2.0315


def ns5(g, dtype):
    x = g.to(dtype)
    tall = g.size(-2) > g.size(-1)
    if tall:
        x = x.mT
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(5):
        a = x @ x.mT
        b = B * a + C * a @ a
        x = A * x + b @ x
    if tall:
        x = x.mT
    return x


def timeit(fn, runs):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts)


TARGETS = {
    ("bf16", 1, 4096, 4096): "≤ 4.5 ms and ≥ 1.0×",
    ("bf16", 32, 1024, 4096): "≥ 1.3×",
}


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    ns_rows = [r for r in rows if r["name"].startswith("ns5-")]
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name()}")
    cache = {}
    out = []
    for r in ns_rows:
        key = (r["dtype"], r["b"], r["m"], r["n"])
        if key not in cache:
            dtype = torch.bfloat16 if r["dtype"] == "bf16" else torch.float32
            shape = (r["m"], r["n"]) if r["b"] == 1 else (r["b"], r["m"], r["n"])
            g = torch.randn(*shape, device="cuda", dtype=torch.float32).to(dtype)
            cache[key] = timeit(lambda: ns5(g, dtype), r["runs"])
            del g
            torch.cuda.empty_cache()
        t_med, t_min = cache[key]
        out.append((r, t_med, t_min))
    print()
    print(f"{'case':<46} {'mlkern ms':>10} {'torch ms':>10} {'speed-up':>9}  target")
    for r, t_med, _ in out:
        key = (r["dtype"], r["b"], r["m"], r["n"])
        ratio = t_med / r["median_s"]
        target = TARGETS.get(key, "")
        print(f"{r['name']:<46} {r['median_s']*1e3:>10.3f} {t_med*1e3:>10.3f} {ratio:>8.2f}×  {target}")
    for r in rows:
        if r["name"].startswith("gram-spectrum"):
            print(f"{r['name']:<46} {r['median_s']*1e3:>10.3f}")


if __name__ == "__main__":
    main()
