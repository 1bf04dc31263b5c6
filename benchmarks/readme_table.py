"""The README's one short table, from benchmarks/results/quality.json, quality_camvid.json and
old_photos.json (so every number in it comes from those runs).

    python -m benchmarks.readme_table
"""

from __future__ import annotations

import json
import sys

from benchmarks.common import RESULTS

# (label, key in quality*.json, row label in old_photos.json)
ROWS = [
    ("Bicubic", "bicubic", "bicubic"),
    ("SPAN x4 as shipped", "span", "SPAN x4 as shipped"),
    ("realesr-general-x4v3", None, "realesr-general-x4v3 (ncnn)"),
    ("Real-ESRGAN x4plus", "realesrgan", "Real-ESRGAN x4plus (ncnn)"),
    ("ours, strength 0 (faithful)", "segsr-x4@0", "segsr-x4, strength 0 (faithful expert)"),
    ("ours, strength 1 (clean)", "segsr-x4@1", "segsr-x4, strength 1 (clean expert)"),
    ("**ours, Auto (default)**", "segsr-x4", "segsr-x4, Auto (the default)"),
]


def psnr(report: dict | None, dataset: str, kind: str, key: str | None) -> str:
    entry = ((report or {}).get("results", {}).get(dataset, {}).get(kind, {}).get(key)) if key else None
    return f"{entry['psnr']:.2f}" if entry else "–"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def main() -> int:
    quality, camvid, old = load("quality"), load("quality_camvid"), load("old_photos")
    lines = ["| method | Set5 clean LR (dB) | CamVid damaged LR (dB) | old photos: NIQE | LR consistency (dB) | "
             "tone shift | grid (dB) |", "|---|---|---|---|---|---|---|"]
    for label, key, old_label in ROWS:
        m = ((old or {}).get("rows", {}).get(old_label) or {}).get("mean")
        olds = (f"{m['niqe']:.2f} | {m['lr_consistency']:.1f} | {m['tone_shift']:.2f} | "
                f"{max(m['grid_peak_4'], m['grid_peak_2']):.1f}") if m else "– | – | – | –"
        lines.append(f"| {label} | {psnr(quality, 'Set5', 'bicubic', key)} | "
                     f"{psnr(camvid, 'CamVid-test', 'realworld', key)} | {olds} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
