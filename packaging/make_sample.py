"""Make resources/sample.png: NASA's public-domain astronaut portrait (as shipped in
scikit-image's ``skimage.data.astronaut``), aged with SegSR's own old-photo
degradation so the bundled sample looks like what users bring.

Run once (needs scikit-image, which the app itself does not depend on):
    pip install scikit-image && python packaging/make_sample.py

``aged()`` also gives the exact damage the aging painted (its dust and scratches), which
``benchmarks/repair/real_marks.py`` scores the damage detection against.
"""

from pathlib import Path

import numpy as np
from PIL import Image

SEED, SCALE = 1969, 3
OUT = Path(__file__).resolve().parents[1] / "resources" / "sample.png"


def aged():
    """(sample (H, W, 3) uint8, damage (H, W) bool): the sample as written, and where its
    dust and scratches changed the print by more than the repair recipe's ``MASK_LEVEL``."""
    from skimage import data

    from segsr_gui.training import degrade
    from segsr_gui.training.scratches import MASK_LEVEL

    painted = []
    hq = data.astronaut().astype(np.float32) / 255  # 512 x 512, public domain (NASA)
    lq, _tone = degrade.old_photo(hq, np.random.default_rng(SEED), scale=SCALE, painted=painted)
    damage = np.abs(painted[1] - painted[0]).max(2) > MASK_LEVEL
    return np.round(lq * 255).astype(np.uint8), damage


if __name__ == "__main__":
    sample, _ = aged()
    Image.fromarray(sample).save(OUT, optimize=True)
    print(f"wrote {OUT} {sample.shape[1]}x{sample.shape[0]}")
