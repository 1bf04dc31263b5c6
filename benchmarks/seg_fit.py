"""Where SegSR's class map stands: mIoU on CamVid train, val and test frames alike, and how
much of SegDM's training signal comes from each loss.

    python benchmarks/seg_fit.py --data ../shared/data [--model segsr-x4] [--images 24]
        [--grad-batches 4] [--out benchmarks/results/seg_fit]

- **Fit**: the default chain (class bias included) on evenly spaced whole frames of each
  split, bicubic LR (seeded), plain and with the mirror option. A model whose train
  frames score no better than val underfits them; a test score far below both is a gap
  between the sequences, not memorisation.
- **Gradient shares**: on random training crops (the training's own states and losses),
  the gradient norm that the image loss and the weighted class loss each put on SegDM,
  on the bridge's two halves and on SRDM. If the class loss dominates SegDM's, its
  weight (``seg_weight``) does little under Adam, and SegDM's learning rate is the lever.
Writes OUT.md and OUT.json.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from common import DATA, cpu_label, result_path, write_report
from segsr_gui.training.data import CropSampler, labels_or_ignore, load_camvid, make_lr  # noqa: E402
from segsr_gui.training.evaluate import chain_scores  # noqa: E402
from segsr_gui.engine.diffusion.precision import describe  # noqa: E402
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule  # noqa: E402
from segsr_gui.training.train import TrainConfig, batch_losses  # noqa: E402
from segsr_gui.engine.nets.weights import load_model  # noqa: E402

SPLITS = ("train", "val", "test")


def fit(model, data: str, images: int) -> dict:
    out = {}
    for split in SPLITS:
        frames = load_camvid(data, split)
        idx = np.linspace(0, len(frames.images) - 1, images).astype(int)
        hqs = [frames.images[i].astype(np.float32) / 255 for i in idx]
        labels = [labels_or_ignore(frames.labels[i], model.config.num_classes) for i in idx]
        lrs = [make_lr(hq, "bicubic", seed=7000 + int(i)) for hq, i in zip(hqs, idx)]
        out[split] = {}
        for key, mirror in (("plain", False), ("mirror", True)):
            s = chain_scores(model, lrs, hqs, labels, seed=0, mirror=mirror)
            out[split][key] = {"miou": s.final_miou, "psnr": s.final_psnr}
            print(f"{split} {key}: mIoU {100 * s.final_miou:.1f}%", file=sys.stderr, flush=True)
    return out


def gradient_shares(model, data: str, batches: int, crop: int, seg_weight: float) -> dict:
    """Mean gradient norm per part of the net, from each loss, over ``batches`` batches of 4."""
    torch.manual_seed(0)
    model.train()
    schedule = ResShiftSchedule(model.config.schedule)
    sampler = CropSampler(load_camvid(data, "train"), crop, model.config.scale, seed=5)
    parts = {"SegDM": model.segdm, "bridge, image to SegDM": model.bridge.image_to_seg,
             "bridge, classes to SRDM": model.bridge.seg_to_image, "SRDM": model.srdm}
    params = {name: list(part.parameters()) for name, part in parts.items()}
    flat = [p for ps in params.values() for p in ps]
    norms = {(name, loss): [] for name in parts for loss in ("image", "class")}
    for _ in range(batches):
        image, seg = batch_losses(model, schedule, sampler.batch(4), TrainConfig.own_state_prob, autocast=False)
        losses = {"image": image, "class": seg_weight * seg}
        for loss_name, loss in losses.items():
            grads = torch.autograd.grad(loss, flat, retain_graph=True, allow_unused=True)
            start = 0
            for name, ps in params.items():
                part = grads[start:start + len(ps)]
                start += len(ps)
                norms[(name, loss_name)].append(sum(float((g ** 2).sum()) for g in part if g is not None) ** 0.5)
    model.eval()
    return {name: {loss: float(np.mean(norms[(name, loss)])) for loss in ("image", "class")} for name in parts}


def render(report: dict) -> str:
    lines = ["# SegDM: fit and training signal", "",
             f"Measured {report['date']} on {report['machine']} ({report['precision']}) with `{report['command']}`, "
             f"model `{report['model']}` (sha256 {report['sha256'][:12]}).", "",
             f"## mIoU by split ({report['images']} evenly spaced whole frames each, bicubic LR, default chain)", "",
             "| split | plain | mirror option |", "|---|---|---|"]
    for split, by in report["fit"].items():
        lines.append(f"| {split} | {100 * by['plain']['miou']:.1f}% | {100 * by['mirror']['miou']:.1f}% |")
    g = report["gradients"]
    lines += ["", f"## Gradient norm per part ({report['grad_batches']} batches of 4 training crops of "
              f"{report['crop']} px, fp32, class loss weighted by seg_weight {report['seg_weight']})", "",
              "| part | image loss | class loss | image / class |", "|---|---|---|---|"]
    for name, by in g.items():
        ratio = f"{by['image'] / by['class']:.3f}" if by["class"] else "n/a (class loss does not reach it)"
        lines.append(f"| {name} | {by['image']:.4g} | {by['class']:.4g} | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--grad-batches", type=int, default=4)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--out", default=result_path("seg_fit"))
    args = ap.parse_args()
    loaded = load_model(args.model)
    if not loaded.model.has_segmentation:
        print(f"{args.model} has no SegDM", file=sys.stderr)
        return 2
    seg_weight = TrainConfig.seg_weight
    report = {"machine": f"{cpu_label()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python"] + sys.argv),
              "precision": describe(torch.device("cpu")), "model": loaded.manifest["name"],
              "sha256": loaded.manifest["sha256"], "images": args.images,
              "fit": fit(loaded.model, args.data, args.images),
              "grad_batches": args.grad_batches, "crop": args.crop,
              "seg_weight": loaded.manifest.get("training", {}).get("seg_weight", seg_weight)}
    report["gradients"] = gradient_shares(loaded.model, args.data, args.grad_batches, args.crop, report["seg_weight"])
    write_report(args.out, report, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
