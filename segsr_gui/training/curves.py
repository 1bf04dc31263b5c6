"""Training curves as a small PNG (Pillow only: no plotting library for four lines).

``write_curves`` reads a run's ``log.csv`` and draws one panel per column
(image loss, class loss, validation PSNR, validation mIoU) against iterations.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from PIL import Image, ImageDraw

from segsr_gui.io.atomic import write_atomic

PANELS = [("img_loss", "image L1 (train)"), ("seg_loss", "class CE (train)"),
          ("val_psnr", "val PSNR dB"), ("val_miou", "val mIoU")]
PANEL_W, PANEL_H, PAD = 320, 200, 36


def _numbers(rows: list[dict], key: str) -> list[tuple[float, float]]:
    points = []
    for row in rows:
        try:
            x, y = float(row["iteration"]), float(row[key])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(y):
            points.append((x, y))
    return points


def _panel(draw: ImageDraw.ImageDraw, left: int, top: int, title: str, points) -> None:
    box = (left + PAD, top + 20, left + PANEL_W - 8, top + PANEL_H - 20)
    draw.rectangle(box, outline=(90, 90, 90))
    draw.text((left + PAD, top + 4), title, fill=(20, 20, 20))
    if not points:
        draw.text((box[0] + 8, box[1] + 8), "no data", fill=(120, 120, 120))
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1e-6
    def to_px(x, y):
        return (box[0] + (x - x0) / (x1 - x0) * (box[2] - box[0]),
                box[3] - (y - y0) / (y1 - y0) * (box[3] - box[1]))
    pts = [to_px(x, y) for x, y in points]
    if len(pts) > 1:
        draw.line(pts, fill=(30, 90, 200), width=2)
    for px, py in pts:
        draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=(30, 90, 200))
    draw.text((left + 2, box[1]), f"{y1:.4g}", fill=(60, 60, 60))
    draw.text((left + 2, box[3] - 10), f"{y0:.4g}", fill=(60, 60, 60))
    draw.text((box[0], box[3] + 4), f"it {x0:.0f}", fill=(60, 60, 60))
    draw.text((box[2] - 60, box[3] + 4), f"it {x1:.0f}", fill=(60, 60, 60))


def write_curves(log_csv: str | Path, png: str | Path) -> Path:
    """Draw the run's curves from ``log_csv`` into ``png`` (written whole, then renamed)."""
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    image = Image.new("RGB", (2 * PANEL_W, 2 * PANEL_H), "white")
    draw = ImageDraw.Draw(image)
    for i, (key, title) in enumerate(PANELS):
        _panel(draw, (i % 2) * PANEL_W, (i // 2) * PANEL_H, title, _numbers(rows, key))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return write_atomic(png, buf.getvalue(), overwrite=True)
