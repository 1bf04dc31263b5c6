"""Which photos Auto reads as toned prints (``engine/nets/print_tone.py``), and how often it
reads a photo that is none.

Validation, where the model's ``toned_print`` thresholds are chosen: the real photos of
``../shared/data/real_world`` and the bundled sample as they are (which of them are toned
prints is seen by eye: old_b, old_c, old_scratch_a and the sample), the CamVid val frames
from bicubic LR, and the wallpaper photos of ``training/wallpapers.py`` when they are in
``runs/wallpapers`` (shrunk to 640 px). Test sets, read only to report how often a photo
that is no print reads as one: Set5, Set14, BSD68, Urban100 and CamVid test from bicubic LR.

    python -m benchmarks.quality.toned_prints [--model segsr-x4]

Writes benchmarks/results/toned_prints.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, ROOT, RUNS, header, header_line, load_rgb8, result_path, write_report

TONED_BY_EYE = {"old_b.png", "old_c.png", "old_scratch_a.png", "sample.png"}
VALIDATION = ("real photos", "CamVid val", "wallpapers")


def _lr_of(path: Path) -> np.ndarray:
    from segsr_gui.training.degrade import bicubic

    return bicubic(load_rgb8(path).astype(np.float32) / 255)


def groups() -> dict[str, dict[str, np.ndarray]]:
    """set -> {photo name: the LR photo (H, W, 3) float in [0, 1]}."""
    real = {p.name: load_rgb8(p).astype(np.float32) / 255 for p in sorted((DATA / "real_world").glob("*"))}
    real["sample.png"] = load_rgb8(ROOT / "resources" / "sample.png").astype(np.float32) / 255
    out = {"real photos": real,
           "CamVid val": {p.name: _lr_of(p) for p in sorted((DATA / "camvid" / "val").glob("*.png"))}}
    walls = {}
    for p in sorted((RUNS / "wallpapers").glob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            with Image.open(p) as im:
                im = im.convert("RGB")
                im.thumbnail((640, 640), Image.BICUBIC)
                walls[p.name] = np.asarray(im, np.float32) / 255
    if walls:
        out["wallpapers"] = walls
    for s in ("Set5", "Set14", "BSD68", "Urban100"):
        out[s] = {p.name: _lr_of(p) for p in sorted((DATA / "sr_bench" / s).glob("*.png"))}
    out["CamVid test"] = {p.name: _lr_of(p) for p in sorted((DATA / "camvid" / "test").glob("*.png"))}
    return out


def main(argv=None) -> int:
    from segsr_gui.engine.nets.print_tone import read_tone
    from segsr_gui.engine.nets.weights import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--out", default=result_path("toned_prints"))
    args = ap.parse_args(argv)
    limits = tuple(load_model(args.model).model.experts.config.toned_print)
    sets = {}
    for name, photos in groups().items():
        rows = {}
        for photo, rgb in photos.items():
            lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None] * 2 - 1
            t = read_tone(lr)
            rows[photo] = {"chroma": t.chroma, "off_hue": t.off_hue, "hue": t.hue, "toned": t.toned(*limits)}
        sets[name] = rows
    report = {**header(sys.argv), "model": args.model, "toned_print": list(limits), "sets": sets}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lo, hi, hue_lo, hue_hi = report["toned_print"]
    lines = ["# Toned prints: what Auto reads", "", header_line(report), "",
             f"A photo is a toned print when its mean chroma >= {lo:g} and at most {100 * hi:g} % of its pixels lie "
             f"off the mean hue line, and that line's hue lies in {hue_lo:g}..{hue_hi:g} degrees (warm; "
             f"`engine/nets/print_tone.py`, {report['model']}). Validation: "
             f"{', '.join(s for s in VALIDATION if s in report['sets'])}; the rest are test sets, read to report.", "",
             "## Real photos (validation; toned prints by eye: " + ", ".join(sorted(TONED_BY_EYE)) + ")", "",
             "| photo | chroma | off the hue line | hue | read as toned | toned by eye |", "|---|---|---|---|---|---|"]
    for photo, r in report["sets"]["real photos"].items():
        lines.append(f"| {photo} | {r['chroma']:.1f} | {100 * r['off_hue']:.1f} % | {r['hue']:.0f} | {'yes' if r['toned'] else 'no'} | "
                     f"{'yes' if photo in TONED_BY_EYE else 'no'} |")
    lines += ["", "## Sets", "", "| set | photos | read as toned | which | highest chroma |", "|---|---|---|---|---|"]
    for name, rows in report["sets"].items():
        if name == "real photos":
            continue
        toned = [p for p, r in rows.items() if r["toned"]]
        top = max(r["chroma"] for r in rows.values())
        role = " (validation)" if name in VALIDATION else ""
        lines.append(f"| {name}{role} | {len(rows)} | {len(toned)} | {', '.join(toned[:8]) or '-'}"
                     f"{' ...' if len(toned) > 8 else ''} | {top:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
