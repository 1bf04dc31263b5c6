"""Street scenes with and without the person prior: CamVid test mIoU and the person class's
IoU (CamVid's "pedestrian"), from bicubic and real-world (damaged) LR, the same frames and
LR inputs for both, at the default settings (Auto strength, the model's steps).

    python benchmarks/person_camvid.py [--max-images 30] [--model segsr-x4]

"without" is the same model with its person prior detached, so the two rows differ only by
the prior. Writes benchmarks/results/person_camvid.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from common import DATA, header, header_line, result_path, seed_for, write_report
from quality_rows import load_set

KINDS = ["bicubic", "realworld"]


def main(argv=None) -> int:
    from segsr_gui.classes import CAMVID_CLASSES, IGNORE_ID, PERSON_ID
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.data import make_lr
    from segsr_gui.training.metrics import class_iou, confusion, miou
    from person_common import prior_switch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--max-images", type=int, default=30, help="evenly spaced test frames (0 = all 100)")
    ap.add_argument("--out", default=result_path("person_camvid"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)
    switch = prior_switch(loaded)
    hqs, labels, names = load_set(Path(args.data), "CamVid-test", args.max_images)
    confs = {(kind, row): 0 for kind in KINDS for row in ("without", "with")}
    for i, (hq, label, name) in enumerate(zip(hqs, labels, names)):
        for kind in KINDS:
            lr = make_lr(hq, kind, seed_for("CamVid-test", name))
            for row in ("without", "with"):
                switch(row == "with")
                out = upscale(lr, loaded.model, seed=0, tile=0)
                confs[kind, row] = confs[kind, row] + confusion(out.class_map, label, 11, IGNORE_ID)
        print(f"{i + 1}/{len(hqs)} {name}", file=sys.stderr, flush=True)
    report = {**header(sys.argv), "model": loaded.name, "model_sha256": loaded.manifest["sha256"],
              "frames": len(hqs), "classes": CAMVID_CLASSES, "results": {}}
    for (kind, row), conf in confs.items():
        iou = class_iou(conf)[0]
        report["results"].setdefault(kind, {})[row] = {
            "miou": miou(conf), "person_iou": float(iou[PERSON_ID]), "iou": [float(v) for v in iou]}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# Person prior on street scenes (CamVid test)", "", header_line(report), "",
             f"Model {report['model']}, {report['frames']} evenly spaced test frames, Auto strength. "
             "'without' is the same model with the person prior detached.", "",
             "| LR | person prior | mIoU | person IoU |", "|---|---|---|---|"]
    for kind, rows in report["results"].items():
        for row, r in rows.items():
            lines.append(f"| {kind} | {row} | {100 * r['miou']:.1f} % | {100 * r['person_iou']:.1f} % |")
    classes = report["classes"]
    lines += ["", "IoU per class (%):", "", "| LR | prior | " + " | ".join(classes) + " |",
              "|---|---|" + "---|" * len(classes)]
    for kind, rows in report["results"].items():
        for row, r in rows.items():
            lines.append(f"| {kind} | {row} | " + " | ".join(f"{100 * v:.1f}" for v in r["iou"]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
