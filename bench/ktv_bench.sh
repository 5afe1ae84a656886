#!/usr/bin/env bash
# The k-TV step benchmark: for each order k, the C++ binary (Taylor mode, nested autograd) and
# then the same step in PyTorch Python, back to back (so both see the same machine load), then
# one table with the ratios.
#   bench/ktv_bench.sh [--threads 1] [--samples 1024] [--budget 2] [--device cpu] ...
# Options go to both programs.  ORDERS="1 2 3" picks the orders (default 1..6).
# Build first: cmake --build build -j1 --target ktv_step
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${REGULA_BUILD_DIR:-$ROOT/build}
PY=${REGULA_PYTHON:-$HOME/.cache/regula/torch-2.11.0-py3.11/bin/python}
BIN="$BUILD/bench/ktv_step"
[ -x "$BIN" ] || { echo "error: $BIN not built: run cmake --build build -j1 --target ktv_step" >&2; exit 1; }
# glibc returns freed multi-megabyte blocks to the kernel and page-faults them back on the next
# step; keep them in the heap for both processes alike (MALLOC_*_ from the caller win).
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-268435456}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "machine: $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in ${ORDERS:-1 2 3 4 5 6}; do
  "$BIN" --orders "$k" --csv "$OUT/cpp_$k.csv" "$@"
  "$PY" "$ROOT/bench/ktv_step_anchor.py" --orders "$k" --csv "$OUT/py_$k.csv" "$@"
done
echo
"$PY" "$ROOT/bench/ktv_step_anchor.py" --report "$OUT"/*.csv
