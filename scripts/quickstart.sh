#!/usr/bin/env bash
# Quick start, command 1: install everything, build, and run the main job on
# its embedded defaults.  Extra arguments go to the main job.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "${REGULA_BUILD_DIR:-build}/apps/regula" demo "$@"
