"""Whether a photo is a toned monochrome print (sepia, brown or gold toning).

Auto's damage estimator reads grain, noise and JPEG blocks. A soft scan of a sepia print
shows none of them at the pixel scale and reads as clean (issue 38: two cracked sepia
portraits at 0.18 and 0.25, below ``low``; `old_scratch_a` 0.31), yet a viewer ranks the
clean look first on it. Its tone gives it away where its pixels do not: every colour of a
toned print lies on one hue line, the toning, and that hue is warm (sepia, brown, gold).

The reading, on the LR photo in BT.601 YCbCr (Pillow's, 0..255): ``chroma`` the mean
distance of (Cb, Cr) from neutral grey; ``off_hue`` the share of pixels whose colour lies
more than ``OFF_HUE_LEVELS`` grey levels off the photo's mean hue line; ``hue`` the angle of
that line, degrees, atan2(Cr, Cb) (sepia about 140, blue about -40). A photo is a toned print
when ``chroma >= min_chroma``, ``off_hue <= max_off_hue`` and ``hue`` lies in
``[hue_low, hue_high]``. ``benchmarks/quality/toned_prints.py`` reads them on validation
photos: the four toned scans of ``real_world`` reach chroma 17.8-30.7, off_hue 0.4-3.7 % and
hue 127-163; CamVid val has no frame above chroma 8.1; the untoned real photos read 12 %
off-hue and more; the wallpaper photos of one hue are blue (-54 to -34) or 179 (bare wood).
Colour photos of one warm hue (sand, a sunlit stone city) read as toned prints too: 6 of
BSD68's 68 and 2 of Urban100's 10 (test sets, read to report). A grey photo (chroma 0) is not
toned: a sharp grey photo shrunk cleanly must keep the faithful look. Nor is a photo without
a picture, one whose brightness varies less than ``PICTURE_LEVELS`` (standard deviation): a
flat patch of beige is no print, and the clean expert draws a faint pattern on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

OFF_HUE_LEVELS = 6.0  # grey levels (of 255) off the hue line: above JPEG's and a scan's colour noise
PICTURE_LEVELS = 4.0  # grey levels (of 255), the least standard deviation of brightness of a print
MAX_READ = 1 << 20  # pixels read of a big photo


@dataclass(frozen=True)
class ToneReading:
    chroma: float  # mean chroma, grey levels
    off_hue: float  # share of pixels off the mean hue line, 0..1
    hue: float  # the mean hue line's angle, degrees, atan2(Cr, Cb)
    contrast: float  # standard deviation of brightness (Y), grey levels

    def toned(self, min_chroma: float, max_off_hue: float, hue_low: float, hue_high: float) -> bool:
        return (self.contrast >= PICTURE_LEVELS and self.chroma >= min_chroma and self.off_hue <= max_off_hue
                and hue_low <= self.hue <= hue_high)


def read_tone(lr: torch.Tensor) -> ToneReading:
    """The tone reading of an LR photo (1, 3, H, W) in [-1, 1]; a big photo is read on a grid
    of about ``MAX_READ`` of its pixels, which bounds the memory and moves the shares little
    (``old_c`` enlarged 2.5x: off-hue 3.2 % read on the grid, 3.7 % whole)."""
    step = max(1, math.isqrt(lr.shape[-2] * lr.shape[-1] // MAX_READ))
    rgb = (lr[0, :, ::step, ::step].float().clamp(-1, 1) + 1) * 127.5
    r, g, b = rgb[0], rgb[1], rgb[2]
    contrast = float((0.299 * r + 0.587 * g + 0.114 * b).std())
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    chroma = torch.hypot(cb, cr)
    mean_cb, mean_cr = float(cb.sum()), float(cr.sum())
    norm = (mean_cb ** 2 + mean_cr ** 2) ** 0.5
    if norm == 0.0:
        return ToneReading(float(chroma.mean()), 0.0 if float(chroma.max()) == 0.0 else 1.0, 0.0, contrast)
    # the distance of each colour from the line through grey along the mean hue
    off = (cb * (mean_cr / norm) - cr * (mean_cb / norm)).abs()
    return ToneReading(float(chroma.mean()), float((off > OFF_HUE_LEVELS).float().mean()),
                       math.degrees(math.atan2(mean_cr, mean_cb)), contrast)
