#!/usr/bin/env bash
# Creates the benchmarks' own virtual environment (not the project's): the peers a user could
# pick instead of Regula, from PyPI.  The PyTorch anchors run in the project's torch venv
# (the same wheel as LibTorch); everything else runs here.
#   bench/setup_env.sh            # once per machine; prints the venv's python
# REGULA_BENCH_VENV overrides the location (default ~/.cache/regula/bench-venv).
set -euo pipefail
VENV=${REGULA_BENCH_VENV:-${REGULA_CACHE:-$HOME/.cache/regula}/bench-venv}
PACKAGES=(numpy scipy threadpoolctl scikit-learn celer "jax[cpu]" optax)
if [ ! -f "$VENV/.complete" ]; then
  echo "[bench] creating $VENV (${PACKAGES[*]})" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
  touch "$VENV/.complete"
fi
echo "$VENV/bin/python"
