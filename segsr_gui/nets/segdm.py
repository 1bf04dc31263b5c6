"""SegDM: the segmentation diffusion net, predicting K-class logits at HR size."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .blocks import UNet


class SegDM(nn.Module):
    """Predicts class logits ``s0_hat`` (B, K, sH, sW) from the class state ``s_t``.

    ``s_t`` is unshuffled to LR resolution (K s^2 channels); the image reaches
    it only through the bridge's features (``image_feat``, LR resolution).

    Args:
        num_classes: K. scale: SR factor. width, mult, blocks: see ``UNet``.
        image_channels: channels of the bridge's image features.
    """

    def __init__(self, num_classes: int = 11, scale: int = 4, width: int = 32,
                 mult: tuple = (1, 2, 2), blocks: int = 2, image_channels: int = 32):
        super().__init__()
        self.scale = scale
        unshuffled = num_classes * scale * scale
        self.unet = UNet(unshuffled + image_channels, unshuffled, width, mult, blocks)

    @property
    def stride(self) -> int:
        return self.unet.stride

    def forward(self, s_t_scaled, image_feat, level):
        inp = torch.cat([F.pixel_unshuffle(s_t_scaled, self.scale), image_feat], dim=1)
        return F.pixel_shuffle(self.unet(inp, level), self.scale)
