"""The Damage panel: the damage a run found, painted red over the photo, a brush to add to it
and an eraser to take from it (with undo and redo), and Restore again with the edited map.

The edits themselves live in ``segsr_gui.app.damage_edit`` (Qt-free), one ``DamageEdit`` per
run (``RunOutput.damage_edit``), so each run keeps its own map and its own undo history. The
canvases show the photo enlarged x4; a pointer position is divided by ``SCALE`` to give the
photo pixel the brush paints, and the map is drawn over the enlarged photo without smoothing
(each photo pixel a 4x4 block). The next run fills the user's map instead of finding the
damage itself (``RunParams.repair_mask``); the run made with it has it as its ``damage``, so
it is also the map exported.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from shiboken6 import isValid
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDockWidget, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QRadioButton, QSpinBox, QWidget)

from segsr_gui.app.damage_edit import MAX_SIZE, MIN_SIZE, DamageEdit
from segsr_gui.app.model_info import has_repair
from segsr_gui.ui import window_parts as parts
from segsr_gui.ui.actions import new_action
from segsr_gui.ui.opening import SCALE

MASK_BGRA = (40, 40, 255, 150)  # red, a little more than half opaque: the photo shows through
TOOLS = ("look", "brush", "eraser")


def mask_qimage(mask: np.ndarray) -> QImage:
    """The damage map as an ARGB image of the photo's size: red where damaged, clear elsewhere."""
    h, w = mask.shape
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    paint_mask(image, mask, (0, h, 0, w))
    return image


def paint_mask(image: QImage, mask: np.ndarray, box: tuple) -> None:
    """Redraw the (y0, y1, x0, x1) ``box`` of ``image`` from ``mask``, in place: a stroke on a
    large photo redraws a few hundred pixels per pointer move, not the whole map (about 50 ms
    for 6 megapixels)."""
    y0, y1, x0, x1 = box
    pixels = np.ndarray((image.height(), image.width(), 4), np.uint8, buffer=image.bits(),
                        strides=(image.bytesPerLine(), 4, 1))
    patch = pixels[y0:y1, x0:x1]
    patch[...] = 0
    patch[mask[y0:y1, x0:x1]] = MASK_BGRA  # ARGB32 is B, G, R, A in memory on little-endian machines


class DamageOverlay(QWidget):
    """A clear layer over one canvas: paints the damage map in the canvas's image frame and,
    while a brush or the eraser is chosen, turns left-button drags into strokes (the wheel
    still pans and zooms the canvas below)."""

    def __init__(self, canvas, tools: "DamageTools"):
        super().__init__(canvas)
        self.canvas, self.tools = canvas, tools
        self.image: Optional[QImage] = None
        self.editing = False
        self._painting = False
        self._pointer: Optional[QPointF] = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        canvas.transform.changed.connect(self.update)
        canvas.installEventFilter(self)
        self.setGeometry(canvas.rect())
        self.raise_()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
        return False

    def set_image(self, image: Optional[QImage]) -> None:
        self.image = image
        self.update()

    def set_editing(self, on: bool) -> None:
        self.editing = on
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, not on)
        self.setMouseTracking(on)
        if on:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.unsetCursor()
            self._pointer, self._painting = None, False
        self.update()

    def image_rect(self) -> QRectF:
        """Where the enlarged photo lies on the canvas, in widget pixels."""
        size = self.canvas.transform.image_size
        return QRectF(self.canvas.to_view(QPointF(0, 0)), self.canvas.to_view(QPointF(size.width(), size.height())))

    def photo_point(self, pos: QPointF) -> tuple[float, float]:
        """A widget position as photo pixels (the canvas shows the photo x``SCALE``)."""
        pt = self.canvas.to_image(pos)
        return pt.x() / SCALE, pt.y() / SCALE

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        target = self.image_rect()
        if self.image is not None and target.width() > 0 and target.height() > 0:
            shown = target.intersected(QRectF(self.rect()))
            if not shown.isEmpty():  # only the part on screen: the cost follows the widget, not the photo
                sx, sy = self.image.width() / target.width(), self.image.height() / target.height()
                source = QRectF((shown.left() - target.left()) * sx, (shown.top() - target.top()) * sy,
                                shown.width() * sx, shown.height() * sy)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # nearest: crisp 4x4 blocks
                p.drawImage(shown, self.image, source)
        if self.editing and self._pointer is not None:  # the brush's outline, at its true size
            radius = self.tools.size() / 2 * SCALE * self.canvas.zoom_level()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for colour, width in ((QColor(0, 0, 0, 180), 3), (QColor(255, 255, 255, 230), 1)):
                p.setPen(QPen(colour, width))
                p.drawEllipse(self._pointer, max(radius, 2.0), max(radius, 2.0))

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self.canvas.setFocus(Qt.FocusReason.MouseFocusReason)  # Ctrl+Z then undoes the stroke, not a field's typing
        self._painting = True
        self.tools.stroke_begin()
        self.tools.stroke_to(*self.photo_point(event.position()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        pos = event.position()
        self._pointer = pos
        if self._painting:
            self.tools.stroke_to(*self.photo_point(pos))
        pt, size = self.canvas.to_image(pos), self.canvas.transform.image_size
        inside = 0 <= pt.x() < size.width() and 0 <= pt.y() < size.height()
        self.canvas.cursorMoved.emit(pt if inside else None)  # the status bar's coordinates
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self._painting:
            self._painting = False
            self.tools.stroke_end()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._pointer = None
        self.update()


class DamagePanel(QWidget):
    """The Damage dock's widgets; ``DamageTools`` wires them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.show_box = QCheckBox("Show damage in red")
        self.show_box.setToolTip("Paint the damage the shown run found (or filled) red over the photo.")
        self.tool_group = QButtonGroup(self)
        self.tool_buttons = {}
        tools_row = QHBoxLayout()
        for key, text, tip in (("look", "Look", "Drag to pan, drag the divider to compare."),
                               ("brush", "Brush", "Paint damage the model missed (left button)."),
                               ("eraser", "Eraser", "Remove marks that are not damage (left button).")):
            button = QRadioButton(text)
            button.setToolTip(tip + " The wheel pans, Ctrl+wheel zooms.")
            self.tool_group.addButton(button)
            self.tool_buttons[key] = button
            tools_row.addWidget(button)
        self.tool_buttons["look"].setChecked(True)
        self.size = QSpinBox(minimum=MIN_SIZE, maximum=MAX_SIZE, value=3)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush width in the photo's own pixels (the view shows the photo 4\u00d7 larger).")
        self.undo_button, self.redo_button = QPushButton("Undo"), QPushButton("Redo")
        self.undo_button.setToolTip("Take back the last stroke (Ctrl+Z)")
        self.redo_button.setToolTip("Make the stroke again (Ctrl+Shift+Z or Ctrl+Y)")
        self.detect_button = QPushButton("Detect again")
        self.detect_button.setToolTip("Forget the painted map: the next run finds the damage itself.")
        self.again_button = QPushButton("Restore again  (F5)")
        self.again_button.setToolTip("Restore the photo filling the damage as painted here.")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        edit_row, run_row = QHBoxLayout(), QHBoxLayout()
        for row, widgets in ((edit_row, (self.size, self.undo_button, self.redo_button)),
                             (run_row, (self.detect_button, self.again_button))):
            for widget in widgets:
                row.addWidget(widget)
        form = QFormLayout(self)
        form.addRow(self.show_box)
        form.addRow("Tool", tools_row)
        form.addRow("Size", edit_row)
        form.addRow(run_row)
        form.addRow(self.note)

    def tool(self) -> str:
        return next(key for key, button in self.tool_buttons.items() if button.isChecked())

    def set_tool(self, key: str) -> None:
        self.tool_buttons[key].setChecked(True)


class DamageTools(QObject):
    """Adds the Damage dock, the canvases' overlays and Edit > Undo/Redo to ``window``, and
    follows the run on show."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = DamagePanel()
        self.dock = parts.add_dock(window, "Damage", parts.scrolled(self.panel), "damageDock")
        legend = window.findChild(QDockWidget, "legendDock")
        if legend is not None:  # a tab beside the classes: the legend keeps the docks' spare height
            window.tabifyDockWidget(legend, self.dock)
            legend.raise_()
        self.overlays = [DamageOverlay(canvas, self) for canvas in window.viewer.canvases()]
        self._edit: Optional[DamageEdit] = None
        self._open = False  # the Damage tab is on show: only then do left-button drags paint
        self._layer: Optional[str] = None  # the class layer the Damage view turned off
        self._image_of: Optional[DamageEdit] = None  # the edit the overlays' image shows
        self.undo_action = new_action(window, "&Undo damage stroke", self.undo, ("Ctrl+Z",))
        self.redo_action = new_action(window, "&Redo damage stroke", self.redo, ("Ctrl+Shift+Z", "Ctrl+Y"))
        menu = window.menuBar().addMenu("&Edit")
        window.menuBar().insertMenu(window.menus["&Run"].menuAction(), menu)
        menu.addActions([self.undo_action, self.redo_action])
        window.menus["&Edit"] = menu
        p = self.panel
        p.undo_button.clicked.connect(self.undo)
        p.redo_button.clicked.connect(self.redo)
        p.detect_button.clicked.connect(self.detect_again)
        p.again_button.clicked.connect(window.start_run)
        p.show_box.toggled.connect(self._show_toggled)
        p.tool_group.buttonToggled.connect(self._tool_changed)
        self.dock.visibilityChanged.connect(self._dock_shown)
        for signal in (window.photoLoaded, window.runFinished, window.busyChanged):
            signal.connect(lambda *_: self.refresh())
        window.runFinished.connect(self._run_finished)
        window.view_panel.changed.connect(self.refresh)
        window.run_panel.repair.currentIndexChanged.connect(lambda _: self.refresh())
        window.run_panel.model.currentIndexChanged.connect(lambda _: self.refresh())
        self.refresh()

    # ---- what the map is --------------------------------------------------------------
    def size(self) -> int:
        return self.panel.size.value()

    def _model_repairs(self) -> bool:
        path = self.window.run_panel.model_path()
        return path is not None and has_repair(path)

    def edit(self) -> Optional[DamageEdit]:
        """The shown run's map as edited (made on first use: the run's damage map, or an
        empty one to paint on when the run repaired nothing and the model can)."""
        w = self.window
        run = w.current_run() if w.photo is not None else None
        if run is None:
            return None
        if run.damage_edit is None:
            damage = run.result.damage
            if damage is None:
                if not self._model_repairs():
                    return None
                damage = np.zeros(w.photo.rgb.shape[:2], bool)
            run.damage_edit = DamageEdit(damage, painted=run.damage_given)
        return run.damage_edit

    def mask_for_next_run(self) -> Optional[np.ndarray]:
        """The user's map for the next run (a copy), or None: the run finds the damage itself."""
        edit = self.edit()
        if edit is None or not edit.users or self.window.photo is None:
            return None
        return edit.mask.copy() if edit.shape == self.window.photo.rgb.shape[:2] else None

    def params(self, params):
        """``params`` with the user's map as ``repair_mask`` when the model has a repair stage (a
        model without one could not fill it): a painted map is filled whether or not the
        automatic detection (the Repair damage choice) is on."""
        mask = self.mask_for_next_run()
        if mask is not None and self._model_repairs():
            params.repair_mask = mask
        return params

    def _run_finished(self, outcome: str) -> None:
        """After a run whose repair found damage by itself, the Damage tab comes to the front:
        the detection also takes bright thin things for damage, so the map is worth a look
        before export (the user's own painted map is already in front of them)."""
        run = self.window.current_run() if outcome == "done" and self.window.photo is not None else None
        if run is not None and run.result.damage is not None and not run.damage_given and run.result.damage.any():
            self.dock.raise_()

    # ---- editing ----------------------------------------------------------------------
    def _tool_changed(self, *_) -> None:
        if self.panel.tool() != "look":
            self.panel.show_box.setChecked(True)  # painting blind helps nobody
        self.refresh()

    def _show_toggled(self, on: bool) -> None:
        """Red over class colours (a person is red too) is hard to read: the Damage view shows
        the photo without them, and gives back the class layer it took when it is turned off."""
        view = self.window.view_panel
        if on and view.value("layer") != "photo":
            self._layer = view.value("layer")
            view.set_value("layer", "photo")
        elif not on and self._layer is not None:
            if view.value("layer") == "photo":
                view.set_value("layer", self._layer)
            self._layer = None
        self.refresh(rebuild=True)

    def _dock_shown(self, shown: bool) -> None:
        self._open = bool(shown)  # with the tab hidden a drag pans again, whatever tool is chosen
        if shown:
            self.refresh()
            return
        for overlay in self.overlays:  # hidden also as the window is taken down: touch only what is left
            if isValid(overlay):
                overlay.set_editing(False)

    def stroke_begin(self) -> None:
        if self._edit is not None:
            self._edit.begin(self.panel.tool() == "brush", self.size())

    def stroke_to(self, x: float, y: float) -> None:
        edit = self._edit
        if edit is None or not edit.stroking:
            return
        edit.paint_to(x, y)
        image = self.overlays[0].image
        if image is None or edit.last_box is None:
            return
        paint_mask(image, edit.mask, edit.last_box)  # the overlays share this image
        for overlay in self.overlays:
            overlay.update()

    def stroke_end(self) -> None:
        if self._edit is not None:
            self._edit.end()
            self.refresh(rebuild=True)

    def undo(self) -> None:
        if self._edit is not None and not self.window.running and self._edit.undo():
            self.refresh(rebuild=True)

    def redo(self) -> None:
        if self._edit is not None and not self.window.running and self._edit.redo():
            self.refresh(rebuild=True)

    def detect_again(self) -> None:
        if self._edit is not None:
            self._edit.forget()
            self.refresh(rebuild=True)

    # ---- showing ----------------------------------------------------------------------
    def _show_mask(self) -> None:
        image = mask_qimage(self._edit.mask) if self._edit is not None and self.panel.show_box.isChecked() else None
        self._image_of = self._edit
        for overlay in self.overlays:
            overlay.set_image(image)

    def refresh(self, rebuild: bool = False) -> None:
        self._edit = edit = self.edit()
        if rebuild or edit is not self._image_of or (self.overlays[0].image is None) == self.panel.show_box.isChecked():
            self._show_mask()
        idle = not self.window.running
        editing = edit is not None and idle and self._open and self.panel.tool() != "look"
        for overlay in self.overlays:
            overlay.set_editing(editing)
        p = self.panel
        for widget in list(p.tool_buttons.values()) + [p.size]:
            widget.setEnabled(edit is not None and idle)
        self.undo_action.setEnabled(edit is not None and idle and edit.can_undo)
        self.redo_action.setEnabled(edit is not None and idle and edit.can_redo)
        p.undo_button.setEnabled(self.undo_action.isEnabled())
        p.redo_button.setEnabled(self.redo_action.isEnabled())
        p.detect_button.setEnabled(edit is not None and idle and edit.users)
        p.again_button.setEnabled(edit is not None and idle and edit.users)
        text, tip = self._note(edit)
        p.note.setText(text)
        p.note.setToolTip(tip)

    def _note(self, edit: Optional[DamageEdit]) -> tuple[str, str]:
        """(one short line for the panel, the longer say for its tooltip)."""
        w = self.window
        run = w.current_run() if w.photo is not None else None
        if run is None:
            return ("Restore (F5) first: its damage shows here.",
                    "Restore the photo (F5): the damage it finds and fills shows here.")
        if edit is None:
            return ("No repair stage in this model.",
                    f"Run {run.id} repaired nothing, and its model has no repair stage to fill a painted map.")
        share = f"{100 * edit.mask.mean():.1f} %"
        if run.result.damage is None and not edit.users:
            said, tip = (f"Run {run.id} repaired nothing: paint to add damage.",
                         "Repair damage was off for this run. Paint the damage to fill, then Restore again.")
        elif not run.damage_given and not edit.users and not edit.mask.any():
            said, tip = (f"Run {run.id} filled no damage: paint to add some.",
                         "On Auto, Repair damage fills only a photo that shows scratches or cracks. Choose\n"
                         "Always to fill whatever the detection finds, or paint the damage, then Restore again.")
        elif run.damage_given and not edit.edited:
            said, tip = f"Run {run.id} filled your map ({share}).", "The next run fills it again."
        elif not edit.users:
            said, tip = (f"Run {run.id} found {share} of the photo damaged.",
                         "Correct the red map with the brush and the eraser, then Restore again.")
        else:
            said, tip = f"Your map: {share} of the photo.", "The next run fills this map instead of finding its own."
        if edit.users and not self._model_repairs():
            said += " This model cannot fill it."
            tip += " Choose a model with a repair stage (segsr-x4) to fill it."
        elif edit.users:
            said += " F5 fills it."
        return said, tip
