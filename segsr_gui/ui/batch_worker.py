"""The batch queue's worker: ``batch.run_batch`` off the GUI thread.

Like ``worker.UpscaleWorker``: a QObject moved to a QThread by ``JobRunner``; every
``BatchEvent`` becomes one signal, queued to the GUI thread, which alone touches the
queue and its widgets.

    GUI thread                          worker thread
    start_job(worker) --start-->        check the output folder, load the model (cached)
    itemStarted(i)          <--         for each planned photo: decide, upscale, export
    itemProgress(i, f)      <--
    itemFinished(i, state, reason, s) <--
    finished(outcome)       <--         "finished" | "stopped" | "cancelled" | "disk full"
    done()                  <--         always last

``stop_after_current()`` ends the batch between photos; ``abort()`` ("cancel now")
ends it at the next step of the current photo, which is then queued again and has
nothing written (exports are atomic).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Signal, Slot

from segsr_gui.ui.worker import load_model_cached, run_reporting_errors


class BatchWorker(QObject):
    itemStarted = Signal(int)
    itemProgress = Signal(int, float)
    itemFinished = Signal(int, str, str, float)  # index, state, reason, seconds
    note = Signal(int, str)
    finished = Signal(str)  # outcome
    errored = Signal(str, str)  # message, details: the batch could not start
    done = Signal()

    def __init__(self, plan: list, model_path: Path, options, params, precheck: Callable[[], Optional[str]]):
        super().__init__()
        self.plan, self.model_path, self.options, self.params = plan, model_path, options, params
        self.precheck = precheck  # disk checks (the output folder) belong on this thread too
        self._stop = threading.Event()
        self._cancel = threading.Event()

    def stop_after_current(self) -> None:
        self._stop.set()

    def abort(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        run_reporting_errors(self, self._run, "The batch could not run")

    def _run(self) -> None:
        from segsr_gui.app.batch import run_batch
        from segsr_gui.errors import SegSRError
        from segsr_gui.engine.inference.pipeline import resolve_device

        problem = self.precheck()
        if problem:
            raise SegSRError(problem)
        device = str(resolve_device(self.params.device))
        loaded = load_model_cached(self.model_path, device)
        if self.options.wants_segmentation and not loaded.model.has_segmentation:  # as an export does
            self.options = replace(self.options, masks=False, class_masks=False, coco=False)
            self.note.emit(-1, f"No class masks: the model {loaded.name} does not find classes, so only the "
                               "photos are written.")
        self.params.device = device
        run_batch(self.plan, loaded, self.options, self.params, self._emit,
                  stop_after_current=self._stop.is_set, cancel_now=self._cancel.is_set, expert_progress=True)

    def _emit(self, event) -> None:
        if event.kind == "started":
            self.itemStarted.emit(event.index)
        elif event.kind == "progress":
            self.itemProgress.emit(event.index, event.fraction)
        elif event.kind == "finished":
            self.itemFinished.emit(event.index, event.state, event.reason, event.seconds)
        elif event.kind == "note":
            self.note.emit(event.index, event.reason)
        elif event.kind == "end":
            self.finished.emit(event.reason)
