"""Blind sheets of a toned print: Auto with the toned-print rule against Auto without it and the peers.

The toned-print rule (``engine/nets/print_tone.py``) changes what Auto picks on one photo of
``real_world``, the cracked sepia scan ``old_scratch_a``. This puts both picks side by side
with the peers of ``old_photos.py`` on crops of that photo: "without the rule" is the strength
the damage estimate alone gives (``strength_for(damage)``), made here and saved beside the
other rows. Sheets as ``blind_sheet.py`` makes them; the key goes apart from the sheets.

    python -m benchmarks.quality.old_photos --photos old_scratch_a   # first: the other rows
    python -m benchmarks.quality.blind_toned [--out runs/blind-toned] [--crops 4]
    python -m benchmarks.quality.blind_toned --score RANKS.json [--viewer NAME]

writes ``OUT/sheets/sheet_NN.png`` and ``OUT/key.json``; ``--score`` writes
benchmarks/results/blind_toned.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import DATA, RUNS, result_path, to_uint8
from benchmarks.quality.blind_sheet import METHODS, OUTPUTS, crop_boxes, score, write_sheets

WITHOUT = "ours (Auto without the toned-print rule)"
WITH = "ours (Auto, the default)"


def without_rule(photo: str, model: str) -> Path:
    """The photo enlarged at the strength its damage alone gives (saved once, then reused)."""
    import torch

    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.io.read import load_image

    saved = OUTPUTS / "auto_without_toned_rule" / f"{photo}.png"
    if not saved.is_file():
        loaded = load_model(model).model
        lr = load_image(DATA / "real_world" / f"{photo}.png").rgb
        as_tensor = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None] * 2 - 1
        strength = loaded.strength_for(loaded.damage_of(as_tensor))
        print(f"{photo}: without the rule Auto picks {100 * strength:.0f} %", flush=True)
        saved.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(to_uint8(upscale(lr, loaded, strength=strength).image)).save(saved)
    return saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(RUNS / "blind-toned"))
    ap.add_argument("--photo", default="old_scratch_a")
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--crops", type=int, default=4)
    ap.add_argument("--seed", type=int, default=38)
    ap.add_argument("--score", type=Path, help="a viewer's ranking JSON: score it against OUT/key.json")
    ap.add_argument("--viewer", default="a viewer who did not see the key")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.score:
        score(args.score, out / "key.json", args.viewer, result_path("blind_toned"), "blind_toned.py")
        return 0
    paths = {label: OUTPUTS / folder / f"{args.photo}.png" for label, folder in METHODS.items()}
    paths[WITH] = paths.pop("ours (Auto)")
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"{missing[0]} missing: run python -m benchmarks.quality.old_photos --photos {args.photo}")
    paths[WITHOUT] = without_rule(args.photo, args.model)
    images = {label: np.asarray(Image.open(p).convert("RGB")) for label, p in paths.items()}
    rng = np.random.default_rng(args.seed)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    key = write_sheets(images, args.photo, crop_boxes(images["bicubic"], args.crops, 192, rng), 192, rng,
                       out / "sheets")
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(key)} sheets in {out / 'sheets'}; the key is {out / 'key.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
