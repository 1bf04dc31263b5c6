"""A blind sheet of what the automatic repair changes on real photos that carry no damage: for
each photo of ``real_world`` without scratches, crops around the largest groups the detection
marks, unrepaired and repaired (``auto``) under the letters A and B in a shuffled order (3x,
nearest neighbour). There is nothing to repair in these photos, so every change is a false
repair; the sheet asks whether a viewer sees it, and whether it harms the photo.

The key goes to a separate file the viewer must not see. The viewer answers per row with the
letter of the better photo, or "=" where the two look the same; ``--score RANKING.json``
(``{"rows": {"1": "A", "2": "=", ...}, "notes": "..."}``) counts repaired better / same / worse.

    python -m benchmarks.repair.blind_false --weights runs/repair/repair.safetensors \
        --out runs/repair/blind_false.png --key runs/repair/blind_false_key.json
    python -m benchmarks.repair.blind_false --key runs/repair/blind_false_key.json \
        --score runs/repair/blind_false_ranking.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import DATA, ROOT, header, header_line, load_rgb8, result_path, write_report
from benchmarks.repair.real_marks import DAMAGED, repair_as_app
from benchmarks.repair.real_sheet import _tile
from segsr_gui.engine.repair.repair import RepairModel
from segsr_gui.io.read import load_image

SIDE = 64  # px of the photo per crop
PER_PHOTO = 2


def crops(mask: np.ndarray, shape) -> list[tuple[int, int]]:
    """Top-left corners of SIDE x SIDE crops centred on the largest marked groups."""
    n, _, stats, centres = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = []
    for k in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:PER_PHOTO] + 1:
        cx, cy = centres[k]
        out.append((int(np.clip(cy - SIDE // 2, 0, max(0, shape[0] - SIDE))),
                    int(np.clip(cx - SIDE // 2, 0, max(0, shape[1] - SIDE)))))
    return out


def make(model: RepairModel, seed: int = 38) -> tuple[Image.Image, dict]:
    rng = np.random.default_rng(seed)
    rows, key = [], {}
    for path in sorted((DATA / "real_world").glob("*")):
        if f"real_world/{path.name}" in DAMAGED:
            continue
        photo = load_rgb8(path).astype(np.float32) / 255
        repaired, mask = repair_as_app(model, photo, load_image(path).alpha, "fp32")
        variants = {"unrepaired": photo, "auto": repaired}
        for top, left in crops(mask, photo.shape):
            order = list(rng.permutation(list(variants)))
            key[str(len(rows) + 1)] = {"photo": path.name, "box": [left, top, SIDE, SIDE],
                                       "order": "".join(m[0] for m in order)}
            rows.append([_tile(variants[m][top:top + SIDE, left:left + SIDE]) for m in order])
    tile = rows[0][0].size[0]
    sheet = Image.new("RGB", (60 + 2 * (tile + 20), len(rows) * (tile + 22)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, row in enumerate(rows):
        y = i * (tile + 22)
        draw.text((4, y + 4), f"row {i + 1}", fill="black")
        for j, (letter, t) in enumerate(zip("AB", row)):
            draw.text((60 + j * (tile + 20), y + 4), letter, fill="black")
            sheet.paste(t, (60 + j * (tile + 20), y + 18))
    return sheet, key


def score(key: dict, answers: dict) -> dict:
    counts = {"better": 0, "same": 0, "worse": 0}
    for row, answer in answers.items():
        if answer == "=":
            counts["same"] += 1
        else:
            picked = key[row]["order"]["AB".index(answer)]
            counts["better" if picked == "a" else "worse"] += 1
    return {**counts, "rows": len(answers)}


def render(report: dict) -> str:
    s = report["score"]
    return "\n".join([
        "# Blind look: what the repair changes on photos without damage", "", header_line(report), "",
        f"{s['rows']} crops of the real photos without scratches, around what the detection marks; a viewer who "
        "never saw the key picked the better of unrepaired and repaired, or \"=\" for no difference.", "",
        "| repaired | crops |", "|---|---|",
        f"| better | {s['better']} |", f"| the same | {s['same']} |", f"| worse | {s['worse']} |", "",
        *(["Viewer's notes: " + report["notes"], ""] if report.get("notes") else [])])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(ROOT / "runs" / "repair" / "repair.safetensors"))
    ap.add_argument("--out", default=str(ROOT / "runs" / "repair" / "blind_false.png"))
    ap.add_argument("--key", default=str(ROOT / "runs" / "repair" / "blind_false_key.json"))
    ap.add_argument("--score", help="a viewer's answers JSON: scores them against the key")
    ap.add_argument("--report", default=result_path("blind_false"))
    args = ap.parse_args(argv)
    if args.score:
        answers = json.loads(Path(args.score).read_text())
        report = {**header(__import__("sys").argv), "key": json.loads(Path(args.key).read_text()),
                  "answers": answers["rows"], "notes": answers.get("notes", "")}
        report["score"] = score(report["key"], answers["rows"])
        write_report(args.report, report, render)
        return 0
    sheet, key = make(RepairModel.load(args.weights))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    Path(args.key).write_text(json.dumps(key, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
