"""Exporting the shown run from the window: the save dialog, the one question about
existing files, and the writing on a worker thread. The decisions themselves (format,
stem, a free name) are Qt-free, in ``segsr_gui.app.export_plan``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from segsr_gui.app.export_plan import EXPORT_FILTERS, format_and_stem, free_stem
from segsr_gui.ui.error_dialog import show_error
from segsr_gui.ui.file_dialogs import ask_save
from segsr_gui.ui.worker import TaskWorker

log = logging.getLogger(__name__)


class ExportFlow(QObject):
    exported = Signal(list)  # the paths written
    message = Signal(str)  # for the status bar

    def __init__(self, parent: QWidget, jobs, settings):
        super().__init__(parent)
        self.window, self.jobs, self.settings = parent, jobs, settings
        self._note = ""  # said after the files are saved

    def folder(self) -> Path:
        """The last export folder, else a ``restored`` folder in Pictures (made now, so the
        dialog opens there); never the original photo's folder unless the user chose it."""
        from segsr_gui.app.appdirs import default_export_dir

        last = self.settings.files.last_export_dir
        if last and Path(last).is_dir():
            return Path(last)
        folder = default_export_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot make %s: %s", folder, exc)
            return Path.home()
        return folder

    def dialog(self, photo, photo_path: Path, run) -> None:
        path, chosen = ask_save(self.window, "Export the restored photo", self.folder() / f"{photo_path.stem}_x4.png",
                                list(EXPORT_FILTERS))
        if path is not None:
            fmt, stem = format_and_stem(path, chosen)
            self.export(photo, run, path.parent, stem, fmt)

    def export(self, photo, run, outdir: Path, stem: str, fmt: str = "png",
               ask: Optional[Callable[[list], str]] = None) -> bool:
        """Export ``run``; if outputs exist ask Replace / Keep both / Cancel (``ask`` for tests)."""
        from segsr_gui.app.export import existing_outputs, export_result, studio_options

        outdir = Path(outdir)
        masks = self.settings.files.export_masks and run.classes is not None
        options = studio_options(fmt, masks)
        existing = existing_outputs(stem, outdir, options)
        choice = (ask or self.ask_replace)(existing) if existing else "new"
        if choice == "cancel":
            return False
        if choice == "replace":
            options = studio_options(fmt, masks, overwrite=True)
        elif choice == "keep":
            stem = free_stem(stem, outdir, options)
        self.settings.files.last_export_dir = str(outdir)
        self._note = "" if options.masks or not self.settings.files.export_masks else \
            f" No class masks: the model {run.model_name} does not find classes (segment with a model that does)."
        args = (photo, run.result, outdir, stem, options, run.model_name, run.classes_names, run.palette,
                run.model_sha)
        worker = TaskWorker(lambda: export_result(*args))
        worker.returned.connect(lambda written: setattr(run, "exported", True))
        worker.returned.connect(self._exported)
        worker.errored.connect(self._failed)
        self.message.emit("Saving\u2026")
        self.jobs.start(worker)
        return True

    def _exported(self, written: dict) -> None:
        self.message.emit("Saved " + ", ".join(p.name for p in written.values()) + "." + self._note)
        self.exported.emit(list(written.values()))

    def _failed(self, message: str, details: str) -> None:
        show_error(self.window, message, details, "Export failed")

    def ask_replace(self, existing: list[Path]) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Files already exist",
                          "These files already exist:\n" + "\n".join(p.name for p in existing), parent=self.window)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep both", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "replace" if box.clickedButton() is replace else "keep" if box.clickedButton() is keep else "cancel"
