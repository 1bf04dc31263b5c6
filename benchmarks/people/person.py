"""People in the class map: person IoU on photos with people in ``../shared/data`` against the
reference masks of ``benchmarks/people/person_refs.py`` (Robust Video Matting, benchmark only), for the
person prior alone read in each way, and for the class map with and without the prior.

    python -m benchmarks.people.person_refs            # once: the reference masks (runs/person-refs)
    python -m benchmarks.people.person [--strength 0] [--no-class-map] [--grey] [--without] [--sheet]

Only references marked trusted (by looking at each overlay) are scored; Set14/face.png, the same
picture as Set5/head.png, is scored once. Each photo is the app's input as it is (its own
resolution) for the prior's readings; the class maps run on the photo shrunk to a long side of
``--class-map-side`` (256 px: the CPU budget of this machine) and are scored at that size (a pixel
is a person when most of its 4x4 block is) against the reference shrunk the same way. The prior rows read the photo as the model does (``person_probability``) and
threshold at 0.5. ``outside`` is the class map's person pixels outside the reference, as a share of
the photo. ``--grey`` scores every photo again in grey (the kind "grey ..."): an old print is
often grey, and grey once shut the scene gate. Photos with alpha run with it, as the app runs them.
``--sheet`` writes person_sheet.png: photos with the class map's people in red.
Writes benchmarks/results/person.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import (DATA, RESULTS, RUNS, header, header_line, labelled_grid, load_rgb8, result_path,
                               write_report)

SKIP = {"sr_bench/Set14/face.png": "the same picture as Set5/head.png"}
# how the prior reads the photo: (window, merge); (0, -) = the whole photo squashed to 256x256
READINGS = {"whole": (0, "max"), "win256-max": (256, "max"), "win256-mean": (256, "mean"),
            "win128-max": (128, "max"), "win512-max": (512, "max")}


def iou(pred: np.ndarray, ref: np.ndarray) -> float:
    union = np.logical_or(pred, ref).sum()
    return float(np.logical_and(pred, ref).sum() / union) if union else 1.0


def shrink(rgb: np.ndarray, ref: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo and its reference with the long side at most ``side`` (0 = unchanged)."""
    from PIL import Image

    if not side or max(rgb.shape[:2]) <= side:
        return rgb, ref
    scale = side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))
    return small, np.asarray(Image.fromarray(ref.astype(np.uint8) * 255).resize(size, Image.BILINEAR)) >= 128


def shrink_alpha(alpha: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if alpha.shape == shape:
        return alpha
    return np.asarray(Image.fromarray(alpha.astype(np.float32), "F").resize(shape[::-1], Image.BILINEAR))


def person_at_photo_size(class_map: np.ndarray, person: int, scale: int) -> np.ndarray:
    h, w = class_map.shape[0] // scale, class_map.shape[1] // scale
    blocks = (class_map[:h * scale, :w * scale] == person).reshape(h, scale, w, scale)
    return blocks.mean(axis=(1, 3)) > 0.5


def main(argv=None) -> int:
    from segsr_gui.classes import PERSON_ID
    from segsr_gui.engine.inference.pipeline import parse_strength, upscale
    from segsr_gui.engine.nets.person_prior import person_probability
    from segsr_gui.engine.nets.weights import load_model
    from benchmarks.people.person_common import prior_switch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--refs", default=str(RUNS / "person-refs"))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--strength", default="0", help="the class-map runs' strength (auto or 0..1)")
    ap.add_argument("--no-class-map", action="store_true", help="the prior's readings only (fast)")
    ap.add_argument("--sheet", action="store_true", help="also write person_sheet.png")
    ap.add_argument("--class-map-side", type=int, default=256, metavar="PX",
                    help="class maps of photos shrunk to at most this long side (the CPU budget; 0 = as they are)")
    ap.add_argument("--grey", action="store_true", help="also every photo in grey")
    ap.add_argument("--without", action="store_true", help="also the class map without the prior")
    ap.add_argument("--composites", action="store_true",
                    help="also the pasted small figures (the prior's readings only)")
    ap.add_argument("--out", default=result_path("person"))
    args = ap.parse_args(argv)
    refs = json.loads((Path(args.refs) / "refs.json").read_text())
    loaded = load_model(args.model)
    switch = prior_switch(loaded)
    switch(True)
    net, scale = loaded.model.person_net, loaded.model.config.scale
    strength = parse_strength(args.strength)
    rows, sheet = {}, []
    from PIL import Image

    from segsr_gui.io.read import load_image

    photos = []
    for item in refs["photos"]:
        if not item["trusted"] or item["path"] in SKIP:
            continue
        rgb = load_rgb8(Path(args.data) / item["path"])
        alpha = load_image(Path(args.data) / item["path"]).alpha
        ref = np.asarray(Image.open(Path(args.refs) / item["path"].replace("/", "__")).convert("L")) >= 128
        photos.append((item["path"], item["kind"], rgb, ref, alpha))
        if args.grey:
            grey = np.repeat(np.asarray(Image.fromarray(rgb).convert("L"))[..., None], 3, axis=2)
            photos.append((f"grey {item['path']}", f"grey {item['kind']}", grey, ref, alpha))
    if args.composites:
        photos += [(name, "small (pasted)", rgb, ref, None)
                   for name, rgb, ref in composites(refs, Path(args.data), Path(args.refs))]
    for path, kind, rgb, ref, alpha in photos:
        lr = torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / 255)[None]
        scores = {}
        for name, (window, merge) in READINGS.items():
            start = time.perf_counter()
            prob = person_probability(net, lr, window, merge)[0, 0].numpy()
            scores[f"prior {name}"] = iou(prob > 0.5, ref)
            scores[f"seconds {name}"] = time.perf_counter() - start
        score, scene_gate = loaded.model.scene_gate(lr * 2 - 1)
        scores["scene score"], scores["gate"] = score, scene_gate
        if not args.no_class_map and kind != "small (pasted)":
            small, small_ref = shrink(rgb, ref, args.class_map_side)
            small_alpha = None if alpha is None else shrink_alpha(alpha, small.shape[:2])
            for row in (("without", "with") if args.without else ("with",)):
                switch(row == "with")
                out = upscale(small.astype(np.float32) / 255, loaded.model, seed=0, strength=strength,
                              repair=False, alpha=small_alpha)
                person = person_at_photo_size(out.class_map, PERSON_ID, scale)
                scores[f"class map {row}"] = iou(person, small_ref)
                if row == "with":
                    scores["outside"] = float((person & ~small_ref).mean())
                    sheet.append((path, small, person))
            switch(True)
        rows[path] = {"kind": kind, "size": list(rgb.shape[:2]), **scores}
        print(path, {k: round(v, 3) for k, v in scores.items() if not k.startswith("seconds")},
              file=sys.stderr, flush=True)
    person = loaded.model.classes.config.person
    report = {**header(sys.argv), "model": loaded.name, "model_sha256": loaded.manifest["sha256"],
              "prior_config": {"window": person.window, "merge": "max", "gate": list(person.gate)},
              "strength": args.strength, "class_map_side": args.class_map_side, "references": {k: refs[k] for k in ("model", "wheel", "wheel_sha256")},
              "photos": rows}
    write_report(args.out, report, render)
    if args.sheet and sheet:
        save_sheet(Path(args.out).with_name("person_sheet.png"), sheet)
    return 0


def composites(refs: dict, data: Path, ref_dir: Path, side: int = 1024, fraction: float = 0.25):
    """Small figures on purpose: each trusted person photo shrunk to ``fraction`` of ``side``
    and pasted (through its reference mask) onto a people-free Urban100 photo enlarged to
    ``side`` px, at a seeded place; the pasted mask is the reference. (name, rgb, ref) each."""
    from PIL import Image

    people = {p["path"] for p in refs["photos"]}
    backgrounds = [p for p in sorted((data / "sr_bench" / "Urban100").glob("*.png"))
                   if f"sr_bench/Urban100/{p.name}" not in people]
    rng = np.random.default_rng(31)
    out = []
    for i, item in enumerate(p for p in refs["photos"] if p["trusted"] and p["kind"] != "figures"):
        if item["path"] in SKIP:
            continue
        bg = Image.fromarray(load_rgb8(backgrounds[i % len(backgrounds)]))
        bg = bg.resize((side, round(side * bg.height / bg.width)), Image.BICUBIC)
        fg = Image.fromarray(load_rgb8(data / item["path"]))
        mask = Image.open(ref_dir / item["path"].replace("/", "__")).convert("L")
        scale = fraction * side / max(fg.size)
        size = (max(1, round(fg.width * scale)), max(1, round(fg.height * scale)))
        fg, mask = fg.resize(size, Image.BICUBIC), mask.resize(size, Image.BILINEAR)
        at = (int(rng.integers(0, bg.width - size[0])), int(rng.integers(0, bg.height - size[1])))
        bg.paste(fg, at, mask)
        ref = Image.new("L", bg.size)
        ref.paste(mask, at)
        out.append((f"small {Path(item['path']).name}", np.asarray(bg), np.asarray(ref) >= 128))
    return out


def summary(rows: dict) -> dict:
    """Mean IoU per column, over all real photos (not the pasted ones) and per kind, with the
    class map's worst photo and the person pixels outside the people (mean, most)."""
    columns = list(dict.fromkeys(k for r in rows.values() for k in r if k.startswith(("prior", "class map"))))
    kinds = sorted({r["kind"] for r in rows.values()})
    out = {}
    for group in ["all real photos", *kinds]:
        chosen = [r for r in rows.values() if r["kind"] == group or
                  (group == "all real photos" and r["kind"] != "small (pasted)")]
        out[group] = {"photos": len(chosen), **{c: float(np.mean([r[c] for r in chosen if c in r]))
                                                if any(c in r for r in chosen) else None for c in columns}}
        with_prior = [r["class map with"] for r in chosen if "class map with" in r]
        outside = [r["outside"] for r in chosen if "outside" in r]
        out[group].update({"class map worst": min(with_prior) if with_prior else None,
                           "outside mean": float(np.mean(outside)) if outside else None,
                           "outside most": max(outside) if outside else None})
    return out


def render(report: dict) -> str:
    rows = report["photos"]
    table = summary(rows)
    columns = [c for c in table["all real photos"] if c != "photos"]
    per_photo = [c for c in columns if not c.startswith(("class map worst", "outside "))] + ["outside"]
    cfg = report["prior_config"]
    lines = ["# People in the class map", "", header_line(report), "",
             f"Model {report['model']}; its prior reads the photo whole and in {cfg['window']} px windows "
             f"({cfg['merge']}), joined to the classes as a union where the scene gate opens "
             f"(street {cfg['gate'][0]:.2f}, open {cfg['gate'][1]:.2f}). References: "
             f"{report['references']['model']} ({report['references']['wheel']}), trusted masks only. "
             f"Class maps at strength {report['strength']}, photos shrunk to a long side of "
             f"{report.get('class_map_side') or 'their own'} px. Mean IoU:", "",
             "| photos | n | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for group, r in table.items():
        lines.append(f"| {group} | {r['photos']} | " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
    lines += ["", "Per photo (gate: how far the scene gate lets the prior speak, 0 = a street scene; outside: "
              "the class map's person pixels outside the reference, share of the photo):", "",
              "| photo | kind | score | gate | " + " | ".join(per_photo) + " |", "|---|---|---|---|" + "---|" * len(per_photo)]
    for path, r in rows.items():
        lines.append(f"| {path} | {r['kind']} | {r['scene score']:.2f} | {r['gate']:.2f} | "
                     + " | ".join(_cell(r.get(c)) for c in per_photo) + " |")
    seconds = {k[8:]: np.mean([r[k] for r in rows.values()]) for k in next(iter(rows.values()))
               if k.startswith("seconds")}
    lines += ["", "Seconds per photo for the prior alone: " +
              ", ".join(f"{k} {v:.3f}" for k, v in seconds.items()) + "."]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def save_sheet(path: Path, items: list, cell: int = 240) -> None:
    """Photos with the class map's people tinted red, labelled, in rows of six."""
    tiles = []
    for name, rgb, person in items:
        tinted = rgb.astype(np.float32)
        tinted[person] = 0.45 * tinted[person] + 0.55 * np.array([255, 0, 0])
        tiles.append((name, tinted.astype(np.uint8)))
    labelled_grid(path, tiles, cell)


if __name__ == "__main__":
    sys.exit(main())
