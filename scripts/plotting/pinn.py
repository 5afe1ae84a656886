"""Plots of `regula pinn` runs (physics-informed training).

    python3 scripts/plot.py pinn.runs <run_dir>

For the first seed of every variant, from each run's predictions.csv (the test grid: the
coordinates, `truth` = the PDE's solution, `pred`) and metrics.csv:
  solution.png  two coordinates: the solution, each variant's prediction and its error field
                |pred - truth| as images; one coordinate: curves; more: prediction against truth;
  losses.png    every loss term (loss_residual, loss_<condition>, the weighted total) and the
                relative L2 error against the step, log scale.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from plotting.common import first_seed_runs, read_csv, save


def _coordinates(columns):
    return [c for c in columns if c not in ("truth", "pred")]


def _grid(values, xs, ys):
    """Values on the ij-ordered grid of predictions.csv as an image [len(ys), len(xs)]."""
    return np.asarray(values).reshape(len(xs), len(ys)).T


def _solution(run_dir, runs):
    first = read_csv(os.path.join(runs[0][2], "predictions.csv"))
    coords = _coordinates(first)
    if len(coords) == 2:
        xs, ys = np.unique(first[coords[0]]), np.unique(first[coords[1]])
        extent = [xs[0], xs[-1], ys[0], ys[-1]]
        truth = _grid(first["truth"], xs, ys)
        fig, axes = plt.subplots(len(runs), 3, figsize=(11, 3.3 * len(runs)), squeeze=False)
        for row, (variant, _, folder) in zip(axes, runs):
            pred = _grid(read_csv(os.path.join(folder, "predictions.csv"))["pred"], xs, ys)
            panels = [("solution", truth, "viridis"), (f"{variant}: prediction", pred, "viridis"),
                      (f"{variant}: |error|", np.abs(pred - truth), "magma")]
            for ax, (title, z, cmap) in zip(row, panels):
                im = ax.imshow(z, origin="lower", extent=extent, aspect="auto", cmap=cmap)
                ax.set_title(title, fontsize=9)
                ax.set_xlabel(coords[0])
                ax.set_ylabel(coords[1])
                fig.colorbar(im, ax=ax, shrink=0.85)
        fig.tight_layout()
        return [save(fig, run_dir, "solution")]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    if len(coords) == 1:
        ax.plot(first[coords[0]], first["truth"], "k", lw=2, label="solution")
        for variant, _, folder in runs:
            ax.plot(first[coords[0]], read_csv(os.path.join(folder, "predictions.csv"))["pred"], label=variant)
        ax.set_xlabel(coords[0])
    else:
        for variant, _, folder in runs:
            ax.scatter(first["truth"], read_csv(os.path.join(folder, "predictions.csv"))["pred"], s=4, label=variant)
        ax.set_xlabel("solution")
        ax.set_ylabel("prediction")
    ax.legend(fontsize=8)
    return [save(fig, run_dir, "solution")]


def _losses(run_dir, runs):
    first = read_csv(os.path.join(runs[0][2], "metrics.csv"))
    terms = [c for c in first if c.startswith("loss_")] + ["penalty"]
    panels = [("loss terms", terms)] + ([("relative L2 error", ["test_rel_l2"])] if "test_rel_l2" in first else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (title, names) in zip(axes[0], panels):
        for variant, _, folder in runs:
            rows = read_csv(os.path.join(folder, "metrics.csv"))
            for name in names:
                label = name if len(runs) == 1 else f"{variant}: {name}"
                ax.plot(rows["step"], rows[name], label=("total (weighted)" if name == "penalty" and len(runs) == 1 else label))
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.legend(fontsize=7)
    return [save(fig, run_dir, "losses")]


def runs(run_dir):
    """All plots of a `regula pinn` run directory; returns their paths."""
    found = first_seed_runs(run_dir)
    if not found:
        return []
    paths = []
    if os.path.exists(os.path.join(found[0][2], "predictions.csv")):
        paths += _solution(run_dir, found)
    paths += _losses(run_dir, found)
    return paths
