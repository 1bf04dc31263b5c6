"""Overlapping tiles with feathered blending, as pure functions.

``plan_tiles`` cuts an LR image into boxes that overlap by ``overlap`` pixels;
``feather_weight`` gives each tile's blending weight at HR size: 0 on a thin
margin along each inner edge, then a linear ramp across the rest of the
overlap, 1 elsewhere. Image values and class *probabilities*
are blended with these weights; argmax ids never are.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Box:
    """An LR tile: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int

    def scaled(self, scale: int) -> "Box":
        return Box(self.top * scale, self.left * scale, self.height * scale, self.width * scale)


def _spans(size: int, tile: int, overlap: int, align: int) -> list[tuple[int, int]]:
    """(start, length) along one axis; starts are multiples of ``align``, the last span
    reaches the end (it may be up to ``align - 1`` longer than ``tile``)."""
    if tile >= size:
        return [(0, size)]
    step = (tile - overlap) // align * align
    last = (size - tile) // align * align
    starts = sorted(set(range(0, last, step)) | {last})
    return [(s, tile if s != last else size - s) for s in starts]


def plan_tiles(height: int, width: int, tile: int, overlap: int, align: int = 1) -> list[Box]:
    """Boxes covering an LR image of ``height x width``; ``tile`` <= 0 means one tile.

    Tile corners fall on multiples of ``align`` (the nets' stride): a tile then sees the
    same downsampling grid as the whole image, which a shifted grid would change everywhere
    in the tile, not just near its border.
    """
    if tile <= 0 or (tile >= height and tile >= width):
        return [Box(0, 0, height, width)]
    if overlap * 2 >= tile or (tile - overlap) // align * align <= overlap:
        raise ValueError(f"overlap {overlap} too large for tile {tile}")
    return [Box(top, left, h, w)
            for top, h in _spans(height, tile, overlap, align)
            for left, w in _spans(width, tile, overlap, align)]


def _ramp(length: int, start_ramp: int, end_ramp: int, dead: int) -> torch.Tensor:
    w = torch.ones(length)
    if start_ramp:
        w[:dead] = 0
        w[dead:dead + start_ramp] = (torch.arange(start_ramp) + 0.5) / start_ramp
    if end_ramp:
        tail = torch.zeros(end_ramp + dead)
        tail[:end_ramp] = (torch.arange(end_ramp, 0, -1) - 0.5) / end_ramp
        w[length - end_ramp - dead:] = torch.minimum(w[length - end_ramp - dead:], tail)
    return w


def feather_weight(box: Box, height: int, width: int, overlap: int, scale: int,
                   margin: int = 0) -> torch.Tensor:
    """Blending weight (1, 1, scale*h, scale*w) of ``box`` in an LR image ``height x width``.

    Edges that touch the image border keep full weight. Along an inner edge the
    outermost ``margin`` LR pixels get weight 0 (a tile's own border is where its
    padding shows, so those pixels are only context) and the weight then ramps up
    linearly over ``overlap - 2 * margin``; neighbouring tiles' weights sum to one
    across a seam.
    """
    if overlap and not 0 <= 2 * margin < overlap:
        raise ValueError(f"margin {margin} leaves no ramp in an overlap of {overlap}")
    ramp, dead = (overlap - 2 * margin) * scale, margin * scale
    rows = _ramp(box.height * scale, ramp if box.top > 0 else 0,
                 ramp if box.top + box.height < height else 0, dead)
    cols = _ramp(box.width * scale, ramp if box.left > 0 else 0,
                 ramp if box.left + box.width < width else 0, dead)
    return (rows[:, None] * cols[None, :])[None, None]
