#!/usr/bin/env bash
# Quick start, command 2: (re)build if needed and run the whole test suite.
# GPU tests (label `gpu`) skip themselves on machines without CUDA.
# Extra arguments go to ctest, e.g. scripts/test.sh -L gpu  or  -R Config
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --test-dir "${REGULA_BUILD_DIR:-build}" \
  --output-on-failure -j "${REGULA_JOBS:-2}" "$@"
