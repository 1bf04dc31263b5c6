"""Blind sheets of the photos Auto gives a strength between the ends: is the middle a look a
viewer picks, or only a mix of two looks?

Auto's strength used to rise linearly between two damage thresholds, ``RAMP`` (the clean
validation photos' 95th percentile and the damaged ones' 5th), so a photo whose damage read
between them got a blend of the faithful and the clean expert. On the validation photos of
``real_world`` that the ramp blended (``PHOTOS``), this puts that blend beside the two ends
(strength 0 and 1) and Real-ESRGAN x4plus, on crops with detail. Sheets as ``blind_sheet.py``
makes them; the key goes apart from the sheets.

    python -m benchmarks.quality.old_photos            # first: every row's outputs
    python -m benchmarks.quality.blind_midway [--out runs/blind-midway] [--crops 4]
    python -m benchmarks.quality.blind_midway --score RANKS.json [--viewer NAME]

writes ``OUT/sheets/sheet_NN.png`` and ``OUT/key.json``; ``--score`` writes
benchmarks/results/blind_midway.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import DATA, RUNS, result_path, to_uint8
from benchmarks.quality.blind_sheet import OUTPUTS, crop_boxes, score, write_sheets

RAMP = (0.271, 0.4355)
PHOTOS = ["0014.jpg", "children-alpha.png"]  # the ramp gave them 41 % and 27 %
BLEND = "ours, Auto (between the ends)"
ROWS = {
    BLEND: "auto_ramp",
    "ours, strength 0": "segsr-x4,_strength_0_(faithful_expert)",
    "ours, strength 1": "segsr-x4,_strength_1_(clean_expert)",
    "Real-ESRGAN x4plus": "Real-ESRGAN_x4plus_(ncnn)",
}


def ramp_output(photo: str, loaded) -> tuple[float, Path]:
    """The photo enlarged at the strength the ramp gives its damage (saved once, then reused)."""
    import torch

    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.damage import strength_from_damage
    from segsr_gui.io.read import load_image

    lr = load_image(DATA / "real_world" / photo).rgb
    damage = loaded.damage_of(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None] * 2 - 1)
    strength = round(strength_from_damage(damage, *RAMP), 3)
    saved = OUTPUTS / ROWS[BLEND] / f"{Path(photo).stem}.png"
    if not saved.is_file():
        saved.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(to_uint8(upscale(lr, loaded, strength=strength).image)).save(saved)
    return strength, saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(RUNS / "blind-midway"))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--crops", type=int, default=4, help="crops per photo")
    ap.add_argument("--seed", type=int, default=39)
    ap.add_argument("--score", type=Path, help="a viewer's ranking JSON: score it against OUT/key.json")
    ap.add_argument("--viewer", default="a viewer who did not see the key")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.score:
        score(args.score, out / "key.json", args.viewer, result_path("blind_midway"), "blind_midway.py")
        return 0
    from segsr_gui.engine.nets.weights import load_model

    loaded = load_model(args.model).model
    rng = np.random.default_rng(args.seed)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    key: dict = {}
    for name in PHOTOS:
        photo = Path(name).stem
        paths = {label: OUTPUTS / folder / f"{photo}.png" for label, folder in ROWS.items()}
        strength, paths[BLEND] = ramp_output(name, loaded)
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise SystemExit(f"{missing[0]} missing: run python -m benchmarks.quality.old_photos")
        images = {label: np.asarray(Image.open(p).convert("RGB")) for label, p in paths.items()}
        boxes = crop_boxes(images["ours, strength 0"], args.crops, 192, rng)
        sheets = write_sheets(images, photo, boxes, 192, rng, out / "sheets", first=len(key) + 1)
        key.update({name: {**entry, "auto_strength": strength} for name, entry in sheets.items()})
        print(f"{photo}: Auto {100 * strength:.0f} %, {len(sheets)} sheets")
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(key)} sheets in {out / 'sheets'}; the key is {out / 'key.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
