#!/usr/bin/env python3
"""Runs the sparse benchmark: the C++ binary (build/bench/bench_sparse) and its
Python anchors (bench/sparse_anchor.py: NumPy, PyTorch) back to back, then
prints the figures and the ratios.  Builds nothing: build first with
`cmake --build build -j1 --target bench_sparse`.

    ~/.cache/regula/torch-2.11.0-py3.11/bin/python bench/run_sparse.py [--build build] [--single-iters 200] [--sweep-steps 300] [--repeat 3]
"""
import argparse
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--single-iters", type=int, default=200)
    ap.add_argument("--sweep-steps", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the best figure of each is kept")
    a = ap.parse_args()
    binary = os.path.join(a.build, "bench", "bench_sparse")
    if not os.path.exists(binary):
        print(f"error: {binary} not found: build it with `cmake --build {a.build} -j1 --target bench_sparse`", file=sys.stderr)
        return 2
    cpp, py = {}, {}
    for _ in range(a.repeat):  # alternate C++ and Python; keep each figure's best run (noisy shared machines)
        for cmd, out in (([binary, "--single-iters", str(a.single_iters), "--sweep-steps", str(a.sweep_steps)], cpp),
                         ([sys.executable, os.path.join(ROOT, "bench", "sparse_anchor.py"), str(a.single_iters),
                           str(a.sweep_steps)], py)):
            for k, v in parse(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout).items():
                out[k] = max(out.get(k, v), v)
    import torch
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}; "
          f"threads C++ {int(cpp.get('threads', 0))}, Python {int(py.get('threads', 0))}; best of {a.repeat} alternating runs")
    print(f"single problem (n = 500, d = 10000, float64), iterations/s:")
    print(f"  Regula C++        {cpp['single_its']:10.1f}")
    print(f"  NumPy             {py['numpy_single_its']:10.1f}   ratio C++/NumPy   {cpp['single_its'] / py['numpy_single_its']:.2f}x")
    print(f"  PyTorch (Python)  {py['torch_single_its']:10.1f}   ratio C++/PyTorch {cpp['single_its'] / py['torch_single_its']:.2f}x")
    print(f"sweep of 256 configurations (32 problems n = 100, d = 200 x 8 parameter sets, {a.sweep_steps} steps, float32), configurations/s:")
    print(f"  Regula batched            {cpp['batched_cps']:10.1f}")
    print(f"  Regula one after another  {cpp['sequential_cps']:10.1f}   ratio batched/sequential {cpp['batched_cps'] / cpp['sequential_cps']:.1f}x (target >= 20x)")
    print(f"  NumPy batched             {py['numpy_batched_cps']:10.1f}   ratio Regula/NumPy   {cpp['batched_cps'] / py['numpy_batched_cps']:.2f}x")
    print(f"  PyTorch batched           {py['torch_batched_cps']:10.1f}   ratio Regula/PyTorch {cpp['batched_cps'] / py['torch_batched_cps']:.2f}x")
    print(f"  PyTorch one after another {py['torch_sequential_cps']:10.1f}   ratio Regula batched/this {cpp['batched_cps'] / py['torch_sequential_cps']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
