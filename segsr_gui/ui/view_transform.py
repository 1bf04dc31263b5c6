"""The small model that canvases share for zoom and pan (side by side = one transform)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QSizeF, Signal

ZOOM_MIN, ZOOM_MAX = 0.02, 32.0
ZOOM_STEP = 1.25


class ViewTransform(QObject):
    """``zoom`` (screen pixels per image pixel) and ``centre`` (image point at the view centre).

    ``fit`` is True while the view follows the window size; any zoom or pan clears it.
    """

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.zoom = 1.0
        self.centre = QPointF(0, 0)
        self.fit = True
        self.image_size = QSizeF(0, 0)

    def set_image_size(self, size: QSizeF) -> None:
        if size != self.image_size:
            self.image_size = QSizeF(size)
            self.fit = True
            self.changed.emit()

    def fit_zoom(self, view: QSizeF) -> float:
        iw, ih = self.image_size.width(), self.image_size.height()
        if iw <= 0 or ih <= 0 or view.width() <= 0 or view.height() <= 0:
            return 1.0
        return min(view.width() / iw, view.height() / ih) * 0.96

    def effective(self, view: QSizeF) -> tuple[float, QPointF]:
        """(zoom, centre) for a view of this size."""
        if self.fit:
            return self.fit_zoom(view), QPointF(self.image_size.width() / 2, self.image_size.height() / 2)
        return self.zoom, self.centre

    def set_fit(self) -> None:
        self.fit = True
        self.changed.emit()

    def set_zoom(self, zoom: float, view: QSizeF, anchor_view: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor_view`` (a view position) fixed."""
        old_zoom, centre = self.effective(view)
        zoom = max(ZOOM_MIN, min(ZOOM_MAX, zoom))
        if anchor_view is None:
            anchor_view = QPointF(view.width() / 2, view.height() / 2)
        offset = anchor_view - QPointF(view.width() / 2, view.height() / 2)
        anchor_img = centre + offset / old_zoom
        self.centre = anchor_img - offset / zoom
        self.zoom = zoom
        self.fit = False
        self.changed.emit()

    def zoom_by(self, factor: float, view: QSizeF, anchor_view: QPointF | None = None) -> None:
        self.set_zoom(self.effective(view)[0] * factor, view, anchor_view)

    def pan(self, delta_view: QPointF, view: QSizeF) -> None:
        zoom, centre = self.effective(view)
        self.zoom, self.centre, self.fit = zoom, centre - delta_view / zoom, False
        self.changed.emit()
