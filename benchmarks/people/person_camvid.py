"""Street scenes with and without the person prior: CamVid mIoU and the person class's IoU
(CamVid's "pedestrian") from bicubic and real-world (damaged) LR, the same frames and LR inputs
for every row.

    python -m benchmarks.people.person_camvid [--max-images 100]             # test: the shipped model
    python -m benchmarks.people.person_camvid --split val --rows fusion --strength 0 --max-images 16 \\
        --out benchmarks/results/person_fusion                         # how the prior joins (chosen here)

Rows ``shipped``: without the prior (the same model with it detached) and with it, at the
default settings (Auto strength). Rows ``fusion``: the prior with and without the scene gate,
on val (the choice of the gate was made there, never on a test image; results/person_fusion.md
also holds the weighted-evidence rows of the models before 5e97e03, which dropped that fusion).
Where a row's prior is shut (detached, or the gate at 0 on that frame) the rows are the same
computation, so it runs once and counts for each of them.
Writes benchmarks/results/person_camvid.{json,md} (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, header, header_line, result_path, seed_for, write_report

KINDS = ["bicubic", "realworld"]
# row: arguments of person_common.prior_switch's switch (None = the prior detached)
ROWS = {
    "shipped": {"without": None, "with": {}},
    "fusion": {"without": None, "union, no gate": {"gate": False}, "union, scene gate (shipped)": {}},
}


def main(argv=None) -> int:
    from segsr_gui.classes import CAMVID_CLASSES, IGNORE_ID, PERSON_ID
    from segsr_gui.engine.inference.pipeline import parse_strength, upscale
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.data import labels_or_ignore, load_camvid, make_lr
    from segsr_gui.training.metrics import class_iou, confusion, miou
    from benchmarks.people.person_common import prior_switch
    from benchmarks.quality.quality_rows import pick

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--split", choices=["test", "val"], default="test")
    ap.add_argument("--rows", choices=list(ROWS), default="shipped")
    ap.add_argument("--strength", default="auto")
    ap.add_argument("--max-images", type=int, default=100, help="evenly spaced frames (0 = all)")
    ap.add_argument("--out", default=result_path("person_camvid"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)
    switch = prior_switch(loaded)
    strength = parse_strength(args.strength)
    split = load_camvid(Path(args.data), args.split)
    rows = ROWS[args.rows]
    confs: dict = {}
    gated: dict = {}  # frames where the prior spoke
    chosen = pick(len(split.images), args.max_images)
    for n, i in enumerate(chosen):
        hq = split.images[i].astype(np.float32) / 255
        label = labels_or_ignore(split.labels[i], 11)
        for kind in KINDS:
            lr = make_lr(hq, kind, seed_for(f"CamVid-{args.split}", split.names[i]))
            done = {}
            for row, kwargs in rows.items():
                switch(kwargs is not None, **(kwargs or {}))
                # where the prior is shut (none, or the gate at 0) every row is the same computation:
                # run it once (the class maps are identical, bit for bit)
                shut = loaded.model.person_probability(torch.from_numpy(lr.transpose(2, 0, 1))[None] * 2 - 1) is None
                if shut and "shut" in done:
                    conf = done["shut"]
                else:
                    out = upscale(lr, loaded.model, seed=0, tile=0, strength=strength)
                    conf = confusion(out.class_map, label, 11, IGNORE_ID)
                    if shut:
                        done["shut"] = conf
                gated[kind, row] = gated.get((kind, row), 0) + (not shut)
                confs[kind, row] = confs.get((kind, row), 0) + conf
        print(f"{n + 1}/{len(chosen)} {split.names[i]}", file=sys.stderr, flush=True)
    report = {**header(sys.argv), "model": loaded.name, "model_sha256": loaded.manifest["sha256"],
              "split": args.split, "strength": args.strength, "frames": len(chosen),
              "classes": CAMVID_CLASSES, "results": {}}
    for (kind, row), conf in confs.items():
        iou = class_iou(conf)[0]
        report["results"].setdefault(kind, {})[row] = {
            "miou": miou(conf), "person_iou": float(iou[PERSON_ID]), "iou": [float(v) for v in iou],
            "frames_with_prior": int(gated[kind, row])}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = [f"# The person prior on street scenes (CamVid {report['split']})", "", header_line(report), "",
             f"Model {report['model']}, {report['frames']} evenly spaced {report['split']} frames, strength "
             f"{report['strength']}. 'without' is the same model with the person prior detached.", "",
             "| LR | person prior | mIoU | person IoU | frames where the prior spoke |", "|---|---|---|---|---|"]
    for kind, rows in report["results"].items():
        for row, r in rows.items():
            lines.append(f"| {kind} | {row} | {100 * r['miou']:.1f} % | {100 * r['person_iou']:.1f} % | "
                         f"{r.get('frames_with_prior', '–')} |")
    classes = report["classes"]
    lines += ["", "IoU per class (%):", "", "| LR | prior | " + " | ".join(classes) + " |",
              "|---|---|" + "---|" * len(classes)]
    for kind, rows in report["results"].items():
        for row, r in rows.items():
            lines.append(f"| {kind} | {row} | " + " | ".join(f"{100 * v:.1f}" for v in r["iou"]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
