"""What the refinement adds to the restorer's image: a model's default chain against the same
model with SRDM's output head at zero (which returns the restorer's output at every step),
on the CamVid val inputs ``chain.py`` chooses the defaults on.

    python benchmarks/refinement_gain.py [--model segsr-x4] [--images 24]

Validation frames only (the choice between the two may be made on them). Writes
benchmarks/results/refinement_gain.{md,json}.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from common import DATA, header, header_line, result_path, write_report
from segsr_gui.engine.nets.weights import load_model  # noqa: E402
from segsr_gui.training.data import labels_or_ignore, load_camvid, make_lr  # noqa: E402
from segsr_gui.training.evaluate import chain_scores  # noqa: E402

KINDS = ("realworld", "bicubic")


def zero_head(model):
    with torch.no_grad():
        model.srdm.unet.head.weight.zero_()
        model.srdm.unet.head.bias.zero_()
    return model


def render(report: dict) -> str:
    lines = ["# What the refinement adds (CamVid val)", "", header_line(report), "",
             f"{report['images']} CamVid val frames per LR kind (the inputs of `chain.py`), the model's default "
             "chain; PSNR (dB, Y, 4-px shave) and mIoU (%) after each step. \"restorer only\": the same model "
             "with SRDM's output head at zero.", "",
             "| model | LR | PSNR per step | mIoU per step |", "|---|---|---|---|"]
    for variant, by_kind in report["runs"].items():
        for kind, s in by_kind.items():
            lines.append(f"| {variant} | {kind} | " + " → ".join(f"{p:.3f}" for p in s["psnr"]) + " | "
                         + " → ".join(f"{100 * m:.1f}" for m in s["miou"]) + " |")
    lines += ["", "Final-step PSNR gain of the refinement: " + ", ".join(
        f"{kind} {g:+.3f} dB" for kind, g in report["gain"].items()), ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--out", default=result_path("refinement_gain"))
    args = ap.parse_args()
    val = load_camvid(args.data, "val")
    idx = np.linspace(0, len(val.images) - 1, args.images).astype(int)
    hqs = [val.images[i].astype(np.float32) / 255 for i in idx]
    labels = [labels_or_ignore(val.labels[i], 11) for i in idx]
    report = {**header(sys.argv), "model": args.model, "images": args.images, "runs": {}}
    for variant in ("refined", "restorer only"):
        model = load_model(args.model).model.eval()
        if variant == "restorer only":
            zero_head(model)
        for kind in KINDS:
            lrs = [make_lr(hq, kind, seed=5000 + int(i)) for hq, i in zip(hqs, idx)]
            s = chain_scores(model, lrs, hqs, labels if model.has_segmentation else None, seed=0)
            report["runs"].setdefault(variant, {})[kind] = {"psnr": s.psnr, "miou": s.miou}
            print(variant, kind, s.psnr, s.miou, file=sys.stderr, flush=True)
    report["gain"] = {kind: report["runs"]["refined"][kind]["psnr"][-1] - report["runs"]["restorer only"][kind]["psnr"][-1]
                      for kind in KINDS}
    write_report(args.out, report, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
