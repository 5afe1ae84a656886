"""Generic plots of any run's metrics.csv."""
import os

from .common import read_csv, save


def curves(run_dir):
    """Every metric of metrics.csv against step, one panel each (log scale when positive)."""
    import matplotlib.pyplot as plt
    data = read_csv(os.path.join(run_dir, "metrics.csv"))
    steps = data.pop("step")
    names = [k for k, v in data.items() if all(isinstance(x, float) for x in v)]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = data[name]
        ax.plot(steps, values)
        if all(v > 0 for v in values if v == v):
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    return [save(fig, run_dir, "metrics")]
