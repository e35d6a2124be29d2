#!/usr/bin/env python3
"""Cost model: bytes moved (and flops, and a simple time model) per distributed Muon step.

One k x N weight matrix (N = 4k), sharded by columns over R ranks, f32 elements.
Standard library only. Prints markdown on stdout:

    python3 benches/reports/distributed_model.py

Strategies (bytes RECEIVED per rank per Muon step):

  G          all-gather the full matrix (Moonlight-style distributed Muon), then full
             Newton-Schulz on every rank: (R-1)/R * k*N*s.
  S-ag       sharded standard NS5, all-reduce = all-gather + rank-order fold (mlkern's Mpi
             Comm at commit f3957e9): 5*(R-1)*k^2*s, plus metadata.
  S-ring     sharded standard NS5, all-reduce = reduce-scatter + all-gather
             (ring bandwidth): 5*2(R-1)/R*k^2*s, plus metadata.
  Gram-ag    sharded Gram NS5 (restart before step 2: 2 all-reduces): 2*(R-1)*k^2*s.
  Gram-ring  sharded Gram NS5 with reduce-scatter + all-gather: 2*2(R-1)/R*k^2*s.

Metadata follows muon_step_shard as written (src/ortho/sharded.rs, src/dist/agree.rs):
status (R u64) before the step, shapes+status (3R u64), norms (2R f64), status (R u64)
after NS, status (R u64) after the update check; each collective is preceded by a
3-word u64 header all-gathered by the Mpi Comm (src/dist/mpi.rs). The fixed-order
reduce-scatter variant (uncommitted Mpi change seen in the working tree) pads each
buffer to R chunks and adds one more header exchange for u64 buffers (overflow check).
"""

S = 4  # bytes per element (f32); bf16 would be 2 and halves every payload byte count
KS = [1024, 2048, 4096, 8192]
RS = [2, 4, 8, 16, 64, 256, 1024]
ASPECT = 4  # N = ASPECT * k
T_STD = 5  # Keller Jordan NS5: one k x k all-reduce per step
T_GRAM = 2  # Gram NS5, default restart before step 2: start + 1 restart
WORD = 8  # u64 / f64 metadata word
HEADER = 3 * WORD  # Mpi collective header, all-gathered

# Time-model assumptions (not measurements).
B_NODE = 20e9  # bytes/s, ranks on one node through shared memory (assumption)
B_NET = 12.5e9  # bytes/s, 100 Gb/s InfiniBand/Ethernet
F_CPU = 150e9  # flop/s per rank, f32 GEMM on the project's 2-core AVX2 host
B_GPU = 300e9  # bytes/s, NVLink (assumption; only inside one NVLink domain)
F_GPU = 60e12  # flop/s per rank, H100 TF32-ish dense GEMM (assumption)


# ---------------------------------------------------------------------------------------
# Bytes received per rank
# ---------------------------------------------------------------------------------------

# (element size, buffer length as a multiple of R) for the metadata collectives of one
# muon_step_shard call, in call order; the NS all-reduces come between the 3rd and 4th.
META = [(WORD, 1, True), (WORD, 3, True), (WORD, 2, False), (WORD, 1, True), (WORD, 1, True)]


def bytes_gather(k, n, r):
    """G: MPI_Allgather of the k x N matrix (shapes known statically: no metadata)."""
    return (r - 1) / r * k * n * S


def meta_ag(r, n_allreduce):
    """Metadata + headers with the all-gather + fold all-reduce."""
    data = sum((r - 1) * mult * r * size for size, mult, _ in META)
    headers = (r - 1) * HEADER * (len(META) + n_allreduce)
    return data + headers


def meta_ring(r, n_allreduce):
    """Metadata + headers with the fixed-order reduce-scatter + all-gather all-reduce."""
    data = sum(2 * (r - 1) * mult * size for size, mult, _ in META)  # ceil(mult*R/R) = mult
    u64 = sum(1 for _, _, is_u64 in META if is_u64)
    headers = (r - 1) * HEADER * (len(META) + n_allreduce + u64)
    return data + headers


def ceil_div(a, b):
    return -(-a // b)


def payload_ag(k, r, t):
    return t * (r - 1) * k * k * S


def payload_ring(k, r, t):
    return t * 2 * (r - 1) * ceil_div(k * k, r) * S


def strategy_bytes(k, r):
    n = ASPECT * k
    return {
        "G": bytes_gather(k, n, r),
        "S-ag": payload_ag(k, r, T_STD) + meta_ag(r, T_STD),
        "S-ring": payload_ring(k, r, T_STD) + meta_ring(r, T_STD),
        "Gram-ag": payload_ag(k, r, T_GRAM) + meta_ag(r, T_GRAM),
        "Gram-ring": payload_ring(k, r, T_GRAM) + meta_ring(r, T_GRAM),
    }


# ---------------------------------------------------------------------------------------
# Flops per rank (mlkern's count: a symmetric product is half a GEMM; src/ortho/flops.rs)
# ---------------------------------------------------------------------------------------


def flops_std(k, n_local, t=T_STD):
    """Standard quintic NS: per step Gram k^2 n + apply 2k^2 n + square k^3."""
    return t * (3 * k * k * n_local + k ** 3)


def flops_gram(k, n_local):
    """Gram NS5, restart before step 2: 6 k^2 n + 14 k^3 (src/ortho/gram.rs)."""
    return 6 * k * k * n_local + 14 * k ** 3


def fold_adds(k, r, t, ring):
    """Element additions of the all-reduce fold: (R-1)k^2 (ag) or (R-1)/R k^2 (ring)."""
    per = (r - 1) * ceil_div(k * k, r) if ring else (r - 1) * k * k
    return t * per


def strategy_flops(k, r):
    n = ASPECT * k
    return {
        "G-std": flops_std(k, n),
        "G-gram": flops_gram(k, n),
        "S-ag": flops_std(k, n / r) + fold_adds(k, r, T_STD, False),
        "S-ring": flops_std(k, n / r) + fold_adds(k, r, T_STD, True),
        "Gram-ag": flops_gram(k, n / r) + fold_adds(k, r, T_GRAM, False),
        "Gram-ring": flops_gram(k, n / r) + fold_adds(k, r, T_GRAM, True),
    }


def strategy_memory(k, r):
    """Working set per rank in bytes: input + NS scratch (+ all-reduce receive buffers)."""
    n = ASPECT * k
    nr = n / r
    return {
        # gathered k x N input, two k x N iterates, k x k squares
        "G-std": (3 * k * n + 2 * k * k) * S,
        "G-gram": (3 * k * n + 4 * k * k) * S,
        # shard input + 2 shard iterates + squares + R*k^2 gather buffer
        "Gram-ag": (3 * k * nr + 4 * k * k + r * k * k) * S,
        # ... + two padded k^2 buffers (send, recv) for the reduce-scatter
        "Gram-ring": (3 * k * nr + 4 * k * k + 2 * r * ceil_div(k * k, r)) * S,
    }


# ---------------------------------------------------------------------------------------
# Time model: t = bytes/B + flops/F (no latency term, no overlap)
# ---------------------------------------------------------------------------------------


def times(k, r, bw, fl):
    b = strategy_bytes(k, r)
    f = strategy_flops(k, r)
    out = {}
    out["G-std"] = (b["G"] / bw, f["G-std"] / fl)
    out["G-gram"] = (b["G"] / bw, f["G-gram"] / fl)
    for name in ("S-ag", "S-ring", "Gram-ag", "Gram-ring"):
        out[name] = (b[name] / bw, f[name] / fl)
    return out


def share(pair):
    comm, comp = pair
    return comm / (comm + comp)


def total(pair):
    return pair[0] + pair[1]


# ---------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------


def fmt_bytes(x):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.0f} B"


def fmt_num(x):
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g}"


def fmt_time(x, unit):
    scale = {"s": 1.0, "ms": 1e3}[unit]
    v = x * scale
    return f"{v:.3g}" if v < 1000 else f"{v:.0f}"


def table(header, rows, align=None):
    cols = len(header)
    align = align or ["r"] * cols
    widths = [max(len(str(c)) for c in [header[i]] + [row[i] for row in rows]) for i in range(cols)]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.ljust(widths[i]) if align[i] == "l" else c.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"

    sep = []
    for i in range(cols):
        dash = "-" * max(widths[i], 3)
        sep.append(":" + dash[1:] if align[i] == "l" else dash[:-1] + ":")
    return "\n".join([line(header), "| " + " | ".join(sep) + " |"] + [line(r) for r in rows])


def first_r(pred, limit=4096):
    """Smallest integer R in [2, limit] with pred(R) (pred is monotone in R), else None."""
    if not pred(limit):
        return None
    lo, hi = 1, limit  # pred(hi) holds; pred(lo) is taken as false
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid >= 2 and pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def fmt_r(r):
    return "> 4096" if r is None else str(r)


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def main():
    p = print
    p("<!-- generated by: python3 benches/reports/distributed_model.py -->")
    p()
    p("### Bytes received per rank per Muon step (f32, N = 4k)")
    p()
    p("Metadata (status, shapes, norms, collective headers) is included in the sharded")
    p("columns; the `meta ag` column shows its share for the all-gather variants alone.")
    p("`Gram-ag/G` and `S-ag/G` are ratios of the totals. Units are decimal (1 MB = 10^6 B).")
    p("bf16 (s = 2) halves every payload column; metadata is unchanged.")
    for k in KS:
        p()
        p(f"#### k = {k}, N = {ASPECT * k}")
        p()
        rows = []
        for r in RS:
            b = strategy_bytes(k, r)
            rows.append([
                r,
                fmt_bytes(b["G"]),
                fmt_bytes(b["S-ag"]),
                fmt_bytes(b["S-ring"]),
                fmt_bytes(b["Gram-ag"]),
                fmt_bytes(b["Gram-ring"]),
                fmt_bytes(meta_ag(r, T_STD)),
                f"{b['S-ag'] / b['G']:.3g}",
                f"{b['Gram-ag'] / b['G']:.3g}",
            ])
        p(table(["R", "G", "S-ag", "S-ring", "Gram-ag", "Gram-ring", "meta ag (S)", "S-ag/G",
                 "Gram-ag/G"], rows))

    k = 4096
    p()
    p(f"### Flops and working set per rank, k = {k}, N = {ASPECT * k}")
    p()
    p("Flops as mlkern counts them (a symmetric product is half a GEMM), plus the fold's")
    p("additions. Working set: input + two iterates + k×k squares, plus the all-reduce buffers")
    p("(R·k² for the all-gather fold, 2·k² padded for the reduce-scatter).")
    p()
    rows = []
    for r in RS:
        f = strategy_flops(k, r)
        m = strategy_memory(k, r)
        rows.append([
            r,
            fmt_num(f["G-std"]), fmt_num(f["G-gram"]), fmt_num(f["S-ag"]),
            fmt_num(f["S-ring"]), fmt_num(f["Gram-ag"]), fmt_num(f["Gram-ring"]),
            fmt_bytes(m["G-gram"]), fmt_bytes(m["Gram-ag"]), fmt_bytes(m["Gram-ring"]),
        ])
    p(table(["R", "G-std", "G-gram", "S-ag", "S-ring", "Gram-ag", "Gram-ring", "mem G-gram",
             "mem Gram-ag", "mem Gram-ring"], rows))

    for title, bw, fl, unit in (
        (f"CPU: B = B_net = {B_NET / 1e9:g} GB/s, F = {F_CPU / 1e9:g} GFLOP/s per rank", B_NET, F_CPU, "s"),
        (f"GPU: B = NVLink {B_GPU / 1e9:g} GB/s, F = {F_GPU / 1e12:g} TFLOP/s per rank", B_GPU, F_GPU, "ms"),
    ):
        p()
        p(f"### Time model per rank, k = {k}, N = {ASPECT * k} — {title}")
        p()
        p(f"t = bytes/B + flops/F, in {unit}; no latency term, no overlap of communication and")
        p("compute. `comm %` = t_comm / (t_comm + t_compute).")
        p()
        rows = []
        for r in RS:
            t = times(k, r, bw, fl)
            rows.append([r] + [fmt_time(total(t[s]), unit) for s in
                               ("G-std", "G-gram", "S-ag", "S-ring", "Gram-ag", "Gram-ring")]
                        + [f"{100 * share(t['Gram-ag']):.3g}", f"{100 * share(t['Gram-ring']):.3g}"])
        p(table(["R", "G-std", "G-gram", "S-ag", "S-ring", "Gram-ag", "Gram-ring",
                 "comm % Gram-ag", "comm % Gram-ring"], rows))

    p()
    p("### Communication share at R = 2 (Gram NS5, time model)")
    p()
    p("The project's target: ≤ 10 % for Gram at k = 1024, N = 8192, 2 ranks. At R = 2 the")
    p("all-gather and reduce-scatter variants move the same payload (their ratio is R/2 = 1),")
    p("so their shares coincide up to metadata.")
    p()
    rows = []
    cases = [
        ("CPU, B_node 20 GB/s, F 150 GFLOP/s", B_NODE, F_CPU),
        ("CPU, B_node 20 GB/s, F 75 GFLOP/s (2 ranks on 2 cores)", B_NODE, F_CPU / 2),
        ("CPU, B_net 12.5 GB/s, F 150 GFLOP/s", B_NET, F_CPU),
        ("GPU, NVLink 300 GB/s, F 60 TFLOP/s", B_GPU, F_GPU),
    ]
    for kk, nn in ((1024, 8192), (4096, 4 * 4096)):
        for name, bw, fl in cases:
            payload_ag_b = payload_ag(kk, 2, T_GRAM) + meta_ag(2, T_GRAM)
            payload_ring_b = payload_ring(kk, 2, T_GRAM) + meta_ring(2, T_GRAM)
            fa = flops_gram(kk, nn / 2) + fold_adds(kk, 2, T_GRAM, False)
            fr = flops_gram(kk, nn / 2) + fold_adds(kk, 2, T_GRAM, True)
            ta = (payload_ag_b / bw, fa / fl)
            tr = (payload_ring_b / bw, fr / fl)
            rows.append([f"{kk}×{nn}", name, fmt_bytes(payload_ag_b),
                         fmt_time(ta[0], "ms"), fmt_time(ta[1], "ms"),
                         f"{100 * share(ta):.3g}", f"{100 * share(tr):.3g}"])
    p(table(["matrix", "case", "bytes/rank", "t_comm ms", "t_compute ms", "comm % Gram-ag",
             "comm % Gram-ring"], rows, ["l", "l", "r", "r", "r", "r", "r"]))

    p()
    p("### Crossovers")
    p()
    p("Payload only (metadata adds a little to every sharded column), N = a·k:")
    p()
    p("* S-ag / G = 5(R−1)k² / ((R−1)/R·kN) = 5R/a. With a = 4: 1.25·R, above 1 for every R ≥ 1.")
    p("* Gram-ag / G = 2(R−1)k² / ((R−1)/R·kN) = 2R/a. With a = 4: R/2 — a tie at R = 2,")
    p("  worse for every R ≥ 3.")
    p("* S-ring / G = 10/a (independent of R). With a = 4: 2.5 for every R.")
    p("* Gram-ring / G = 4/a (independent of R). With a = 4: exactly 1 for every R.")
    p()
    rows = []
    for a in (4, 8, 16, 32, 64):
        rows.append([a, f"R < {a / 5:g}", f"R < {a / 2:g}", f"{10 / a:.3g}", f"{4 / a:.3g}"])
    p(table(["a = N/k", "S-ag < G when", "Gram-ag < G when", "S-ring/G", "Gram-ring/G"], rows))
    p()
    p("Time model (smallest R at which the statement becomes true; N = 4k):")
    p()
    rows = []
    tcases = [
        ("CPU node", B_NODE, F_CPU),
        ("CPU net", B_NET, F_CPU),
        ("GPU NVLink", B_GPU, F_GPU),
    ]
    for name, bw, fl in tcases:
        for kk in KS:
            def t(r, s, kk=kk, bw=bw, fl=fl):
                return times(kk, r, bw, fl)[s]
            r_share = first_r(lambda r: share(t(r, "Gram-ag")) > 0.10)
            r_slow = first_r(lambda r: total(t(r, "Gram-ag")) > 1.10 * total(t(r, "Gram-ring")))
            r_g = first_r(lambda r: total(t(r, "Gram-ag")) > total(t(r, "G-gram")))
            r_ring_share = first_r(lambda r: share(t(r, "Gram-ring")) > 0.10)
            rows.append([name, kk, fmt_r(r_share), fmt_r(r_slow), fmt_r(r_g), fmt_r(r_ring_share)])
    p(table(["case", "k", "Gram-ag comm > 10 %", "Gram-ag > 1.1× Gram-ring", "Gram-ag slower than G-gram",
             "Gram-ring comm > 10 %"], rows, ["l", "r", "r", "r", "r", "r"]))
    p()
    p("Owner variant of G, amortized over M ≥ R equal matrices assigned round-robin: each rank")
    p("gathers the M/R matrices it owns and receives its block of the others' results,")
    p("2(R−1)/R²·kN·s per matrix, and computes M/R full NS runs. Per matrix, k = 4096, N = 4k:")
    p()
    rows = []
    for r in RS:
        n = ASPECT * k
        own_b = 2 * (r - 1) / r ** 2 * k * n * S
        own_f = flops_gram(k, n) / r
        b = strategy_bytes(k, r)
        f = strategy_flops(k, r)
        rows.append([r, fmt_bytes(own_b), fmt_bytes(b["Gram-ring"]), fmt_num(own_f), fmt_num(f["Gram-ring"])])
    p(table(["R", "bytes G-owner", "bytes Gram-ring", "flops G-owner (Gram NS)", "flops Gram-ring"], rows))


if __name__ == "__main__":
    main()
