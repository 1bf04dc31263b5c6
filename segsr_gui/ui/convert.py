"""Arrays to QImages (called on the worker thread, so the GUI thread only paints).

The per-step conversions use OpenCV's vectorised arithmetic, which releases the GIL and is
several times faster than the same steps in NumPy; the larger ones run in horizontal bands
on as many threads as torch uses (between two sampler steps those cores are idle).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np
from PySide6.QtGui import QColor, QImage

PREVIEW_MAX_SIDE = 1600  # live previews larger than this are scaled down on the worker
MIN_BAND_ROWS = 64  # thinner bands cost more in hand-off than they save

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def in_row_bands(fn: Callable[[slice], None], height: int) -> None:
    """Call ``fn(rows)`` on disjoint row bands covering ``range(height)``, in parallel."""
    import torch

    global _pool, _pool_size
    n = max(1, min(torch.get_num_threads(), height // MIN_BAND_ROWS))
    bands = [slice(i * height // n, (i + 1) * height // n) for i in range(n)]
    if n == 1:
        fn(bands[0])
        return
    with _pool_lock:
        if _pool_size < n:
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="preview"), n
        pool = _pool
    for done in [pool.submit(fn, band) for band in bands]:
        done.result()  # re-raises a band's exception here


def qimage_pixels(img: QImage) -> np.ndarray:
    """An RGB888 QImage's pixels as a writable uint8 (H, W, 3) view."""
    return _qimage_view(img, 3)


def _qimage_view(img: QImage, channels: int) -> np.ndarray:
    h, w = img.height(), img.width()
    rows = np.frombuffer(img.bits(), np.uint8).reshape(h, img.bytesPerLine())[:, :channels * w]
    return rows.reshape(h, w, channels) if channels > 1 else rows


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """float (..., 3) in [0, 1] (values outside are clipped) -> uint8, rounded half to even."""
    import cv2

    if rgb.dtype == np.uint8:
        return rgb
    # one channel of H x (W * 3): OpenCV applies a plain number to the first channel only
    flat = np.ascontiguousarray(rgb, dtype=np.float32).reshape(rgb.shape[0], -1)
    return cv2.convertScaleAbs(cv2.max(flat, 0.0), alpha=255.0).reshape(rgb.shape)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W, 3) or float (H, W, 3) in [0, 1] -> an RGB888 QImage that owns its pixels.

    The pixels are copied with NumPy into the QImage's own buffer: NumPy releases the GIL,
    ``QImage.copy()``/``scaled()`` do not, and a worker holding the GIL stalls the GUI."""
    h, w = rgb.shape[:2]
    img = QImage(w, h, QImage.Format.Format_RGB888)
    view = _qimage_view(img, 3)

    in_row_bands(lambda rows: np.copyto(view[rows], to_uint8(rgb[rows])), h)
    return img


def preview_size(width: int, height: int, max_side: int = PREVIEW_MAX_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_rgb(rgb: np.ndarray, size: tuple[int, int], resample=None) -> np.ndarray:
    """uint8 (H, W, 3) resized with Pillow (which releases the GIL) to ``size`` = (w, h)."""
    from PIL import Image

    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    resample = Image.BILINEAR if resample is None else resample
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize(size, resample, reducing_gap=2.0))


def preview_rgb(rgb: np.ndarray, max_side: int = PREVIEW_MAX_SIDE) -> QImage:
    rgb = to_uint8(rgb)
    return rgb_to_qimage(resize_rgb(rgb, preview_size(rgb.shape[1], rgb.shape[0], max_side)))


class ClassLayer:
    """Preview-sized class ids and their colour image (every class visible), each made on
    first use. Most live frames are never shown as classes (the photo view is the default):
    colouring each frame on the worker was a fifth of the preview's cost, and the argmax over
    the class planes half of what was left. So a live frame's layer may hold only ``make``,
    which returns its ids; the worker makes them at once only while the window shows classes
    (``UpscaleWorker.show_classes``)."""

    def __init__(self, ids: Optional[np.ndarray], palette: list,
                 make: Optional[Callable[[], np.ndarray]] = None):
        if ids is None and make is None:
            raise ValueError("a class layer needs its ids or a way to make them")
        self._ids, self._make, self.palette = ids, make, palette
        self._image: Optional[QImage] = None

    @property
    def made(self) -> bool:
        return self._ids is not None

    @property
    def ids(self) -> np.ndarray:  # uint8 (h, w)
        if self._ids is None:
            self._ids, self._make = self._make(), None
        return self._ids

    @property
    def image(self) -> QImage:  # ARGB32 premultiplied
        if self._image is None:
            self._image = colour_ids(self.ids, self.palette)
        return self._image


def colour_ids(ids: np.ndarray, palette, visible=None) -> QImage:
    """Colour a class map through a 256-entry ARGB table with NumPy (GIL-free, unlike
    ``QImage.convertToFormat``); hidden classes are transparent."""
    lut = np.array(colour_table(palette, visible), dtype=np.uint32)
    h, w = ids.shape
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    view = np.frombuffer(img.bits(), np.uint32).reshape(h, img.bytesPerLine() // 4)[:, :w]
    in_row_bands(lambda rows: np.take(lut, ids[rows], out=view[rows]), h)
    return img


def preview_classes(class_map: np.ndarray, palette, max_side: int = PREVIEW_MAX_SIDE,
                    reused: bool = False) -> ClassLayer:
    """Class ids scaled with nearest neighbour only (ids are never blended). ``reused``: the
    caller will write into ``class_map`` again (a tiled run's canvas of ids), so the layer
    keeps a copy of it rather than a view."""
    from PIL import Image

    size = preview_size(class_map.shape[1], class_map.shape[0], max_side)
    if size != (class_map.shape[1], class_map.shape[0]):
        return ClassLayer(np.asarray(Image.fromarray(np.ascontiguousarray(class_map)).resize(size, Image.NEAREST)),
                          palette)
    ids = np.array(class_map, dtype=np.uint8, order="C", copy=True) if reused else \
        np.ascontiguousarray(class_map, dtype=np.uint8)
    return ClassLayer(ids, palette)


def colour_table(palette, visible) -> list[int]:
    """ARGB colour table; hidden classes (and ids past the palette) are transparent."""
    table = []
    for i in range(256):
        if i < len(palette) and (visible is None or (i < len(visible) and visible[i])):
            r, g, b = palette[i]
            table.append(QColor(int(r), int(g), int(b), 255).rgba())
        else:
            table.append(QColor(0, 0, 0, 0).rgba())
    return table


def tensor_to_rgb(t, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """(1, 3, h, w) tensor in [-1, 1] (values outside are clipped) -> uint8 (height, width, 3),
    cropped to the given size; written into ``out`` (for example a QImage's pixels) when given."""
    import cv2

    # OpenCV scales, rounds (half to even, as NumPy) and saturates each planar float plane in
    # one vectorised pass and interleaves them in another: 5x faster than the same in NumPy.
    planar = t[0, :, :height, :width].detach().float().cpu().numpy()
    planes = [cv2.convertScaleAbs(cv2.max(p, -1.0), alpha=127.5, beta=127.5) for p in planar]
    direct = out is not None and out.flags.c_contiguous
    merged = cv2.merge(planes, dst=out if direct else None)
    if out is None:
        return merged
    if not np.shares_memory(merged, out):
        out[...] = merged
    return out


def logits_to_ids(t, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """(1, K, h, w) class logits tensor -> uint8 (height, width) argmax ids (into ``out``)."""
    from segsr_gui.io.masks import class_ids

    scores = t[0, :, :height, :width].detach().float().cpu().numpy()
    out = np.empty((height, width), np.uint8) if out is None else out
    in_row_bands(lambda rows: class_ids(scores[:, rows], out=out[rows]), height)
    return out


def estimated_shares(step, height: int, width: int, num_classes: int, stride: int = 8) -> np.ndarray:
    """Fractions of pixels per class of a step's class map, estimated from every ``stride``-th
    pixel across and down (1/64 of them): what the legend shows while the map itself is not
    made. Each sampled pixel is the exact argmax there, so the estimate is unbiased."""
    from segsr_gui.io.masks import class_fractions

    stride = max(1, min(stride, height // 4, width // 4))
    first = stride // 2
    sampled = step.logits[..., first:height:stride, first:width:stride]
    ids = logits_to_ids(sampled, *sampled.shape[-2:])
    return class_fractions(ids, num_classes)


def step_ids(step, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """A sampler step's shown class ids (its ``s0_hat`` argmax) without making ``s0_hat``."""
    return logits_to_ids(step.logits, height, width, out=out)
