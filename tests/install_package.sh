#!/usr/bin/env bash
# The installable CMake package, end to end (ctest: install_package, label `install`):
#   cmake --install the build into a scratch prefix, check the layout and that the installed
#   files name no source-tree path, run the installed `regula`, then configure and build
#   examples/ as an out-of-tree project with find_package(regula CONFIG REQUIRED) and run it:
#   regula_consumer (registries, k-TV training) and regula_torch_first (torch linked before
#   regula::regula, still compiled against Regula's fmt).  Last, the static_assert in
#   core/logging.h must reject torch's bundled fmt.
# usage: install_package.sh <source dir> <build dir> <expected FMT_VERSION> <torch include dir> [cmake args for the consumer...]
set -euo pipefail
SRC=$1 BUILD=$2 FMT_VERSION=$3 TORCH_INCLUDE=$4
shift 4
# Under the build tree, at a fixed path: ccache (CCACHE_BASEDIR) then reuses the consumer's objects.
WORK="$BUILD/install-test"
PREFIX="$WORK/prefix"
rm -rf "$WORK"
mkdir -p "$WORK"
fail() { echo "install_package: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "cmake --install $BUILD --prefix $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" || { cat "$WORK/install.log"; fail "cmake --install failed"; }

step "layout"
for f in lib/libregula_core.a lib/libregula_models.a lib/libregula_regularizers.a lib/libregula_trainers.a \
         lib/libregula_sparse.a lib/libregula_pinn.a include/regula/core/config.h include/regula/models/registry.h \
         include/regula/regularizers/ktv.h include/regula/trainers/sparse/recover.h \
         include/regula/fmt-shim/fmt/core.h lib/cmake/regula/regulaConfig.cmake \
         lib/cmake/regula/regulaConfigVersion.cmake lib/cmake/regula/regulaTargets.cmake bin/regula \
         share/regula/plot.py share/regula/plotting/__init__.py; do
  [ -e "$PREFIX/$f" ] || fail "missing $PREFIX/$f"
done
[ -L "$PREFIX/include/regula/fmt-shim/fmt" ] || fail "include/regula/fmt-shim/fmt is not a link to the system fmt"
[ ! -e "$PREFIX/include/regula/core/pch.h" ] || fail "the precompiled header was installed"

step "no source-tree path ($SRC) in the installed files"
# Debug info (Debug builds) names the sources by design; the code and data must not.
for f in "$PREFIX"/lib/*.a "$PREFIX"/bin/regula; do
  objcopy --strip-debug "$f" "$WORK/stripped"
  if grep -a -o -F "$SRC" "$WORK/stripped" >/dev/null; then
    fail "$f names the source tree: $(strings -a "$WORK/stripped" | grep -F "$SRC" | head -3 | tr '\n' ' ')"
  fi
done
if grep -r -l -F "$SRC" "$PREFIX/lib/cmake" "$PREFIX/share"; then fail "the package files above name the source tree"; fi

step "installed regula finds its plot script under the prefix"
info=$(env -u REGULA_PLOT_SCRIPT "$PREFIX/bin/regula" info --device cpu) || fail "installed regula info failed: $info"
echo "$info"
grep -q -F "plot script $PREFIX/share/regula/plot.py" <<<"$info" || fail "installed regula does not find $PREFIX/share/regula/plot.py"

step "configure examples/ against the package"
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
cmake -S "$SRC/examples" -B "$WORK/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >"$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log"; fail "configuring examples/ against the package failed"; }
step "build examples/"
cmake --build "$WORK/consumer" -j 1 >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "building examples/ against the package failed"; }

step "run regula_consumer"
out=$(REGULA_PLOT_SCRIPT="$PREFIX/share/regula/plot.py" "$WORK/consumer/regula_consumer") || fail "regula_consumer failed: $out"
echo "$out"
grep -q -E '^models: .*\bmlp\b.*\bresidual_mlp\b' <<<"$out" || fail "the model registry lacks mlp or residual_mlp"
grep -q -E '^regularizers: .*\bktv\b.*\bl2_to_init\b' <<<"$out" || fail "the regularizer registry lacks ktv or l2_to_init"
grep -q -x "fmt: $FMT_VERSION" <<<"$out" || fail "regula_consumer was compiled against another fmt (expected $FMT_VERSION)"
grep -q -x -F "plot script: $PREFIX/share/regula/plot.py" <<<"$out" || fail "REGULA_PLOT_SCRIPT is not honoured"
grep -q 'loss .* -> .* (decreased)$' <<<"$out" || fail "training did not reduce the loss"

step "run regula_torch_first (torch linked before regula::regula)"
# How the shim wins: it is an -I directory (regula::regula is exported non-SYSTEM), which the
# compiler searches before torch's -isystem ones, whatever the link order.
python3 - "$WORK/consumer/compile_commands.json" "$PREFIX/include/regula/fmt-shim" "$TORCH_INCLUDE" <<'PY' \
  || fail "for torch_first.cpp the fmt shim is not an -I directory ahead of torch's -isystem $TORCH_INCLUDE"
import json, shlex, sys
args = shlex.split(next(c["command"] for c in json.load(open(sys.argv[1])) if c["file"].endswith("torch_first.cpp")))
sys.exit(0 if "-I" + sys.argv[2] in args and ["-isystem", sys.argv[3]] in [args[i:i + 2] for i in range(len(args))] else 1)
PY
out=$("$WORK/consumer/regula_torch_first") || fail "regula_torch_first failed: $out"
echo "$out"
grep -q "^fmt: $FMT_VERSION (torch first)" <<<"$out" || fail "with torch linked first, another fmt was compiled in: $out"

step "core/logging.h rejects torch's bundled fmt"
if err=$(echo '#include "core/logging.h"' | c++ -std=c++17 -fsyntax-only -x c++ -DREGULA_EXPECTED_FMT_VERSION="$FMT_VERSION" \
           -I"$TORCH_INCLUDE" -I"$PREFIX/include/regula" - 2>&1); then
  fail "core/logging.h compiled against torch's fmt at $TORCH_INCLUDE"
fi
grep -q "is not the fmt Regula was built with" <<<"$err" || fail "expected the fmt static_assert, got: $err"
echo "install_package: ok"
