#!/usr/bin/env bash
# One entry point for the README's Quick start:
#   bash packaging/setup.sh run [IMAGE]   set up .venv and start the app
#   bash packaging/setup.sh test          set up .venv and run the test suite
# torch is installed first and pinned: a plain `torch` requirement would pull CUDA builds.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-run}"; shift || true
if [ ! -x .venv/bin/python ]; then
    python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[test]"
case "$action" in
    run)  exec .venv/bin/segsr-gui "$@" ;;
    test)
        # The window tests run in a process of their own, after the engine tests: Qt objects a
        # window test leaves for the event loop must not be processed between engine tests.
        export QT_QPA_PLATFORM=offscreen
        .venv/bin/python -m pytest -q --ignore-glob='tests/test_gui_*' "$@"
        exec .venv/bin/python -m pytest -q tests/test_gui_app.py tests/test_gui_window.py tests/test_gui_worker.py tests/test_gui_batch.py "$@" ;;
    *)    echo "usage: bash packaging/setup.sh run [IMAGE] | test" >&2; exit 2 ;;
esac
