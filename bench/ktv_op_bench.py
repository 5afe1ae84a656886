"""A PyTorch training loop with the k-TV penalty from torch.ops.regula against nested autograd.

The step of bench/ktv_step_anchor.py (MLP 2-100-100-100-100-1 sigmoid, MSE on a batch of 256, the
penalty at M fresh uniform points of [0, 2pi]^2 along both coordinates, backward, Adam), once with
the derivatives by torch.autograd.grad(create_graph=True) k times (the authors' PyTorch way) and
once by regula_torch.pure_partials (the Taylor engine; reverse mode at k = 1 under engine auto).
For each k the two run back to back; the table gives median (best) ms per step and the ratio.

    OMP_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=268435456 PYTHONPATH=python \\
        ~/.cache/regula/torch-2.11.0-py3.11/bin/python bench/ktv_op_bench.py --threads 1
"""
import argparse
import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "python")]
import ktv_step_anchor  # noqa: E402
import regula_torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ktv_step_anchor.add_step_options(p)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--engine", default="auto", choices=("auto", "taylor", "reverse"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(getattr(torch, args.dtype))
    device = torch.device(args.device)

    def op_partials(f, z, coords, k):
        return regula_torch.pure_partials(f, z, k, coords=coords, engine=args.engine)

    load = lambda: os.getloadavg()[0]  # noqa: E731
    print(f"torch {torch.__version__}, {device}, {args.dtype}, {torch.get_num_threads()} thread(s), M = {args.samples}, "
          f"batch {args.batch}, op engine {args.engine}, load {load():.2f}")
    rows = []
    for k in [int(v) for v in args.orders.split(",")]:
        nested = ktv_step_anchor.time_case(k, args, device)
        op = ktv_step_anchor.time_case(k, args, device, op_partials)
        rows.append((k, nested, op))
        print(f"  k={k}: nested {nested[0]:.1f} ms, op {op[0]:.1f} ms", flush=True)
    print(f"load at the end {load():.2f}\n")
    print("| k | nested autograd [ms/step] | torch.ops.regula [ms/step] | nested / op |")
    print("|---|---|---|---|")
    for k, (nm, nb, _), (om, ob, _) in rows:
        print(f"| {k} | {nm:.1f} ({nb:.1f}) | {om:.1f} ({ob:.1f}) | {nm / om:.1f}x ({nb / ob:.1f}x) |")
    print("cells: median (best) step; ratio of medians (of bests)")


if __name__ == "__main__":
    main()
