"""The engine imports no Qt: only segsr_gui/ui may import PySide6."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "segsr_gui"


def test_no_qt_import_outside_ui():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("PySide6", "qdarkstyle", "shiboken6")]
    assert not offenders, offenders


def test_the_window_files_stay_small():
    """#32.8: the window and the batch panel only compose; each stays under 400 lines."""
    for name in ("main_window.py", "batch_panel.py"):
        lines = (PACKAGE / "ui" / name).read_text(encoding="utf-8").count("\n")
        assert lines < 400, f"{name}: {lines} lines"
