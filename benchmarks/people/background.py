"""Where the background class appears: the share of street-class, person and background pixels
in the class maps of photos that are no street scenes, and of CamVid frames, which are.

    python -m benchmarks.people.background [--every 2]

Non-street photos the scene gate was not fitted on: ``real_world/*`` (old and low-quality
photos, portraits and groups among them) as they are, and every ``--every``-th photo of Set5,
Set14 and BSD68 (portraits, animals, landscapes, buildings; Urban100 is left out, its city
views are half streets) read at 256 px on the long side. ``people`` says whether the person
references (``person_refs.py``) list the photo; on the others every person pixel is a false
one. Street scenes: CamVid test (30 frames, bicubic LR). Street classes: road, pavement, car, sign/symbol, fence, pole, bicyclist (issue 39).
Photos with alpha run with it, as the app runs them. Default settings but strength 0 and no repair (neither moves the classes much and both cost
time). Writes benchmarks/results/background.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, RUNS, header, header_line, result_path, write_report
from segsr_gui.classes import BACKGROUND, CAMVID_CLASSES, PERSON_ID
from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.nets.weights import load_model
from segsr_gui.io.read import load_image

STREET = [CAMVID_CLASSES.index(n) for n in ("road", "pavement", "car", "sign/symbol", "fence", "pole", "bicyclist")]


def shares(loaded, rgb: np.ndarray, alpha: np.ndarray | None = None) -> dict:
    lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None] * 2 - 1
    out = upscale(rgb, loaded.model, strength=0.0, repair=False, alpha=alpha)
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
    ap.add_argument("--refs", default=str(RUNS / "person-refs"))
    ap.add_argument("--every", type=int, default=2)
    ap.add_argument("--out", default=result_path("background"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)
    rows = {}
    files = sorted((DATA / "real_world").glob("*"))
    bench = sorted(p for s in ("Set5", "Set14", "BSD68") for p in (DATA / "sr_bench" / s).glob("*.png"))[::args.every]
    people = {p["path"] for p in json.loads((Path(args.refs) / "refs.json").read_text())["photos"]}
    for group, paths in (("real_world", files), ("sr_bench", bench)):
        for p in paths:
            key = str(p.relative_to(DATA))
            rows[key] = {"group": group, "people": key in people,
                         **shares(loaded, photo(p, 256 if group == "sr_bench" else 10**6),
                                  load_image(p).alpha if group == "real_world" else None)}
            print(key, rows[key], file=sys.stderr, flush=True)
    from segsr_gui.training.data import load_camvid
    from segsr_gui.training.degrade import bicubic

    test = load_camvid(DATA, "test")
    for i in np.linspace(0, len(test.images) - 1, 30).astype(int):
        rows[f"camvid_test/{i}"] = {"group": "camvid_test", "people": None,
                                    **shares(loaded, bicubic(test.images[i].astype(np.float32) / 255, 4))}
    write_report(args.out, {**header(sys.argv), "model": loaded.name, "photos": rows}, render)
    return 0


def render(report: dict) -> str:
    lines = ["# Where background appears", "", header_line(report), "",
             "Share of each class map (x4, default settings at strength 0, no repair). Street classes: road, "
             "pavement, car, sign/symbol, fence, pole, bicyclist; issue 39's goal: at most 5 % on non-street photos.",
             "", "| photos | n | scene gate open (mean) | street classes (mean / worst) | person (mean / most) | background (mean) |",
             "|---|---|---|---|---|---|"]
    for group, people in (("real_world", None), ("sr_bench", True), ("sr_bench", False), ("camvid_test", None)):
        r = [v for v in report["photos"].values() if v["group"] == group and (people is None or v["people"] == people)]
        if not r:
            continue
        st, pe = [v["street"] for v in r], [v["person"] for v in r]
        name = group if people is None else f"{group}, {'with' if people else 'without'} people"
        lines.append(f"| {name} | {len(r)} | {np.mean([v['gate'] for v in r]):.2f} | {100 * np.mean(st):.1f} % / "
                     f"{100 * max(st):.1f} % | {100 * np.mean(pe):.1f} % / {100 * max(pe):.1f} % | "
                     f"{100 * np.mean([v['background'] for v in r]):.1f} % |")
    lines += ["", "| photo | people | gate | street | person | background |", "|---|---|---|---|---|---|"]
    lines += [f"| {k} | {'yes' if v['people'] else 'no'} | {v['gate']:.2f} | {100 * v['street']:.1f} % | "
              f"{100 * v['person']:.1f} % | {100 * v['background']:.1f} % |"
              for k, v in report["photos"].items() if v["group"] != "camvid_test"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
