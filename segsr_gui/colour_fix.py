"""Low-frequency consistency ("colour fix"): the output keeps the input's coarse colour
and brightness, and takes only the finer detail from the nets.

The nets are trained on street scenes; on other photos SegDM's street classes steer SRDM's
SFT layers and shift whole regions' colour (measured: Set5 bicubic-LR PSNR 24.9 dB against
28.6 for bicubic itself). Diffusion SR has the same failure elsewhere, and StableSR (Wang et
al., 2023) corrects it by taking the low-frequency band of the output from the input. Here:

    out = x0_hat - blur(x0_hat) + blur(y)

with a Gaussian blur of ``sigma`` HR pixels (3 sigma reach, inside a tile's context margin,
so tiles still agree). It is applied to what the sampler shows and returns, never to the
state the chain continues from. ``sigma`` is chosen on CamVid val (benchmarks/chain.py) and
recorded in the manifest; 0 turns it off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# HR pixels: what "keep" means. benchmarks/chain.py picks each model's default among
# 0 (off) and a few sigmas on CamVid val (chain.md); this is the value it picked.
DEFAULT_SIGMA = 2.0
# What the CLI's --colours and the window's "Colours" choice mean: None = the model's default.
# (torch is imported inside the functions, so the CLI parser and the settings can read this
# table without loading it.)
COLOUR_MODES = {"model": None, "keep": DEFAULT_SIGMA, "free": 0.0}


# Floats of one band's intermediate (a quarter of a core's L2 here): small enough that both
# passes over a band run in cache, large enough that the per-band calls do not count.
BAND_FLOATS = 1 << 17


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W), edges replicated.

    Each pass is a weighted sum of shifted views of the padded input, done in bands of rows
    so that the band stays in cache between the 2 x (2 r + 1) sums: on a CPU that is faster
    than the grouped (depthwise) ``conv2d`` it replaces, with the same taps in the same order
    (checked against it in tests/test_colour_fix.py)."""
    import torch
    import torch.nn.functional as F

    taps = gaussian_taps(sigma)
    radius = len(taps) // 2
    b, c, h, w = x.shape
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = torch.empty_like(x)
    band = min(h, max(16, BAND_FLOATS // max(1, b * c * w) - 2 * radius))
    rows = torch.empty(b, c, band + 2 * radius, w, dtype=x.dtype, device=x.device)
    for top in range(0, h, band):
        n = min(band, h - top)
        src = padded[..., top:top + n + 2 * radius, :]
        across = rows[..., :n + 2 * radius, :]
        torch.mul(src[..., 0:w], taps[0], out=across)
        for i in range(1, len(taps)):
            across.add_(src[..., i:i + w], alpha=taps[i])
        down = out[..., top:top + n, :]
        torch.mul(across[..., 0:n, :], taps[0], out=down)
        for i in range(1, len(taps)):
            down.add_(across[..., i:i + n, :], alpha=taps[i])
    return out


def gaussian_taps(sigma: float) -> list[float]:
    """The normalised 1-D Gaussian of ``sigma`` over +-3 sigma (at least one tap each side)."""
    import math

    radius = max(1, int(round(3 * sigma)))
    weights = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(-radius, radius + 1)]
    total = sum(weights)
    return [v / total for v in weights]


def keep_low_frequencies(x0_hat: torch.Tensor, y: torch.Tensor, sigma: float,
                         y_low: torch.Tensor | None = None) -> torch.Tensor:
    """``x0_hat`` with its band below ``sigma`` taken from ``y`` (both in [-1, 1]);
    ``y_low`` is ``gaussian_blur(y, sigma)`` when the caller already has it (the sampler
    blurs ``y`` once per run, not once per step)."""
    if sigma <= 0:
        return x0_hat
    if y_low is None:
        y_low = gaussian_blur(y, sigma)
    # x0_hat - (blur(x0_hat) - y_low), in place in the blur's buffer: one output-size array
    low = gaussian_blur(x0_hat, sigma)
    return low.sub_(y_low).neg_().add_(x0_hat).clamp_(-1, 1)
