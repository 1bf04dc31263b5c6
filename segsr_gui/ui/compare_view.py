"""The viewer: one canvas (restored, split, difference) or two side by side, sharing one
``ViewTransform`` so zoom and pan stay in step."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSizeF, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QStackedLayout, QWidget

from segsr_gui.ui.image_canvas import ImageCanvas
from segsr_gui.ui.view_transform import ZOOM_STEP, ViewTransform

MODES = ("off", "split", "side", "difference")


class CompareView(QWidget):
    cursorMoved = Signal(object)
    zoomChanged = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.transform = ViewTransform(self)
        self.main = ImageCanvas(self.transform)
        self.side_left = ImageCanvas(self.transform)
        self.side_right = ImageCanvas(self.transform)
        pair = QWidget()
        row = QHBoxLayout(pair)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.side_left)
        row.addWidget(self.side_right)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.main)
        self._stack.addWidget(pair)
        self.mode = "split"
        self.main.set_mode("split")
        for canvas in self.canvases():
            canvas.cursorMoved.connect(self.cursorMoved)
        self.main.zoomChanged.connect(self.zoomChanged)
        self.side_left.zoomChanged.connect(self._side_zoom)

    def canvases(self) -> list[ImageCanvas]:
        return [self.main, self.side_left, self.side_right]

    def active(self) -> ImageCanvas:
        return self.side_right if self.mode == "side" else self.main

    def _side_zoom(self, zoom: float) -> None:
        if self.mode == "side":
            self.zoomChanged.emit(zoom)

    def set_scene_size(self, width: int, height: int) -> None:
        self.transform.set_image_size(QSizeF(width, height))

    def set_images(self, left: Optional[QImage], right: Optional[QImage], left_label: str,
                   right_label: str, left_smooth: bool = True, right_full: Optional[QImage] = None) -> None:
        self.main.set_images(left, right, left_label, right_label, left_smooth, right_full)
        self.side_left.set_images(left, None, left_label, "", left_smooth)  # no right: left only
        self.side_right.set_images(None, right, "", right_label, right_full=right_full)

    def set_overlay(self, overlay: Optional[QImage], opacity: float, layer: str) -> None:
        self.main.set_overlay(overlay, opacity, layer)
        self.side_right.set_overlay(overlay, opacity, layer)

    def set_transparency(self, cover: Optional[QImage]) -> None:
        for canvas in self.canvases():
            canvas.set_transparency(cover)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"compare mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self._stack.setCurrentIndex(1 if mode == "side" else 0)
        self.main.set_mode({"off": "single", "split": "split", "difference": "difference"}.get(mode, "single"))
        self.zoomChanged.emit(self.active().zoom_level())

    def set_flipped(self, flipped: bool) -> None:
        self.main.set_flipped(flipped)

    def set_placeholder(self, text: str) -> None:
        for canvas in self.canvases():
            canvas.placeholder = text
            canvas.update()

    # navigation (keyboard and menu)
    def fit(self) -> None:
        self.transform.set_fit()

    def actual_size(self) -> None:
        self.transform.set_zoom(1.0, QSizeF(self.active().width(), self.active().height()))

    def zoom_in(self) -> None:
        self.transform.zoom_by(ZOOM_STEP, QSizeF(self.active().width(), self.active().height()))

    def zoom_out(self) -> None:
        self.transform.zoom_by(1 / ZOOM_STEP, QSizeF(self.active().width(), self.active().height()))
