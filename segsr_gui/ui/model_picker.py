"""The model picker's list: each model's name with a line under it saying what the model
is for and how fast (``app.model_info.describe``)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyledItemDelegate, QStyleOptionViewItem

DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1
PAD = 6


class TwoLineDelegate(QStyledItemDelegate):
    """Name on the first line, the description (smaller, dimmed) on the second."""

    def paint(self, painter, option, index) -> None:
        description = index.data(DESCRIPTION_ROLE)
        if not description:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        colour = opt.palette.highlightedText().color() if selected else opt.palette.text().color()
        painter.save()
        painter.setPen(colour)
        rect = opt.rect.adjusted(PAD, PAD // 2, -PAD, -PAD // 2)
        line = opt.fontMetrics.height()
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        small = opt.font
        small.setPointSizeF(small.pointSizeF() * 0.9)
        painter.setFont(small)
        painter.setOpacity(0.75)
        painter.drawText(QRect(rect.left(), rect.top() + line, rect.width(), rect.height() - line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, description)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt's name
        size = super().sizeHint(option, index)
        description = index.data(DESCRIPTION_ROLE)
        if not description:
            return size
        fm = option.fontMetrics
        width = max(size.width(), fm.horizontalAdvance(description) + 2 * PAD)
        return QSize(width, 2 * fm.height() + PAD)


def show_descriptions(box: QComboBox) -> None:
    """Draw the list of ``box`` with each item's description under its name."""
    box.setItemDelegate(TwoLineDelegate(box))


def set_description(box: QComboBox, index: int, description: str) -> None:
    box.setItemData(index, description, DESCRIPTION_ROLE)
    box.setItemData(index, description, Qt.ItemDataRole.ToolTipRole)
    widest = max((box.itemData(i, DESCRIPTION_ROLE) or "" for i in range(box.count())), key=len)
    box.view().setMinimumWidth(box.fontMetrics().horizontalAdvance(widest) + 4 * PAD)
