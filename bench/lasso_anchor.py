"""Python anchors for bench/bench_lasso.cpp: scikit-learn's and celer's Lasso on the
data that bench_lasso wrote (X.npy, y.npy, lambdas.npy in DIR).  Run with the benchmark
venv (numpy, scikit-learn, celer, threadpoolctl) by bench/run_lasso.py.

Regula's problem min_w (1/n)||Xw - y||^2 + lambda ||w||_1 is scikit-learn's and celer's
(1/(2n))||Xw - y||^2 + alpha ||w||_1 with alpha = lambda / 2.  Both tools stop on a gap
relative to ||y||^2 / n, not on the relative gap (P - D) / P that the table compares, so each
tool's `tol` is tightened (x 1/10 at a time) until the gap measured by the driver's formula
(run_lasso.relative_gap) reaches the target; the time of that fit is reported, and the
tolerance found is kept in DIR/<tool>_tols.json for the driver's repeats.  X is handed over
in column (Fortran) order, so neither tool copies it; Regula's time includes its copy.

    python bench/lasso_anchor.py DIR     # prints `key value` lines, writes DIR/<tool>_*.npy
"""
import json
import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_lasso import PATH_GAP, TARGETS, relative_gap  # noqa: E402


def make_tools(nonnegative):
    tools = {}
    from sklearn.linear_model import Lasso

    tools["sklearn"] = lambda alpha, tol: Lasso(alpha=alpha, positive=nonnegative, fit_intercept=False, tol=tol,
                                                selection="cyclic", max_iter=100000, warm_start=True)
    try:
        import celer

        tools["celer"] = lambda alpha, tol: celer.Lasso(alpha=alpha, positive=nonnegative, fit_intercept=False,
                                                        tol=tol, max_iter=1000, max_epochs=1000000, warm_start=True)
    except ImportError as e:  # the table then says "celer not installed"
        print(f"celer_missing {e}", file=sys.stderr)
    return tools


def tool_tol(X, y, w_ref, lam, target):
    """The tol that corresponds to relative gap `target` at the reference solution: both tools
    stop at gap <= tol ||y||^2 (in the scale of 1/2||r||^2 + n alpha ||w||_1)."""
    r = y - X @ w_ref
    primal = 0.5 * r @ r + 0.5 * lam * len(y) * np.abs(w_ref).sum()
    return target * primal / (y @ y)


def fit_to_gap(make, X, y, lam, nonnegative, target, tol0):
    """Fits with tol0, tol0 / 10, ... until the relative gap is <= target; returns (seconds, w, gap)."""
    tol = tol0
    for _ in range(8):
        model = make(lam / 2, tol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            model.fit(X, y)
            s = time.perf_counter() - t0
        w = np.asarray(model.coef_, dtype=np.float64).ravel()
        gap = relative_gap(X, y, w, lam, nonnegative)
        if gap <= target:
            return s, w, gap, tol
        tol /= 10
    return s, w, gap, tol


def main(argv):
    d = argv[1]
    X = np.asfortranarray(np.load(os.path.join(d, "X.npy")))  # column order, so neither tool copies X
    y = np.load(os.path.join(d, "y.npy"))
    lambdas = np.load(os.path.join(d, "lambdas.npy"))
    meta = json.load(open(os.path.join(d, "meta.json")))
    nonnegative, lam = bool(meta["nonnegative"]), float(meta["lambda"])
    w_ref = {t: np.load(os.path.join(d, f"w_gap{t:.0e}.npy")) for t in TARGETS}
    W_ref = np.load(os.path.join(d, "W_path.npy"))
    with threadpool_limits(1):
        print("threadpool_info " + json.dumps([{k: i.get(k) for k in ("internal_api", "version", "architecture",
                                                                         "num_threads", "threading_layer")}
                                                for i in threadpool_info()]).replace(" ", ""))
        tools = make_tools(nonnegative)
        for name, make in tools.items():
            # The tolerances found by the first run (repeats start from them: one fit per task).
            cache_file = os.path.join(d, f"{name}_tols.json")
            cache = json.load(open(cache_file)) if os.path.exists(cache_file) else {}
            make(lam / 2, 1e-2).fit(X[:, :50], y)  # warm-up: imports, JIT, first-call costs
            for t in TARGETS:
                key = f"gap{t:.0e}"
                tol0 = cache.get(key, tool_tol(X, y, w_ref[t], lam, t))
                s, w, gap, cache[key] = fit_to_gap(make, X, y, lam, nonnegative, t, tol0)
                print(f"{name}_time_gap{t:.0e} {s:.6f}")
                print(f"{name}_tol_gap{t:.0e} {cache[key]:.3e}")
                np.save(os.path.join(d, f"{name}_w_gap{t:.0e}.npy"), w)
            # The path: one warm-started estimator, tol per lambda from the reference solution,
            # tightened for the whole path until every lambda reaches PATH_GAP.
            scale = cache.get("path_scale", 1.0)
            for _ in range(6):
                model, W, total = None, [], 0.0
                for lam_k, w_k in zip(lambdas, W_ref):
                    tol = scale * tool_tol(X, y, w_k, lam_k, PATH_GAP)
                    if model is None:
                        model = make(lam_k / 2, tol)
                    else:
                        model.set_params(alpha=lam_k / 2, tol=tol)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        t0 = time.perf_counter()
                        model.fit(X, y)
                        total += time.perf_counter() - t0
                    W.append(np.asarray(model.coef_, dtype=np.float64).ravel().copy())
                gaps = [relative_gap(X, y, w, l, nonnegative) for w, l in zip(W, lambdas)]
                if max(gaps) <= PATH_GAP:
                    break
                scale /= 10
            cache["path_scale"] = scale
            json.dump(cache, open(cache_file, "w"))
            print(f"{name}_time_path {total:.6f}")
            print(f"{name}_tol_scale_path {scale:.0e}")
            np.save(os.path.join(d, f"{name}_W_path.npy"), np.stack(W))


if __name__ == "__main__":
    main(sys.argv)
