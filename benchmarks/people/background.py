"""Where the background class appears: the share of street-class, person and background pixels
in the class maps of photos that are no street scenes, and of CamVid frames, which are.

    python -m benchmarks.people.background [--wallpapers runs/wallpapers] [--every 3]

Non-street photos: ``real_world/*`` (old and low-quality photos, portraits and groups among
them) and every ``--every``-th of the wallpaper photos of ``training/wallpapers.py`` (landscapes,
animals, interiors; the scene gate's upper threshold was read off them, so they are not
hold-out for the gate), read at 256 px on the long side. Street scenes: CamVid test (30 frames,
bicubic LR). Street classes: road, pavement, car, sign/symbol, fence, pole, bicyclist (issue 39).
Default settings but strength 0 and no repair (neither moves the classes much and both cost
time). Writes benchmarks/results/background.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, RUNS, header, header_line, result_path, write_report
from segsr_gui.classes import BACKGROUND, CAMVID_CLASSES, PERSON_ID
from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.nets.weights import load_model

STREET = [CAMVID_CLASSES.index(n) for n in ("road", "pavement", "car", "sign/symbol", "fence", "pole", "bicyclist")]


def shares(loaded, rgb: np.ndarray) -> dict:
    lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None] * 2 - 1
    out = upscale(rgb, loaded.model, strength=0.0, repair=False)
    counts = np.bincount(out.class_map.ravel(), minlength=len(loaded.classes)) / out.class_map.size
    bg = loaded.classes.index(BACKGROUND) if BACKGROUND in loaded.classes else None
    return {"gate": loaded.model.scene_gate(lr)[1], "street": float(counts[STREET].sum()),
            "person": float(counts[PERSON_ID]), "background": float(counts[bg]) if bg is not None else 0.0}


def photo(path, long_side: int = 256) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if max(im.size) > long_side:
            im.thumbnail((long_side, long_side), Image.LANCZOS)
        return np.asarray(im, np.float32) / 255


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--wallpapers", default=str(RUNS / "wallpapers"))
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--out", default=result_path("background"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)
    rows = {}
    files = sorted((DATA / "real_world").glob("*"))
    walls = sorted(p for p in Path(args.wallpapers).rglob("*")
                   if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[::args.every]
    for group, paths in (("real_world", files), ("wallpapers", walls)):
        for p in paths:
            rows[f"{group}/{p.name}"] = {"group": group, **shares(loaded, photo(p, 256 if group == "wallpapers" else 10**6))}
            print(p.name, rows[f"{group}/{p.name}"], file=sys.stderr, flush=True)
    from segsr_gui.training.data import load_camvid
    from segsr_gui.training.degrade import bicubic

    test = load_camvid(DATA, "test")
    for i in np.linspace(0, len(test.images) - 1, 30).astype(int):
        rows[f"camvid_test/{i}"] = {"group": "camvid_test",
                                    **shares(loaded, bicubic(test.images[i].astype(np.float32) / 255, 4))}
    write_report(args.out, {**header(sys.argv), "model": loaded.name, "photos": rows}, render)
    return 0


def render(report: dict) -> str:
    lines = ["# Where background appears", "", header_line(report), "",
             "Share of each class map (x4, default settings at strength 0, no repair). Street classes: road, "
             "pavement, car, sign/symbol, fence, pole, bicyclist; issue 39's goal: at most 5 % on non-street photos.",
             "", "| photos | n | scene gate open (mean) | street classes (mean / worst) | person (mean) | background (mean) |",
             "|---|---|---|---|---|---|"]
    for group in ("real_world", "wallpapers", "camvid_test"):
        r = [v for v in report["photos"].values() if v["group"] == group]
        if not r:
            continue
        st = [v["street"] for v in r]
        lines.append(f"| {group} | {len(r)} | {np.mean([v['gate'] for v in r]):.2f} | {100 * np.mean(st):.1f} % / "
                     f"{100 * max(st):.1f} % | {100 * np.mean([v['person'] for v in r]):.1f} % | "
                     f"{100 * np.mean([v['background'] for v in r]):.1f} % |")
    lines += ["", "| photo | gate | street | person | background |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['gate']:.2f} | {100 * v['street']:.1f} % | {100 * v['person']:.1f} % | "
              f"{100 * v['background']:.1f} % |" for k, v in report["photos"].items() if v["group"] == "real_world"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
