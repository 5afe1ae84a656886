"""The k-TV training step of bench/ktv_step.cpp written in PyTorch Python (the anchor).

Same step as the C++ nested-autograd engine: MLP 2-100-100-100-100-1 (sigmoid), a data batch
with an MSE loss, the k-TV penalty at M fresh uniform points of [0, 2pi]^2 by
torch.autograd.grad(create_graph=True) k times (points replicated per coordinate, the j-th
gradient component kept), backward, Adam.  `--report CSV...` prints the combined table with
the ratios from the CSVs of both.  Run both through bench/ktv_bench.sh.
"""
import argparse
import csv
import math
import statistics
import time

import torch


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


def time_case(k, args, device):
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
        d = pure_partials(f, z, coords, k)
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


def report(paths):
    """Combined table: median (and best) step time per engine, and the ratios."""
    med, best = {}, {}
    for path in paths:
        with open(path) as fh:
            for r in csv.DictReader(fh):
                key = (int(r["order"]), r["engine"])
                med[key], best[key] = float(r["median_ms"]), float(r["min_ms"])
    print("| k | Taylor C++ [ms] | autograd C++ [ms] | autograd Python [ms] | autograd C++ / Taylor | Python / Taylor | Python / autograd C++ |")
    print("|---|---|---|---|---|---|---|")
    for k in sorted({k for k, _ in med}):
        t, a, py = (med.get((k, e)) for e in ("taylor", "autograd", "python_autograd"))
        tb, ab, pb = (best.get((k, e)) for e in ("taylor", "autograd", "python_autograd"))
        if None in (t, a, py):
            continue
        print(f"| {k} | {t:.1f} ({tb:.1f}) | {a:.1f} ({ab:.1f}) | {py:.1f} ({pb:.1f}) "
              f"| {a / t:.1f}x ({ab / tb:.1f}x) | {py / t:.1f}x ({pb / tb:.1f}x) | {py / a:.2f}x ({pb / ab:.2f}x) |")
    print("each cell: median step (best step); ratios: of medians (of best steps)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", default="1,2,3,4,5,6", help="orders k to time, e.g. 1,2,3")
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--budget", type=float, default=2.0)
    p.add_argument("--min-reps", type=int, default=3)
    p.add_argument("--max-reps", type=int, default=50)
    p.add_argument("--device", default="cpu")
    p.add_argument("--csv", help="write the timings here")
    p.add_argument("--report", nargs="+", help="print the table of these CSVs (ktv_step and anchor) and exit")
    args = p.parse_args()
    if args.report:
        report(args.report)
        return
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"Python anchor: torch {torch.__version__}, {device}, {torch.get_num_threads()} threads")
    rows = []
    for k in [int(v) for v in args.orders.split(",")]:
        med, best, reps = time_case(k, args, device)
        rows.append({"order": k, "engine": "python_autograd", "median_ms": med, "min_ms": best, "reps": reps})
        print(f"  k={k}: {med:.2f} ms")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
