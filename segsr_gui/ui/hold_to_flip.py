"""Hold B anywhere in the window (outside text fields) to flip the viewer to the left /
original image; release to flip back. An application-wide event filter."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget


class HoldToFlip(QObject):
    def __init__(self, window: QWidget, flip: Callable[[bool], None], key=Qt.Key.Key_B):
        super().__init__(window)
        self.window, self.flip, self.key = window, flip, key
        QApplication.instance().installEventFilter(self)

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == self.key \
                and not event.isAutoRepeat() and self.window.isActiveWindow() \
                and not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox)):
            self.flip(kind == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(obj, event)
