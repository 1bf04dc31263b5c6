"""Make resources/sample.png: NASA's public-domain astronaut portrait (as shipped in
scikit-image's ``skimage.data.astronaut``), aged with SegSR's own old-photo
degradation so the bundled sample looks like what users bring.

Run once (needs scikit-image, which the app itself does not depend on):
    pip install scikit-image && python packaging/make_sample.py
"""

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from segsr_gui.training.degrade import old_photo

hq = data.astronaut().astype(np.float32) / 255  # 512 x 512, public domain (NASA)
rng = np.random.default_rng(1969)
lq, _tone = old_photo(hq, rng, scale=3)
out = Path(__file__).resolve().parents[1] / "resources" / "sample.png"
Image.fromarray(np.round(lq * 255).astype(np.uint8)).save(out, optimize=True)
print(f"wrote {out} {lq.shape[1]}x{lq.shape[0]}")
