"""Import a module of benchmarks/ by its plain name (``load("peers")`` is
``benchmarks.quality.peers``), as the scripts import each other: ``benchmarks`` is a package in the
repository folder, which ``python -m pytest`` from that folder puts on ``sys.path`` and this module
adds where pytest is started some other way."""
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("SEGSR_ROOT", Path(__file__).resolve().parents[1]))  # the tests sit in ROOT/tests
BENCHMARKS = ROOT / "benchmarks"


def module_name(name: str) -> str:
    """``benchmarks.FOLDER.NAME`` for the one script called NAME.py under benchmarks/."""
    found = [p for p in BENCHMARKS.rglob(f"{name}.py") if "results" not in p.relative_to(BENCHMARKS).parts]
    if len(found) != 1:
        raise LookupError(f"{len(found)} benchmark scripts called {name}.py under {BENCHMARKS}")
    return ".".join(found[0].relative_to(ROOT).with_suffix("").parts)


def load(name: str):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(module_name(name))
