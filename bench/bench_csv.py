"""The rows the benchmark anchors hand to their drivers, as one CSV (shared by every venv's anchor)."""
import csv


def write_rows(path, rows):
    """Writes dicts with the same keys to `path` as CSV with a header (nothing when path is empty)."""
    if not path:
        return
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
