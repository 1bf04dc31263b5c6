"""The class legend: colour, name and share of the image per class, with a visibility box.

Rows are sorted by share (largest first) and classes absent from the image are hidden, so the
list a user reads is the classes found; the boxes keep each class's choice by class id."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from segsr_gui.classes import full_palette

ABSENT_SHARE = 0.0005  # below this a class shows as 0.0 %: absent, its row hidden
CLASS_ID = Qt.ItemDataRole.UserRole


def _swatch(rgb) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(QColor(*[int(c) for c in rgb]))
    return QIcon(pm)


def _share_text(share, estimated: bool) -> str:
    if share is None:
        return "\u2013"
    return f"\u2248 {100 * float(share):.0f} %" if estimated else f"{100 * float(share):.1f} %"


class LegendWidget(QTableWidget):
    visibilityChanged = Signal(list)  # list[bool], one per class id

    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Class", "Share"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setToolTip("Untick a class to hide its colour in the overlay and the mask view.")
        self._names: list[str] = []
        self._palette: list[tuple] = []
        self._shown: list[bool] = []  # the boxes, by class id
        self._shares = None
        self.itemChanged.connect(self._update_visibility)

    def set_classes(self, names, palette) -> None:
        """The classes to list; a palette shorter than the list gets generated colours."""
        palette = full_palette(names, palette or [])
        if list(names) == self._names and palette == self._palette and self.rowCount():
            return
        self._names, self._palette = list(names), palette
        self._shown = [True] * len(names)
        self._shares = None
        self.blockSignals(True)
        self.setRowCount(len(names))
        for row in range(len(names)):
            item = QTableWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            self.setItem(row, 0, item)
            share = QTableWidgetItem()
            share.setFlags(Qt.ItemFlag.ItemIsEnabled)
            share.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, 1, share)
        self._fill(list(range(len(names))), None, False)
        self.resizeRowsToContents()
        # at least a few rows; the size hint asks for all of them, so a tall window lists every
        # class without scrolling and a 768-pixel-high laptop screen still fits the window
        self.setMinimumHeight(self._rows_height(min(2, len(names))) if names else 0)
        self.blockSignals(False)
        self.updateGeometry()

    def _rows_height(self, rows: int) -> int:
        row = self.rowHeight(0) if self.rowCount() else self.fontMetrics().height() + 8
        return rows * row + self.horizontalHeader().height() + 2 * self.frameWidth() + 2

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        shown = sum(not self.isRowHidden(r) for r in range(self.rowCount()))
        return QSize(hint.width(), self._rows_height(max(shown, 5)))

    def set_shares(self, shares, estimated: bool = False, note: str = "") -> None:
        """Show each class's share, largest first; classes absent from the image are hidden. An
        estimate (a live step whose class map is not made yet, or a tiled run's finished tiles)
        is shown as such, to the whole percent; ``note`` says what the shares are based on."""
        header = "Share" + (f" ({note})" if note else "")
        if self.horizontalHeaderItem(1).text() != header:
            self.horizontalHeaderItem(1).setText(header)
        n = len(self._names)
        known = shares is not None and len(shares) >= n
        order = sorted(range(n), key=lambda k: -float(shares[k])) if known else list(range(n))
        # a share's text and order are no choice of the user's: itemChanged stays quiet, so no
        # redraw (which may replace the rows) runs in the middle of this
        self.blockSignals(True)
        try:
            self._fill(order, shares if known else None, estimated)
        finally:
            self.blockSignals(False)
        self.updateGeometry()

    def _fill(self, order: list[int], shares, estimated: bool) -> None:
        for row, k in enumerate(order):
            name_item, share_item = self.item(row, 0), self.item(row, 1)
            if name_item.data(CLASS_ID) != k:
                name_item.setData(CLASS_ID, k)
                name_item.setText(self._names[k])
                name_item.setIcon(_swatch(self._palette[k]))
            state = Qt.CheckState.Checked if self._shown[k] else Qt.CheckState.Unchecked
            if name_item.checkState() != state:
                name_item.setCheckState(state)
            share = None if shares is None else shares[k]
            share_item.setText(_share_text(share, estimated))
            self.setRowHidden(row, share is not None and float(share) < ABSENT_SHARE)
        hidden = [self._names[k] for row, k in enumerate(order) if self.isRowHidden(row)]
        self.setToolTip("Untick a class to hide its colour in the overlay and the mask view."
                        + (f"\nNot found in this image: {', '.join(hidden)}." if hidden else ""))

    def row_of(self, class_id: int) -> int:
        return next(r for r in range(self.rowCount()) if self.item(r, 0).data(CLASS_ID) == class_id)

    def visible(self) -> list[bool]:
        return list(self._shown)

    def set_visible(self, class_id: int, visible: bool) -> None:
        self.item(self.row_of(class_id), 0).setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def _update_visibility(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or item.data(CLASS_ID) is None:
            return
        shown = item.checkState() == Qt.CheckState.Checked
        if self._shown[item.data(CLASS_ID)] != shown:
            self._shown[item.data(CLASS_ID)] = shown
            self.visibilityChanged.emit(self.visible())
