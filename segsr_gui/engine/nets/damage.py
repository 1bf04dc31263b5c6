"""The damage estimator behind "Restoration strength: Auto".

A small fully convolutional net reads the LR photo at its own resolution (grain, noise and
JPEG blocks live at the pixel scale; a resize would hide them) and gives, for every 8x8
LR cell, the logit of "this photo was damaged". The photo's damage is the mean
probability over its cells; ``auto_strength`` maps it onto the 0..1 strength with two
thresholds chosen on validation (``training/damage.py``). A classical noise estimate does
not separate clean from damaged photos (wavelet MAD reads texture as noise and misses
noise under JPEG: ../shared/PRETRAINED.md), so the net learns from the project's own
degradations instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DamageEstimator(nn.Module):
    def __init__(self, width: int = 24):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 1))

    def forward(self, lr01: torch.Tensor) -> torch.Tensor:
        """Per-cell logits (B, 1, H/8, W/8) for an LR photo (B, 3, H, W) in [0, 1]."""
        # the photo's own mean is removed: faded or dark photos are not damage by themselves
        return self.layers(lr01 - lr01.mean(dim=(2, 3), keepdim=True))

    def damage(self, lr01: torch.Tensor) -> torch.Tensor:
        """The damage in 0..1 of each photo in the batch (B,)."""
        if min(lr01.shape[-2:]) < 8:
            lr01 = F.pad(lr01, (0, max(0, 8 - lr01.shape[-1]), 0, max(0, 8 - lr01.shape[-2])), mode="replicate")
        return torch.sigmoid(self(lr01).float()).mean(dim=(1, 2, 3))


def strength_from_damage(damage: float, low: float, high: float) -> float:
    """0 below ``low``, 1 above ``high``, linear between (the thresholds come from validation)."""
    if high <= low:
        return float(damage >= high)
    return float(min(1.0, max(0.0, (damage - low) / (high - low))))
