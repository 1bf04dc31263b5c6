"""The README's one short table, from benchmarks/results/quality.json, quality_camvid.json
and quality_noref.json (so every number in it comes from those runs).

    python benchmarks/readme_table.py
"""

from __future__ import annotations

import json
import sys

from common import RESULTS

ROWS = ["bicubic", "span", "srmd", "realesrgan", "srdm-only-x4", "segsr-x4"]


def psnr(report: dict, dataset: str, kind: str, key: str) -> str:
    entry = report["results"].get(dataset, {}).get(kind, {}).get(key)
    return f"{entry['psnr']:.2f}" if entry else "–"


def niqe_brisque(report: dict, key: str) -> str:
    scores = (report.get("noref") or {}).get("scores", {}).get(key)
    if not scores:
        return "– / –"
    niqe = sum(s["niqe"] for s in scores.values()) / len(scores)
    bq = [s["brisque"] for s in scores.values() if s.get("brisque") is not None]
    return f"{niqe:.2f} / " + (f"{sum(bq) / len(bq):.1f}" if bq else "–")


def miou(camvid: dict, key: str) -> str:
    models = (camvid.get("segmentation") or {}).get("models", {})
    entry = models.get(key, {}).get("realworld")
    return f"{100 * entry['miou']:.1f}%" if entry else "–"


def main() -> int:
    quality = json.loads((RESULTS / "quality.json").read_text())
    camvid = json.loads((RESULTS / "quality_camvid.json").read_text())
    noref = json.loads((RESULTS / "quality_noref.json").read_text())
    labels = {**camvid["rows"], **quality["rows"]}
    lines = ["| method | Set5, clean LR | Set5, damaged LR | CamVid test, damaged LR | CamVid test mIoU | "
             "old photos NIQE / BRISQUE |", "|---|---|---|---|---|---|"]
    for key in ROWS:
        if key not in labels:
            continue
        lines.append(f"| {labels[key]} | {psnr(quality, 'Set5', 'bicubic', key)} | "
                     f"{psnr(quality, 'Set5', 'realworld', key)} | {psnr(camvid, 'CamVid-test', 'realworld', key)} | "
                     f"{miou(camvid, key)} | {niqe_brisque(noref, key)} |")
    for key in (k for k in noref["rows"] if k.startswith("old:")):
        lines.append(f"| {noref['rows'][key]} | – | – | – | – | {niqe_brisque(noref, key)} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
