"""Where a benchmark's results go: OUT.json (the numbers) and OUT.md (the table), both from one
report dict, and the table on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


def write_report(out: str, report: dict, render: Callable[[dict], str]) -> None:
    Path(out + ".json").write_text(json.dumps(report, indent=1))
    text = render(report)
    Path(out + ".md").write_text(text)
    print(text)
