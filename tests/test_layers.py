"""The package's layers hold: the engine imports neither the app nor the window, and
nothing but ``segsr_gui.ui`` imports Qt (contracts in pyproject.toml, checked by
import-linter on the source tree)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    if not Path(command[0]).exists() and shutil.which(command[0]) is None:
        pytest.fail("import-linter is part of the test extra; install it with `pip install -e .[test]`")
    done = subprocess.run(command + ["--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout
