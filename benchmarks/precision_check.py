"""What the reduced precision changes in the quality table: the same benchmark run twice.

    python benchmarks/quality.py --data ../shared/data --max-images 10
    python benchmarks/quality.py --data ../shared/data --max-images 10 --no-peer --precision fp32 \\
        --out benchmarks/quality_fp32
    python benchmarks/precision_check.py

Writes benchmarks/precision.md: PSNR and mIoU per set, LR kind and model, as the app runs
(``auto``: bf16 on a CPU with native bf16) and in fp32, and the largest difference.
Goal (issue 8): speed changes move the quality table by at most 0.05 dB.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL_DB = 0.05


def main() -> int:
    auto = json.loads((HERE / "quality.json").read_text())
    full = json.loads((HERE / "quality_fp32.json").read_text())
    lines = ["# bf16 vs fp32: the quality table", "",
             f"From `benchmarks/quality.json` ({auto.get('precision', '?')}, {auto['date']}) and "
             f"`benchmarks/quality_fp32.json` ({full.get('precision', '?')}, {full['date']}), "
             f"both on {auto['machine']}; written by `benchmarks/precision_check.py`.", "",
             "| set | LR | model | PSNR as run | PSNR fp32 | difference (dB) | mIoU as run | mIoU fp32 |",
             "|---|---|---|---|---|---|---|---|"]
    worst = 0.0
    for set_name, kinds in auto["results"].items():
        for kind, methods in kinds.items():
            for key, a in methods.items():
                b = full["results"].get(set_name, {}).get(kind, {}).get(key)
                if b is None or key in ("bicubic", "peer"):
                    continue
                diff = a["psnr"] - b["psnr"]
                worst = max(worst, abs(diff))
                miou = (f"{100 * a['miou']:.2f}% | {100 * b['miou']:.2f}%" if "miou" in a and "miou" in b
                        else "n/a | n/a")
                lines.append(f"| {set_name} | {kind} | {key} | {a['psnr']:.3f} | {b['psnr']:.3f} | "
                             f"{diff:+.4f} | {miou} |")
    lines += ["", f"Largest PSNR difference: {worst:.4f} dB (goal <= {GOAL_DB} dB: "
              f"{'met' if worst <= GOAL_DB else 'not met'})."]
    (HERE / "precision.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
