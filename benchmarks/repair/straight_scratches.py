"""How the straight-scratch step (``engine/repair/lines.py``) was chosen, and what it adds:
detection with the threshold alone against threshold plus lines, for several largest angles
to a side of the photo (``AXIS_DEG``) and shortest lengths (``LENGTH``), on two validation
sets and the real photos.

- **recipe val**: the repair recipe's damage on 24 CamVid val frames (``repair_validate``'s
  set, with its straight wires at any angle as negatives);
- **aged val**: 48 CamVid val frames aged as the bundled sample was (``degrade.old_photo`` at
  x2: tone, blur, fading, grain, dust specks and thin straight scratches, JPEG), the dust and
  scratches it painted as the truth;
- **real photos** without damage (the share marked), ``old_scratch_a`` against its reference
  mask and the sample against the damage its aging painted (``make_sample.aged``).

Both are chosen on the validation sets: the largest angle and the shortest length that cost
the recipe val no precision. Detection: 1-pixel tolerance.

    python -m benchmarks.repair.straight_scratches [--weights runs/repair/repair.safetensors]

Writes ``benchmarks/results/straight_scratches.{json,md}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, header, header_line, load_rgb8, result_path, write_report
from benchmarks.repair.real_marks import DAMAGED, load_repair, references
from segsr_gui.engine.inference.pipeline import opaque_pixels
from segsr_gui.engine.repair import lines
from segsr_gui.io.read import load_image
from segsr_gui.training import degrade
from segsr_gui.training.repair_eval import damage_probability, damaged_set, detection_counts, prf
from segsr_gui.training.repair_validate import VAL_SEED, _frames
from segsr_gui.training.scratches import MASK_LEVEL

SHIPPED = (lines.AXIS_DEG, lines.LENGTH)
VARIANTS = [None] + [(a, SHIPPED[1]) for a in (2.0, 10.0, 17.0, 25.0, 45.0)] + \
    [(SHIPPED[0], n) for n in (0.4, 0.3, 0.2, 0.15)]  # (largest angle, shortest length)
AGED_SEED = 7000


def aged_val(count: int = 48):
    """(photo, truth, print before the damage) of CamVid val frames aged like the sample."""
    images, _ = _frames(DATA, count)
    out = []
    for i, img in enumerate(images):
        painted = []
        lq, _ = degrade.old_photo(img.astype(np.float32) / 255, np.random.default_rng(AGED_SEED + i), scale=2,
                                  painted=painted)
        out.append((lq, np.abs(painted[1] - painted[0]).max(2) > MASK_LEVEL, painted[0]))
    return out


def mask_of(prob: np.ndarray, threshold: float, variant: tuple[float, float] | None) -> np.ndarray:
    """The detection mask (as ``repair.damage_mask`` with no small groups dropped); ``variant``
    None = the threshold alone, else (largest angle, shortest length) of the line step."""
    if variant is None:
        return prob > threshold
    return (prob > threshold) | lines.straight_scratches(prob, *variant)


def scores(probs, truths, threshold: float, variant) -> dict:
    """P / R / F1 summed over a set."""
    return prf(sum(detection_counts(mask_of(p, threshold, variant), t) for p, t in zip(probs, truths)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--weights", type=Path, help="a trained repair file to measure instead of the model's")
    ap.add_argument("--out", default=result_path("straight_scratches"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = load_repair(args.model, args.weights)
    threshold = model.config.threshold
    recipe = damaged_set(*_frames(DATA, 24), VAL_SEED)
    sets = {"recipe val": ([damage_probability(model, e.damaged) for e in recipe], [e.mask for e in recipe])}
    aged = aged_val()
    sets["aged val"] = ([damage_probability(model, a) for a, _, _ in aged], [t for _, t, _ in aged])
    refs = references()
    real, photos = {}, sorted((DATA / "real_world").glob("*"))
    for path in photos:
        p = damage_probability(model, load_rgb8(path).astype(np.float32) / 255)
        alpha = load_image(path).alpha
        real[f"real_world/{path.name}"] = p * opaque_pixels(alpha) if alpha is not None else p
    real["resources/sample.png"] = damage_probability(
        model, load_rgb8(Path(__file__).resolve().parents[2] / "resources" / "sample.png").astype(np.float32) / 255)
    rows = {}
    for variant in VARIANTS:
        name = "threshold only" if variant is None else f"+ lines within {variant[0]:g} deg, >= {variant[1]:g}"
        if variant == SHIPPED:
            name = f"**{name} (shipped)**"
        row = {k: scores(p, t, threshold, variant) for k, (p, t) in sets.items()}
        row["real photos without damage, marked"] = float(np.mean(
            [mask_of(p, threshold, variant).mean() for k, p in real.items() if k not in DAMAGED]))
        for k, (truth, _) in refs.items():
            row[k] = scores([real[k]], [truth], threshold, variant)
        rows[name] = row
    report = {**header(__import__("sys").argv), "threshold": threshold, "shipped": SHIPPED,
              "aged_seed": AGED_SEED, "rows": rows}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    rows = report["rows"]
    first = next(iter(rows.values()))
    refs = [k for k in first if k.startswith(("real_world/", "resources/")) and isinstance(first[k], dict)]
    head = ["detection", "recipe val P / R / F1", "aged val P / R / F1", "real photos without damage: marked",
            *[f"{Path(k).stem} F1" for k in refs]]
    out = ["# Long straight scratches: what the line step adds", "", header_line(report), "",
           f"Detection threshold {report['threshold']}; the shipped step takes lines within "
           f"{report['shipped'][0]:g} degrees of a side and at least {report['shipped'][1]:g} of the photo's shorter "
           "side long. Sets: see the script's docstring.", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fmt = lambda s: f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f}"
    for name, r in rows.items():
        out.append(f"| {name} | {fmt(r['recipe val'])} | {fmt(r['aged val'])} | "
                   f"{100 * r['real photos without damage, marked']:.3f} % | "
                   + " | ".join(f"{r[k]['f1']:.3f}" for k in refs) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
