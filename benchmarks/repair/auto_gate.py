"""How the Auto repair decides which photos to fill, and what that buys (``repair.shows_damage``).

"Always" (``--repair on``) fills whatever the detection marks. What it wrongly marks in a photo
without damage (a catchlight, a tooth, writing, a speck of sky in leaves) is short; scratches
and cracks are long. Auto (the default) fills a photo only when its marked groups at least
``long_marks`` px long cover at least ``long_share`` of it. Per photo this measures that share
and, for a grid of both settings, which photos Auto would fill, on validation data only:

- **recipe val**: the repair recipe's damage on 24 CamVid val frames (``repair_validate``'s
  set), and the same frames printed without damage;
- **aged val**: 48 CamVid val frames aged as the bundled sample was (``straight_scratches``);
- **real photos**: ``../shared/data/real_world`` and the sample, run as the app runs them
  (``repair_photo``); only ``old_scratch_a`` and the sample carry scratches.

With the model's own setting it also measures, on the recipe val, PSNR-Y inside the true
damage and false repairs (share of the clean prints' pixels changed by more than 4 grey levels)
for Auto and Always.

    python -m benchmarks.repair.auto_gate [--weights runs/repair/repair.safetensors]

Writes ``benchmarks/results/auto_gate.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, ROOT, header, header_line, load_rgb8, result_path, write_report
from benchmarks.repair.real_marks import DAMAGED, SAMPLE, load_repair, repair_as_app
from benchmarks.repair.straight_scratches import aged_val
from segsr_gui.engine.repair.repair import long_mark_share, shows_damage
from segsr_gui.io.read import load_image
from segsr_gui.training.repair_eval import damaged_set, mask_tensor, psnr_y_inside, to_numpy, to_tensor
from segsr_gui.training.repair_validate import VAL_SEED, _frames, changed_share
from segsr_gui.training.scratches import damage_example

LONG_MARKS = (16, 24, 32)
LONG_SHARES = (0.0002, 0.0005, 0.001, 0.002, 0.005)


def long_shares(mask: np.ndarray) -> dict[int, float]:
    """{length: share of the photo in marked groups (8-connected) at least that many px long}."""
    return {length: long_mark_share(mask, length) for length in LONG_MARKS}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--weights", type=Path, help="a trained repair file to measure instead of the model's")
    ap.add_argument("--out", default=result_path("auto_gate"))
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    repair = load_repair(args.model, args.weights)
    cfg = repair.config

    def mask_of(img: np.ndarray) -> np.ndarray:
        return repair.detect(to_tensor(img))[0, 0].numpy()

    def filled(mask: np.ndarray) -> bool:
        return shows_damage(mask, cfg.long_marks, cfg.long_share)

    photos = []  # {set, name, damaged, shares}
    images, names = _frames(DATA, 24)
    examples = damaged_set(images, names, VAL_SEED)
    psnr, false = {"auto": [], "on": []}, {"auto": [], "on": []}
    for e in examples:
        mask = mask_of(e.damaged)
        shares = long_shares(mask)
        photos.append({"set": "recipe val", "name": e.name, "damaged": bool(e.mask.any()), "shares": shares})
        if e.mask.any():
            out = to_numpy(repair.repair(to_tensor(e.damaged), mask_tensor(mask))[0])
            psnr["on"].append(psnr_y_inside(out, e.clean, e.mask))
            psnr["auto"].append(psnr["on"][-1] if filled(mask) else psnr_y_inside(e.damaged, e.clean, e.mask))
    for i, (img, name) in enumerate(zip(images, names)):
        _, clean, _ = damage_example(img.astype(np.float32) / 255, np.random.default_rng(VAL_SEED + 500 + i),
                                     clean_share=1.0)
        mask = mask_of(clean)
        shares = long_shares(mask)
        photos.append({"set": "recipe val, printed without damage", "name": name, "damaged": False, "shares": shares})
        false["on"].append(changed_share(to_numpy(repair.repair(to_tensor(clean), mask_tensor(mask))[0]), clean))
        false["auto"].append(false["on"][-1] if filled(mask) else 0.0)
    for i, (lq, truth, _) in enumerate(aged_val()):
        photos.append({"set": "aged val", "name": str(i), "damaged": bool(truth.any()),
                       "shares": long_shares(mask_of(lq))})
    real = {str(p.relative_to(DATA)): p for p in sorted((DATA / "real_world").glob("*"))}
    real[SAMPLE] = ROOT / SAMPLE
    for name, path in real.items():
        _, mask = repair_as_app(repair, load_rgb8(path).astype(np.float32) / 255, load_image(path).alpha)
        photos.append({"set": "real photos", "name": name, "damaged": name in DAMAGED, "shares": long_shares(mask)})
        print(name, photos[-1]["shares"], file=sys.stderr, flush=True)
    report = {**header(sys.argv), "weights": str(args.weights or ""), "model": args.model,
              "chosen": {"long_marks": cfg.long_marks, "long_share": cfg.long_share}, "photos": photos,
              "recipe_val": {"psnr_y_inside_db": {k: float(np.mean(v)) for k, v in psnr.items()},
                             "false_repair_share": {k: float(np.mean(v)) for k, v in false.items()}}}
    write_report(args.out, report, render)
    return 0


def _filled(photos, length: int, share: float) -> float:
    return float(np.mean([p["shares"][str(length)] >= share for p in photos])) if photos else float("nan")


def render(report: dict) -> str:
    import json

    photos = json.loads(json.dumps(report["photos"]))  # int keys become str, as read back from the JSON
    groups = {}
    for p in photos:
        groups.setdefault((p["set"], p["damaged"]), []).append(p)
    chosen = report["chosen"]
    lines = ["# Which photos the Auto repair fills", "", header_line(report), "",
             f"Auto fills a photo when its marked groups at least `long_marks` px long cover at least "
             f"`long_share` of it; the model's setting: {chosen['long_marks']} px, "
             f"{100 * chosen['long_share']:.2f} %. Share of each set's photos Auto would fill:", "",
             "| long_marks | long_share | " + " | ".join(f"{s}, {'damaged' if d else 'undamaged'} ({len(g)})"
                                                       for (s, d), g in groups.items()) + " |",
             "|---|---|" + "---|" * len(groups)]
    for length in LONG_MARKS:
        for share in LONG_SHARES:
            mark = " **(shipped)**" if (length, share) == (chosen["long_marks"], chosen["long_share"]) else ""
            lines.append(f"| {length} | {100 * share:.2f} %{mark} | " +
                         " | ".join(f"{100 * _filled(g, length, share):.0f} %" for g in groups.values()) + " |")
    real = [p for p in photos if p["set"] == "real photos"]
    lines += ["", f"Real photos: share in marked groups at least {chosen['long_marks']} px long (Auto fills at "
              f"{100 * chosen['long_share']:.2f} % or more).", "", "| photo | carries damage | long marks | Auto fills |",
              "|---|---|---|---|"]
    lines += [f"| {p['name']} | {'yes' if p['damaged'] else 'no'} | {100 * p['shares'][str(chosen['long_marks'])]:.3f} % | "
              f"{'yes' if p['shares'][str(chosen['long_marks'])] >= chosen['long_share'] else 'no'} |" for p in real]
    rv = report["recipe_val"]
    lines += ["", "Recipe val with the model's setting: PSNR-Y inside the true damage, mean over the damaged "
              f"frames: Auto {rv['psnr_y_inside_db']['auto']:.2f} dB, Always {rv['psnr_y_inside_db']['on']:.2f} dB; "
              f"false repairs on the clean prints (changed > 4 grey levels): Auto "
              f"{100 * rv['false_repair_share']['auto']:.3f} %, Always {100 * rv['false_repair_share']['on']:.3f} %."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
