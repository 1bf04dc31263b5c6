"""A run's previews: the pipeline's ``Progress`` turned into display-ready ``StepFrame``s
(on the worker thread, so the GUI thread only paints).

An untiled run gives one frame per previewed step. A tiled run works through the photo
tile by tile, all steps of one tile before the next, so its frames are put together here:

* the live frame: a preview-sized canvas holding each tile's newest state (the bicubic
  enlargement where no tile has been yet) and the class ids of the tiles reached so far;
  its shares count the finished tiles only, and are marked as an estimate;
* one whole-photo frame per kept step: every tile at that step, filled in as the tiles
  reach it, so that after the run the scrubber moves by step over the whole photo.

Where no tile has been yet there is no class: such pixels hold ``NO_CLASS``, which every
colour table leaves transparent and the legend's shares leave out (``known_fractions``).
The per-step canvases are preview-sized and their total is bounded by
``STEP_FRAMES_BYTES`` (``step_frame_side``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from PySide6.QtGui import QImage

from segsr_gui.ui.convert import (PREVIEW_MAX_SIDE, ClassLayer, estimated_shares, logits_to_ids, preview_classes,
                                  preview_rgb, preview_size, qimage_pixels, resize_rgb, rgb_to_qimage, step_ids,
                                  tensor_to_rgb, to_uint8)

NO_CLASS = 255  # a pixel no tile has reached yet: transparent, and not counted in the shares
# The whole-photo step frames of one tiled run (RGB + class ids, 4 bytes a pixel) stay within
# this; the window keeps the steps of its two newest runs (app.runs.KEEP_STEPS_RUNS).
STEP_FRAMES_BYTES = 160 << 20
MIN_STEP_SIDE = 480  # step frames are never made smaller than this (long side, pixels)


@dataclass
class StepFrame:
    """One previewed step: ``image`` is x0_hat, ``classes`` the argmax ids; ``noisy_image()``
    shows x_t.

    The noisy state is made into an image only when someone looks at it: converting it on
    every step was most of the live preview's cost. An untiled run keeps the step's ``x_t``
    tensor (the sampler never changes it in place); a tiled run pastes each tile's ``x_t``
    into a canvas only while the window asks for it (``UpscaleWorker.show_noisy``). The class
    ids of an untiled run's live frame are likewise made on first use (``ClassLayer``; at most
    ``LAZY_FRAMES`` wait at a time); until then ``shares`` is an unbiased estimate from 1/64
    of the pixels, and exact once they are.
    """

    index: int
    total: int
    tile_index: int
    tiles: int
    image: QImage
    classes: Optional[ClassLayer]
    given_shares: Optional[np.ndarray]  # fraction of pixels per class (see ``shares``)
    elapsed: float
    noisy: Optional[QImage] = None
    x_t: object = field(default=None, repr=False)  # (1, 3, h, w) tensor, cropped, for ``noisy_image``
    shares_estimated: bool = False
    tiles_done: Optional[int] = None  # a tiled run's live frame: its shares count these tiles only

    @property
    def shares_note(self) -> str:
        """What the shares are based on, when not the whole step."""
        if self.tiles_done is None:
            return ""
        return f"{self.tiles_done}/{self.tiles} tiles done" if self.tiles_done else "after the first tile"

    @property
    def shares(self) -> Optional[np.ndarray]:
        """Fraction of pixels per class: exact once the class ids are made (an untiled step)."""
        if self.shares_estimated and self.tiles_done is None and self.classes is not None and self.classes.made:
            self.given_shares = known_fractions(self.classes.ids, len(self.given_shares))
            self.shares_estimated = False
        return self.given_shares

    def noisy_image(self) -> Optional[QImage]:
        if self.noisy is None and self.x_t is not None:
            h, w = self.x_t.shape[-2:]
            self.noisy = preview_rgb(tensor_to_rgb(self.x_t, h, w))
            self.x_t = None
        return self.noisy


def known_fractions(ids: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class's share of the pixels that have a class (``NO_CLASS`` ones left out)."""
    from segsr_gui.io.masks import class_counts

    counts = class_counts(ids, num_classes)
    return counts / max(1, int(counts.sum()))


def step_frame_side(width: int, height: int, steps: int, budget: int = STEP_FRAMES_BYTES) -> int:
    """Long side of a tiled run's step frames: the preview size, or less when ``steps``
    frames of it (4 bytes a pixel) would pass ``budget``."""
    if steps <= 0:
        return PREVIEW_MAX_SIDE
    aspect = max(width, height) / max(1, min(width, height))
    side = int((budget / (4 * steps) * aspect) ** 0.5)
    return max(MIN_STEP_SIDE, min(PREVIEW_MAX_SIDE, side))


def whole_step_preview(step, height: int, width: int, palette, num_classes: int, classes_now: bool = True):
    """(image, ClassLayer or None, shares or None, whether the shares are estimated) of one
    step of an untiled run; without ``classes_now`` the class ids are made on first use."""
    if max(height, width) <= PREVIEW_MAX_SIDE:  # straight into the QImage's pixels
        image = QImage(width, height, QImage.Format.Format_RGB888)
        tensor_to_rgb(step.x0_hat, height, width, out=qimage_pixels(image))
    else:
        image = preview_rgb(tensor_to_rgb(step.x0_hat, height, width))
    if step.logits is None:
        return image, None, None, False
    if not classes_now:  # the layer keeps the logits only, not the whole step
        logits = step.logits
        layer = ClassLayer(None, palette, make=lambda: preview_classes(
            logits_to_ids(logits, height, width), palette).ids)
        return image, layer, estimated_shares(step, height, width, num_classes), True
    ids = step_ids(step, height, width)
    return image, preview_classes(ids, palette), known_fractions(ids, num_classes), False


def _paste(dst: np.ndarray, tile: np.ndarray, hr, full: tuple[int, int], resample) -> None:
    """Write a full-size tile (HR box ``hr`` of a ``full`` = (w, h) image) into ``dst``, a
    smaller canvas of the same image."""
    ph, pw = dst.shape[:2]
    x0, x1 = round(hr.left * pw / full[0]), round((hr.left + hr.width) * pw / full[0])
    y0, y1 = round(hr.top * ph / full[1]), round((hr.top + hr.height) * ph / full[1])
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = resize_rgb(tile, (x1 - x0, y1 - y0), resample)


@dataclass
class _StepCanvas:
    image: QImage  # RGB888, step-frame size
    ids: Optional[np.ndarray]  # uint8, NO_CLASS where no tile has reached this step yet
    noisy: Optional[QImage] = None
    elapsed: float = 0.0


class TiledPreview:
    """The live canvas and the per-step whole-photo canvases of one tiled run (one try: a
    retry with other tiles starts a new one)."""

    def __init__(self, rgb: np.ndarray, scale: int, kept_steps, palette, num_classes: int, segments: bool):
        from PIL import Image

        h, w = rgb.shape[:2]
        self.scale, self.full = scale, (w * scale, h * scale)
        self.palette, self.num_classes = palette, num_classes
        self._bilinear, self._nearest = Image.BILINEAR, Image.NEAREST
        lr8 = to_uint8(rgb)
        self.bicubic = resize_rgb(lr8, preview_size(*self.full), Image.BICUBIC)
        self.live = self.bicubic.copy()
        self.live_noisy: Optional[np.ndarray] = None
        self.ids = np.full((self.full[1], self.full[0]), NO_CLASS, np.uint8) if segments else None
        # the class ids of the tiles that have finished all their steps: the live shares count
        # these only (an early step's classes are far from the result's)
        self.final_ids = None if self.ids is None else self.ids.copy()
        self.tiles_done, self.final_shares = 0, None
        self.kept = set(kept_steps)
        step_size = preview_size(*self.full, step_frame_side(*self.full, len(self.kept)))
        self.step_base = resize_rgb(self.bicubic, step_size, Image.BILINEAR)
        self.steps: dict[int, _StepCanvas] = {}

    def _step(self, index: int) -> _StepCanvas:
        if index not in self.steps:
            ids = None if self.ids is None else np.full(self.step_base.shape[:2], NO_CLASS, np.uint8)
            self.steps[index] = _StepCanvas(rgb_to_qimage(self.step_base), ids)
        return self.steps[index]

    def paste(self, p, noisy: bool, elapsed: float) -> StepFrame:
        """Put one tile's step into the canvases; returns the live frame to show now."""
        hr = p.box.scaled(self.scale)
        tile = tensor_to_rgb(p.step.x0_hat, hr.height, hr.width)
        _paste(self.live, tile, hr, self.full, self._bilinear)
        tile_noisy = tile_ids = None
        if noisy:
            tile_noisy = tensor_to_rgb(p.step.x_t, hr.height, hr.width)
            if self.live_noisy is None:
                self.live_noisy = self.bicubic.copy()
            _paste(self.live_noisy, tile_noisy, hr, self.full, self._bilinear)
        if self.ids is not None and p.step.logits is not None:
            rows, cols = slice(hr.top, hr.top + hr.height), slice(hr.left, hr.left + hr.width)
            tile_ids = step_ids(p.step, hr.height, hr.width, out=self.ids[rows, cols])
        if p.step.index in self.kept:
            self._paste_step(p.step.index, hr, tile, tile_ids, tile_noisy, elapsed)
        cls = None
        if tile_ids is not None:
            cls = preview_classes(self.ids, self.palette, reused=True)
            if p.step.index == p.step.total - 1:  # this tile is finished
                self.final_ids[rows, cols] = tile_ids
                self.tiles_done += 1
                self.final_shares = known_fractions(self.final_ids, self.num_classes)
        live_noisy = rgb_to_qimage(self.live_noisy) if noisy else None
        return StepFrame(p.step.index, p.step.total, p.tile_index, p.tiles, rgb_to_qimage(self.live), cls,
                         self.final_shares, elapsed, live_noisy, shares_estimated=cls is not None,
                         tiles_done=self.tiles_done if cls is not None else None)

    def _paste_step(self, index: int, hr, tile, tile_ids, tile_noisy, elapsed: float) -> None:
        canvas = self._step(index)
        _paste(qimage_pixels(canvas.image), tile, hr, self.full, self._bilinear)
        if tile_ids is not None and canvas.ids is not None:
            _paste(canvas.ids, tile_ids, hr, self.full, self._nearest)
        if tile_noisy is not None:
            if canvas.noisy is None:
                canvas.noisy = rgb_to_qimage(self.step_base)
            _paste(qimage_pixels(canvas.noisy), tile_noisy, hr, self.full, self._bilinear)
        canvas.elapsed = elapsed

    def step_frames(self, total: int, tiles: int) -> list[StepFrame]:
        """The whole-photo frame of each kept step, in step order (after the run)."""
        frames = []
        for index in sorted(self.steps):
            c = self.steps[index]
            cls = shares = None
            if c.ids is not None:
                cls, shares = ClassLayer(c.ids, self.palette), known_fractions(c.ids, self.num_classes)
            frames.append(StepFrame(index, total, tiles - 1, tiles, c.image, cls, shares, c.elapsed, c.noisy))
        return frames


# Live frames of one run that may wait for their class ids: each holds its step's logits (11
# output-size planes, 65 MB at the largest untiled output), so a long run makes the older
# ones' ids as it goes; the default 4 steps have 3 live frames, and none are made.
LAZY_FRAMES = 3


class FrameCollector:
    """Turns one run's ``Progress`` into the frames to show (``add``) and keeps the ones the
    scrubber revisits (``frames``); ``reset`` forgets a try that ran out of memory."""

    def __init__(self, rgb: np.ndarray, scale: int, palette, num_classes: int, segments: bool,
                 preview_every: int, classes_now: Callable[[], bool], noisy_now: Callable[[], bool]):
        self.rgb, self.scale, self.palette, self.k, self.segments = rgb, scale, palette, num_classes, segments
        self.every, self.classes_now, self.noisy_now = max(1, preview_every), classes_now, noisy_now
        self.reset()

    def reset(self) -> None:
        self.frames: list[StepFrame] = []  # untiled: one per previewed step
        self.waiting: list[ClassLayer] = []  # live frames whose class ids are not made yet
        self.final_step = None  # an untiled run's last step: its frame is the result's, made once
        self.tiled: Optional[TiledPreview] = None
        self.tiles = self.total = 1

    def wanted(self, p) -> bool:
        return p.step.index == p.step.total - 1 or (p.step.index + 1) % self.every == 0

    def add(self, p, elapsed: float) -> Optional[StepFrame]:
        """The frame of one previewed Progress (None for an untiled run's last step)."""
        self.tiles, self.total = p.tiles, p.step.total
        if p.tiles > 1:
            if self.tiled is None:
                kept = [i for i in range(p.step.total - 1) if (i + 1) % self.every == 0]
                self.tiled = TiledPreview(self.rgb, self.scale, kept, self.palette, self.k, self.segments)
            return self.tiled.paste(p, self.noisy_now(), elapsed)
        if p.step.index == p.step.total - 1:
            self.final_step = p.step
            return None
        hr = p.box.scaled(self.scale)
        image, cls_img, shares, estimated = whole_step_preview(p.step, hr.height, hr.width, self.palette, self.k,
                                                               classes_now=self.classes_now())
        frame = StepFrame(p.step.index, p.step.total, p.tile_index, p.tiles, image, cls_img, shares, elapsed,
                          None, p.step.x_t[..., :hr.height, :hr.width], shares_estimated=estimated)
        self.frames.append(frame)
        if estimated:
            self.waiting.append(frame.classes)
            if len(self.waiting) > LAZY_FRAMES:  # bound the logits held: make the oldest's ids
                self.waiting.pop(0).ids  # noqa: B018 - the property makes them
        return frame

    def finish(self, result, image: QImage, classes: Optional[ClassLayer], shares, elapsed: float
               ) -> tuple[list[StepFrame], Optional[StepFrame]]:
        """(every frame the scrubber revisits, the result's frame to show now or None)."""
        if self.tiled is not None:
            total = self.total
            last = StepFrame(total - 1, total, self.tiles - 1, self.tiles, image, classes, shares, elapsed)
            return self.tiled.step_frames(total, self.tiles) + [last], None
        if self.final_step is None:
            return self.frames, None
        oh, ow = result.image.shape[:2]
        s = self.final_step
        last = StepFrame(s.index, s.total, 0, 1, image, classes, shares, elapsed, None, s.x_t[..., :oh, :ow])
        return self.frames + [last], last
