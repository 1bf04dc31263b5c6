"""A sheet of the repair on the real damaged scans: before / mask / repaired / Telea with
the same mask, crops shown at 3x (nearest neighbour), to judge by eye.

Rows: crops of ``real_world/old_scratch_a.png`` (cracks on the curtain, the hair, the torn
top-left corner, the face) and the bundled ``resources/sample.png`` (light scratches).

    python -m benchmarks.repair.real_sheet --weights runs/repair/repair.safetensors \
        --out runs/repair/real_sheet.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from segsr_gui.engine.repair.repair import RepairModel
from segsr_gui.training.repair_eval import to_numpy, to_tensor
from segsr_gui.training.repair_validate import telea

ZOOM = 3
CROPS = {"real_world/old_scratch_a.png": [(380, 220, 116, 140), (150, 90, 140, 140), (0, 0, 140, 140),
                                          (200, 180, 140, 140), (330, 330, 140, 140)],
         "sample": [(0, 0, 170, 170)]}
COLUMNS = ("before", "mask", "repaired", "Telea, same mask")


def _tile(a: np.ndarray) -> Image.Image:
    im = Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8))
    return im.resize((im.width * ZOOM, im.height * ZOOM), Image.NEAREST)


def make_sheet(model: RepairModel, data: Path, sample: Path) -> Image.Image:
    rows = []
    for key, boxes in CROPS.items():
        path = sample if key == "sample" else data / key
        photo = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
        out, mask = model.repair(to_tensor(photo))
        repaired, m = to_numpy(out), mask[0, 0].numpy()
        classic = telea(photo, m)
        shown = photo.copy()
        shown[m] = 0.4 * shown[m] + 0.6 * np.array([1.0, 0.1, 0.1])
        for x, y, w, h in boxes:
            rows.append([a[y:y + h, x:x + w] for a in (photo, shown, repaired, classic)])
    side = max(t.shape[1] for r in rows for t in r) * ZOOM + 6
    height = [max(t.shape[0] for t in r) * ZOOM + 6 for r in rows]
    sheet = Image.new("RGB", (side * len(COLUMNS), 20 + sum(height)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(COLUMNS):
        draw.text((j * side + 4, 4), name, fill="black")
    top = 20
    for r, h in zip(rows, height):
        for j, t in enumerate(r):
            sheet.paste(_tile(t), (j * side, top))
        top += h
    return sheet


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, default=Path("runs/repair/repair.safetensors"))
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--sample", type=Path, default=Path("resources/sample.png"))
    p.add_argument("--out", type=Path, default=Path("runs/repair/real_sheet.png"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    make_sheet(RepairModel.load(a.weights), a.data, a.sample).save(a.out)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
