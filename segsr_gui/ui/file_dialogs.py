"""The app's file dialogs: Qt's own, made large enough for their columns, and a save dialog
that leaves the question about existing files to the app (one question, not two).

``make_*`` build a dialog without running it (tests look at it); ``ask_*`` run one and
return the choice, or None when it was cancelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QFileDialog, QHeaderView, QListView, QTreeView, QWidget

DIALOG_SIZE = (960, 600)  # room for Name plus the full Size, Type and Date Modified columns


def start_folder(last: str = "") -> str:
    """Where an Open or Add dialog starts: the last folder photos came from, else the user's
    Pictures folder, else home (never the app's own folders)."""
    if last and Path(last).is_dir():
        return last
    from platformdirs import user_pictures_dir

    pictures = Path(user_pictures_dir())
    return str(pictures if pictures.is_dir() else Path.home())


def fit_columns(dialog: QFileDialog) -> None:
    """Name takes what is left; Size, Type and Date Modified are as wide as their contents;
    the places on the left are not cut off."""
    sidebar = dialog.findChild(QListView, "sidebar")
    if sidebar is not None:  # "Computer" and the places in full
        sidebar.setMinimumWidth(150)
    tree = dialog.findChild(QTreeView, "treeView")
    if tree is None:  # a native dialog
        return
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, header.count()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)


def _dialog(parent: Optional[QWidget], caption: str, folder: str, name_filter: str = "") -> QFileDialog:
    dialog = QFileDialog(parent, caption, folder, name_filter)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # so the columns can be fitted
    dialog.resize(*DIALOG_SIZE)
    fit_columns(dialog)
    return dialog


def make_save_dialog(parent, caption: str, suggestion: Path, filters: list[str]) -> QFileDialog:
    """Save as: Qt does not ask about an existing file; the app asks once (Replace / Keep
    both / Cancel) for all the outputs of the export."""
    dialog = _dialog(parent, caption, str(suggestion.parent), ";;".join(filters))
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
    dialog.selectFile(suggestion.name)
    return dialog


def ask_save(parent, caption: str, suggestion: Path, filters: list[str]) -> tuple[Optional[Path], str]:
    dialog = make_save_dialog(parent, caption, suggestion, filters)
    if not dialog.exec() or not dialog.selectedFiles():
        return None, ""
    return Path(dialog.selectedFiles()[0]), dialog.selectedNameFilter()


def make_open_dialog(parent, caption: str, folder: str, name_filter: str, many: bool = False) -> QFileDialog:
    dialog = _dialog(parent, caption, folder, name_filter)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles if many else QFileDialog.FileMode.ExistingFile)
    return dialog


def ask_open(parent, caption: str, folder: str, name_filter: str, many: bool = False) -> list[str]:
    dialog = make_open_dialog(parent, caption, folder, name_filter, many)
    return list(dialog.selectedFiles()) if dialog.exec() else []


def ask_folder(parent, caption: str, folder: str) -> Optional[str]:
    dialog = _dialog(parent, caption, folder)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    return dialog.selectedFiles()[0] if dialog.exec() and dialog.selectedFiles() else None
