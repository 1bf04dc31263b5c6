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


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W), edges replicated.

    Each pass is a weighted sum of shifted views of the padded input: on a CPU that is about
    three times faster than the grouped (depthwise) ``conv2d`` it replaces, with the same
    taps in the same order (checked to agree within 1e-6 in tests/test_colour_fix.py)."""
    import torch.nn.functional as F

    taps = gaussian_taps(sigma)
    radius = len(taps) // 2
    h, w = x.shape[-2:]
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    rows = padded[..., :, 0:w] * taps[0]
    for i in range(1, len(taps)):
        rows.add_(padded[..., :, i:i + w], alpha=taps[i])
    out = rows[..., 0:h, :] * taps[0]
    for i in range(1, len(taps)):
        out.add_(rows[..., i:i + h, :], alpha=taps[i])
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
    return (x0_hat - gaussian_blur(x0_hat, sigma) + y_low).clamp(-1, 1)
