"""NumPy arrays to QImages (called on the worker thread, so the GUI thread only paints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor, QImage

PREVIEW_MAX_SIDE = 1600  # live previews larger than this are scaled down on the worker


def _qimage_view(img: QImage, channels: int) -> np.ndarray:
    h, w = img.height(), img.width()
    rows = np.frombuffer(img.bits(), np.uint8).reshape(h, img.bytesPerLine())[:, :channels * w]
    return rows.reshape(h, w, channels) if channels > 1 else rows


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W, 3) or float (H, W, 3) in [0, 1] -> an RGB888 QImage that owns its pixels.

    The pixels are copied with NumPy into the QImage's own buffer: NumPy releases the GIL,
    ``QImage.copy()``/``scaled()`` do not, and a worker holding the GIL stalls the GUI."""
    rgb = to_uint8(rgb)
    h, w = rgb.shape[:2]
    img = QImage(w, h, QImage.Format.Format_RGB888)
    np.copyto(_qimage_view(img, 3), rgb)
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


@dataclass(eq=False)
class ClassLayer:
    """Preview-sized class ids and their colour image (every class visible)."""

    ids: np.ndarray  # uint8 (h, w)
    image: QImage  # ARGB32 premultiplied


def colour_ids(ids: np.ndarray, palette, visible=None) -> QImage:
    """Colour a class map through a 256-entry ARGB table with NumPy (GIL-free, unlike
    ``QImage.convertToFormat``); hidden classes are transparent."""
    lut = np.array(colour_table(palette, visible), dtype=np.uint32)
    h, w = ids.shape
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    view = np.frombuffer(img.bits(), np.uint32).reshape(h, img.bytesPerLine() // 4)[:, :w]
    np.take(lut, ids, out=view)
    return img


def preview_classes(class_map: np.ndarray, palette, max_side: int = PREVIEW_MAX_SIDE) -> ClassLayer:
    """Class ids scaled with nearest neighbour only (ids are never blended)."""
    from PIL import Image

    size = preview_size(class_map.shape[1], class_map.shape[0], max_side)
    if size != (class_map.shape[1], class_map.shape[0]):
        class_map = np.asarray(Image.fromarray(np.ascontiguousarray(class_map)).resize(size, Image.NEAREST))
    ids = np.ascontiguousarray(class_map, dtype=np.uint8)
    return ClassLayer(ids, colour_ids(ids, palette))


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


def tensor_to_rgb(t, height: int, width: int) -> np.ndarray:
    """(1, 3, h, w) tensor in [-1, 1] -> uint8 (height, width, 3), cropped to the given size."""
    # NumPy, in place on one float buffer laid out (h, w, 3): several times faster than the same
    # arithmetic in torch on a CPU (benchmarks/speed.py's preview cost), and it runs every step.
    arr = t[0, :, :height, :width].detach().float().cpu().numpy().transpose(1, 2, 0)
    out = np.multiply(arr, 127.5)
    out += 127.5
    np.clip(out, 0, 255, out=out)
    np.rint(out, out=out)
    return out.astype(np.uint8)


def logits_to_ids(t, height: int, width: int) -> np.ndarray:
    """(1, K, h, w) class logits tensor -> uint8 (height, width) argmax ids."""
    from ..masks import class_ids

    return class_ids(t[0, :, :height, :width].detach().float().cpu().numpy())
