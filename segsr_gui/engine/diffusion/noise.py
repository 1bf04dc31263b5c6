"""Position-keyed Gaussian noise, so a tiled run draws the same noise as an untiled one.

The HR plane is cut into fixed blocks; each block's noise comes from its own
generator seeded by (seed, stream, block row, block column). Any window of
the plane therefore gets the same values whichever tile asks for it.
"""

from __future__ import annotations

import torch

BLOCK = 64  # HR pixels per noise block side: big enough that seeding costs little


def _mix(*values: int) -> int:
    """splitmix64 over the values: a well-spread 63-bit seed for one block."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h & 0x7FFFFFFFFFFFFFFF


class NoiseField:
    """Deterministic standard-normal noise over an unbounded HR plane."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def window(self, stream: int, channels: int, top: int, left: int, height: int, width: int,
               dtype=torch.float32) -> torch.Tensor:
        """Noise (1, channels, height, width) for HR rows top.., columns left..; ``stream``
        separates independent draws (step and state)."""
        out = torch.empty(1, channels, height, width, dtype=dtype)
        gen = torch.Generator()
        for by in range(top // BLOCK, (top + height - 1) // BLOCK + 1):
            for bx in range(left // BLOCK, (left + width - 1) // BLOCK + 1):
                gen.manual_seed(_mix(self.seed, stream, channels, by, bx))
                block = torch.randn(channels, BLOCK, BLOCK, generator=gen, dtype=dtype)
                y0, x0 = max(top, by * BLOCK), max(left, bx * BLOCK)
                y1 = min(top + height, (by + 1) * BLOCK)
                x1 = min(left + width, (bx + 1) * BLOCK)
                out[0, :, y0 - top:y1 - top, x0 - left:x1 - left] = \
                    block[:, y0 - by * BLOCK:y1 - by * BLOCK, x0 - bx * BLOCK:x1 - bx * BLOCK]
        return out
