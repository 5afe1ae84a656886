#!/usr/bin/env bash
# Builds a self-contained prefix of Regula's C++ dependencies from Debian 12
# packages, for machines that have LibTorch/CUDA/CMake but no Debian packages
# and no network (e.g. the H200 machine):
#
#   scripts/deps_prefix.sh [PREFIX]     # default: .deps/prefix (git-ignored)
#
# It downloads the .deb files with `apt-get download` (no install, no root
# needed beyond apt's cache) and unpacks them with `dpkg -x`.  Configure with
#   cmake -DREGULA_DEPS_PREFIX=$PWD/.deps/prefix ...
# (scripts/gpu_build.sh does this).  About 10 MB.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${1:-$ROOT/.deps/prefix}
DEBS=(libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 libcli11-dev libstb-dev
      libgtest-dev libgmock-dev googletest zlib1g-dev)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download "${DEBS[@]}" >/dev/null 2>&1); then
  apt-get update -q >/dev/null
  (cd "$work" && apt-get download "${DEBS[@]}" >/dev/null)
fi
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$PREFIX"; done
# googletest ships sources only; libgtest-dev has the built static libraries.
echo "deps prefix: $PREFIX ($(du -sh "$PREFIX" | cut -f1)) from: ${DEBS[*]}"
