"""Validation of the repair nets on CamVid val (never test), and the shipped files.

``validate`` paints the damage recipe on whole val frames (fixed seeds), picks the
detection threshold and the smallest kept group (``pick_setting``: the most precise setting
within ``F1_SLACK`` of the best detection F1, 1-px tolerance), measures
the fill with the true mask at noise scale 0 and 1 (PSNR-Y inside the damage against the
undamaged print; the better one is kept), the end-to-end ``auto`` repair, OpenCV Telea with
the true mask for reference, and false repairs (share of pixels ``auto`` changes by more
than 4 grey levels on the same frames printed without damage). ``finish`` writes
``repair.safetensors`` (keys ``detector.*`` and ``fill.*``, the config in its metadata) and
``repair.json`` (config, data, iterations, time, sha256, validation metrics).

    python -m segsr_gui.training.repair_validate --weights runs/repair/repair.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from dataclasses import asdict, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from segsr_gui.engine.repair.repair import RepairModel, damage_mask
from segsr_gui.training.data import load_camvid
from segsr_gui.training.repair_eval import (damage_probability, damaged_set, detection_counts, mask_tensor,
                                            prf, psnr_y_inside, to_numpy, to_tensor)
from segsr_gui.training.scratches import damage_example

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
MIN_PIXELS = (1, 3, 6)
F1_SLACK = 0.01  # a difference in detection F1 this small is within the noise of 24 frames
VAL_SEED = 5000
RECIPE_OPTIONS = ("clean_share", "jpeg_lowest", "sharpen_share", "even_share")  # repair_train's flags


def _frames(data, count: int):
    val = load_camvid(data, "val")
    idx = np.linspace(0, len(val.images) - 1, min(count, len(val.images))).round().astype(int)
    return [val.images[i] for i in idx], [val.names[i] for i in idx]


def _mask_after(prob: np.ndarray, threshold: float, min_pixels: int) -> np.ndarray:
    return damage_mask(torch.from_numpy(prob)[None, None], threshold, min_pixels)[0, 0].numpy()


def telea(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    a = np.round(img * 255).astype(np.uint8)
    return cv2.inpaint(a, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA).astype(np.float32) / 255


def changed_share(out: np.ndarray, ref: np.ndarray) -> float:
    """Share of pixels whose 8-bit value moved by more than 4 on any channel."""
    diff = np.abs(np.round(out * 255) - np.round(ref * 255)).max(2)
    return float((diff > 4).mean())


def pick_setting(grid: dict, slack: float = F1_SLACK) -> str:
    """The "threshold/min_pixels" key of ``grid`` with the highest precision among those
    whose F1 is within ``slack`` of the best: F1 is flat over a wide range of thresholds,
    and there a false mark (real detail erased) costs a viewer more than a missed one."""
    best = max(v["f1"] for v in grid.values())
    return max((k for k, v in grid.items() if v["f1"] >= best - slack), key=lambda k: grid[k]["precision"])


def validate(model: RepairModel, data, count: int = 24) -> dict:
    model.eval()
    images, names = _frames(data, count)
    examples = damaged_set(images, names, VAL_SEED)
    probs = [damage_probability(model, e.damaged) for e in examples]
    grid = {}
    for thr in THRESHOLDS:
        for mp in MIN_PIXELS:
            counts = sum(detection_counts(_mask_after(p, thr, mp), e.mask) for p, e in zip(probs, examples))
            grid[f"{thr}/{mp}"] = prf(counts)
    best = pick_setting(grid)
    thr, mp = float(best.split("/")[0]), int(best.split("/")[1])
    psnr = {"none": [], "telea": [], "fill_noise0": [], "fill_noise1": [], "auto": []}
    for e, p in zip(examples, probs):
        if not e.mask.any():
            continue
        photo = to_tensor(e.damaged)
        psnr["none"].append(psnr_y_inside(e.damaged, e.clean, e.mask))
        psnr["telea"].append(psnr_y_inside(telea(e.damaged, e.mask), e.clean, e.mask))
        for ns in (0.0, 1.0):
            model.config = replace(model.config, noise_scale=ns)
            out, _ = model.repair(photo, mask_tensor(e.mask))
            psnr[f"fill_noise{int(ns)}"].append(psnr_y_inside(to_numpy(out), e.clean, e.mask))
        model.config = replace(model.config, noise_scale=0.0)
        auto, _ = model.repair(photo, mask_tensor(_mask_after(p, thr, mp)))
        psnr["auto"].append(psnr_y_inside(to_numpy(auto), e.clean, e.mask))
    means = {k: float(np.mean(v)) for k, v in psnr.items()}
    noise = 0.0 if means["fill_noise0"] >= means["fill_noise1"] else 1.0
    model.config = replace(model.config, threshold=thr, min_pixels=mp, noise_scale=noise)
    false = []
    for i, img in enumerate(images):
        _, clean, _ = damage_example(img.astype(np.float32) / 255, np.random.default_rng(VAL_SEED + 500 + i),
                                     clean_share=1.0)
        out, _ = model.repair(to_tensor(clean))
        false.append(changed_share(to_numpy(out), clean))
    return {"frames": names, "seed": VAL_SEED, "detection_grid": grid, "chosen": {"threshold": thr, "min_pixels": mp,
            "noise_scale": noise}, "detection": grid[best], "psnr_y_inside_mean_db": means,
            "false_repair_share": float(np.mean(false))}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def finish(model: RepairModel, info: dict, args, **data_info) -> Path:
    """Validate, then write ``repair.safetensors`` and ``repair.json`` into ``args.out``."""
    out = Path(args.out)
    metrics = validate(model, args.data, args.val_count)
    weights = out / "repair.safetensors"
    model.save(weights)
    record = {
        "config": asdict(model.config),
        "training": {"data": {"camvid_train_frames": data_info.get("frames_used"),
                              "wallpaper_photos": data_info.get("photos_used"),
                              "recipe": "segsr_gui/training/scratches.py",
                              "recipe_options": {k: getattr(args, k) for k in RECIPE_OPTIONS if hasattr(args, k)}},
                     "started_from": getattr(args, "init", None),
                     "iterations": info["iteration"], "minutes": round(info["seconds"] / 60, 1),
                     "batch": args.batch, "crop": args.crop, "lr": args.lr, "seed": args.seed,
                     "precision": data_info.get("precision"), "threads": args.threads,
                     "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                     "loss_log_tail": info["log"][-5:]},
        "validation": {"data": "CamVid val", **metrics},
        "weights": {"file": weights.name, "sha256": _sha256(weights)},
    }
    (out / "repair.json").write_text(json.dumps(record, indent=1))
    return weights


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default="runs/repair/repair.safetensors")
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--val-count", type=int, default=24)
    p.add_argument("--write", action="store_true",
                   help="store the chosen settings in the weights and their repair.json (same folder)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    model = RepairModel.load(a.weights)
    metrics = validate(model, a.data, a.val_count)
    print(json.dumps({k: v for k, v in metrics.items() if k != "detection_grid"}, indent=1))
    if a.write:
        weights = Path(a.weights)
        model.save(weights)
        record_path = weights.with_suffix(".json")
        record = json.loads(record_path.read_text())
        record["config"] = asdict(model.config)
        record["validation"] = {"data": "CamVid val", **metrics}
        record["weights"] = {"file": weights.name, "sha256": _sha256(weights)}
        record_path.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
