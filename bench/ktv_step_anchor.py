"""The k-TV training step of bench/ktv_step.cpp written in PyTorch Python (the anchor).

Same step as the C++ nested-autograd engine (float32 or float64): MLP 2-100-100-100-100-1 (sigmoid), a data batch
with an MSE loss, the k-TV penalty at M fresh uniform points of [0, 2pi]^2 by
torch.autograd.grad(create_graph=True) k times (points replicated per coordinate, the j-th
gradient component kept), backward, Adam.  `--report CSV...` prints the combined table with
the ratios from the CSVs of all (C++, this, JAX, the GEMM floor).  Run them through bench/ktv_bench.sh.
"""
import argparse
import csv
import math
import statistics
import time

import torch

from bench_csv import write_rows


def mlp():
    widths = [2, 100, 100, 100, 100, 1]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def pure_partials(f, z, coords, k):
    m, s = z.shape[0], coords.numel()
    x = z.detach().repeat(s, 1).requires_grad_(True)
    out = f(x)
    index = coords.repeat_interleave(m).unsqueeze(1)
    per_output = []
    for o in range(out.shape[1]):
        h = out[:, o]
        for _ in range(k):
            (g,) = torch.autograd.grad(h.sum(), x, create_graph=True)
            h = g.gather(1, index).squeeze(1)
        per_output.append(h)
    return torch.stack(per_output, 1).view(s, m, -1).permute(1, 0, 2)


def add_step_options(p):
    """The options time_case reads (shared with bench/ktv_op_bench.py)."""
    p.add_argument("--orders", default="1,2,3,4,5,6", help="orders k to time, e.g. 1,2,3")
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--budget", type=float, default=2.0)
    p.add_argument("--min-reps", type=int, default=3)
    p.add_argument("--max-reps", type=int, default=50)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))


def time_case(k, args, device, partials=pure_partials):
    """Median and best step [ms] and the repetitions; `partials(f, z, coords, k)` gives the derivatives
    (nested autograd here; bench/ktv_op_bench.py passes the torch.ops.regula op)."""
    torch.manual_seed(0)
    f = mlp().to(device)
    adam = torch.optim.Adam(f.parameters(), lr=1e-3)
    two_pi = 2 * math.pi
    x = two_pi * torch.rand(args.batch, 2, device=device)
    y = (torch.sin(2 * x[:, 0]) * torch.cos(2 * x[:, 1])).unsqueeze(1)
    low = torch.zeros(2, device=device)
    width = torch.full((2,), two_pi, device=device)
    volume = two_pi**2
    coords = torch.arange(2, device=device)

    def step():
        adam.zero_grad()
        z = low + width * torch.rand(args.samples, 2, device=device)
        d = partials(f, z, coords, k)
        penalty = 1e-3 * volume * d.square().sum((1, 2)).mean()
        loss = (f(x) - y).square().mean() + penalty
        loss.backward()
        adam.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < args.max_reps:
        t0 = time.perf_counter()
        step()
        sync()
        t1 = time.perf_counter()
        times.append(1e3 * (t1 - t0))
        if len(times) >= args.min_reps and t1 - start > args.budget:
            break
    return statistics.median(times), min(times), len(times)


REGULA = {"taylor": "Taylor", "reverse": "reverse", "autograd": "nested C++"}
PEERS = {"python_autograd": "PyTorch nested", "jax_jet": "JAX jet", "jax_jvp": "JAX nested jvp",
         "jax_gradgrad": "JAX grad-of-grad"}


def report(paths):
    """One table per dtype: every engine's median step, Regula's best against the best peer, and the
    GEMM floor of the step Regula's auto engine runs (engine gemm_floor rows, bench/ktv_gemm_bound.py)."""
    med, picks = {}, {}
    for path in paths:
        with open(path) as fh:
            for r in csv.DictReader(fh):
                key = (r.get("dtype") or "float32", int(r["order"]), r["engine"])
                med[key] = float(r["median_ms"])
                if r.get("auto_picks"):
                    picks[key[:2]] = r["auto_picks"]
    cols = list(REGULA) + list(PEERS)
    names = [REGULA.get(c) or PEERS[c] for c in cols]
    print("| dtype | k | " + " | ".join(names) + " | Regula best | auto picks | best peer | peer / Regula "
          "| GEMM floor [ms] | floor / Regula auto |")
    print("|" + "---|" * (len(cols) + 8))
    worst = None
    for dtype in sorted({d for d, _, _ in med}, key=lambda d: d != "float32"):
        for k in sorted({k for d, k, _ in med if d == dtype}):
            cell = lambda e: f"{med[(dtype, k, e)]:.1f}" if (dtype, k, e) in med else "-"  # noqa: E731
            ours = {e: med[(dtype, k, e)] for e in REGULA if (dtype, k, e) in med}
            peers = {e: med[(dtype, k, e)] for e in PEERS if (dtype, k, e) in med}
            if not ours or not peers:
                continue
            e_ours, e_peer = min(ours, key=ours.get), min(peers, key=peers.get)
            ratio = peers[e_peer] / ours[e_ours]
            worst = ratio if worst is None else min(worst, ratio)
            picked = picks.get((dtype, k), "?")
            floor = med.get((dtype, k, "gemm_floor"))
            auto_ms = ours.get(picked)
            frac = f"{floor / auto_ms:.0%}" if floor and auto_ms else "-"
            floor_cell = f"{floor:.1f}" if floor else "-"
            print(f"| {dtype} | {k} | " + " | ".join(cell(e) for e in cols) +
                  f" | {ours[e_ours]:.1f} ({REGULA[e_ours]}) | {picked} | {peers[e_peer]:.1f} ({PEERS[e_peer]}) "
                  f"| {ratio:.2f}x | {floor_cell} | {frac} |")
    print("cells: median step [ms]; peer / Regula = best peer's median / Regula's best median (>= 1: Regula "
          "is faster); GEMM floor = the matrix products of the auto engine's step alone")
    if worst is not None:
        print(f"worst peer / Regula ratio: {worst:.2f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_step_options(p)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--csv", help="write the timings here")
    p.add_argument("--report", nargs="+", help="print the table of these CSVs (ktv_step and anchor) and exit")
    args = p.parse_args()
    if args.report:
        report(args.report)
        return
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.set_default_dtype(getattr(torch, args.dtype))
    print(f"Python anchor: torch {torch.__version__}, {device}, {args.dtype}, {torch.get_num_threads()} threads")
    rows = []
    for k in [int(v) for v in args.orders.split(",")]:
        med, best, reps = time_case(k, args, device)
        rows.append({"order": k, "engine": "python_autograd", "median_ms": med, "min_ms": best, "reps": reps,
                     "dtype": args.dtype})
        print(f"  k={k}: {med:.2f} ms")
    write_rows(args.csv, rows)


if __name__ == "__main__":
    main()
