"""Questions the window asks before it throws work away."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

STOP_AND_QUIT = "Stop and quit"
KEEP_RUNNING = "Keep running"
QUIT_UNSAVED = "Quit without exporting"


def ask_quit_unexported(parent: QWidget, runs: list) -> bool:
    """Whether the window may close with ``runs`` (this photo's, newest first) of which some were
    never exported: at once when all were, else the user's answer."""
    unsaved = [run for run in runs if not getattr(run, "exported", False)]
    if not unsaved:
        return True
    names = ", ".join(f"run {run.id}" for run in reversed(unsaved))
    box = QMessageBox(QMessageBox.Icon.Question, "Quit SegSR Studio",
                      f"The restored photo is not exported ({names}). Quit without exporting?", parent=parent)
    box.setInformativeText("File ▸ Export (Ctrl+S) saves it; a result that is not exported is lost.")
    quit_button = box.addButton(QUIT_UNSAVED, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is quit_button


def ask_stop_and_quit(parent: QWidget, restoring: bool, batch: bool) -> bool:
    """Whether the window may close: at once when nothing runs, else the user's answer."""
    if not restoring and not batch:
        return True
    if restoring:
        text, info = "A restore is running. Stop it and quit?", "The run so far is lost."
    else:
        text, info = ("The batch queue is running. Stop it and quit?",
                      "Finished photos stay finished; the photo in progress runs again after Start.")
    box = QMessageBox(QMessageBox.Icon.Question, "Quit SegSR Studio", text, parent=parent)
    box.setInformativeText(info)
    stop = box.addButton(STOP_AND_QUIT, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(box.addButton(KEEP_RUNNING, QMessageBox.ButtonRole.RejectRole))
    box.exec()
    return box.clickedButton() is stop
