"""The Dual-Modality Bridge (DMB): how SRDM and SegDM talk at every step.

Two directions, each a small conv stack at LR resolution:
- image -> SegDM: features of the noisy image ``x_t`` and the latest clean
  estimate (``x0_hat`` of the previous step, ``y`` at the first), so the
  segmentation sees the photo;
- classes -> SRDM: ``softmax(s0_hat)`` becomes the condition of SRDM's SFT
  layers (per-pixel ``gamma, beta``), so the restoration knows what it restores.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class DualModalityBridge(nn.Module):
    """Args: num_classes K, scale s, channels of both directions' features."""

    def __init__(self, num_classes: int = 11, scale: int = 4, image_channels: int = 32,
                 cond_channels: int = 32):
        super().__init__()
        self.scale = scale
        self.image_to_seg = nn.Sequential(
            nn.Conv2d(2 * 3 * scale * scale, image_channels, 3, padding=1), nn.SiLU(),
            nn.Conv2d(image_channels, image_channels, 3, padding=1))
        self.seg_to_image = nn.Sequential(
            nn.Conv2d(num_classes * scale * scale, cond_channels, 3, padding=1), nn.SiLU(),
            nn.Conv2d(cond_channels, cond_channels, 3, padding=1))

    def image_features(self, x_t_scaled: torch.Tensor, x0_prev: torch.Tensor) -> torch.Tensor:
        s = self.scale
        return self.image_to_seg(torch.cat(
            [F.pixel_unshuffle(x_t_scaled, s), F.pixel_unshuffle(x0_prev, s)], dim=1))

    def class_condition(self, s0_logits: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(s0_logits.float(), dim=1).to(s0_logits.dtype)
        return self.seg_to_image(F.pixel_unshuffle(probs, self.scale))
