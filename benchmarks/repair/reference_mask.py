"""A reference damage mask for the real scan ``real_world/old_scratch_a.png``, made semi-manually.

The automatic part marks what stands out light against its surroundings: luminance minus its
11x11 median above ``LIGHT`` grey levels (the cream emulsion cracks, specks and the paper of the
torn edges; the photo's own grain stays under 10), groups of fewer than ``SMALLEST`` pixels
dropped. The manual part is data, read at 2x zoom on the overlay this script writes:
``CONTENT`` lists boxes of real light detail the rule catches (the bow, the cigarette, the
ring, catchlights, the rims of the face, neck and hand) and is unmarked; ``PAPER`` lists the
torn corner where the paper shows as a whole patch, marked where it is light.

The mask is validation only (one scan; nothing is fitted on it). Writes
``OUT/old_scratch_a_reference.png`` (255 = damage) and ``OUT/old_scratch_a_reference_check.png``
(the mask in red over the photo, 2x, for checking by eye).

    python -m benchmarks.repair.reference_mask --data ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PHOTO = "real_world/old_scratch_a.png"
LIGHT, SMALLEST = 30, 3
# (left, top, right, bottom) in photo pixels
CONTENT = [
    (138, 128, 236, 222),  # the bow and its ribbon's end
    (255, 253, 287, 272),  # the eye's catchlight and lid
    (292, 322, 380, 358),  # the cigarette, lips and nostril
    (346, 408, 376, 446),  # the ring and the knuckle below it
    (192, 440, 282, 492),  # the neckline's rim
    (280, 372, 304, 390),  # the fingers' rims
    (288, 420, 304, 436),
]
PAPER = [(0, 0, 64, 52)]  # the torn top-left corner
PAPER_LEVEL = 150  # luminance of the bare paper there


def reference(rgb: np.ndarray) -> np.ndarray:
    """The damage mask (H, W) bool of the scan (H, W, 3) uint8."""
    y = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    light = y - cv2.medianBlur(np.round(y).astype(np.uint8), 11).astype(np.float32) > LIGHT
    for l, t, r, b in PAPER:
        light[t:b, l:r] |= y[t:b, l:r] > PAPER_LEVEL
    for l, t, r, b in CONTENT:
        light[t:b, l:r] = False
    n, lab, stats, _ = cv2.connectedComponentsWithStats(light.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= SMALLEST
    return keep[lab]


def check_sheet(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    over = rgb.copy()
    over[mask] = (255, 0, 0)
    for l, t, r, b in CONTENT:
        cv2.rectangle(over, (l, t), (r - 1, b - 1), (0, 160, 255), 1)
    return cv2.resize(over, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/repair/results"))
    args = p.parse_args(argv)
    path = args.data / PHOTO
    if not path.is_file():
        print(f"{path} not found: pass --data with the shared data folder")
        return 1
    rgb = np.asarray(Image.open(path).convert("RGB"))
    mask = reference(rgb)
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray((mask * 255).astype(np.uint8)).save(args.out / "old_scratch_a_reference.png", optimize=True)
    Image.fromarray(check_sheet(rgb, mask)).save(args.out / "old_scratch_a_reference_check.png")
    print(f"{mask.mean() * 100:.2f} % of {PHOTO} marked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
