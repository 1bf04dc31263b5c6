"""The batch queue's list: one row per photo with its sub-folder, state and details."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from segsr_gui.app import batch

STATE_TEXT = {batch.QUEUED: "Queued", batch.RUNNING: "Running\u2026", batch.DONE: "Done",
              batch.FAILED: "Failed", batch.SKIPPED: "Skipped"}
STATE_COLOUR = {batch.DONE: "#3fae6a", batch.FAILED: "#e0604f", batch.SKIPPED: "#c9a227",
                batch.RUNNING: "#4a9fe0"}


class BatchTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["Photo", "Sub-folder", "State", "Details"])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.setMinimumHeight(100)  # about three rows
        header = self.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Interactive,
                                    QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(col, mode)
        self.setColumnWidth(0, 220)
        self.setColumnWidth(1, 110)

    def fill(self, items) -> None:
        """One row per queue item."""
        self.setRowCount(len(items))
        for row, item in enumerate(items):
            self.show_item(row, item)

    def show_item(self, row: int, item) -> None:
        cells = (item.path.name, "" if item.subfolder == "." else item.subfolder, STATE_TEXT[item.state],
                 item.reason)
        for col, text in enumerate(cells):
            cell = self.item(row, col)
            if cell is None:
                cell = QTableWidgetItem()
                self.setItem(row, col, cell)
            cell.setText(text)
            cell.setToolTip(item.source if col < 2 else text)
        colour = STATE_COLOUR.get(item.state)
        self.item(row, 2).setForeground(QBrush(QColor(colour)) if colour else QBrush())
