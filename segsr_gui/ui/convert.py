"""NumPy arrays to QImages (called on the worker thread, so the GUI thread only paints)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

PREVIEW_MAX_SIDE = 2048  # live previews larger than this are scaled down on the worker


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W, 3) or float (H, W, 3) in [0, 1] -> an RGB888 QImage that owns its pixels."""
    if rgb.dtype != np.uint8:
        rgb = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def classes_to_qimage(class_map: np.ndarray, palette) -> QImage:
    """uint8 (H, W) ids -> an Indexed8 QImage whose colour table is the palette."""
    ids = np.ascontiguousarray(class_map.astype(np.uint8))
    h, w = ids.shape
    img = QImage(ids.data, w, h, w, QImage.Format.Format_Indexed8).copy()
    img.setColorTable(colour_table(palette, None))
    return img


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


def fit_preview(img: QImage, max_side: int = PREVIEW_MAX_SIDE, smooth: bool = True) -> QImage:
    if max(img.width(), img.height()) <= max_side:
        return img
    mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
    return img.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, mode)


def tensor_to_rgb(t, height: int, width: int) -> np.ndarray:
    """(1, 3, h, w) tensor in [-1, 1] -> uint8 (height, width, 3), cropped to the given size."""
    arr = ((t[0, :, :height, :width].float().clamp(-1, 1) + 1) * 127.5).round().byte()
    return arr.permute(1, 2, 0).cpu().numpy()
