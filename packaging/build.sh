#!/usr/bin/env bash
# Build the one-folder app: dist/segsr-studio/{segsr-gui,segsr,_internal/}.
#   bash packaging/build.sh            build (and smoke-test with packaging/smoke_test.sh)
#
# The app is frozen from a build venv (build/venv, or $SEGSR_BUILD_VENV) holding the
# CPU torch wheel, `pip install .` of this checkout (not editable: the weights and icons go
# in as package data, as for any installed copy) and PyInstaller. The first build sets that
# venv up (a few minutes); later builds only reinstall the package itself.
# Work files go to build/pyinstaller/, the app to dist/segsr-studio/ (both ignored by git).
# Heavy steps run under `nice` so that a build never slows a training run down.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${SEGSR_BUILD_VENV:-$ROOT/build/venv}"
NICE="nice -n ${SEGSR_BUILD_NICE:-19}"
PYINSTALLER_SPEC="pyinstaller>=6.10,<7"

start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
    echo "build: creating the build venv $VENV"
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "build: $VENV must be Python 3.11 (pyproject requires it)" >&2; exit 2; }
# torch first and pinned: a plain `torch` requirement could pull a CUDA build.
"$PY" -c 'import torch' 2>/dev/null || $NICE "$PY" -m pip install -q "torch==2.13.0"
"$PY" -c 'import PyInstaller' 2>/dev/null || $NICE "$PY" -m pip install -q "$PYINSTALLER_SPEC"
# The package as released: dependencies once, then this checkout's code and data every build.
# (not an `import segsr_gui` check: a copy installed without its dependencies would pass it)
$NICE "$PY" -m pip install -q .
$NICE "$PY" -m pip install -q --no-deps --force-reinstall .
"$PY" - <<'PY'
import torch
assert not torch.version.cuda, f"build: the build venv has a CUDA torch ({torch.__version__}); install torch==2.13.0 (+cpu)"
PY
echo "build: venv ready ($(( $(date +%s) - start ))s); running PyInstaller"

t0=$(date +%s)
rm -rf dist/segsr-studio
# Run from build/ so that the checkout's segsr_gui/ is not on sys.path: the spec freezes the
# installed package.
mkdir -p build/pyinstaller
(cd build && $NICE "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --workpath "$ROOT/build/pyinstaller" --distpath "$ROOT/dist" "$ROOT/packaging/segsr.spec")
ln -sfn segsr-gui dist/segsr-studio/segsr
mkdir -p dist/segsr-studio/linux
cp packaging/linux/segsr-studio.desktop packaging/linux/io.github.segsr_studio.metainfo.xml \
   packaging/linux/install-desktop.sh dist/segsr-studio/linux/
t1=$(date +%s)

echo "build: dist/segsr-studio built in $(( t1 - t0 ))s (PyInstaller), $(( t1 - start ))s in all"
echo "build: size $(du -sh dist/segsr-studio | cut -f1); $(find dist/segsr-studio -type f | wc -l) files"
echo "build: try it:  dist/segsr-studio/segsr-gui   |   dist/segsr-studio/segsr --help"
echo "build: check it: bash packaging/smoke_test.sh"
