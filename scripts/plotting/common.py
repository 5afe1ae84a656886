"""Helpers shared by the plot families."""
import csv
import os


def read_csv(path):
    """Reads a CSV with a header into {column: [float or str, ...]}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {}
    for row in rows:
        for key, value in row.items():
            try:
                columns.setdefault(key, []).append(float(value) if value != "" else float("nan"))
            except ValueError:
                columns.setdefault(key, []).append(value)
    return columns


def save(fig, run_dir, name):
    """Saves a figure as <run_dir>/plots/<name>.png and returns the path."""
    path = os.path.join(run_dir, "plots", name + ".png")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def first_seed_runs(run_dir):
    """(variant, seed, folder) of the first seed of every variant, from <run_dir>/results.csv."""
    results = read_csv(os.path.join(run_dir, "results.csv"))
    runs, seen = [], set()
    for variant, seed, folder in zip(results["variant"], results["seed"], results["dir"]):
        if variant in seen:
            continue
        seen.add(variant)
        runs.append((str(variant), int(seed), os.path.join(run_dir, str(folder))))
    return runs
