"""A blind sheet of the repair on the real damaged scans: for every crop of ``real_sheet.py``,
the photo unrepaired, repaired with the automatic detection (``auto``), and filled by OpenCV's
Telea with the same mask, in a shuffled order under the letters A, B, C (3x, nearest neighbour).
The key goes to a separate file that the viewer must not see; ``--score RANKING.json`` turns a
viewer's ranking (``{"1": "BAC", ...}``, best first) into mean ranks per method.

    python -m benchmarks.repair.blind_repair --weights runs/repair/repair.safetensors \
        --out runs/repair/blind.png --key runs/repair/blind_key.json
    python -m benchmarks.repair.blind_repair --key benchmarks/results/blind_repair_key.json \
        --score benchmarks/results/blind_repair_ranking.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import DATA, ROOT, header, header_line, result_path, write_report
from benchmarks.repair.real_sheet import CROPS, _tile
from segsr_gui.engine.repair.repair import RepairModel
from segsr_gui.training.repair_eval import to_numpy, to_tensor
from segsr_gui.training.repair_validate import telea

METHODS = ("unrepaired", "auto", "telea")


def make(model: RepairModel, seed: int = 37) -> tuple[Image.Image, dict]:
    rng = np.random.default_rng(seed)
    rows, key = [], {}
    for name, boxes in CROPS.items():
        path = ROOT / "resources" / "sample.png" if name == "sample" else DATA / name
        photo = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
        repaired, mask = model.repair(to_tensor(photo), precision="fp32")
        variants = {"unrepaired": photo, "auto": to_numpy(repaired),
                    "telea": telea(photo, mask[0, 0].cpu().numpy())}
        for left, top, w, h in boxes:
            order = list(rng.permutation(METHODS))
            key[str(len(rows) + 1)] = "".join(m[0] for m in order)  # u / a / t per letter A, B, C
            rows.append([_tile(variants[m][top:top + h, left:left + w]) for m in order])
    width = max(sum(t.width for t in r) + 20 * len(r) for r in rows)
    height = sum(max(t.height for t in r) + 22 for r in rows)
    sheet = Image.new("RGB", (width + 60, height), "white")
    draw, y = ImageDraw.Draw(sheet), 0
    for i, row in enumerate(rows, 1):
        draw.text((4, y + 4), f"row {i}", fill="black")
        x = 60
        for letter, tile in zip("ABC", row):
            draw.text((x, y + 4), letter, fill="black")
            sheet.paste(tile, (x, y + 18))
            x += tile.width + 20
        y += max(t.height for t in row) + 22
    return sheet, key


def score(key: dict, ranking: dict) -> dict:
    names = {"u": "unrepaired", "a": "auto", "t": "telea"}
    ranks = {m: [] for m in METHODS}
    above = 0
    for row, order in ranking.items():
        code = key[row]  # letter i -> method code[i]
        placed = [names[code["ABC".index(letter)]] for letter in order]
        for r, m in enumerate(placed, 1):
            ranks[m].append(r)
        above += placed.index("auto") < placed.index("unrepaired")
    return {"mean_rank": {m: float(np.mean(v)) for m, v in ranks.items()},
            "first": {m: sum(r == 1 for r in v) for m, v in ranks.items()},
            "auto_above_unrepaired": above, "rows": len(ranking)}


def render(report: dict) -> str:
    s = report["score"]
    lines = ["# Blind look: the repair on real scans", "", header_line(report), "",
             f"{s['rows']} crops of old_scratch_a and the bundled sample; a viewer who never saw the key ranked "
             "unrepaired, automatic repair and Telea with the same mask (1 = best).", "",
             "| method | mean rank | first |", "|---|---|---|"]
    lines += [f"| {m} | {s['mean_rank'][m]:.2f} | {s['first'][m]} |" for m in METHODS]
    lines += ["", f"Repaired ranked above unrepaired on {s['auto_above_unrepaired']} of {s['rows']} crops.", ""]
    if report.get("notes"):
        lines += ["Viewer's notes: " + report["notes"], ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=str(ROOT / "runs" / "repair" / "repair.safetensors"))
    ap.add_argument("--out", default=str(ROOT / "runs" / "repair" / "blind.png"))
    ap.add_argument("--key", default=str(ROOT / "runs" / "repair" / "blind_key.json"))
    ap.add_argument("--score", help="a viewer's ranking JSON: scores it against the key")
    ap.add_argument("--report", default=result_path("blind_repair"))
    args = ap.parse_args(argv)
    if args.score:
        ranking = json.loads(Path(args.score).read_text())
        report = {**header(__import__("sys").argv), "score": score(json.loads(Path(args.key).read_text()),
                                                                     ranking["rows"]),
                  "notes": ranking.get("notes", "")}
        write_report(args.report, report, render)
        return 0
    sheet, key = make(RepairModel.load(args.weights))
    sheet.save(args.out)
    Path(args.key).write_text(json.dumps(key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
