#!/usr/bin/env python3
"""Runs the Lasso benchmark: build/bench/bench_lasso (Regula's coordinate descent) and
bench/lasso_anchor.py (scikit-learn, celer) alternately, best of --repeat, on

  random  n = 500, d = 10000, X = +-1, y = X w* + 0.5 noise, 5-sparse w* (bench/sparse_anchor.py's problem), signed
  mnist   the first digit of configs/sparse_exp6_mnist.yaml (n = 392, d = 784, noiseless), w >= 0

and prints the time to a relative duality gap of 1e-4 and 1e-7 at lambda = lambda_max / 100,
and of the 30-value path lambda_max .. lambda_max / 1000 (warm started, every lambda to 1e-6).
Every solution's gap is measured here with one formula (relative_gap), not taken from the tools.
One thread everywhere.  Builds nothing: `cmake --build build -j1 --target bench_lasso` first.

    ~/.cache/regula/bench-venv/bin/python bench/run_lasso.py [--build build] [--repeat 3] [--problems random,mnist]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = (1e-4, 1e-7)  # relative gaps of the single solves at lambda_max / 100
PATH_GAP = 1e-6         # relative gap of every lambda of the path (LassoOptions' default tolerance)


def relative_gap(X, y, w, lam, nonnegative):
    """(P - D) / P for P(w) = 1/2||y - Xw||^2 + a||w||_1, a = n lambda / 2 (n/2 times Regula's
    objective and n times scikit-learn's: the ratio is the same in every scaling), with the dual
    point theta = r min(1, a / max_j s((X^T r)_j)), s = |.| (signed) or the identity (w >= 0)."""
    a = 0.5 * lam * len(y)
    r = y - X @ w
    c = X.T @ r
    worst = c.max() if nonnegative else np.abs(c).max()
    s = a / worst if worst > a else 1.0
    primal = 0.5 * r @ r + a * np.abs(w).sum()
    dual = s * (r @ y) - 0.5 * s * s * (r @ r)
    return (primal - dual) / primal


def parse(text):
    out = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                out[parts[0]] = parts[1]
    return out


def keep_best(best, new):
    for k, v in new.items():
        best[k] = min(best[k], v) if k.startswith(("time", "sklearn_time", "celer_time")) and k in best else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each side; the best time is kept")
    ap.add_argument("--problems", default="random,mnist")
    a = ap.parse_args()
    binary = os.path.join(a.build, "bench", "bench_lasso")
    if not os.path.exists(binary):
        print(f"error: {binary} not found: build it with `cmake --build {a.build} -j1 --target bench_lasso`", file=sys.stderr)
        return 2
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    load0 = open("/proc/loadavg").read().split()[:3]
    results = {}
    for problem in a.problems.split(","):
        d = tempfile.mkdtemp(prefix=f"regula_lasso_{problem}_")
        cpp, py = {}, {}
        for _ in range(a.repeat):
            keep_best(cpp, parse(subprocess.run([binary, "--problem", problem, "--out", d], env=env, check=True,
                                                capture_output=True, text=True).stdout))
            keep_best(py, parse(subprocess.run([sys.executable, os.path.join(ROOT, "bench", "lasso_anchor.py"), d],
                                               env=env, check=True, capture_output=True, text=True).stdout))
        results[problem] = (d, cpp, py)
    load1 = open("/proc/loadavg").read().split()[:3]

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average "
          f"{' '.join(load0)} (start) .. {' '.join(load1)} (end); one thread everywhere; best of {a.repeat} alternating runs")
    for problem, (d, cpp, py) in results.items():
        X, y = np.load(os.path.join(d, "X.npy")), np.load(os.path.join(d, "y.npy"))
        lambdas = np.load(os.path.join(d, "lambdas.npy"))
        meta = json.load(open(os.path.join(d, "meta.json")))
        nonneg, lam = bool(meta["nonnegative"]), float(meta["lambda"])
        tools = ["regula", "sklearn"] + (["celer"] if "celer_time_path" in py else [])
        print(f"\n{problem}: n = {X.shape[0]}, d = {X.shape[1]}, {'w >= 0' if nonneg else 'signed'}, "
              f"lambda = lambda_max/100 = {lam:.4g}; seconds (relative duality gap reached, measured here)")
        header = f"  {'task':<24}" + "".join(f"{t:>24}" for t in tools) + "   speed Regula vs sklearn" + \
                 ("   vs celer" if "celer" in tools else "")
        print(header)
        rows = [(f"gap {t:.0e}", f"time_gap{t:.0e}", f"w_gap{t:.0e}.npy", False) for t in TARGETS]
        rows.append(("path 30 lambdas @1e-6", "time_path", "W_path.npy", True))
        for label, key, file, is_path in rows:
            cells, times = [], {}
            for tool in tools:
                prefix = "" if tool == "regula" else f"{tool}_"
                times[tool] = (cpp if tool == "regula" else py)[f"{prefix}{key}"]
                w = np.load(os.path.join(d, prefix + file))
                gap = max(relative_gap(X, y, wk, lk, nonneg) for wk, lk in zip(w, lambdas)) if is_path else \
                    relative_gap(X, y, w, lam, nonneg)
                cells.append(f"{times[tool]:.4f} ({gap:.1e})")
            line = f"  {label:<24}" + "".join(f"{c:>24}" for c in cells)
            line += f"   {times['sklearn'] / times['regula']:10.2f}x"
            if "celer" in times:
                line += f"   {times['celer'] / times['regula']:6.2f}x"
            print(line)
        print(f"  (path gaps: the largest over the 30 lambdas; speed = tool time / Regula time, > 1: Regula faster)")
        info = py.get("threadpool_info")
        if info:
            print(f"  NumPy/sklearn BLAS (threadpoolctl): {info}")
        if "celer" not in tools:
            print("  celer: not installed in the benchmark venv, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
