"""A sheet of the synthetic damage recipe (``training/scratches.py``) beside crops of the
real scans, shown at 3x (nearest neighbour), to judge by eye whether the recipe looks real.

Rows: real scan crops (``old_scratch_a``, the bundled sample), then synthetic examples on
CamVid train frames (damaged print, its mask in red).

    python -m benchmarks.repair.recipe_sheet --data ../shared/data --out runs/repair/recipe_sheet.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from segsr_gui.training.data import load_camvid
from segsr_gui.training.scratches import damage_example

CROP, ZOOM = 96, 3
REAL_CROPS = [("real_world/old_scratch_a.png", (390, 220)), ("real_world/old_scratch_a.png", (150, 100)),
              ("real_world/old_scratch_a.png", (0, 0)), ("real_world/old_scratch_a.png", (0, 440))]
SAMPLE_CROPS = [(20, 40), (74, 20)]


def _tile(a: np.ndarray) -> Image.Image:
    im = Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8))
    return im.resize((im.width * ZOOM, im.height * ZOOM), Image.NEAREST)


def _crop(path: Path, xy) -> np.ndarray:
    a = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    x, y = xy
    return a[y:y + CROP, x:x + CROP]


def make_sheet(data: Path, sample: Path, count: int = 12, seed: int = 7) -> Image.Image:
    tiles = [_crop(data / p, xy) for p, xy in REAL_CROPS] + [_crop(sample, xy) for xy in SAMPLE_CROPS]
    frames = load_camvid(data, "train").images
    rng = np.random.default_rng(seed)
    for _ in range(count):
        f = frames[int(rng.integers(len(frames)))]
        y, x = int(rng.integers(0, f.shape[0] - CROP)), int(rng.integers(0, f.shape[1] - CROP))
        damaged, _, mask = damage_example(f[y:y + CROP, x:x + CROP].astype(np.float32) / 255, rng, clean_share=0)
        shown = damaged.copy()
        shown[mask] = 0.5 * shown[mask] + 0.5 * np.array([1.0, 0.0, 0.0])
        tiles += [damaged, shown]
    cols = 6
    rows = (len(tiles) + cols - 1) // cols
    side = CROP * ZOOM + 4
    sheet = Image.new("RGB", (cols * side, rows * side), "white")
    for i, t in enumerate(tiles):
        sheet.paste(_tile(t), ((i % cols) * side, (i // cols) * side))
    return sheet


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--sample", type=Path, default=Path("resources/sample.png"))
    p.add_argument("--out", type=Path, default=Path("runs/repair/recipe_sheet.png"))
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    make_sheet(a.data, a.sample, seed=a.seed).save(a.out)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
