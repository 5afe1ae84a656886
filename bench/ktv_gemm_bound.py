"""How far Taylor mode can beat nested autograd on this CPU: the matrix-product bound of the k-TV step.

For the step of bench/ktv_step.cpp (MLP 2-100-100-100-100-1, M points, S = 2 directions, data
batch 256, k = 1..6) it prints, per order:
  * the GEMM FLOPs of the nested-autograd step (counted: every mm/addmm/bmm that the step of
    bench/ktv_step_anchor.py dispatches, forward, k create_graph grads and the final backward);
  * the GEMM FLOPs of the Taylor step (its products are fixed by the engine: per Linear one
    forward product of the (1 + k S) M-row stack, the weight gradient, and the input gradient for
    every Linear but the first; plus the data batch);
  * the time of the Taylor step's products alone (the same shapes with torch.mm, median), a floor
    for the Taylor step, and autograd C++ time / that floor is the best ratio Taylor mode can show.
    python bench/ktv_gemm_bound.py --threads 1 [--autograd-ms 228,...]
"""
import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ktv_step_anchor as anchor  # noqa: E402

WIDTHS = [2, 100, 100, 100, 100, 1]


class GemmFlops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten.mm.default:
            self.flops += 2 * args[0].shape[0] * args[0].shape[1] * args[1].shape[1]
        elif func is torch.ops.aten.addmm.default:
            self.flops += 2 * args[1].shape[0] * args[1].shape[1] * args[2].shape[1]
        elif func is torch.ops.aten.bmm.default:
            a, b = args[0], args[1]
            self.flops += 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
        return out


def autograd_flops(k, samples, batch):
    torch.manual_seed(0)
    f = anchor.mlp()
    x, z = 2 * math.pi * torch.rand(batch, 2), 2 * math.pi * torch.rand(samples, 2)
    with GemmFlops() as count:
        d = anchor.pure_partials(f, z, torch.arange(2), k)
        loss = (f(x) - torch.sin(x[:, :1])).square().mean() + d.square().sum((1, 2)).mean()
        loss.backward()
    return count.flops


def taylor_products(k, samples, batch):
    """(rows, in, out, needs input gradient) of every product of the Taylor step."""
    products = []
    for rows in ((1 + 2 * k) * samples, batch):
        for i in range(len(WIDTHS) - 1):
            products.append((rows, WIDTHS[i], WIDTHS[i + 1], i > 0))
    return products


def taylor_flops(k, samples, batch):
    return sum(2 * r * a * b * (3 if grad_in else 2) for r, a, b, grad_in in taylor_products(k, samples, batch))


def taylor_gemm_ms(k, samples, batch, reps=20):
    mats = []
    for r, a, b, grad_in in taylor_products(k, samples, batch):
        mats.append((torch.randn(r, a), torch.randn(b, a), torch.randn(r, b), grad_in))

    def run():
        for X, W, G, grad_in in mats:
            X.mm(W.t())
            G.t().mm(X)
            if grad_in:
                G.mm(W)

    run()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", default="1,2,3,4,5,6")
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--autograd-ms", default="", help="measured autograd step [ms] per order, for the bound column")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    orders = [int(v) for v in args.orders.split(",")]
    measured = [float(v) for v in args.autograd_ms.split(",")] if args.autograd_ms else []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, M={args.samples}, batch={args.batch}")
    print("| k | autograd GEMM [GFLOP] | Taylor GEMM [GFLOP] | FLOP ratio | Taylor GEMMs alone [ms] | autograd / Taylor GEMMs |")
    print("|---|---|---|---|---|---|")
    for i, k in enumerate(orders):
        fa, ft = autograd_flops(k, args.samples, args.batch), taylor_flops(k, args.samples, args.batch)
        ms = taylor_gemm_ms(k, args.samples, args.batch)
        bound = f"{measured[i] / ms:.1f}x" if i < len(measured) else "-"
        print(f"| {k} | {fa / 1e9:.2f} | {ft / 1e9:.2f} | {fa / ft:.1f}x | {ms:.1f} | {bound} |", flush=True)


if __name__ == "__main__":
    main()
