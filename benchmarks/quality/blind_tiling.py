"""Blind pairs: the clean expert run whole (ours at 100 %) against the same net run in the
peer's tiles, both finished as the model finishes them.

``peer_tiling.py`` shows x4plus run whole smooths more than in upstream's 128-pixel tiles.
Before changing how the model runs its clean expert, this asks a viewer which look it would
pick: on the crops of ``blind_sheet.py`` (the same photos, boxes and seed), ours at strength
1 (``old_photos.py``'s row, the repair off) beside the ncnn peer's output finished by the
model's lattice removal and tone guard, in a shuffled order. The crop boxes are those of the
recorded blind sheets (``BOXES``).

    python -m benchmarks.quality.old_photos            # first: both rows' outputs
    python -m benchmarks.quality.blind_tiling [--out runs/blind-tiling]
    python -m benchmarks.quality.blind_tiling --score RANKS.json [--viewer NAME]

writes ``OUT/sheets/sheet_NN.png`` and ``OUT/key.json``; ``--score`` writes
benchmarks/results/blind_tiling.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, RESULTS, RUNS, result_path, to_uint8
from benchmarks.quality.blind_sheet import OUTPUTS, score, write_sheets

BOXES = RESULTS / "blind" / "key_viewer4.json"

WHOLE = "ours at 100 %, the clean expert run whole"
TILED = "the clean expert in the peer's tiles, finished as ours"


def finished_peer(photo: Path, experts) -> np.ndarray:
    """The x4plus peer's saved output with the model's two finishing steps."""
    from segsr_gui.io.read import load_image

    lr = load_image(photo).rgb
    h, w = lr.shape[:2]
    peer = np.asarray(Image.open(OUTPUTS / "Real-ESRGAN_x4plus_(ncnn)" / f"{photo.stem}.png").convert("RGB"),
                      np.float32)[:4 * h, :4 * w] / 255
    as_tensor = lambda a: torch.from_numpy(a.transpose(2, 0, 1).copy())[None] * 2 - 1  # noqa: E731
    with torch.inference_mode():
        out = experts.finish(as_tensor(peer), as_tensor(lr))
    return to_uint8(((out + 1) / 2)[0].permute(1, 2, 0).numpy())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(RUNS / "blind-tiling"))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--seed", type=int, default=40)
    ap.add_argument("--score", type=Path, help="a viewer's ranking JSON: score it against OUT/key.json")
    ap.add_argument("--viewer", default="a viewer who did not see the key")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.score:
        score(args.score, out / "key.json", args.viewer, result_path("blind_tiling"), "blind_tiling.py")
        return 0
    from segsr_gui.engine.nets.weights import load_model

    experts = load_model(args.model).model.experts
    rng = np.random.default_rng(args.seed)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    recorded = json.loads(BOXES.read_text())
    key: dict = {}
    for stem in dict.fromkeys(entry["photo"] for entry in recorded.values()):
        photo = next((DATA / "real_world").glob(f"{stem}.*"))
        whole = np.asarray(Image.open(OUTPUTS / "segsr-x4,_strength_1_(clean_expert)" / f"{stem}.png").convert("RGB"))
        images = {WHOLE: whole, TILED: finished_peer(photo, experts)}
        boxes = [tuple(e["box"][:2]) for e in recorded.values() if e["photo"] == stem]
        key.update(write_sheets(images, stem, boxes, 192, rng, out / "sheets", first=len(key) + 1))
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(key)} sheets in {out / 'sheets'}; the key is {out / 'key.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
