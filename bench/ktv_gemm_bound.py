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
With --floor-csv FILE [--dtype float64] it writes instead the GEMM floor of the step that
`engine: auto` runs (the reverse engine's products at k = 1, Taylor mode's above) for the report
of bench/ktv_bench.sh: the products as the fused CPU pass runs them (regularizers/ktv_fused.cpp),
chunk by chunk of points, each chunk's product timed warm and counted once per chunk.
"""
import argparse
import csv
import functools
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


# Stack rows per chunk of the fused k-TV pass (kChunkRows in regularizers/ktv_fused.cpp).
CHUNK_ROWS = 256


def chunking(rows_per_point, samples):
    """(points per chunk, chunks) of the fused pass for M = samples points."""
    points = max(1, CHUNK_ROWS // rows_per_point)
    return points, -(-samples // points)


def taylor_products(k, samples, batch):
    """(rows, in, out, needs input gradient) of every product of the Taylor step."""
    products = []
    for rows in ((1 + 2 * k) * samples, batch):
        for i in range(len(WIDTHS) - 1):
            products.append((rows, WIDTHS[i], WIDTHS[i + 1], i > 0))
    return products


def taylor_flops(k, samples, batch):
    return sum(2 * r * a * b * (3 if grad_in else 2) for r, a, b, grad_in in taylor_products(k, samples, batch))


def taylor_shapes(k, samples, batch):
    """(m, n, p, how) of every product X[m, n] @ Y[n, p] of the Taylor step: forward, weight and
    input gradients (how: "mm" = torch.mm, "mm_t" = torch.mm of a transposed X, "onednn").  As the
    step runs them: the stack's forward and input gradient through oneDNN in float32, its weight
    gradient and the data batch through torch.mm."""
    shapes = []
    for r, a, b, grad_in in taylor_products(k, samples, batch):
        row_major = "onednn" if r != batch else "mm"
        shapes += [(r, a, b, row_major), (b, r, a, "mm_t")] + ([(r, b, a, row_major)] if grad_in else [])
    return shapes


def reverse_shapes(samples, batch):
    """(m, n, p, how) of every product of the reverse engine's step (k = 1, regularizers/reverse_engine.cpp).

    With Linears W_i [out, in], i = 0..n-1 and the last activation before W_{n-1}: forward of
    W_0..W_{n-2}; input gradient g W_i for i = n-2..0 (W_{n-1} acts on a constant row); backward:
    the adjoint sweep g_out^T gbar and gbar W_i^T (i <= n-2), the forward adjoint ubar^T a and
    ubar W_i (i >= 1); plus the data batch's forward, weight and input gradients.  As the engine
    runs them with the torch kernels (kernel="torch"): row-major products through oneDNN in float32, the
    weight gradients (a transposed X) and the data batch (ordinary autograd) through torch.mm.
    """
    n, m = len(WIDTHS) - 1, samples
    shapes = []
    for i in range(n - 1):
        a, b = WIDTHS[i], WIDTHS[i + 1]
        shapes += [(m, a, b, "onednn"), (m, b, a, "onednn"), (b, m, a, "mm_t"), (m, a, b, "onednn"),
                   (b, m, a, "mm_t")] + ([(m, b, a, "onednn")] if i > 0 else [])
    for i in range(n):
        a, b = WIDTHS[i], WIDTHS[i + 1]
        shapes += [(batch, a, b, "mm"), (b, batch, a, "mm_t")] + ([(batch, b, a, "mm")] if i > 0 else [])
    return shapes


@functools.lru_cache(maxsize=None)
def regula_matmul():
    """torch.ops.regula.matmul (the kernel Regula's engines and Linears run, core/matmul.h) from the
    build's libregula_ops.so, or None when it is not built."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
    try:
        import regula_torch  # noqa: F401  (loads the op library)
    except ImportError:
        return None
    return torch.ops.regula.matmul


def gemm_ms(shapes, dtype=torch.float32, reps=20, kernel="torch", counts=None):
    """Sum of the median times of the products `shapes` (each counts[i] times, default once);
    kernel "regula": every product through Regula's own kernel (falling back to the torch choices
    below when it is not built)."""
    onednn = getattr(torch.ops.mkldnn, "_linear_pointwise", None) if dtype == torch.float32 else None
    regula = regula_matmul() if kernel == "regula" else None
    runs = []
    for m, n, p, how in shapes:
        Y = torch.randn(n, p, dtype=dtype)
        if regula is not None:  # the layout as the step has it: a transposed X for the weight gradients
            X = torch.randn(n, m, dtype=dtype).t() if how == "mm_t" else torch.randn(m, n, dtype=dtype)
            runs.append(lambda X=X, Y=Y: regula(X, Y))
        elif how == "onednn_t" and onednn is not None:  # X^T Y with both transposed views, as oneDNN copies them
            Xt, Yt = torch.randn(n, m, dtype=dtype), torch.randn(p, n, dtype=dtype)
            runs.append(lambda Xt=Xt, Yt=Yt: onednn(Xt.t(), Yt.t().t(), None, "none", [], ""))
        elif how == "mm_t":
            Xt = torch.randn(n, m, dtype=dtype)
            runs.append(lambda Xt=Xt, Y=Y: Xt.t().mm(Y))
        elif how == "onednn" and onednn is not None:
            X, Wt = torch.randn(m, n, dtype=dtype), Y.t()
            runs.append(lambda X=X, Wt=Wt: onednn(X, Wt, None, "none", [], ""))
        else:
            X = torch.randn(m, n, dtype=dtype)
            runs.append(lambda X=X, Y=Y: X.mm(Y))

    def median_ms(r):
        r()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            r()
            times.append(1e3 * (time.perf_counter() - t0))
        return statistics.median(times)

    # The cost of one call from Python (a 1 x 1 product), taken off every product: the fused pass
    # calls the kernel from C++ on chunk-sized products (25 us each at k = 2), where a Python
    # call's 2-3 us would be a tenth of the floor.
    call_ms = 0.0
    if regula is not None:
        one = torch.ones(1, 1, dtype=dtype)
        call_ms = median_ms(lambda: regula(one, one))
    # Each product timed on its own operands, warm in cache as the step's freshly written operands
    # are (all the shapes' operands together, 40 MB at k = 2, would stream from memory instead).
    total = 0.0
    for i, r in enumerate(runs):
        total += max(0.0, median_ms(r) - call_ms) * (counts[i] if counts else 1)
    return total


def taylor_gemm_ms(k, samples, batch, reps=20, dtype=torch.float32):
    return gemm_ms(taylor_shapes(k, samples, batch), dtype, reps)


def fused_shapes(k, samples, batch):
    """(shapes, counts) of the step `engine: auto` runs on the CPU: the fused pass's products per
    chunk of points (reverse mode at k = 1 with p = 1 output, Taylor mode above), each counted once
    per full chunk, those of the last, partial chunk once, and the data batch's products once."""
    points, _ = chunking(2 if k == 1 else 1 + 2 * k, samples)
    n_products = 3 * (len(WIDTHS) - 1) - 1

    def chunk(p):
        if k == 1:  # as the unfused engine, plus the last Linear's input and weight gradients on p rows
            a, b = WIDTHS[-2], WIDTHS[-1]
            return [s for s in reverse_shapes(p, 0) if s[0] != 0 and s[1] != 0] + [(p, b, a, "onednn"), (b, p, a, "mm_t")]
        return taylor_shapes(k, p, 0)[:n_products]

    shapes, counts = [], []
    for p, c in ((points, samples // points), (samples % points, 1)):
        if p and c:
            part = chunk(p)
            shapes += part
            counts += [c] * len(part)
    data = reverse_shapes(1, batch)[-n_products:]
    return shapes + data, counts + [1] * len(data)


def floor_rows(orders, samples, batch, dtype_name):
    """CSV rows (engine gemm_floor) of the GEMM floor of the step `engine: auto` runs: reverse at
    k = 1, Taylor mode above, as the fused CPU pass runs them; every product with the kernel
    Regula runs (torch.ops.regula.matmul)."""
    dtype = getattr(torch, dtype_name)
    rows = []
    for k in orders:
        shapes, counts = fused_shapes(k, samples, batch)
        ms = gemm_ms(shapes, dtype, reps=30, kernel="regula", counts=counts)
        flops = sum(c * 2 * m * n * p for (m, n, p, _), c in zip(shapes, counts))
        rows.append({"order": k, "engine": "gemm_floor", "median_ms": ms, "min_ms": ms, "reps": 30,
                     "dtype": dtype_name, "gflop": flops / 1e9})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", default="1,2,3,4,5,6")
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--autograd-ms", default="", help="measured autograd step [ms] per order, for the bound column")
    p.add_argument("--floor-csv", help="write the GEMM floor of the auto engine's step per order here and exit")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args, _ = p.parse_known_args()
    torch.set_num_threads(args.threads)
    if args.floor_csv:
        rows = floor_rows([int(v) for v in args.orders.split(",")], args.samples, args.batch, args.dtype)
        with open(args.floor_csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        for r in rows:
            print(f"  GEMM floor k={r['order']} {args.dtype}: {r['median_ms']:.2f} ms ({r['gflop']:.2f} GFLOP)")
        return
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
