#!/usr/bin/env python3
"""Turns a run's CSV files into PNG plots (matplotlib).

    python3 scripts/plot.py <family>.<plot> <run_dir>

e.g. `sparse.paths runs/recover/20261122-101500`.  Each family is a module in
scripts/plotting/ (sparse.py, ktv.py, ...) whose function <plot>(run_dir)
reads the run's CSV files and writes PNGs into <run_dir>/plots/.
The regula CLI calls this at the end of a run when matplotlib is available.
"""
import importlib
import os
import sys


def main(argv):
    if len(argv) != 3 or "." not in argv[1]:
        print(__doc__, file=sys.stderr)
        return 2
    family, plot = argv[1].split(".", 1)
    run_dir = argv[2]
    if not os.path.isdir(run_dir):
        print(f"error: run directory '{run_dir}' does not exist", file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import matplotlib
    matplotlib.use("Agg")
    try:
        module = importlib.import_module(f"plotting.{family}")
    except ModuleNotFoundError:
        print(f"error: unknown plot family '{family}' (no scripts/plotting/{family}.py)", file=sys.stderr)
        return 2
    fn = getattr(module, plot.replace("-", "_"), None)
    if fn is None:
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        print(f"error: unknown plot '{plot}' in family '{family}' (have: {', '.join(names)})", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(run_dir, "plots"), exist_ok=True)
    for path in fn(run_dir) or []:
        print(f"plot: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
