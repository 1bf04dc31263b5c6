"""Editing a run's damage map by hand: a brush adds damage, an eraser removes it, and every
stroke can be undone and redone. Qt-free: the window forwards pointer positions in photo
pixels (the photo's own size, not the enlarged one) and reads ``mask``.

    edit = DamageEdit(result.damage)       # bool (H, W); a copy, the run's map is never changed
    edit.begin(add=True, size=5)           # a brush 5 photo pixels wide
    edit.paint_to(12.5, 30.0)              # each pointer position; segments join them
    edit.end()                             # one undo step
    edit.undo(); edit.redo()

Undo keeps only the rectangle each stroke touched (before and after), so a long session on
a large photo holds little more than the strokes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

MAX_UNDO = 100  # strokes kept for undo
MIN_SIZE, MAX_SIZE = 1, 200  # brush diameter in photo pixels


@dataclass
class _Stroke:
    box: tuple  # (y0, y1, x0, x1) of what it changed
    before: np.ndarray
    after: np.ndarray


class DamageEdit:
    """A bool (H, W) mask with brush and eraser strokes and their undo/redo stacks."""

    def __init__(self, mask: np.ndarray, painted: bool = False):
        """``painted``: ``mask`` is itself one the user painted (a run filled it), so it stays
        the user's mask even before any new stroke."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"a damage map is one value per pixel (H, W); got shape {mask.shape}")
        self.mask = mask.astype(bool, copy=True)
        self.start = self.mask.copy()  # the map the edits began from
        self._undo: list[_Stroke] = []
        self._redo: list[_Stroke] = []
        self._before: Optional[np.ndarray] = None  # the mask when the stroke in progress began
        self._box: Optional[list] = None  # [y0, y1, x0, x1] the stroke in progress touched
        self._last: Optional[tuple] = None  # its previous point
        self._add = True
        self._radius = 0.5
        self.painted = bool(painted)
        self.last_box: Optional[tuple] = None  # (y0, y1, x0, x1) the last dab or segment may have changed

    @property
    def shape(self) -> tuple:
        return self.mask.shape

    @property
    def edited(self) -> bool:
        """Whether the mask differs from the one the edits began from."""
        return not np.array_equal(self.mask, self.start)

    @property
    def users(self) -> bool:
        """Whether the mask is the user's (painted now or for the run it came from): the next
        run fills it instead of finding the damage itself."""
        return self.painted or self.edited

    def forget(self) -> None:
        """Back to the map the edits began from, and no longer the user's: the next run finds
        the damage itself. Nothing to undo or redo afterwards."""
        self._before = self._box = self._last = None
        self.mask = self.start.copy()
        self.painted = False
        self._undo.clear()
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def stroking(self) -> bool:
        return self._before is not None

    # ---- strokes --------------------------------------------------------------------
    def begin(self, add: bool, size: float) -> None:
        """Start a stroke: ``add`` True paints damage (brush), False removes it (eraser);
        ``size`` is the diameter in photo pixels."""
        if self.stroking:
            self.end()
        self._add = bool(add)
        self._radius = max(float(MIN_SIZE), min(float(MAX_SIZE), float(size))) / 2
        self._before = self.mask.copy()
        self._box, self._last = None, None

    def paint_to(self, x: float, y: float) -> None:
        """Paint a round dab at (x, y) (photo pixels, 0 at the left/top edge), joined to the
        stroke's previous point by a band as wide as the brush. Outside the photo is clipped."""
        if not self.stroking:
            raise RuntimeError("paint_to outside a stroke: call begin() first")
        start = self._last if self._last is not None else (x, y)
        self._last = (x, y)
        self._segment(start, (x, y))

    def end(self) -> None:
        """Finish the stroke: one undo step if it changed anything."""
        if not self.stroking:
            return
        before, box = self._before, self._box
        self._before, self._box, self._last = None, None, None
        if box is None:
            return
        y0, y1, x0, x1 = box
        old, new = before[y0:y1, x0:x1], self.mask[y0:y1, x0:x1]
        if np.array_equal(old, new):
            return
        self._undo.append(_Stroke((y0, y1, x0, x1), old.copy(), new.copy()))
        del self._undo[:-MAX_UNDO]
        self._redo.clear()

    def undo(self) -> bool:
        """Take back the last stroke; False when there is none."""
        if self.stroking:
            self.end()
        if not self._undo:
            return False
        stroke = self._undo.pop()
        y0, y1, x0, x1 = stroke.box
        self.mask[y0:y1, x0:x1] = stroke.before
        self._redo.append(stroke)
        return True

    def redo(self) -> bool:
        """Make the last undone stroke again; False when there is none."""
        if self.stroking or not self._redo:
            return False
        stroke = self._redo.pop()
        y0, y1, x0, x1 = stroke.box
        self.mask[y0:y1, x0:x1] = stroke.after
        self._undo.append(stroke)
        return True

    # ---- painting -------------------------------------------------------------------
    def _segment(self, a: tuple, b: tuple) -> None:
        """Every pixel whose centre lies within the brush radius of the segment a-b, and the
        pixel under b itself (a 1-pixel brush always marks the pixel it is on)."""
        h, w = self.mask.shape
        r = self._radius
        x0 = max(0, int(np.floor(min(a[0], b[0]) - r)))
        x1 = min(w, int(np.ceil(max(a[0], b[0]) + r)) + 1)
        y0 = max(0, int(np.floor(min(a[1], b[1]) - r)))
        y1 = min(h, int(np.ceil(max(a[1], b[1]) + r)) + 1)
        if x0 >= x1 or y0 >= y1:
            self.last_box = None
            return
        px = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
        py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else np.clip(((px - a[0]) * dx + (py - a[1]) * dy) / length2, 0.0, 1.0)
        near = (px - (a[0] + t * dx)) ** 2 + (py - (a[1] + t * dy)) ** 2 <= r * r
        bx, by = int(np.floor(b[0])), int(np.floor(b[1]))
        if x0 <= bx < x1 and y0 <= by < y1:
            near = np.broadcast_to(near, (y1 - y0, x1 - x0)).copy()
            near[by - y0, bx - x0] = True
        self.mask[y0:y1, x0:x1][near] = self._add
        self.last_box = (y0, y1, x0, x1)
        box = self._box
        self._box = [y0, y1, x0, x1] if box is None else \
            [min(box[0], y0), max(box[1], y1), min(box[2], x0), max(box[3], x1)]
