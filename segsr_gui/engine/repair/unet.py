"""The small U-Net both repair nets share: three levels, full-resolution output.

Widths (24, 48, 96) at 1, 1/2 and 1/4 of the input; the bottom level adds dilated
convolutions (dilation 2 and 4) so a pixel sees about 70 px of the photo, enough to tell a
long scratch from a short stroke of real content. Inputs' sides must be multiples of
``STRIDE`` (the callers pad by reflection). No normalisation layers: training and
inference see one image at a time the same way.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

STRIDE = 4


class _Block(nn.Module):
    """Two 3x3 convolutions with a residual path; ``dilation`` widens the second."""

    def __init__(self, cin: int, cout: int, dilation: int = 1):
        super().__init__()
        self.a = nn.Conv2d(cin, cout, 3, padding=1)
        self.b = nn.Conv2d(cout, cout, 3, padding=dilation, dilation=dilation)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.skip(x) + self.b(F.silu(self.a(x)))


class SmallUNet(nn.Module):
    """(B, cin, H, W) -> (B, cout, H, W); H and W multiples of ``STRIDE``."""

    def __init__(self, cin: int, cout: int, widths: tuple[int, int, int] = (24, 48, 96)):
        super().__init__()
        w0, w1, w2 = widths
        self.inp = nn.Conv2d(cin, w0, 3, padding=1)
        self.enc0 = _Block(w0, w0)
        self.down1 = nn.Conv2d(w0, w1, 3, stride=2, padding=1)
        self.enc1 = _Block(w1, w1)
        self.down2 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)
        self.mid = nn.Sequential(_Block(w2, w2, 2), _Block(w2, w2, 4), _Block(w2, w2, 1))
        self.up2 = nn.Conv2d(w2, w1 * 4, 1)
        self.dec1 = _Block(w1 * 2, w1)
        self.up1 = nn.Conv2d(w1, w0 * 4, 1)
        self.dec0 = _Block(w0 * 2, w0)
        self.out = nn.Conv2d(w0, cout, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e0 = self.enc0(self.inp(x))
        e1 = self.enc1(self.down1(F.silu(e0)))
        m = self.mid(self.down2(F.silu(e1)))
        d1 = self.dec1(torch.cat([F.pixel_shuffle(self.up2(F.silu(m)), 2), e1], 1))
        d0 = self.dec0(torch.cat([F.pixel_shuffle(self.up1(F.silu(d1)), 2), e0], 1))
        return self.out(F.silu(d0))


def pad_to_stride(x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """``x`` reflect-padded at the bottom and right to multiples of ``STRIDE``; also the
    original height and width (crop the output back with ``[..., :h, :w]``)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % STRIDE, (-w) % STRIDE
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, h, w
