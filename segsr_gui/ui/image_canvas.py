"""One zoomable, pannable image view: a single image, a split compare or a difference.

The canvas only paints what it is given (QImages prepared elsewhere) and reports user
intent through its own signals (cursor position, split position); zoom and pan live in
a shared ``ViewTransform`` so side-by-side canvases move together.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from segsr_gui.ui.view_transform import ZOOM_STEP, ViewTransform

PLACEHOLDER = "Open a photo to begin\n\nFile \u25b8 Open (Ctrl+O), drag a photo here, or paste one (Ctrl+V)"
SPLIT_GRAB_PX = 10
CHECKER_PX = 8  # the transparency checkerboard's squares, in screen pixels
CHECKER = (QColor(204, 204, 204), QColor(153, 153, 153))


def checker_brush() -> QBrush:
    tile = QPixmap(2 * CHECKER_PX, 2 * CHECKER_PX)
    tile.fill(CHECKER[0])
    p = QPainter(tile)
    p.fillRect(0, 0, CHECKER_PX, CHECKER_PX, CHECKER[1])
    p.fillRect(CHECKER_PX, CHECKER_PX, CHECKER_PX, CHECKER_PX, CHECKER[1])
    p.end()
    return QBrush(tile)


class ImageCanvas(QWidget):
    cursorMoved = Signal(object)  # QPointF in image pixels, or None when outside
    splitMoved = Signal(float)
    zoomChanged = Signal(float)

    def __init__(self, transform: ViewTransform | None = None, parent=None):
        super().__init__(parent)
        self.transform = transform or ViewTransform(self)
        self.transform.changed.connect(self._update_transform)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.mode = "single"  # single | split | difference
        self.left: Optional[QImage] = None
        self.right: Optional[QImage] = None
        self.right_full: Optional[QImage] = None  # full-size right image, drawn when zoomed in
        self.left_label = "Original"
        self.right_label = "Restored"
        self.left_smooth = True
        self.overlay: Optional[QImage] = None  # ARGB, drawn over the right image
        self.cover: Optional[QImage] = None  # Alpha8: 255 where the photo is transparent (or None)
        self._checker: Optional[QBrush] = None
        self.overlay_opacity = 0.45
        self.layer = "photo"  # photo | overlay | mask
        self.flipped = False
        self.split = 0.5
        self.placeholder = PLACEHOLDER
        self._drag: Optional[str] = None
        self._last_pos = QPointF()
        self._diff_cache: tuple = (None, None, None)

    # ---- content -------------------------------------------------------------------
    def set_images(self, left: Optional[QImage], right: Optional[QImage], left_label: str = "Original",
                   right_label: str = "Restored", left_smooth: bool = True,
                   right_full: Optional[QImage] = None) -> None:
        self.left, self.right, self.right_full = left, right, right_full
        self.left_label, self.right_label, self.left_smooth = left_label, right_label, left_smooth
        self.update()

    def set_overlay(self, overlay: Optional[QImage], opacity: float, layer: str) -> None:
        self.overlay, self.overlay_opacity, self.layer = overlay, opacity, layer
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.update()

    def set_transparency(self, cover: Optional[QImage]) -> None:
        """The photo's transparency (Alpha8, 255 = transparent), shown as a checkerboard."""
        self.cover = cover
        self.update()

    def set_flipped(self, flipped: bool) -> None:
        self.flipped = flipped
        self.update()

    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.update()

    # ---- geometry ------------------------------------------------------------------
    def _view(self) -> QSizeF:
        return QSizeF(self.width(), self.height())

    def _mapping(self) -> tuple[float, QPointF]:
        zoom, centre = self.transform.effective(self._view())
        origin = QPointF(self.width() / 2, self.height() / 2) - centre * zoom
        return zoom, origin

    def to_image(self, pos: QPointF) -> QPointF:
        zoom, origin = self._mapping()
        return (pos - origin) / zoom

    def to_view(self, pt: QPointF) -> QPointF:
        zoom, origin = self._mapping()
        return pt * zoom + origin

    def split_x(self) -> float:
        return self.to_view(QPointF(self.split * self.transform.image_size.width(), 0)).x()

    def zoom_level(self) -> float:
        return self._mapping()[0]

    def _update_transform(self) -> None:
        self.update()
        self.zoomChanged.emit(self.zoom_level())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.transform.fit:  # a fitted photo's zoom follows the canvas size
            self.zoomChanged.emit(self.zoom_level())

    # ---- painting ------------------------------------------------------------------
    def _draw(self, p: QPainter, img: QImage, target: QRectF, smooth: bool, zoom: float) -> None:
        """Draw only the part of ``img`` that is on screen (cost bounded by the widget size)."""
        shown = target.intersected(QRectF(self.rect()))
        if shown.isEmpty() or target.width() <= 0 or target.height() <= 0:
            return
        sx, sy = img.width() / target.width(), img.height() / target.height()
        source = QRectF((shown.left() - target.left()) * sx, (shown.top() - target.top()) * sy,
                        shown.width() * sx, shown.height() * sy)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth and zoom < 2.0)
        p.drawImage(shown, img, source)

    def _difference(self) -> Optional[QImage]:
        if self.left is None or self.right is None:
            return None
        if self._diff_cache[0] is self.left and self._diff_cache[1] is self.right:
            return self._diff_cache[2]
        size = self.right.size()
        diff = QImage(size, QImage.Format.Format_RGB32)
        p = QPainter(diff)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.left_smooth)
        p.drawImage(QRectF(0, 0, size.width(), size.height()), self.left)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
        p.drawImage(0, 0, self.right)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Plus)
        for _ in range(2):  # x4 gain: small differences become visible
            p.drawImage(0, 0, diff.copy())
        p.end()
        self._diff_cache = (self.left, self.right, diff)
        return diff

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(115))
        iw, ih = self.transform.image_size.width(), self.transform.image_size.height()
        if self.right is None and self.left is None or iw <= 0:
            p.setPen(self.palette().color(self.foregroundRole()))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.3)
            p.setFont(font)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        zoom, origin = self._mapping()
        target = QRectF(origin.x(), origin.y(), iw * zoom, ih * zoom)
        p.fillRect(target, QColor(0, 0, 0))
        show_left_only = self.flipped or self.right is None
        if self.mode == "difference" and not show_left_only:
            diff = self._difference()
            if diff is not None:
                self._draw(p, diff, target, False, zoom)
            self._label(p, "Difference (x4)", left=True)
            return
        if show_left_only:
            if self.left is not None:
                self._draw(p, self.left, target, self.left_smooth, zoom)
                self._draw_transparency(p, target, zoom)
            self._label(p, self.left_label, left=True)
            return
        if self.mode == "split" and self.left is not None:
            sx = self.split_x()
            p.save()
            p.setClipRect(QRectF(0, 0, max(0.0, sx), self.height()))
            self._draw(p, self.left, target, self.left_smooth, zoom)
            self._draw_transparency(p, target, zoom)
            p.restore()
            p.save()
            p.setClipRect(QRectF(sx, 0, max(0.0, self.width() - sx), self.height()))
            self._draw_right(p, target, zoom)
            p.restore()
            self._divider(p, sx)
            self._label(p, self.left_label, left=True)
            self._label(p, self.right_label, left=False)
        else:
            self._draw_right(p, target, zoom)
            self._label(p, self.right_label, left=True)

    def _draw_right(self, p: QPainter, target: QRectF, zoom: float) -> None:
        if self.layer == "mask" and self.overlay is not None:
            p.fillRect(target, QColor(0, 0, 0))
            self._draw(p, self.overlay, target, False, zoom)
            return
        right = self.right
        if self.right_full is not None and target.width() > right.width() * 1.05:
            right = self.right_full  # the preview has fewer pixels than the screen needs
        self._draw(p, right, target, True, zoom)
        if self.layer == "overlay" and self.overlay is not None:
            p.setOpacity(self.overlay_opacity)
            self._draw(p, self.overlay, target, False, zoom)
            p.setOpacity(1.0)
        self._draw_transparency(p, target, zoom)

    def _draw_transparency(self, p: QPainter, target: QRectF, zoom: float) -> None:
        """A checkerboard over what is painted, as opaque as the photo is transparent: the
        same as drawing the photo with its alpha over a checkerboard, as image viewers do."""
        if self.cover is None:
            return
        rect = target.intersected(QRectF(self.rect())).toAlignedRect()
        if rect.isEmpty():
            return
        layer = QImage(rect.size(), QImage.Format.Format_ARGB32_Premultiplied)
        layer.fill(Qt.GlobalColor.transparent)
        lp = QPainter(layer)
        lp.translate(-rect.topLeft())  # widget coordinates: the squares stay put when panning
        self._draw(lp, self.cover, target, True, zoom)
        lp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        if self._checker is None:
            self._checker = checker_brush()
        lp.fillRect(rect, self._checker)
        lp.end()
        p.drawImage(rect.topLeft(), layer)

    def _divider(self, p: QPainter, x: float) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(255, 255, 255, 220), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        centre = QPointF(x, self.height() / 2)
        p.setBrush(QColor(30, 30, 30, 200))
        p.drawEllipse(centre, 14, 14)
        p.drawText(QRectF(x - 14, centre.y() - 14, 28, 28), Qt.AlignmentFlag.AlignCenter, "\u25c2\u25b8")

    def _label(self, p: QPainter, text: str, left: bool) -> None:
        if not text:
            return
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 16, fm.height() + 8
        x = 10 if left else self.width() - w - 10
        rect = QRectF(x, 10, w, h)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 160))
        p.drawRoundedRect(rect, 4, 4)
        p.setPen(QColor(255, 255, 255))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    # ---- input ---------------------------------------------------------------------
    def _near_split(self, pos: QPointF) -> bool:
        return (self.mode == "split" and self.left is not None and self.right is not None
                and not self.flipped and abs(pos.x() - self.split_x()) <= SPLIT_GRAB_PX)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position()
            self._drag = "split" if self._near_split(pos) else "pan"
            self._last_pos = pos
            if self._drag == "pan":
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._drag == "split":
            iw = self.transform.image_size.width()
            if iw > 0:
                self.set_split(self.to_image(pos).x() / iw)
                self.splitMoved.emit(self.split)
        elif self._drag == "pan":
            self.transform.pan(pos - self._last_pos, self._view())
        else:
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_split(pos) else Qt.CursorShape.ArrowCursor)
        self._last_pos = pos
        pt = self.to_image(pos)
        size = self.transform.image_size
        inside = 0 <= pt.x() < size.width() and 0 <= pt.y() < size.height()
        self.cursorMoved.emit(pt if inside else None)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.ArrowCursor)
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursorMoved.emit(None)
        super().leaveEvent(event)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = delta.y() / 120.0
            if steps:
                self.transform.zoom_by(ZOOM_STEP ** steps, self._view(), event.position())
        else:
            self.transform.pan(QPointF(delta.x(), delta.y()) / 2.0, self._view())
        event.accept()
