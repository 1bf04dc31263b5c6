"""The Help menu's entries: the About box and the log folder."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from segsr_gui.ui.error_dialog import log_file


def show_about(parent: QWidget) -> None:
    from segsr_gui import __version__

    QMessageBox.about(parent, "About SegSR Studio",
                      f"<b>SegSR Studio {__version__}</b><p>Restores photos at 4\u00d7 their size with a "
                      "diffusion model that also recognises what is in them (sky, road, buildings\u2026), "
                      "after SegSR (Xiao et al., 2024).</p>")


def open_log_folder() -> None:
    where = log_file()
    if where is not None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(where.parent)))
