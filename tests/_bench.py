"""Load a module of benchmarks/ by its file (the benchmarks run as scripts and are not a package
the tests can import without a sys.path edit). Registered under its plain name, as the scripts
import each other (``import common``)."""
import importlib.util
import sys
from pathlib import Path

import os

ROOT = Path(os.environ.get("SEGSR_ROOT", Path(__file__).resolve().parents[1]))  # the tests sit in ROOT/tests
BENCHMARKS = ROOT / "benchmarks"


def load(name: str):
    if name in sys.modules and getattr(sys.modules[name], "__file__", "").startswith(str(BENCHMARKS)):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module
