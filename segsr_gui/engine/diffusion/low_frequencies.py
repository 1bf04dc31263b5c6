"""Low-frequency consistency: an image keeps the coarse colour and brightness of another and
takes only its finer detail from its own. The experts' stage uses it as its tone guard: the
band below ``sigma`` HR pixels of the blended experts' output comes from the bicubic-enlarged
photo, so no expert shifts the photo's tones (StableSR, Wang et al. 2023, corrects colour
shifts of diffusion SR the same way):

    out = x - blur(x) + blur(y)

with a separable Gaussian blur (3 sigma reach).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W), edges replicated.

    On a CPU each plane goes through OpenCV's ``sepFilter2D`` (vectorised, GIL-free): about
    twice as fast as the best torch version found (shifted-view sums in cache-sized bands)
    and 3.7x at 1024x1024, and the live preview blurs every step. Elsewhere (a GPU) it is
    the grouped convolution. Both use the same taps (checked in tests/test_low_frequencies.py)."""
    import torch
    import torch.nn.functional as F

    taps = gaussian_taps(sigma)
    if x.device.type == "cpu" and x.dtype == torch.float32:
        import cv2
        import numpy as np

        kernel = np.asarray(taps, np.float32)
        planes = x.detach().contiguous().numpy().reshape(-1, *x.shape[-2:])
        out = np.empty_like(planes)
        for src, dst in zip(planes, out):
            cv2.sepFilter2D(src, -1, kernel, kernel, dst=dst, borderType=cv2.BORDER_REPLICATE)
        return torch.from_numpy(out).view(x.shape)
    radius, c = len(taps) // 2, x.shape[1]
    kernel = torch.tensor(taps, dtype=x.dtype, device=x.device)
    out = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


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
