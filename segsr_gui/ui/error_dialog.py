"""Errors reach the user as a dialog with a plain message and the details folded away;
everything is also written to a log file in the platformdirs log folder."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from segsr_gui.ui.settings import log_dir

log = logging.getLogger("segsr_gui.ui")
_log_file: Path | None = None
_open_boxes: set = set()


def setup_logging() -> Path | None:
    """Log to ``<log dir>/segsr-studio.log`` (rotated); returns the file, or None if unwritable."""
    global _log_file
    if _log_file is not None:
        return _log_file
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / "segsr-studio.log", maxBytes=1 << 20, backupCount=3,
                                      encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("segsr_gui")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _log_file = folder / "segsr-studio.log"
    return _log_file


def log_file() -> Path | None:
    return _log_file


def show_error(parent, message: str, details: str = "", title: str = "SegSR Studio") -> QMessageBox:
    """A non-blocking warning dialog: the message, a hint to the log, details folded."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    where = log_file()
    if where is not None:
        box.setInformativeText(f"The details are also in the log file:\n{where}")
    if details:
        box.setDetailedText(details)
    box.setObjectName("errorDialog")
    box.setModal(True)
    if parent is None:  # nothing owns a parentless dialog: keep it alive until it closes
        _open_boxes.add(box)
        box.finished.connect(lambda _=0, b=box: _open_boxes.discard(b))
    box.open()
    return box


class _Relay(QObject):
    """Carries exceptions from any thread to the GUI thread."""

    raised = Signal(str, str)

    def __init__(self, parent_getter):
        super().__init__()
        self.parent_getter = parent_getter
        self.raised.connect(self.show)  # queued when raised off the GUI thread

    @Slot(str, str)
    def show(self, message: str, details: str) -> None:
        show_error(self.parent_getter(), message, details)


_relay: _Relay | None = None


def install_excepthook(parent_getter=lambda: None) -> None:
    """Unhandled exceptions: logged, shown as a dialog, the app keeps running."""
    global _relay
    _relay = _Relay(parent_getter)

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unhandled exception\n%s", details)
        from segsr_gui.errors import SegSRError
        message = str(exc) if isinstance(exc, SegSRError) else \
            "Something went wrong inside SegSR Studio. Your photo and settings are safe; " \
            "you can carry on or restart the app."
        if _relay is not None:
            _relay.raised.emit(message, details)

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)
