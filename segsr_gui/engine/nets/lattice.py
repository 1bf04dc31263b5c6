"""Removing an invented lattice from an x4 output.

Pixel-shuffle upsamplers (SPAN's last layer) and, less so, nearest-upsampling GANs leave a
faint pattern that repeats every 4 output pixels: each of the 16 positions inside a 4x4 cell
carries its own small offset. On grainy scans SPAN's is plain to see (a 16 dB peak at the
2-pixel period of the spectrum on old_a.png; docs/experts.md). The offset of each position is
estimated locally, as the mean of the output's fine detail at that position over a Gaussian
window of ``sigma`` LR pixels, and removed where it departs from the mean of all 16, so a real
edge (whose detail is not the same at every position of the cell) is left alone:

    fine     = x - blur(x, 2)                              (HR pixels)
    offset_p = blur_lr(fine at position p, sigma)          (p = one of the 16 positions)
    x_p     -= clamp(offset_p - mean over p of offset_p, +-max over 5x5 px of |x - blur(x, 1)|)

The window reaches 16 HR pixels past a strong edge, whose detail differs between positions;
unbounded, that difference comes off the flat ground beside the edge as stripes every 4
pixels (plain on 0014.jpg's white and black fields at any strength). So no pixel loses more
than the largest fine detail within 2 pixels: a flat pixel keeps its value, grain and edges lose their
lattice as before.

The grid columns of ``benchmarks/quality/old_photos.py`` measure what is left on real photos.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from segsr_gui.engine.diffusion.low_frequencies import gaussian_blur


def remove_lattice(x: torch.Tensor, sigma: float, period: int = 4) -> torch.Tensor:
    """``x`` (B, C, H, W) without its ``period``-pixel lattice; H and W multiples of ``period``."""
    if sigma <= 0:
        return x
    b, c, h, w = x.shape
    # in place where it can be: this runs on whole output tiles, and memory bounds the tile size
    offsets = gaussian_blur(F.pixel_unshuffle(x - gaussian_blur(x, 2.0), period).contiguous(), sigma)
    offsets = offsets.view(b, c, period * period, h // period, w // period)
    offsets -= offsets.mean(dim=2, keepdim=True)
    lattice = F.pixel_shuffle(offsets.view(b, c * period * period, h // period, w // period), period)
    del offsets
    room = F.max_pool2d((x - gaussian_blur(x, 1.0)).abs_(), 5, stride=1, padding=2)  # the cell's largest detail
    lattice = lattice.clamp_(min=-room, max=room)
    del room
    return x - lattice
