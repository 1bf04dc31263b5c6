"""SegDM: the segmentation diffusion net, predicting K-class logits at LR/pool."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from segsr_gui.engine.nets.blocks import UNet
from segsr_gui.engine.nets.seg_encoder import SqueezeEncoder


class SegDM(nn.Module):
    """Predicts class logits (B, K, H/p, W/p) from the class state pooled to LR/``pool``.

    The image reaches it through the bridge's features (``image_feat``) and, with
    ``encoder_channels``, through a pretrained SqueezeNet reading the current clean estimate
    (``seg_encoder.SqueezeEncoder``). Segmentation wants context more than resolution, so the
    HR class state is average-pooled to LR/p (K channels) and the logits come out there; the
    caller enlarges them bilinearly (``upsample``), so class boundaries come out smooth at HR.

    Args:
        num_classes: K. scale: SR factor. width, mult, blocks: see ``UNet``.
        image_channels: channels of the bridge's image features (at the net's resolution).
        pool: p >= 1. encoder_channels: width of the pretrained encoder's map (0 = none).
    """

    def __init__(self, num_classes: int = 11, scale: int = 4, width: int = 32,
                 mult: tuple = (1, 2, 2), blocks: int = 2, image_channels: int = 32,
                 pool: int = 1, encoder_channels: int = 0):
        super().__init__()
        self.scale = scale
        self.pool = pool
        self.encoder = SqueezeEncoder(encoder_channels) if encoder_channels else None
        self.unet = UNet(num_classes + image_channels + encoder_channels, num_classes, width, mult, blocks)

    @property
    def stride(self) -> int:
        """LR stride the input must be a multiple of."""
        return self.unet.stride * self.pool

    def forward_coarse(self, pooled_state, image_feat, level, image=None):
        """Logits (B, K, H/p, W/p) from the scaled class state already pooled to LR/p
        (``pool_state``): the model pools before scaling, so the scaling touches K channels
        at LR/p instead of at output size. ``image``: the HR clean estimate in [-1, 1], read
        by the encoder when there is one."""
        parts = [pooled_state, image_feat]
        if self.encoder is not None:
            parts.append(self.encoder(image, pooled_state.shape[-2:]).to(image_feat.dtype))
        return self.unet(torch.cat(parts, dim=1), level)

    def pool_state(self, s_t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(s_t, self.scale * self.pool)


def upsample(maps: torch.Tensor, factor: int) -> torch.Tensor:
    """Bilinear upsampling of logits or features (a 1-pixel reach, so tiles still agree)."""
    if factor == 1:
        return maps
    return F.interpolate(maps, scale_factor=factor, mode="bilinear", align_corners=False)
