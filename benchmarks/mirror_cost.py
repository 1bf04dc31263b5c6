"""What the mirror option costs: time and peak memory of one upscale with and without it,
each in a fresh process (``speed.child_peak_memory``), on the same synthetic photo.

    python benchmarks/mirror_cost.py [--model segsr-x4] [--size 512] [--out benchmarks/results/mirror_cost]

The photo is tiled as the app tiles it (automatic tile size), so the peak is that of one
tile's chain: the mirror's second chain goes through the nets after the first, not beside it.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch


from speed import child_peak_memory  # noqa: E402
from common import cpu_label, result_path, write_report
from segsr_gui.engine.diffusion.precision import describe  # noqa: E402


def render(report: dict) -> str:
    runs = report["runs"]
    lines = ["# Cost of the mirror option", "",
             f"Measured {report['date']} on {report['machine']} ({report['precision']}) with "
             f"`{report['command']}`: one {report['size']}x{report['size']} synthetic photo, x4, "
             f"model `{report['model']}`, each run in a fresh process.", "",
             "| run | seconds | peak memory (GiB) |", "|---|---|---|"]
    for key in ("plain", "mirror"):
        r = runs[key]
        lines.append(f"| {key} | {r['seconds']:.1f} | {r['peak_rss_gib']:.2f} |" if "error" not in r
                     else f"| {key} | failed: {r['error']} | |")
    if all("error" not in r for r in runs.values()):
        lines += ["", f"Mirror / plain: time {runs['mirror']['seconds'] / runs['plain']['seconds']:.2f}x, "
                  f"peak memory {runs['mirror']['peak_rss_gib'] / runs['plain']['peak_rss_gib']:.2f}x."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", default=result_path("mirror_cost"))
    args = ap.parse_args()
    report = {"machine": f"{cpu_label()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python"] + sys.argv),
              "precision": describe(torch.device("cpu")), "model": args.model, "size": args.size,
              "runs": {key: child_peak_memory(args.model, args.size, mirror) for key, mirror in
                       (("plain", False), ("mirror", True))}}
    write_report(args.out, report, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
