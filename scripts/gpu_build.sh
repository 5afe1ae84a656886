#!/usr/bin/env bash
# Builds and tests Regula on a machine with CUDA, LibTorch (python3's torch)
# and CMake but without Debian packages or network, e.g. the H200 machine:
#
#   here:  scripts/deps_prefix.sh              # once, where apt works
#   there: scripts/gpu_build.sh [ctest args]   # with .deps/prefix carried along
#
# Builds into build-gpu/ for the GPU's architecture (TORCH_CUDA_ARCH_LIST,
# default 9.0 = H100/H200) and runs the whole suite, gpu-labelled tests included.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PREFIX=${REGULA_DEPS_PREFIX:-$ROOT/.deps/prefix}
BUILD=${REGULA_BUILD_DIR:-build-gpu}
[ -d "$PREFIX/usr/include/fmt" ] || { echo "error: no dependency prefix at $PREFIX: run scripts/deps_prefix.sh where apt works and carry .deps" >&2; exit 1; }
PY=${REGULA_PYTHON:-$(command -v python3)}
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DREGULA_PYTHON="$PY" \
  -DREGULA_DEPS_PREFIX="$PREFIX" "${launcher[@]}" ${REGULA_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "${REGULA_JOBS:-$(nproc)}"
"$BUILD/apps/regula" info
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --test-dir "$BUILD" --output-on-failure -j "${REGULA_TEST_JOBS:-4}" "$@"
