"""What a change moves in the quality table: the same benchmark run twice, compared.

The reduced precision (the default check):

    python benchmarks/quality.py --data ../shared/data --max-images 10
    python benchmarks/quality.py --data ../shared/data --max-images 10 --no-peers --no-noref --precision fp32 \\
        --out benchmarks/results/quality_fp32
    python benchmarks/precision_check.py

writes benchmarks/results/precision.md: PSNR and mIoU per set, LR kind and model, as the app runs
(``auto``: bf16 on a CPU with native bf16) and in fp32, and the largest difference. Any two
runs: ``--against OTHER.json --title TEXT --out NAME.md`` (for example the table before and
after a speed change). Goal (issue 8): speed changes move the quality table by at most 0.05 dB.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import RESULTS
GOAL_DB = 0.05


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default=str(RESULTS / "quality_fp32.json"), help="the other run's JSON")
    ap.add_argument("--title", default="bf16 vs fp32: the quality table")
    ap.add_argument("--label", default="fp32", help="the other run's column name")
    ap.add_argument("--out", default=str(RESULTS / "precision.md"))
    args = ap.parse_args()
    other_path = Path(args.against)
    auto = json.loads((RESULTS / "quality.json").read_text())
    full = json.loads(other_path.read_text())
    same = auto["machine"] == full["machine"]
    where = (f"both on {auto['machine']}" if same
             else f"the first on {auto['machine']}, the other on {full['machine']}")
    lines = [f"# {args.title}", "",
             f"From `benchmarks/results/quality.json` ({auto.get('precision', '?')}, {auto['date']}) and "
             f"`benchmarks/results/{other_path.name}` ({full.get('precision', '?')}, {full['date']}), "
             f"{where}; written by `benchmarks/precision_check.py`.", "",
             f"| set | LR | model | PSNR as run | PSNR {args.label} | difference (dB) | mIoU as run | "
             f"mIoU {args.label} |",
             "|---|---|---|---|---|---|---|---|"]
    worst = 0.0
    for set_name, kinds in auto["results"].items():
        for kind, methods in kinds.items():
            for key, a in methods.items():
                b = full["results"].get(set_name, {}).get(kind, {}).get(key)
                if b is None or key in ("bicubic", "peer", "span", "srmd", "realesrgan"):  # the models only
                    continue
                diff = a["psnr"] - b["psnr"]
                worst = max(worst, abs(diff))
                miou = (f"{100 * a['miou']:.2f}% | {100 * b['miou']:.2f}%" if "miou" in a and "miou" in b
                        else "n/a | n/a")
                lines.append(f"| {set_name} | {kind} | {key} | {a['psnr']:.3f} | {b['psnr']:.3f} | "
                             f"{diff:+.4f} | {miou} |")
    lines += ["", f"Largest PSNR difference: {worst:.4f} dB (goal <= {GOAL_DB} dB: "
              f"{'met' if worst <= GOAL_DB else 'not met'})."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
