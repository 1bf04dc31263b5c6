"""SegDM's image encoder: a pretrained SqueezeNet v1.1 read top-down into one feature map.

Why: a SegDM that learns to see from CamVid's 367 frames alone underfits (about 30% mIoU);
an ImageNet encoder brings edges, textures and object parts it cannot learn from so little.
The encoder reads the current clean estimate at HR (``x0_prev``: the restorer's output at
the first step), so thin classes (pole, sign, pedestrian) get the full output resolution.

Its three feature maps (HR strides 4, 8, 16, i.e. LR strides 1, 2, 4) are merged
feature-pyramid style (lateral 1x1 convs, top-down bilinear upsampling and sums) and
resized to SegDM's grid, where SegDM's UNet meets them with the class state.
SqueezeNet's unpadded stem and pools make its strides nominal (480 px -> 119/59/29),
so every map is resized to the exact size it joins, never assumed.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from segsr_gui.engine.nets.squeezenet import FEATURE_CHANNELS, SqueezeNet


# SqueezeNet works on Caffe's 0..255 pixel scale, so its maps have standard deviations of
# about 51, 40 and 9.6 (fire3/5/9, CamVid train); dividing by these brings them to unit
# scale before the fresh 1x1 convs (a fixed factor, so tiles of one photo still agree).
FEATURE_STD = (51.0, 40.0, 9.6)
# the unpadded stem and three pools need 20 px or more; 32 leaves every map 1 px or larger
MIN_SIDE = 32


class SqueezeEncoder(nn.Module):
    """``forward(image, size) -> (B, channels, *size)`` from an HR image in [-1, 1].

    ``backbone`` holds the pretrained weights (``pretrained/squeezenet_v1.1.safetensors``,
    loaded by the training's start model); the pyramid convs are trained here."""

    def __init__(self, channels: int = 64):
        super().__init__()
        self.backbone = SqueezeNet(num_classes=0)
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in FEATURE_CHANNELS)
        self.merge = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        short = min(image.shape[-2:])
        if short < MIN_SIDE:  # a tiny photo: its edge pixels repeat until the pools have room
            pad = MIN_SIDE - short
            image = F.pad(image, (0, pad, 0, pad), mode="replicate")
        feats = [f / std for f, std in zip(self.backbone.features((image + 1) / 2), FEATURE_STD)]
        merged = self.lateral[-1](feats[-1])
        for feat, lateral in zip(feats[-2::-1], self.lateral[-2::-1]):
            merged = lateral(feat) + F.interpolate(merged, size=feat.shape[-2:], mode="bilinear",
                                                   align_corners=False)
        merged = F.interpolate(merged, size=tuple(size), mode="bilinear", align_corners=False)
        return self.merge(F.silu(merged))
