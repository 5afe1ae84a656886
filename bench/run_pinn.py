#!/usr/bin/env python3
"""Runs the PINN benchmark: build/bench/pinn_step (Regula, Taylor mode and nested autograd in C++)
and bench/pinn_deepxde.py (DeepXDE with its PyTorch backend, and the same loss in plain PyTorch
with nested torch.autograd.grad) on the same network (MLP d-64-64-64-1, tanh, float32), the same
points per step (1024 collocation, 256 per condition), the same PDEs (poisson2d, kdv, beam,
biharmonic2d; trainers/pinn/pdes.h) and Adam (lr 1e-3), one thread each, one after the other;
prints ms per step, the relative L2 error after --steps steps, and each peer's time per step over
Regula's (Taylor mode) best.

    python3 bench/run_pinn.py [--build build] [--steps 2000] [--pde poisson2d,kdv,beam,biharmonic2d]

DeepXDE runs from its own venv (bench/setup_pinn_env.sh: deepxde from PyPI on the project's torch
wheel); without it the table has Regula's rows only.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("REGULA_CACHE", os.path.expanduser("~/.cache/regula"))


def rows_of(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--pde", default="poisson2d,kdv,beam,biharmonic2d")
    ap.add_argument("--python", default=os.path.join(CACHE, "pinn-venv", "bin", "python"),
                    help="the DeepXDE venv's python (bench/setup_pinn_env.sh)")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    pdes = args.pde.split(",")
    out = tempfile.mkdtemp(prefix="regula_pinn_bench_")
    regula_csv, peer_csv = os.path.join(out, "regula.csv"), os.path.join(out, "peers.csv")
    subprocess.run([os.path.join(args.build, "bench", "pinn_step"), "--pde", *pdes, "--steps", str(args.steps),
                    "--csv", regula_csv], check=True, env=env)
    if os.path.exists(args.python):
        subprocess.run([args.python, os.path.join(ROOT, "bench", "pinn_deepxde.py"), "--pdes", ",".join(pdes),
                        "--steps", str(args.steps), "--csv", peer_csv], check=True, env=dict(env, DDE_BACKEND="pytorch"))
    else:
        print(f"(no DeepXDE venv at {args.python}: run bench/setup_pinn_env.sh for the peers)", file=sys.stderr)
    rows = rows_of(regula_csv) + rows_of(peer_csv)
    print(f"\nPINN step, MLP d-64-64-64-1 tanh float32, 1024 + 256/condition points, {args.steps} Adam steps, 1 thread")
    print(f"{'pde':<14} {'method':<18} {'ms/step':>9} {'x Regula':>9} {'rel L2':>9}")
    for pde in pdes:
        mine = [r for r in rows if r["pde"] == pde]
        best = min((float(r["ms_per_step"]) for r in mine if r["method"] == "regula_taylor"), default=float("nan"))
        for r in sorted(mine, key=lambda r: float(r["ms_per_step"])):
            ms = float(r["ms_per_step"])
            print(f"{pde:<14} {r['method']:<18} {ms:9.2f} {ms / best:9.2f} {float(r['rel_l2']):9.2e}")
    print(f"\nrows: {regula_csv} {peer_csv}")


if __name__ == "__main__":
    main()
