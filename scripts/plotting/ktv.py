"""Plots of `regula train` runs (k-TV experiments).

    python3 scripts/plot.py ktv.runs <run_dir>

Reads <run_dir>/results.csv (one row per variant x seed, with the run's folder)
and each run's predictions.csv / train.csv / metrics.csv; draws, for the first
seed of every variant:
  1-D data: fits.png (data, truth, fits) and derivatives.png (k-th derivatives
            of the fits against the truth's, k = 1..K);
  2-D data: surfaces.png (truth, noisy training data, each variant's surface);
  CSV data: predictions.png (prediction against target on the validation set);
and curves.png (validation / test metrics against the step).
"""
import math
import os

import matplotlib.pyplot as plt
import numpy as np

from plotting.common import first_seed_runs as _first_seed_runs, read_csv, save


def _fits_1d(run_dir, runs):
    paths = []
    first = read_csv(os.path.join(runs[0][2], "predictions.csv"))
    train = read_csv(os.path.join(runs[0][2], "train.csv"))
    x = np.array(first["x"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(train["x"], train["y"], s=8, color="0.6", label="training data")
    ax.plot(x, first["truth"], "k--", lw=2, label="truth")
    for variant, _, folder in runs:
        pred = read_csv(os.path.join(folder, "predictions.csv"))
        ax.plot(x, pred["pred"], lw=1.5, label=variant)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("fits (first seed)")
    ax.legend(fontsize=8)
    paths.append(save(fig, run_dir, "fits"))

    orders = sorted(int(k[1:].split("_")[0]) for k in first if k.startswith("d") and k.endswith("_pred"))
    if orders:
        fig, axes = plt.subplots(1, len(orders), figsize=(4.5 * len(orders), 4), squeeze=False)
        for ax, k in zip(axes[0], orders):
            if f"d{k}_truth" in first:
                ax.plot(x, first[f"d{k}_truth"], "k--", lw=2, label="truth")
            for variant, _, folder in runs:
                pred = read_csv(os.path.join(folder, "predictions.csv"))
                ax.plot(x, pred[f"d{k}_pred"], lw=1.2, label=variant)
            ax.set_title(f"order-{k} derivative")
            ax.set_xlabel("x")
            lo, hi = np.nanpercentile(np.array(first.get(f"d{k}_truth", first[f"d{k}_pred"])), [0, 100])
            span = max(hi - lo, 2.0 * max(abs(lo), abs(hi)), 1.0)
            ax.set_ylim(lo - 1.5 * span, hi + 1.5 * span)
        axes[0][0].legend(fontsize=8)
        paths.append(save(fig, run_dir, "derivatives"))
    return paths


def _surfaces_2d(run_dir, runs):
    first = read_csv(os.path.join(runs[0][2], "predictions.csv"))
    train = read_csv(os.path.join(runs[0][2], "train.csv"))
    g = int(round(math.sqrt(len(first["x1"]))))
    gt = int(round(math.sqrt(len(train["x1"]))))
    panels = [("truth", np.array(first["truth"]).reshape(g, g)),
              ("training data", np.array(train["y"]).reshape(gt, gt))]
    for variant, _, folder in runs:
        panels.append((variant, np.array(read_csv(os.path.join(folder, "predictions.csv"))["pred"]).reshape(g, g)))
    cols = min(4, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.3 * rows), squeeze=False)
    lo, hi = float(np.min(panels[0][1])), float(np.max(panels[0][1]))
    for ax, (title, z) in zip(axes.flat, panels):
        im = ax.imshow(z.T, origin="lower", extent=[0, 2 * math.pi, 0, 2 * math.pi], vmin=lo, vmax=hi, cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8)
    return [save(fig, run_dir, "surfaces")]


def _predictions_val(run_dir, runs):
    fig, ax = plt.subplots(figsize=(5, 5))
    for variant, _, folder in runs:
        pred = read_csv(os.path.join(folder, "predictions_val.csv"))
        ax.scatter(pred["truth"], pred["pred"], s=8, label=variant)
    ax.set_xlabel("target")
    ax.set_ylabel("prediction")
    ax.legend(fontsize=8)
    return [save(fig, run_dir, "predictions")]


def _curves(run_dir, runs):
    metrics = [m for m in ("val_loss", "test_mse", "train_loss") if m in read_csv(os.path.join(runs[0][2], "metrics.csv"))]
    if not metrics:
        return []
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        for variant, _, folder in runs:
            rows = read_csv(os.path.join(folder, "metrics.csv"))
            ax.plot(rows["step"], rows[m], label=variant)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(m)
    axes[0][0].legend(fontsize=8)
    return [save(fig, run_dir, "curves")]


def runs(run_dir):
    """All plots of a `regula train` run directory; returns their paths."""
    found = _first_seed_runs(run_dir)
    if not found:
        return []
    paths = []
    first = found[0][2]
    if os.path.exists(os.path.join(first, "predictions.csv")):
        header = read_csv(os.path.join(first, "predictions.csv"))
        paths += _fits_1d(run_dir, found) if "x" in header else _surfaces_2d(run_dir, found) if "x2" in header else []
    elif os.path.exists(os.path.join(first, "predictions_val.csv")):
        paths += _predictions_val(run_dir, found)
    paths += _curves(run_dir, found)
    return paths
