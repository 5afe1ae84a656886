"""Plots of `regula recover` and `regula sweep` runs (implicit sparse regularization)."""
import math
import os

import matplotlib.pyplot as plt
import numpy as np

from .common import read_csv, save


def _by_depth(cols):
    depths = sorted(set(int(d) for d in cols["depth"]))
    out = {}
    for d in depths:
        idx = [i for i, x in enumerate(cols["depth"]) if int(x) == d]
        out[d] = {k: np.array([v[i] for i in idx]) if not isinstance(v[0], str) else [v[i] for i in idx]
                  for k, v in cols.items()}
    return out


def _summary_rows(run_dir):
    path = os.path.join(run_dir, "summary.csv")
    if not os.path.exists(path):
        return {}
    s = read_csv(path)
    rows = {}
    for i, m in enumerate(s["method"]):
        rows[m] = {k: s[k][i] for k in s}
    return rows


def recover(run_dir):
    """paths.png: support coordinates and the largest off-support |w_i| against t (replicate 0);
    error_curves.png: median log2 ||w_t - w*||^2 with interquartile band, windows marked;
    recovery.png: labelled image grid when the signal is an image."""
    made = []
    summary = _summary_rows(run_dir)
    paths_csv = os.path.join(run_dir, "paths.csv")
    if os.path.exists(paths_csv):
        groups = _by_depth(read_csv(paths_csv))
        fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.4), squeeze=False)
        for ax, (d, g) in zip(axes[0], groups.items()):
            steps = g["step"]
            for key in g:
                if key.startswith("w"):
                    ax.plot(steps, g[key], lw=1.2, label=key)
            ax.plot(steps, g["off_max"], "k--", lw=1.2, label="max off-support |w_i|")
            row = summary.get(f"depth {d}", {})
            if row and not math.isnan(row.get("coord_start", float("nan"))):
                ax.axvspan(row["coord_start"], row["coord_end"], color="tab:green", alpha=0.12, label="coordinate window")
            ax.set_xscale("symlog", linthresh=max(1.0, steps[1] if len(steps) > 1 else 1.0))
            ax.set_title(f"depth N = {d}")
            ax.set_xlabel("iteration t")
        axes[0][0].set_ylabel("w_i (replicate 0)")
        axes[0][-1].legend(fontsize=7, loc="best")
        made.append(save(fig, run_dir, "paths"))
    curves_csv = os.path.join(run_dir, "curves.csv")
    if os.path.exists(curves_csv):
        groups = _by_depth(read_csv(curves_csv))
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for i, (d, g) in enumerate(groups.items()):
            color = f"C{i}"
            ax.plot(g["step"], g["median_log2_error"], color=color, label=f"N = {d} (median)")
            ax.fill_between(g["step"], g["q25_log2_error"], g["q75_log2_error"], color=color, alpha=0.2)
            row = summary.get(f"depth {d}", {})
            if row and not math.isnan(row.get("err_start", float("nan"))):
                y = np.nanmin(g["median_log2_error"]) - 0.4 - 0.35 * i
                ax.plot([row["err_start"], row["err_end"]], [y, y], color=color, lw=4, solid_capstyle="butt")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlabel("iteration t")
        ax.set_ylabel("log2 ||w_t - w*||^2")
        ax.set_title("error, interquartile band over replicates; bars: error windows")
        ax.legend(fontsize=8)
        made.append(save(fig, run_dir, "error_curves"))
    npy = os.path.join(run_dir, "recovery_images.npy")
    if os.path.exists(npy):
        images = np.load(npy)  # [digits, methods, H, W]
        if images.ndim == 3:
            images = images[None]
        labels = [l for l in open(os.path.join(run_dir, "recovery_labels.txt")).read().split("\n") if l]
        rows, cols = images.shape[0], images.shape[1]
        fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.4 * rows), squeeze=False)
        for r in range(rows):
            truth = images[r][0] if labels[0] == "original" else None
            for ax, img, label in zip(axes[r], images[r], labels):
                ax.imshow(img, cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                title = label
                if truth is not None and label != "original":
                    mse = float(np.mean((img - truth) ** 2))
                    title += f"\nerr {np.sum((img - truth) ** 2):.3g}, {10 * math.log10(1 / max(mse, 1e-30)):.1f} dB"
                ax.set_title(title, fontsize=8)
        fig.tight_layout()
        made.append(save(fig, run_dir, "recovery"))
    return made


def sweep(run_dir):
    """phase_transition.png: recovery probability against n/k per depth;
    window_map.png: median coordinate-window width over depth x w0 (and the error window)."""
    s = read_csv(os.path.join(run_dir, "sweep.csv"))
    depth = np.array(s["depth"], dtype=int)
    w0 = np.array(s["w0"])
    ratio = np.array(s["n_over_k"])
    rec = np.array(s["recovered"])
    made = []
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for i, d in enumerate(sorted(set(depth))):
        m = depth == d
        xs = sorted(set(ratio[m]))
        ax.plot(xs, [rec[m & (ratio == x)].mean() for x in xs], "o-", color=f"C{i}", label=f"N = {d}")
    ax.set_xlabel("n / k")
    ax.set_ylabel("P(support recovered)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend()
    ax.set_title("phase transition (best iterate)")
    made.append(save(fig, run_dir, "phase_transition"))
    depths, w0s = sorted(set(depth)), sorted(set(w0))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, title in zip(axes, ["coord_width", "err_width"], ["coordinate window", "error window"]):
        vals = np.array(s[key])
        grid = np.full((len(depths), len(w0s)), np.nan)
        for a, d in enumerate(depths):
            for b, w in enumerate(w0s):
                m = (depth == d) & (w0 == w)
                if m.any():
                    grid[a, b] = np.median(vals[m])
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(w0s)), [f"{w:.0e}" for w in w0s], rotation=45)
        ax.set_yticks(range(len(depths)), [str(d) for d in depths])
        for a in range(len(depths)):
            for b in range(len(w0s)):
                if not np.isnan(grid[a, b]):
                    ax.text(b, a, f"{grid[a, b]:.0f}", ha="center", va="center", color="w", fontsize=7)
        ax.set_xlabel("w0")
        ax.set_ylabel("depth N")
        ax.set_title(f"median {title} width (iterations)")
        fig.colorbar(im, ax=ax)
    made.append(save(fig, run_dir, "window_map"))
    return made
