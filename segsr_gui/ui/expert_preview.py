"""The experts' estimate on show while a run's experts work, piece by piece (before the chain's
first step): a preview-sized canvas that starts as the bicubic enlargement and takes each
piece's blend as it is made. A tiled run's live canvas then starts from it, so the photo
never falls back to bicubic where the chain has not been yet."""

from __future__ import annotations

import numpy as np
from PIL import Image

from segsr_gui.ui.convert import preview_size, resize_rgb, rgb_to_qimage, tensor_to_rgb, to_uint8
from segsr_gui.ui.frames import StepFrame, TiledPreview

EXPERTS_INDEX = -1  # the StepFrame index of the experts' estimate (before step 1)


class ExpertsPreview:
    def __init__(self, rgb: np.ndarray, scale: int):
        h, w = rgb.shape[:2]
        self.scale, self.full = scale, (w * scale, h * scale)
        self.canvas = np.array(resize_rgb(to_uint8(rgb), preview_size(*self.full), Image.BICUBIC))  # writable

    def add(self, p, steps: int, elapsed: float) -> StepFrame:
        """Paste one ``pipeline.ExpertsProgress`` piece; the frame to show now."""
        hr = p.box.scaled(self.scale)
        piece = tensor_to_rgb(p.estimate, hr.height, hr.width)
        ph, pw = self.canvas.shape[:2]
        x0, x1 = round(hr.left * pw / self.full[0]), round((hr.left + hr.width) * pw / self.full[0])
        y0, y1 = round(hr.top * ph / self.full[1]), round((hr.top + hr.height) * ph / self.full[1])
        if x1 > x0 and y1 > y0:
            self.canvas[y0:y1, x0:x1] = resize_rgb(piece, (x1 - x0, y1 - y0), Image.BILINEAR)
        return StepFrame(EXPERTS_INDEX, steps, p.index, p.pieces, rgb_to_qimage(self.canvas), None, None, elapsed)

    def seed(self, collector, p) -> None:
        """Before a tiled run's first step: its live canvas starts from the experts' estimate."""
        if p.tiles > 1 and collector.tiled is None:
            kept = [i for i in range(p.step.total - 1) if (i + 1) % collector.every == 0]
            collector.tiled = TiledPreview(collector.rgb, collector.scale, kept, collector.palette, collector.k,
                                           collector.segments)
            if collector.tiled.live.shape == self.canvas.shape:
                collector.tiled.live = self.canvas.copy()
