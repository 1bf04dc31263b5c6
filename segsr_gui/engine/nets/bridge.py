"""The Dual-Modality Bridge (DMB): how SRDM and SegDM talk at every step.

Two directions, each a small conv stack:
- image -> SegDM: features of the noisy image ``x_t`` and the latest clean
  estimate (``x0_hat`` of the previous step, ``y`` at the first), so the
  segmentation sees the photo;
- classes -> SRDM: ``softmax(s0_hat)`` becomes the condition of SRDM's SFT
  layers (per-pixel ``gamma, beta``), so the restoration knows what it restores.

Both work at SegDM's resolution (LR, or LR/p with ``pool=p``); the class
condition is handed to SRDM at LR resolution.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from segsr_gui.engine.nets.segdm import upsample


class DualModalityBridge(nn.Module):
    """Args: num_classes K, scale s, channels of both directions' features, and
    SegDM's ``pool`` (0 = classes arrive as unshuffled HR logits, p = as logits at LR/p)."""

    def __init__(self, num_classes: int = 11, scale: int = 4, image_channels: int = 32,
                 cond_channels: int = 32, pool: int = 0):
        super().__init__()
        self.scale = scale
        self.pool = pool
        self.image_to_seg = nn.Sequential(
            nn.Conv2d(2 * 3 * scale * scale, image_channels, 3, padding=1), nn.SiLU(),
            nn.Conv2d(image_channels, image_channels, 3, padding=1))
        class_in = num_classes if pool else num_classes * scale * scale
        self.seg_to_image = nn.Sequential(
            nn.Conv2d(class_in, cond_channels, 3, padding=1), nn.SiLU(),
            nn.Conv2d(cond_channels, cond_channels, 3, padding=1))

    def image_features(self, x_t_scaled: torch.Tensor, x0_prev: torch.Tensor) -> torch.Tensor:
        s, p = self.scale, self.pool
        if p > 1:  # segmentation needs no sub-pixel detail: pool first, convolve less
            x_t_scaled, x0_prev = F.avg_pool2d(x_t_scaled, p), F.avg_pool2d(x0_prev, p)
        return self.image_to_seg(torch.cat(
            [F.pixel_unshuffle(x_t_scaled, s), F.pixel_unshuffle(x0_prev, s)], dim=1))

    def class_condition(self, s0_logits: torch.Tensor) -> torch.Tensor:
        """SFT condition at LR resolution, from SegDM's logits (HR ones if ``pool=0``,
        else its coarse ones)."""
        probs = torch.softmax(s0_logits.float(), dim=1).to(s0_logits.dtype)
        if not self.pool:
            return self.seg_to_image(F.pixel_unshuffle(probs, self.scale))
        return upsample(self.seg_to_image(probs), self.pool)
