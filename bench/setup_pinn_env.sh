#!/usr/bin/env bash
# Creates the PINN benchmark's DeepXDE venv: `deepxde` from PyPI on top of the *same* torch
# 2.11 wheel as the project (and as LibTorch), without downloading torch again.  The venv's
# site-packages holds a .pth line that appends the project torch venv's site-packages
# (~/.cache/regula/torch-2.11.0-py3.11, made by scripts/setup.sh), so `import torch` there is
# that wheel; pip sees torch/numpy/matplotlib as installed and adds only what is missing
# (deepxde, scipy, scikit-learn, scikit-optimize).  Idempotent (a .complete marker).
#   bench/setup_pinn_env.sh        # once per machine; prints the venv's python
# REGULA_PINN_VENV overrides the location (default ~/.cache/regula/pinn-venv); REGULA_PYTHON
# the project's torch python (default ~/.cache/regula/torch-2.11.0-py3.11/bin/python).
set -euo pipefail
CACHE=${REGULA_CACHE:-$HOME/.cache/regula}
VENV=${REGULA_PINN_VENV:-$CACHE/pinn-venv}
TORCH_PY=${REGULA_PYTHON:-$CACHE/torch-2.11.0-py3.11/bin/python}
PACKAGES=(deepxde scikit-optimize)
[ -x "$TORCH_PY" ] || { echo "error: $TORCH_PY not found: run scripts/setup.sh first (it makes the torch venv)" >&2; exit 1; }
if [ ! -f "$VENV/.complete" ]; then
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock-pinn-venv"
  flock 9
  if [ ! -f "$VENV/.complete" ]; then
    echo "[bench] creating $VENV (${PACKAGES[*]} on the torch of $TORCH_PY)" >&2
    rm -rf "$VENV"
    "$TORCH_PY" -m venv "$VENV"   # the same base interpreter (Python 3.11) as the torch venv
    TORCH_SITE=$("$TORCH_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    OWN_SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$TORCH_SITE" > "$OWN_SITE/regula-torch-venv.pth"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
    # The torch it imports must be the project's wheel, not a second copy.
    DDE_BACKEND=pytorch "$VENV/bin/python" - "$TORCH_SITE" <<'EOF'
import os, sys
import torch, deepxde  # noqa: F401
assert os.path.realpath(torch.__file__).startswith(os.path.realpath(sys.argv[1])), torch.__file__
EOF
    touch "$VENV/.complete"
  fi
  flock -u 9
fi
echo "$VENV/bin/python"
