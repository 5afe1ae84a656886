#!/usr/bin/env bash
# The k-TV step benchmark, one command: for each dtype and order k, the C++ binary (Taylor mode,
# reverse mode at k = 1, nested autograd; it also reports what engine: auto picks), the same step
# in PyTorch Python and in JAX (jet, nested jvp, grad-of-grad), back to back so that all see the
# same machine load; then the GEMM floor of the step Regula's auto engine runs, and one table:
# every median, Regula's best engine against the best peer per k (target >= 1.0x), the floor.
#   bench/ktv_bench.sh [--threads 1] [--samples 1024] [--budget 2] [--min-reps 5] ...
# Options go to every program (default --threads 1: one intra-op thread, one XLA thread).
# ORDERS="1 2 3" picks the orders (default 1..6), DTYPES="float32" the dtypes (default float32
# float64), PIN_CPU=1 runs every program under taskset -c 1.  The JAX anchor runs with
# REGULA_JAX_PYTHON (default ~/.cache/regula/bench-venv/bin/python, with jax[cpu] and optax) and
# is left out, with a note, when that Python has no jax.
# Build first: cmake --build build -j1 --target ktv_step
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${REGULA_BUILD_DIR:-$ROOT/build}
PY=${REGULA_PYTHON:-$HOME/.cache/regula/torch-2.11.0-py3.11/bin/python}
JAX_PY=${REGULA_JAX_PYTHON:-$HOME/.cache/regula/bench-venv/bin/python}
BIN="$BUILD/bench/ktv_step"
[ -x "$BIN" ] || { echo "error: $BIN not built: run cmake --build build -j1 --target ktv_step" >&2; exit 1; }
ARGS=("$@")
[[ " ${ARGS[*]} " == *" --threads "* ]] || ARGS=(--threads 1 "${ARGS[@]}")
ORDERS=${ORDERS:-1 2 3 4 5 6}
PIN=()
[ -n "${PIN_CPU:-}" ] && PIN=(taskset -c "$PIN_CPU")
# One thread everywhere: OpenMP/MKL for torch, XLA's own pool for JAX.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export XLA_FLAGS=${XLA_FLAGS:---xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1}
# glibc returns freed multi-megabyte blocks to the kernel and page-faults them back on the next
# step; keep them in the heap for all processes alike (MALLOC_*_ from the caller win).
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-268435456}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
JAX=1
if ! [ -x "$JAX_PY" ] || ! "$JAX_PY" -c 'import jax' 2>/dev/null; then
  echo "note: no jax in $JAX_PY (set REGULA_JAX_PYTHON): the JAX anchor is left out" >&2
  JAX=0
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(uname -n), $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(load)"
for dtype in ${DTYPES:-float32 float64}; do
  for k in $ORDERS; do
    "${PIN[@]}" "$BIN" --orders "$k" --dtype "$dtype" --csv "$OUT/cpp_${dtype}_$k.csv" "${ARGS[@]}"
    "${PIN[@]}" "$PY" "$ROOT/bench/ktv_step_anchor.py" --orders "$k" --dtype "$dtype" --csv "$OUT/py_${dtype}_$k.csv" "${ARGS[@]}"
    if [ "$JAX" = 1 ]; then
      "${PIN[@]}" "$JAX_PY" "$ROOT/bench/ktv_step_jax.py" --orders "$k" --dtype "$dtype" --csv "$OUT/jax_${dtype}_$k.csv" "${ARGS[@]}"
    fi
  done
  "${PIN[@]}" "$PY" "$ROOT/bench/ktv_gemm_bound.py" --floor-csv "$OUT/floor_$dtype.csv" --dtype "$dtype" \
    --orders "$(echo $ORDERS | tr ' ' ',')" "${ARGS[@]}"
done
echo
echo "load at the end: $(load)"
"$PY" "$ROOT/bench/ktv_step_anchor.py" --report "$OUT"/*.csv
