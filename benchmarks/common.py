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


def cpu_label() -> str:
    """The architecture and the model name, for a report's machine line: "x86_64 CPU (AMD EPYC)"."""
    import platform

    return f"{platform.machine()} CPU ({cpu_name()})"


def cpu_name() -> str:
    """The CPU's model name (platform.processor() is empty on Linux), or the architecture."""
    import platform

    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sequence_note(seg: dict) -> str:
    """Which CamVid test sequences the training split also holds, from a quality report's
    ``segmentation`` (its ``split_sequences``, read from the data's file names); "" if unknown."""
    train = (seg.get("split_sequences") or {}).get("train")
    if train is None:
        return ""
    inside = [q for q in seg["sequences"] if q in train]
    outside = [q for q in seg["sequences"] if q not in train]
    return ", ".join(([f"the training split holds frames of {', '.join(inside)}"] if inside else [])
                     + ([f"none of {', '.join(outside)}"] if outside else []))
