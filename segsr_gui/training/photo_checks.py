"""Checks of an x4 output that need no original (old photos have none).

- ``lr_consistency``: the output shrunk x4 (Pillow bicubic) against the input, PSNR on Y.
  A restorer may remove noise, so this is not 100 dB, but a low value means the photo
  changed (tones, shapes), not just its noise.
- ``tone_shift``: |mean Y of that shrunk output - mean Y of the input|, grey levels (0..255).
- ``newly_clipped``: share of output pixels at Y >= 234 whose bicubic-enlarged input is
  below 234: highlights the method blew out.
- ``grid_peak``: an invented lattice (pixel-shuffle or tile artefacts) shows in the
  spectrum of the high-passed Y as peaks at the 4- and 2-pixel periods. The spectrum is
  averaged over 64x64 Hann-windowed blocks; the peak is the highest bin at those
  frequencies against the median of the 9x9 bins around it (its own 3x3 excluded), in dB.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from segsr_gui.training.metrics import psnr_y, to_y

CLIP_LEVEL = 234
BLOCK = 64
FLAT_STD = 0.5  # grey levels of high-passed Y


luma = to_y  # Y in 16..235 of RGB (or grayscale) in [0, 1]


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    planes = [Image.fromarray(rgb[..., c].astype(np.float32), mode="F").resize((width, height), Image.BICUBIC)
              for c in range(rgb.shape[2])]
    return np.clip(np.stack([np.asarray(p) for p in planes], axis=2), 0, 1)


def shrunk(output: np.ndarray, lr_shape: tuple[int, int]) -> np.ndarray:
    return _resize(output, lr_shape[1], lr_shape[0])


def lr_consistency(output: np.ndarray, lr: np.ndarray) -> float:
    return psnr_y(shrunk(output, lr.shape[:2]), lr, shave=0)


def tone_shift(output: np.ndarray, lr: np.ndarray) -> float:
    return float(abs(luma(shrunk(output, lr.shape[:2])).mean() - luma(lr).mean()))


def newly_clipped(output: np.ndarray, lr: np.ndarray) -> float:
    enlarged = luma(_resize(lr, output.shape[1], output.shape[0]))
    return float(((luma(output) >= CLIP_LEVEL) & (enlarged < CLIP_LEVEL)).mean())


def mean_spectrum(y: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Power spectrum of the high-passed ``y`` averaged over non-overlapping Hann blocks."""
    from scipy.ndimage import gaussian_filter

    high = y - gaussian_filter(y, 2.0, mode="reflect")
    h, w = (high.shape[0] // block) * block, (high.shape[1] // block) * block
    if h == 0 or w == 0:
        raise ValueError(f"the grid check needs at least {block}x{block} pixels")
    blocks = high[:h, :w].reshape(h // block, block, w // block, block).transpose(0, 2, 1, 3).reshape(-1, block, block)
    # near-flat blocks (sky, a transparent border) carry almost no detail: there the faintest
    # pattern, far below what a viewer can see, would decide the ratio
    textured = blocks.std(axis=(1, 2)) >= FLAT_STD
    if textured.any():
        blocks = blocks[textured]
    window = np.outer(np.hanning(block), np.hanning(block))
    return (np.abs(np.fft.fft2(blocks * window)) ** 2).mean(axis=0)


def grid_peak(output: np.ndarray, periods: tuple[int, ...] = (4, 2)) -> float:
    """The strongest peak (dB over its neighbourhood) at the given pixel periods."""
    spec = mean_spectrum(luma(output))
    n = spec.shape[0]
    bins = set()
    for period in periods:
        step = n // period
        for a in range(0, n, step):
            for b in range(0, n, step):
                if (a, b) != (0, 0) and (a % (n // period) == 0 and b % (n // period) == 0):
                    bins.add((a, b))
    if 2 not in periods:  # period 4 alone: leave out the Nyquist bins, which are period 2's
        bins = {(a, b) for a, b in bins if a % (n // 2) or b % (n // 2)}
    best = -np.inf
    for a, b in bins:
        rows = [(a + d) % n for d in range(-4, 5)]
        cols = [(b + d) % n for d in range(-4, 5)]
        ring = spec[np.ix_(rows, cols)].copy()
        ring[3:6, 3:6] = np.nan
        best = max(best, 10 * np.log10(spec[a, b] / max(np.nanmedian(ring), 1e-20)))
    return float(best)


def photo_checks(output: np.ndarray, lr: np.ndarray) -> dict[str, float]:
    """All four checks of ``output`` (float RGB (4H, 4W, 3) in [0, 1]) against its input."""
    return {"lr_consistency": lr_consistency(output, lr), "tone_shift": tone_shift(output, lr),
            "newly_clipped": newly_clipped(output, lr), "grid_peak_4": grid_peak(output, (4,)),
            "grid_peak_2": grid_peak(output, (2,))}
