"""Building blocks shared by SRDM and SegDM: time embedding, SFT, residual blocks."""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def timestep_features(level: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of a continuous noise level in [0, 1] (one per sample).

    The nets are conditioned on ``sqrt(eta_t)``, not on an integer step, so one
    trained model serves any step count.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=level.device) / half)
    args = level.float()[:, None] * 1000.0 * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class TimeEmbedding(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.SiLU(), nn.Linear(dim * 2, dim * 2))

    def forward(self, level: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_features(level, self.dim))


class SFT(nn.Module):
    """Spatial feature transform (SFTGAN): ``F * (1 + gamma) + beta`` per pixel.

    Starts as the identity (zero-initialised output conv), so a bridge that has
    not learnt anything yet cannot hurt the restoration. ``hidden=False`` maps the
    condition to ``gamma, beta`` with one 1x1 conv: the bridge already shapes the
    condition, and a hidden layer per block cost a sixth of a step.
    """

    def __init__(self, channels: int, cond_channels: int, hidden: bool = True):
        super().__init__()
        layers = [nn.Conv2d(cond_channels, channels, 1), nn.SiLU(),
                  nn.Conv2d(channels, 2 * channels, 1)] if hidden else [nn.Conv2d(cond_channels, 2 * channels, 1)]
        self.body = nn.Sequential(*layers)
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, feat: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        if cond.shape[-2:] != feat.shape[-2:]:
            cond = F.adaptive_avg_pool2d(cond, feat.shape[-2:])
        gamma, beta = self.body(cond).chunk(2, dim=1)
        return feat * (1 + gamma) + beta


class ResBlock(nn.Module):
    """GroupNorm-free residual block with a time scale/shift and an optional SFT."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, cond_channels: int = 0,
                 sft_hidden: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim * 2, out_ch * 2)
        self.sft = SFT(out_ch, cond_channels, sft_hidden) if cond_channels else None
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x, emb, cond=None):
        h = self.conv1(F.silu(x))
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = h * (1 + scale) + shift
        if self.sft is not None and cond is not None:
            h = self.sft(h, cond)
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class UNet(nn.Module):
    """A compact UNet at LR resolution: ``levels`` resolutions, no attention.

    Args:
        in_ch: input channels. out_ch: output channels.
        width: channels of the first level; level i has ``width * mult[i]``.
        mult: channel multipliers, one per level (2 levels = one downsampling).
        blocks: residual blocks per level on the way down.
        cond_channels: channels of the SFT condition (0 = no SFT).
        sft_hidden: see ``SFT``.
    """

    def __init__(self, in_ch: int, out_ch: int, width: int = 48, mult: tuple = (1, 2),
                 blocks: int = 2, cond_channels: int = 0, sft_hidden: bool = True):
        super().__init__()
        self.emb = TimeEmbedding(width)
        self.stem = nn.Conv2d(in_ch, width, 3, padding=1)
        chans = [width * m for m in mult]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = width
        for i, ch in enumerate(chans):
            self.down.append(nn.ModuleList(
                [ResBlock(prev if b == 0 else ch, ch, width, cond_channels, sft_hidden)
                 for b in range(blocks)]))
            prev = ch
            if i < len(chans) - 1:
                self.downsample.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in range(len(chans) - 2, -1, -1):
            self.upsample.append(nn.Conv2d(prev, chans[i] * 4, 3, padding=1))
            self.up.append(ResBlock(chans[i] * 2, chans[i], width, cond_channels, sft_hidden))
            prev = chans[i]
        self.head = nn.Conv2d(prev, out_ch, 3, padding=1)
        self.stride = 2 ** (len(chans) - 1)

    def forward(self, x, level, cond=None):
        emb = self.emb(level)
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, emb, cond)
            if i < len(self.downsample):
                skips.append(h)
                h = self.downsample[i](h)
        for upsample, block in zip(self.upsample, self.up):
            h = F.pixel_shuffle(upsample(h), 2)
            h = block(torch.cat([h, skips.pop()], dim=1), emb, cond)
        return self.head(F.silu(h))
