"""The batch queue panel: photos and folders in, one output folder out, resumable.

A thin view over ``queue.BatchQueue``: the queue is the truth and is saved after
every change, so quitting at any moment loses nothing (a photo left running is
queued again on the next start). Disk work (finding photos, the batch itself)
runs on worker threads through the window's ``JobRunner``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Optional, Union

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from segsr_gui.app import batch, batch_report, queue
from segsr_gui.ui.batch_table import BatchTable
from segsr_gui.ui.batch_worker import BatchWorker
from segsr_gui.ui.file_dialogs import ask_folder, ask_open, start_folder
from segsr_gui.ui.worker import TaskWorker

log = logging.getLogger(__name__)
PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif)"
FORMATS = (("PNG", "png"), ("JPEG", "jpg"), ("WebP", "webp"), ("TIFF", "tiff"))
BAR_STEPS = 1000  # the progress bar's resolution

# What a Start needs from the window: (model file, how to run) or a sentence saying why not.
RunConfig = Callable[[], Union[tuple[Path, "batch.RunParams"], str]]


class BatchPanel(QWidget):
    message = Signal(str)  # for the status bar
    photosAdded = Signal(int)
    batchFinished = Signal(str)  # outcome: finished | stopped | cancelled | disk full | failed
    runningChanged = Signal(bool)

    def __init__(self, jobs, run_config: RunConfig, files=None, parent=None):
        """``files``: the settings' files section, whose ``last_open_dir`` the dialogs start in."""
        super().__init__(parent)
        self.jobs, self.run_config, self.files = jobs, run_config, files
        self.queue = queue.BatchQueue.load()
        self._worker: Optional[BatchWorker] = None
        self._save_warned = False
        self._refused = False  # the summary says why Start did nothing

        self.add_photos_button = QPushButton("Add photos\u2026")
        self.add_folder_button = QPushButton("Add folder\u2026")
        self.add_folder_button.setToolTip("Adds every photo in the folder and its sub-folders")
        self.output_button = QPushButton("Choose output folder\u2026")
        self.output_label = QLabel()
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long path is cut, not allowed to widen the window (the full path is the tooltip).
        self.output_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.output_label.setMinimumWidth(80)
        self.format_box = QComboBox()
        for text, key in FORMATS:
            self.format_box.addItem(text, key)
        self.masks_box = QCheckBox("Class masks")
        self.masks_box.setToolTip("Also write the class map, overlay, legend and a mask per class of each photo")
        self.overwrite_box = QCheckBox("Overwrite existing")
        self.overwrite_box.setToolTip("Replace outputs that already exist (otherwise finished photos are "
                                      "skipped and other existing files are reported, never replaced). "
                                      "Asked afresh after every restart.")
        self.table = BatchTable()
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.eta_label = QLabel("")
        self.eta_label.setMinimumWidth(170)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("runButton")
        self.stop_button = QPushButton("Stop after this photo")
        self.cancel_button = QPushButton("Cancel now")
        self.cancel_button.setToolTip("Stop at once; the current photo is queued again and nothing of it is written")
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setToolTip("Remove done and skipped photos from the list (failed ones stay, to retry)")
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setToolTip("Queue the photos that failed again and start")
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self._lay_out()
        self._wire()
        self._fill_table()
        self._show_overall(self._finished_count())
        self._set_running(False)
        if self.pending:
            self.summary_label.setText(f"Queue restored: {self.pending} of {len(self.queue.items)} photos still "
                                       "to do. Press Start to resume; finished photos are not redone.")

    def _lay_out(self) -> None:
        sources, target, controls = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()
        for w in (self.add_photos_button, self.add_folder_button, self.clear_button, self.retry_button):
            sources.addWidget(w)
        sources.addStretch(1)
        for w in (QLabel("Format"), self.format_box, self.masks_box, self.overwrite_box):
            sources.addWidget(w)
        target.addWidget(self.output_button)
        target.addWidget(self.output_label, 1)
        controls.addWidget(self.bar, 1)
        for w in (self.eta_label, self.start_button, self.stop_button, self.cancel_button):
            controls.addWidget(w)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        for part in (sources, target, self.table, controls, self.summary_label):
            if isinstance(part, QHBoxLayout):
                column.addLayout(part)
            else:
                column.addWidget(part, 1 if part is self.table else 0)

    def _wire(self) -> None:
        self.add_photos_button.clicked.connect(self.add_photos_dialog)
        self.add_folder_button.clicked.connect(self.add_folder_dialog)
        self.output_button.clicked.connect(self.choose_output_dialog)
        self.clear_button.clicked.connect(self.clear_finished)
        self.retry_button.clicked.connect(self.retry_failed)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop_after_current)
        self.cancel_button.clicked.connect(self.cancel_now)

        self._load_options()
        for box in (self.masks_box, self.overwrite_box):
            box.toggled.connect(self._options_changed)
        self.format_box.currentIndexChanged.connect(self._options_changed)

    # ---- state -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def pending(self) -> int:
        """Photos still to do; failed ones are not, until the user retries them."""
        return self.queue.counts()[batch.QUEUED]

    def _set_running(self, running: bool) -> None:
        for w in (self.add_photos_button, self.add_folder_button, self.output_button, self.clear_button,
                  self.format_box, self.masks_box, self.overwrite_box):
            w.setEnabled(not running)  # the queue's indices and options are fixed while it runs
        self.retry_button.setEnabled(not running and self.queue.counts()[batch.FAILED] > 0)
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.runningChanged.emit(running)

    def _save(self) -> None:
        try:
            self.queue.save()
        except OSError as exc:
            log.warning("batch queue not saved: %s", exc)
            if not self._save_warned:  # once: the batch itself can go on
                self._save_warned = True
                self.message.emit(f"The batch queue could not be saved ({exc}); it will not survive a restart.")

    def _load_options(self) -> None:
        q = self.queue
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(q.format)))
        self.masks_box.setChecked(q.masks)
        self.overwrite_box.setChecked(q.overwrite)
        self._show_output_folder()

    def _options_changed(self) -> None:
        self.queue.format = self.format_box.currentData()
        self.queue.masks = self.masks_box.isChecked()
        self.queue.overwrite = self.overwrite_box.isChecked()
        self._save()

    def _show_output_folder(self) -> None:
        folder = self.queue.output_folder
        self.output_label.setText(folder or "<i>no output folder yet</i>")
        self.output_label.setToolTip(folder)

    # ---- the list --------------------------------------------------------------------
    def _fill_table(self) -> None:
        self.table.fill(self.queue.items)

    def _show_row(self, row: int) -> None:
        self.table.show_item(row, self.queue.items[row])

    def row_states(self) -> list[str]:
        return [item.state for item in self.queue.items]

    # ---- adding ----------------------------------------------------------------------
    def photo_folder(self) -> str:
        """Where the dialogs start: the last folder photos came from, else Pictures or home."""
        return start_folder(getattr(self.files, "last_open_dir", ""))

    def _remember_folder(self, folder) -> None:
        if self.files is not None:
            self.files.last_open_dir = str(folder)

    def add_photos_dialog(self) -> None:
        files = ask_open(self, "Add photos to the batch", self.photo_folder(), PHOTO_FILTER, many=True)
        if files:
            self._remember_folder(Path(files[0]).parent)
            self.add_paths(files)

    def add_folder_dialog(self) -> None:
        folder = ask_folder(self, "Add a folder of photos (sub-folders too)", self.photo_folder())
        if folder:
            self._remember_folder(folder)
            self.add_paths([folder])

    def add_paths(self, paths: list) -> None:
        """Find the photos on a worker thread (a big folder takes a while), then queue them."""
        if self.running:
            self.message.emit("Wait for the batch to end before adding photos.")
            return
        paths, output = [str(p) for p in paths], self.queue.output_folder
        worker = TaskWorker(lambda: batch.find_photos(paths, output))
        worker.returned.connect(self._photos_found)
        worker.errored.connect(self._add_failed)  # bound slots run on the GUI thread; lambdas would not
        self.message.emit("Looking for photos\u2026")
        self.jobs.start(worker)

    def _photos_found(self, value) -> None:
        found, problems = value
        added = self.queue.add_found(found)
        self._save()
        self._fill_table()
        self._show_overall(self._finished_count())
        self._refused = False
        text = batch_report.added(added, len(found), problems)
        self.summary_label.setText(text)
        self.message.emit(text)
        self.photosAdded.emit(added)

    def _add_failed(self, message: str, details: str) -> None:
        self._refuse(f"Could not add: {message}")

    def choose_output_dialog(self) -> None:
        start = self.queue.output_folder if Path(self.queue.output_folder or "/nowhere").is_dir() else \
            self.photo_folder()
        folder = ask_folder(self, "Choose the output folder", start)
        if folder:
            self.set_output_folder(folder)

    def set_output_folder(self, folder) -> None:
        self.queue.output_folder = str(Path(folder).resolve())
        self._save()
        self._show_output_folder()
        if self._refused:  # "Choose an output folder first." no longer holds, here or in the status bar
            self._refused = False
            self.summary_label.setText("Output folder chosen; press Start." if self.pending else "")
            self.message.emit(self.summary_label.text() or f"Output folder: {self.queue.output_folder}")

    def retry_failed(self) -> None:
        """Queue the failed photos again, on purpose, and start."""
        if not self.running and self.queue.retry_failed():
            self._fill_table()
            self._show_overall(self._finished_count())
            self.start()

    def clear_finished(self) -> None:
        removed = self.queue.clear_finished()
        self._save()
        self._fill_table()
        self._show_overall(self._finished_count())
        self.message.emit(f"Removed {removed} finished photo{'s' if removed != 1 else ''} from the list.")

    # ---- running ---------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        if not self.queue.items:
            self._refuse("Add photos or a folder first.")
            return
        if not self.queue.output_folder:
            self._refuse("Choose an output folder first.")
            return
        config = self.run_config()
        if isinstance(config, str):
            self._refuse(config)
            return
        model_path, params = config
        plan = self.queue.plan(retry_failed=False)  # failed photos wait for Retry failed
        if not plan:
            failed = self.queue.counts()[batch.FAILED]
            self._refuse(f"Nothing queued: {failed} photo{'s' if failed != 1 else ''} failed; press Retry failed "
                         "to try again." if failed else
                         "Nothing left to do: every photo in the list is finished. Add more, or clear the list.")
            return
        self._save()
        snapshot = queue.BatchQueue.from_dict(self.queue.to_dict())  # read on the worker thread
        worker = BatchWorker(plan, model_path, self.queue.export_options(), params,
                             snapshot.output_folder_problem)
        for signal, slot in ((worker.itemStarted, self._item_started), (worker.itemProgress, self._item_progress),
                             (worker.itemFinished, self._item_finished), (worker.note, self._note),
                             (worker.finished, self._batch_ended), (worker.errored, self._batch_failed),
                             (worker.done, self._worker_done)):
            signal.connect(slot)
        self._worker = worker
        self._run = {"done": 0, "skipped": 0, "failed": 0, "outcome": None, "notes": {},
                     "earlier": self._finished_count(failed=False)}
        self._time_left = batch_report.TimeLeft({p.index: self.queue.items[p.index].pixels for p in plan})
        self._shown = self._finished_count()
        self._show_overall(self._shown)
        self.summary_label.setText(f"Restoring {len(plan)} photo{'s' if len(plan) != 1 else ''}\u2026")
        self._set_running(True)
        self.jobs.start(worker)

    def _refuse(self, text: str) -> None:
        self._refused = True
        self.summary_label.setText(text)
        self.message.emit(text)

    def stop_after_current(self) -> None:
        if self._worker is not None:
            self._worker.stop_after_current()
            self.stop_button.setEnabled(False)
            self.eta_label.setText("stopping after this photo\u2026")

    def cancel_now(self) -> None:
        if self._worker is not None:
            self._worker.abort()
            self.stop_button.setEnabled(False)
            self.cancel_button.setEnabled(False)
            self.eta_label.setText("cancelling\u2026")

    def _note(self, index: int, text: str) -> None:
        """What the format could not keep, and the like: kept for the photo's Details."""
        self._run["notes"].setdefault(index, []).append(text)
        self.message.emit(text)

    def _item_started(self, index: int) -> None:
        self.queue.apply(batch.BatchEvent("started", index))
        self._save()  # a quit now leaves it "running": it is queued again on the next start
        self._show_row(index)
        self.table.scrollToItem(self.table.item(index, 0))
        self._time_left.start(index, time.monotonic())

    def _item_progress(self, index: int, fraction: float) -> None:
        self._time_left.progress(fraction)
        self._show_overall(self._finished_count() + self._time_left.fraction)

    def _item_finished(self, index: int, state: str, reason: str, seconds: float) -> None:
        if state == batch.DONE and not reason:
            reason = " ".join(self._run["notes"].pop(index, []))
        self.queue.apply(batch.BatchEvent("finished", index, state=state, reason=reason))
        self._save()
        self._show_row(index)
        if state in (batch.DONE, batch.SKIPPED, batch.FAILED):
            self._run[state] += 1
        self._time_left.finish(index, state, seconds)
        self._show_overall(self._finished_count())

    def _finished_count(self, failed: bool = True) -> int:
        """Photos this queue is through with (the bar counts failed ones; "finished in earlier
        runs" does not: a failed photo waits for Retry failed)."""
        states = (batch.DONE, batch.SKIPPED, batch.FAILED) if failed else (batch.DONE, batch.SKIPPED)
        return sum(item.state in states for item in self.queue.items)

    def _show_overall(self, value: float) -> None:
        """The bar only goes up during a run (a cancelled photo does not take it back)."""
        total = len(self.queue.items)
        if self.running:
            value = self._shown = max(self._shown, value)
        self.bar.setValue(int(BAR_STEPS * value / total) if total else 0)
        self.bar.setFormat(f"{value:.1f} / {total} photos" if self.running else f"{int(value)} / {total} photos")
        self.eta_label.setText(self._time_left.text(time.monotonic()) if self.running else "")

    def _batch_ended(self, outcome: str) -> None:
        self._run["outcome"] = outcome

    def _batch_failed(self, message: str, details: str) -> None:
        from segsr_gui.ui.error_dialog import show_error

        self._run["outcome"] = "failed"
        self._run["error"] = message
        show_error(self.window(), message, details, "The batch could not start")

    def _worker_done(self) -> None:
        self._worker = None
        # A photo still shown running (the batch failed to report it) is simply queued again.
        for row, item in enumerate(self.queue.items):
            if item.state == batch.RUNNING:
                item.state = batch.QUEUED
                self._show_row(row)
        self._save()
        self._set_running(False)
        run, outcome = self._run, self._run["outcome"] or "failed"
        text = batch_report.summary(outcome, run, self.pending, self.queue.counts()[batch.FAILED], run["earlier"],
                                    run.get("error", "").rstrip("."))
        text = " ".join([text] + run["notes"].pop(-1, []))  # notes about the whole batch
        self._show_overall(self._finished_count())
        self.summary_label.setText(text)
        self.message.emit(text)
        self.batchFinished.emit(outcome)

    def shutdown(self) -> None:
        """The window is closing: cancel now and keep the queue (the photo is queued again)."""
        if self._worker is not None:
            self._worker.abort()
        self._save()
