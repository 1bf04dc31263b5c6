"""Class maps as files: palette PNG of ids, colour overlay, JSON legend.

Class maps are uint8 (H, W) ids at the SR image's size. They are only ever
resized with nearest neighbour; ids are never blended.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image


def palette_png(class_map: np.ndarray, palette: Sequence[Sequence[int]]) -> bytes:
    """8-bit palette PNG whose pixel values are the class ids."""
    if class_map.ndim != 2:
        raise ValueError(f"class map must be (H, W), got {class_map.shape}")
    im = Image.fromarray(class_map.astype(np.uint8), "P")
    flat = [v for colour in palette for v in colour]
    im.putpalette(flat + [0] * (768 - len(flat)))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def colourise(class_map: np.ndarray, palette: Sequence[Sequence[int]],
              visible: Sequence[bool] | None = None) -> np.ndarray:
    """uint8 (H, W, 3) colours of a class map; hidden classes are black."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(palette)] = np.asarray(palette, np.uint8)
    if visible is not None:
        lut[:len(visible)][~np.asarray(visible, bool)] = 0
    return lut[class_map]


def overlay(rgb: np.ndarray, class_map: np.ndarray, palette: Sequence[Sequence[int]],
            opacity: float = 0.5, visible: Sequence[bool] | None = None) -> np.ndarray:
    """uint8 (H, W, 3): class colours blended over an RGB float image in [0, 1]."""
    base = np.clip(rgb, 0, 1) * 255
    colours = colourise(class_map, palette, visible).astype(np.float32)
    mask = np.ones(class_map.shape, bool)
    if visible is not None:
        mask = np.asarray(visible, bool)[class_map]
    out = np.where(mask[..., None], (1 - opacity) * base + opacity * colours, base)
    return np.round(out).astype(np.uint8)


def class_shares(class_map: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixel count per class id 0..K-1."""
    return np.bincount(class_map.ravel(), minlength=num_classes)[:num_classes]


def legend(class_map: np.ndarray, classes: Sequence[str], palette: Sequence[Sequence[int]],
           model_name: str, model_sha256: str | None = None) -> dict:
    """The JSON legend: id, name, colour, pixel count and share per class, model name."""
    counts = class_shares(class_map, len(classes))
    total = max(1, int(class_map.size))
    return {
        "model": model_name,
        "model_sha256": model_sha256,
        "width": int(class_map.shape[1]),
        "height": int(class_map.shape[0]),
        "classes": [{"id": i, "name": name, "color": list(map(int, palette[i])),
                     "pixels": int(counts[i]), "share": round(int(counts[i]) / total, 6)}
                    for i, name in enumerate(classes)],
    }
