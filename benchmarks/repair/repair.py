"""Benchmark of the damage repair (``segsr_gui/engine/repair``) at the photo's own size.

Synthetic damage (the training recipe, ``training/scratches.py``, fixed seeds) on images the
nets never saw: CamVid test, Set14, BSD68 (``--every`` thins the sets; images are cut to their
top-left 360x480 to bound the time). For each image:

- detection precision / recall / F1 with a 1-pixel tolerance, summed over the set;
- PSNR-Y inside the true damage against the undamaged print (mean over images) for: no
  repair, scikit-image biharmonic, OpenCV Telea and Navier-Stokes (radius 3) with the true
  mask, our fill with the true mask, ``always`` (our detection, then our fill: ``--repair on``)
  and ``auto`` (the same, but only in an image that shows scratches or cracks,
  ``repair.shows_damage``: the default);
- false repairs: the same image printed without damage, repaired with ``always`` and ``auto``:
  the share of pixels changed by more than 4 grey levels.

What the detection marks on real photos: ``real_marks.py``.
Writes ``OUT/repair.json`` and ``OUT/repair.md``.

    python -m benchmarks.repair.repair [--weights runs/repair/repair.safetensors] --data ../shared/data
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from segsr_gui.engine.repair.repair import RepairModel, shows_damage
from segsr_gui.training.data import load_camvid, load_sr_set
from segsr_gui.training.repair_eval import (damaged_set, detection_counts, mask_tensor, prf, psnr_y_inside,
                                            to_numpy, to_tensor)
from segsr_gui.training.repair_validate import changed_share, telea
from segsr_gui.training.scratches import damage_example

SEED = 9000
CROP = (360, 480)
METHODS = ("none", "biharmonic", "telea", "navier_stokes", "ours_true_mask", "always", "auto")


def _sets(data: Path, every: int) -> dict[str, tuple[list, list]]:
    cam = load_camvid(data, "test")
    out = {"camvid_test": (cam.images[::every], cam.names[::every])}
    for name in ("Set14", "BSD68"):
        imgs, names = load_sr_set(data, name)
        step = 1 if name == "Set14" else max(1, every - 1)
        out[name] = (imgs[::step], names[::step])
    return out


def classical(img: np.ndarray, mask: np.ndarray, how: str) -> np.ndarray:
    if how == "biharmonic":
        from skimage.restoration import inpaint_biharmonic
        return inpaint_biharmonic(img, mask, channel_axis=-1).astype(np.float32)
    if how == "telea":
        return telea(img, mask)
    a = np.round(img * 255).astype(np.uint8)
    return cv2.inpaint(a, mask.astype(np.uint8), 3, cv2.INPAINT_NS).astype(np.float32) / 255


def run_set(model: RepairModel, images, names, seed: int) -> dict:
    examples = damaged_set(images, names, seed, crop=CROP)
    counts = np.zeros(4, np.int64)
    psnr = {m: [] for m in METHODS}
    false, false_auto, seconds, damaged_share, filled = [], [], [], [], []
    cfg = model.config
    for i, e in enumerate(examples):
        photo = to_tensor(e.damaged)
        t0 = time.perf_counter()
        auto, found = model.repair(photo)
        seconds.append(time.perf_counter() - t0)
        found = found[0, 0].numpy()
        counts += detection_counts(found, e.mask)
        damaged_share.append(float(e.mask.mean()))
        ours, _ = model.repair(photo, mask_tensor(e.mask))
        filled.append(shows_damage(found, cfg.long_marks, cfg.long_share))
        outs = {"none": e.damaged, "always": to_numpy(auto), "ours_true_mask": to_numpy(ours),
                "auto": to_numpy(auto) if filled[-1] else e.damaged}
        for how in ("biharmonic", "telea", "navier_stokes"):
            outs[how] = classical(e.damaged, e.mask, how)
        for m in METHODS:
            psnr[m].append(psnr_y_inside(outs[m], e.clean, e.mask))
        _, clean, _ = damage_example(_source(images[i], e.damaged.shape),
                                     np.random.default_rng(seed + 500 + i), clean_share=1.0)
        out, found_clean = model.repair(to_tensor(clean))
        false.append(changed_share(to_numpy(out), clean))
        false_auto.append(false[-1] if shows_damage(found_clean[0, 0].numpy(), cfg.long_marks, cfg.long_share) else 0.0)
    return {"images": len(examples), "damaged_share_mean": float(np.mean(damaged_share)),
            "detection": prf(counts), "detection_counts": counts.tolist(),
            "psnr_y_inside_db": {m: float(np.mean(v)) for m, v in psnr.items()},
            "false_repair_share": float(np.mean(false)), "false_repair_share_max": float(np.max(false)),
            "false_repair_share_auto": float(np.mean(false_auto)), "auto_filled_share": float(np.mean(filled)),
            "auto_seconds_mean": float(np.mean(seconds))}


def _source(img: np.ndarray, shape) -> np.ndarray:
    """The undamaged input cut as ``damaged_set`` cut it, float in [0, 1], 3 channels."""
    a = img.astype(np.float32) / 255 if img.dtype == np.uint8 else img.astype(np.float32)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, 2)
    return a[:shape[0], :shape[1]]


def _combined(sets: dict) -> dict:
    counts = sum(np.array(s["detection_counts"]) for s in sets.values())
    n = sum(s["images"] for s in sets.values())
    psnr = {m: sum(s["psnr_y_inside_db"][m] * s["images"] for s in sets.values()) / n for m in METHODS}
    false = sum(s["false_repair_share"] * s["images"] for s in sets.values()) / n
    false_auto = sum(s["false_repair_share_auto"] * s["images"] for s in sets.values()) / n
    filled = sum(s["auto_filled_share"] * s["images"] for s in sets.values()) / n
    return {"images": n, "detection": prf(counts), "psnr_y_inside_db": psnr, "false_repair_share": false,
            "false_repair_share_auto": false_auto, "auto_filled_share": filled}


def goals(all_: dict) -> list[tuple[str, str, bool]]:
    p = all_["psnr_y_inside_db"]
    best = max(p["biharmonic"], p["telea"], p["navier_stokes"])
    return [
        ("true-mask fill >= best classical + 1.0 dB", f"{p['ours_true_mask']:.2f} vs {best + 1:.2f}",
         p["ours_true_mask"] >= best + 1.0),
        ("auto >= best classical (true mask) - 1 dB", f"{p['auto']:.2f} vs {best - 1:.2f} (always {p['always']:.2f})",
         p["auto"] >= best - 1.0),
        ("detection F1 >= 0.7 (synthetic)", f"{all_['detection']['f1']:.3f}", all_["detection"]["f1"] >= 0.7),
        ("false repairs <= 0.1 %", f"{100 * all_['false_repair_share_auto']:.3f} % (always "
         f"{100 * all_['false_repair_share']:.3f} %)", all_["false_repair_share_auto"] <= 0.001),
    ]


def markdown(result: dict) -> str:
    lines = ["# Damage repair at the photo's size", "",
             f"Machine: {result['machine']}. Weights: `{result['weights']}` (sha256 {result['sha256'][:12]}...).",
             f"Data: {result['data']}. Damage: `training/scratches.py`, seeds {SEED}+i; false repairs: "
             f"the same images printed without damage (seeds {SEED}+500+i).", "",
             "PSNR-Y (dB) inside the true damage against the undamaged print, mean over images; "
             "detection with a 1-px tolerance; false repairs = share of pixels `always` / `auto` changes "
             "by > 4 grey levels on undamaged prints; auto fills = share of the damaged images `auto` fills.", "",
             "| set | images | damaged | P | R | F1 | " + " | ".join(METHODS) +
             " | false repairs always / auto | auto fills | always s/img |",
             "|---|---|---|---|---|---|" + "---|" * len(METHODS) + "---|---|---|"]
    for name, s in result["sets"].items():
        d = s["detection"]
        lines.append(f"| {name} | {s['images']} | {100 * s['damaged_share_mean']:.1f} % | {d['precision']:.3f} | "
                     f"{d['recall']:.3f} | {d['f1']:.3f} | "
                     + " | ".join(f"{s['psnr_y_inside_db'][m]:.2f}" for m in METHODS)
                     + f" | {100 * s['false_repair_share']:.3f} / {100 * s['false_repair_share_auto']:.3f} % | "
                       f"{100 * s['auto_filled_share']:.0f} % | {s['auto_seconds_mean']:.2f} |")
    a = result["all"]
    lines.append(f"| **all** | {a['images']} | | {a['detection']['precision']:.3f} | {a['detection']['recall']:.3f} | "
                 f"{a['detection']['f1']:.3f} | " + " | ".join(f"{a['psnr_y_inside_db'][m]:.2f}" for m in METHODS)
                 + f" | {100 * a['false_repair_share']:.3f} / {100 * a['false_repair_share_auto']:.3f} % | "
                   f"{100 * a['auto_filled_share']:.0f} % | |")
    lines += ["", "## Goals (issue 37)", "", "| goal | measured | reached |", "|---|---|---|"]
    lines += [f"| {g} | {v} | {'yes' if ok else 'no'} |" for g, v, ok in result["goals"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="segsr-x4")
    p.add_argument("--weights", type=Path, help="a trained repair file to measure instead of the model's")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--every", type=int, default=5, help="take every Nth CamVid test frame (BSD68: N-1)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("benchmarks/repair/results"))
    a = p.parse_args(argv)
    if a.weights is not None and not a.weights.is_file():
        raise SystemExit(f"no repair weights at {a.weights} (train them with segsr_gui.training.repair_train)")
    torch.set_num_threads(a.threads)
    import hashlib

    from benchmarks.repair.real_marks import load_repair
    from segsr_gui.engine.nets.weights import load_model

    model = load_repair(a.model, a.weights)
    source = a.weights or load_model(a.model).path
    sets = {name: run_set(model, imgs, names, SEED) for name, (imgs, names) in _sets(a.data, a.every).items()}
    result = {"machine": f"{platform.machine()}, {torch.get_num_threads()} thread(s), torch {torch.__version__}, "
                         f"{_cpu()}", "weights": str(source),
              "sha256": hashlib.sha256(Path(source).read_bytes()).hexdigest(), "config": vars(model.config),
              "data": f"CamVid test every {a.every}th frame, Set14, BSD68 every {max(1, a.every - 1)}th; "
                      f"top-left {CROP[0]}x{CROP[1]}", "sets": sets}
    result["all"] = _combined(sets)
    result["goals"] = goals(result["all"])
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "repair.json").write_text(json.dumps(result, indent=1, default=list))
    (a.out / "repair.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
