"""The damage detector: per-pixel damage logits at the photo's own size.

A small U-Net (``unet.SmallUNet``) reads the photo (B, 3, H, W) in [0, 1] and returns logits
(B, 1, H, W); ``sigmoid(logits) > threshold`` is the damage mask (scratches, cracks, specks,
creases, torn paper). Any H, W >= 2 work: the input is reflect-padded to a multiple of 4 and
the output cropped back.
"""

from __future__ import annotations

import torch
from torch import nn

from segsr_gui.engine.repair.unet import SmallUNet, pad_to_stride


class DamageDetector(nn.Module):
    def __init__(self, widths: tuple[int, int, int] = (24, 48, 96)):
        super().__init__()
        self.net = SmallUNet(3, 1, widths)

    def forward(self, photo: torch.Tensor) -> torch.Tensor:
        """photo (B, 3, H, W) in [0, 1] -> damage logits (B, 1, H, W), float32."""
        x, h, w = pad_to_stride(photo * 2 - 1)
        return self.net(x)[..., :h, :w].float()


@torch.inference_mode()
def detect(detector: DamageDetector, photo: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The damage mask (B, 1, H, W) bool of a photo (B, 3, H, W) in [0, 1]."""
    return torch.sigmoid(detector(photo)) > threshold
