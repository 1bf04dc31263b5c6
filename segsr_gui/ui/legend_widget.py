"""The class legend: colour, name and share of the image per class, with a visibility box."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


ABSENT = QColor(128, 128, 128)  # absent classes: mid grey reads as dimmed on the dark and the light theme


def _swatch(rgb) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(QColor(*[int(c) for c in rgb]))
    return QIcon(pm)


class LegendWidget(QTableWidget):
    visibilityChanged = Signal(list)  # list[bool], one per class

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
        self.itemChanged.connect(self._update_visibility)

    def set_classes(self, names, palette) -> None:
        if list(names) == self._names and self.rowCount():
            return
        self.blockSignals(True)
        self._names = list(names)
        self.setRowCount(len(names))
        for i, (name, rgb) in enumerate(zip(names, palette)):
            item = QTableWidgetItem(_swatch(rgb), name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.setItem(i, 0, item)
            share = QTableWidgetItem("\u2013")
            share.setFlags(Qt.ItemFlag.ItemIsEnabled)
            share.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(i, 1, share)
        self.resizeRowsToContents()
        # room for a few rows; the rest scrolls, so the window still fits a 768-pixel-high laptop screen
        self.setMinimumHeight(min(5, len(names)) * self.rowHeight(0) + self.horizontalHeader().height() + 6
                              if names else 0)
        self.blockSignals(False)

    def set_shares(self, shares, estimated: bool = False, note: str = "") -> None:
        """Show each class's share; classes absent from the image are greyed out. An estimate
        (a live step whose class map is not made yet, or a tiled run's finished tiles) is shown
        as such, to the whole percent; ``note`` says what the shares are based on."""
        header = "Share" + (f" ({note})" if note else "")
        if self.horizontalHeaderItem(1).text() != header:
            self.horizontalHeaderItem(1).setText(header)
        # a share's text and colour are no choice of the user's: itemChanged stays quiet, so no
        # redraw (which may replace the rows) runs in the middle of this loop
        self.blockSignals(True)
        try:
            self._show_shares(shares, estimated)
        finally:
            self.blockSignals(False)

    def _show_shares(self, shares, estimated: bool) -> None:
        for i in range(self.rowCount()):
            known = shares is not None and i < len(shares)
            if not known:
                text = "\u2013"
            elif estimated:
                text = f"\u2248 {100 * float(shares[i]):.0f} %"
            else:
                text = f"{100 * float(shares[i]):.1f} %"
            self.item(i, 1).setText(text)
            absent = known and float(shares[i]) < 0.0005
            for col in (0, 1):
                # present classes keep the theme's own text colour (the style sheet's): a colour
                # read from the palette here is the other theme's after a theme switch
                self.item(i, col).setData(Qt.ItemDataRole.ForegroundRole, ABSENT if absent else None)

    def visible(self) -> list[bool]:
        return [self.item(i, 0).checkState() == Qt.CheckState.Checked for i in range(self.rowCount())]

    def set_visible(self, index: int, visible: bool) -> None:
        self.item(index, 0).setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def _update_visibility(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.visibilityChanged.emit(self.visible())
