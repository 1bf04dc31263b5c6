#!/bin/sh
# Regenerate the README screenshots with the real window under Xvfb (xcb platform).
# Usage: docs/screenshots/make_screenshots.sh [MODEL] [PHOTO]   (default: segsr-x4, the bundled sample)
set -e
cd "$(dirname "$0")/../.."
MODEL=${1:-segsr-x4}
PHOTO=${2:-resources/sample.png}
OUT=docs/screenshots
PY=${PYTHON:-.venv/bin/python}
export QT_QPA_PLATFORM=xcb SEGSR_STUDIO_CONFIG_DIR=$(mktemp -d)
shot() { xvfb-run -a -s "-screen 0 1400x900x24" "$PY" -m segsr_gui.ui.app --model "$MODEL" --seed 1 "$@" "$PHOTO"; }
shot --theme dark  --screenshot $OUT/dark-mid-run.png --screenshot-step 2
shot --theme dark  --screenshot $OUT/dark-after-run-overlay-split.png --layer overlay --compare split
shot --theme light --screenshot $OUT/light-mid-run.png --screenshot-step 2
shot --theme light --screenshot $OUT/light-after-run-overlay-split.png --layer overlay --compare split
shot --theme dark  --screenshot $OUT/dark-side-by-side.png --compare side
shot --theme dark  --screenshot $OUT/dark-mask-only.png --layer mask
xvfb-run -a -s "-screen 0 1400x900x24" "$PY" docs/screenshots/batch_screenshots.py
