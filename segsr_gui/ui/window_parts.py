"""The window's fixed parts, built once: the right-hand docks, the status bar's permanent
widgets and the batch queue's dock. Each function only builds and places widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget, QFrame, QLabel, QMainWindow, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

PROGRESS_WIDTH = 430  # leaves room on the left of the status bar for messages and hints


def central_column(window: QMainWindow, *widgets) -> None:
    """``widgets`` stacked in the window's centre, the first taking the spare height."""
    central = QWidget()
    column = QVBoxLayout(central)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(4)
    for i, widget in enumerate(widgets):
        column.addWidget(widget, 1 if i == 0 else 0)
    window.setCentralWidget(central)


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area: its dock shows all of it where there is room and
    scrolls on a short screen, instead of making the window taller than a laptop's."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setSizeAdjustPolicy(QScrollArea.SizeAdjustPolicy.AdjustToContents)  # as tall as its content asks
    area.setMinimumHeight(60)
    return area


def add_dock(window: QMainWindow, title: str, widget: QWidget, name: str,
             area=Qt.DockWidgetArea.RightDockWidgetArea, closable: bool = False, grow: bool = True) -> QDockWidget:
    """A dock holding ``widget``; one that does not ``grow`` keeps its preferred height, so a
    tall window's spare height goes to the docks that do."""
    if not grow:
        widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    if not closable:
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    return dock


def status_widgets(window: QMainWindow, progress: QWidget, viewer) -> tuple[QLabel, QLabel]:
    """(coordinates label, zoom label), placed with ``progress`` at the status bar's right and
    following ``viewer``'s cursor and zoom."""
    zoom, coords = QLabel(""), QLabel("")
    coords.setMinimumWidth(150)
    progress.setFixedWidth(PROGRESS_WIDTH)
    for widget in (coords, zoom, progress):
        window.statusBar().addPermanentWidget(widget)
    viewer.cursorMoved.connect(lambda pt: coords.setText("" if pt is None else f"x {int(pt.x())}, y {int(pt.y())}"))
    viewer.zoomChanged.connect(lambda z: zoom.setText(f"Zoom {z * 100:.0f} %"))
    return coords, zoom


def batch_dock(window: QMainWindow, panel: QWidget) -> QDockWidget:
    """The batch queue below the viewer; the right-hand panels keep the full height."""
    dock = add_dock(window, "Batch queue", panel, "batchDock", Qt.DockWidgetArea.BottomDockWidgetArea,
                    closable=True)
    window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    return dock
