#!/usr/bin/env bash
# Runs the k-TV step benchmark: the C++ binary (Taylor mode and nested autograd), then the
# same step in PyTorch Python, back to back, and prints the combined table with ratios.
#   bench/ktv_bench.sh [--max-order 6] [--samples 1024] [--threads 2] [--device cpu] ...
# Options are passed to both.  Build first: cmake --build build -j1 --target ktv_step
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${REGULA_BUILD_DIR:-$ROOT/build}
PY=${REGULA_PYTHON:-$HOME/.cache/regula/torch-2.11.0-py3.11/bin/python}
BIN="$BUILD/bench/ktv_step"
[ -x "$BIN" ] || { echo "error: $BIN not built: run cmake --build build -j1 --target ktv_step" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "machine: $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BIN" --csv "$OUT/cpp.csv" "$@"
"$PY" "$ROOT/bench/ktv_step_anchor.py" --cpp "$OUT/cpp.csv" "$@"
