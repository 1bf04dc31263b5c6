"""SRDM: the super-resolution diffusion net, working on pixel-unshuffled HR states."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from segsr_gui.engine.nets.blocks import UNet


class SRDM(nn.Module):
    """Predicts the clean HR image ``x0_hat`` as a residual on the bicubic ``y``.

    Inputs are HR tensors (B, 3, sH, sW) unshuffled to LR resolution
    (3 s^2 channels each): the scaled state ``x_t``, ``y`` and the previous
    estimate (self-conditioning). ``cond`` (from the bridge) drives SFT layers.

    Args:
        scale: SR factor (4). width, mult, blocks: see ``UNet``.
        cond_channels: channels of the bridge's class condition (0 = no bridge).
        sft_hidden: see ``SFT``.
    """

    def __init__(self, scale: int = 4, width: int = 48, mult: tuple = (1, 2), blocks: int = 2,
                 cond_channels: int = 0, sft_hidden: bool = True):
        super().__init__()
        self.scale = scale
        unshuffled = 3 * scale * scale
        self.unet = UNet(3 * unshuffled, unshuffled, width, mult, blocks, cond_channels, sft_hidden)
        # The head starts at zero, so an untrained SRDM returns bicubic.
        nn.init.zeros_(self.unet.head.weight)
        nn.init.zeros_(self.unet.head.bias)

    @property
    def stride(self) -> int:
        return self.unet.stride

    def forward(self, x_t_scaled, y, x0_prev, level, cond=None):
        s = self.scale
        inp = torch.cat([F.pixel_unshuffle(v, s) for v in (x_t_scaled, y, x0_prev)], dim=1)
        return y + F.pixel_shuffle(self.unet(inp, level, cond), s)
