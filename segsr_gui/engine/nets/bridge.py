"""The Dual-Modality Bridge's image side: how SegDM reads the image at every step.

Features of the noisy image state ``x_t`` and the latest clean estimate (``x0_hat`` of the
previous step, ``y`` at the first), pixel-unshuffled from output size to SegDM's grid
(LR/``pool``), so the segmentation sees the photo as it is being restored.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class ImageBridge(nn.Module):
    """Args: scale s, channels of the features, SegDM's ``pool`` p."""

    def __init__(self, scale: int = 4, channels: int = 32, pool: int = 1):
        super().__init__()
        self.scale, self.pool = scale, pool
        self.image_to_seg = nn.Sequential(
            nn.Conv2d(2 * 3 * scale * scale, channels, 3, padding=1), nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1))

    def image_features(self, x_t_scaled: torch.Tensor, x0_prev: torch.Tensor) -> torch.Tensor:
        s, p = self.scale, self.pool
        if p > 1:  # segmentation needs no sub-pixel detail: pool first, convolve less
            x_t_scaled, x0_prev = F.avg_pool2d(x_t_scaled, p), F.avg_pool2d(x0_prev, p)
        return self.image_to_seg(torch.cat(
            [F.pixel_unshuffle(x_t_scaled, s), F.pixel_unshuffle(x0_prev, s)], dim=1))
