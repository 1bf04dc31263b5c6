"""How the scene gate reads photos it was not fitted on: CamVid frames (street scenes, where the
person prior and the background class must stay out) and photos with people (where they must
come in), each read as the app may meet it.

    python -m benchmarks.people.scene_gate [--model segsr-x4] [--seeds 2]

Street: CamVid val and test, every frame as HR, bicubic x4 LR and ``--seeds`` real-world LRs
(seeds other than the fit's), each in colour and in grey. People: every photo of the person
references (``person_refs.py``, trusted or not) as it is, in grey, and as a real-world LR, in
colour and grey. Other photos: the rest of sr_bench and real_world (landscapes, animals, buildings).
Writes benchmarks/results/scene_gate.{json,md}: per group, the share of readings where the gate
is shut (0), partly open and fully open (1), and the lowest and highest scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, RUNS, header, header_line, load_rgb8, result_path, write_report

SEED0 = 70_000  # the fit reads seeds below 310_000 + frame index at j * 100_000 offsets; these differ


def readings(rgb: np.ndarray, seed: int, seeds: int, hr: bool = True):
    from segsr_gui.training.data import make_lr
    from segsr_gui.training.scene_gate import grey

    views = {"as is": rgb} if hr else {}
    if hr and rgb.shape[0] >= 200:
        views["bicubic LR"] = make_lr(rgb, "bicubic", seed)
    for j in range(seeds):
        views[f"real-world LR {j}"] = make_lr(rgb, "realworld", seed + 7919 * (j + 1))
    for name, view in list(views.items()):
        views[f"{name}, grey"] = grey(view)
    return views


def main(argv=None) -> int:
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.data import load_camvid

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--refs", default=str(RUNS / "person-refs"))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", default=result_path("scene_gate"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)

    def read(rgb):
        lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].float() * 2 - 1
        return loaded.model.scene_gate(lr)

    rows = []
    for split in ("val", "test"):
        for i, image in enumerate(load_camvid(DATA, split).images):
            for view, rgb in readings(image.astype(np.float32) / 255, SEED0 + i, args.seeds).items():
                rows.append({"group": f"street: CamVid {split}", "photo": f"{split}/{i}", "view": view, **_gate(read(rgb))})
        print(split, file=sys.stderr, flush=True)
    refs = json.loads((Path(args.refs) / "refs.json").read_text())
    people = {p["path"] for p in refs["photos"]}
    others = [str(p.relative_to(DATA)) for p in sorted((DATA / "sr_bench").rglob("*.png")) + sorted((DATA / "real_world").glob("*"))
              if str(p.relative_to(DATA)) not in people]
    for group, paths in (("people", sorted(people)), ("other photos", others)):
        for k, path in enumerate(paths):
            rgb = load_rgb8(DATA / path).astype(np.float32) / 255
            for view, reading in readings(rgb, SEED0 + 5000 + k, 1).items():
                rows.append({"group": group, "photo": path, "view": view, **_gate(read(reading))})
    write_report(args.out, {**header(sys.argv), "model": loaded.name,
                            "gate": list(loaded.model.classes.config.person.gate), "rows": rows}, render)
    return 0


def _gate(score_gate) -> dict:
    return {"score": score_gate[0], "gate": score_gate[1]}


def render(report: dict) -> str:
    street, elsewhere = report["gate"]
    lines = ["# The scene gate on photos it was not fitted on", "", header_line(report), "",
             f"Model {report['model']}: shut at or below score {street:.2f} (CamVid val's highest in the fit), "
             f"fully open from {elsewhere:.2f}. Street scenes should read shut, photos with people open.", "",
             "| group | readings | shut | partly open | open | lowest score | highest score |", "|---|---|---|---|---|---|---|"]
    groups = dict.fromkeys(r["group"] for r in report["rows"])
    for group in groups:
        rs = [r for r in report["rows"] if r["group"] == group]
        g = np.array([r["gate"] for r in rs])
        s = np.array([r["score"] for r in rs])
        lines.append(f"| {group} | {len(rs)} | {np.mean(g == 0):.1%} | {np.mean((g > 0) & (g < 1)):.1%} | "
                     f"{np.mean(g == 1):.1%} | {s.min():.2f} | {s.max():.2f} |")
    lines += ["", "Readings on the wrong side (a street not shut, people not fully open):", "",
              "| group | photo | view | score | gate |", "|---|---|---|---|---|"]
    for r in report["rows"]:
        wrong = (r["group"].startswith("street") and r["gate"] > 0) or (r["group"] == "people" and r["gate"] < 1)
        if wrong:
            lines.append(f"| {r['group']} | {r['photo']} | {r['view']} | {r['score']:.2f} | {r['gate']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
