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
    """Separable Gaussian blur of (B, C, H, W), edges replicated."""
    import torch
    import torch.nn.functional as F

    radius = max(1, int(round(3 * sigma)))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32, device=x.device)
    kernel = torch.exp(-taps**2 / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).to(x.dtype)
    c = x.shape[1]
    out = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


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
