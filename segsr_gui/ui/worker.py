"""Running the engine off the GUI thread.

Like superqt's ``GeneratorWorker``, but on a ``QThread``: a small QObject, moved to
its thread, iterates ``runner.iter_upscale_retrying`` (the batch queue's road: out of
memory, it starts again with smaller tiles) and emits one signal per step with
display-ready QImages (built and scaled here, so the GUI thread only paints; a class map
is coloured when first shown, as most live frames never are).

Call order::

    GUI thread                       worker thread
    ----------                       -------------
    start_job(worker) --start-->     worker.run()
                                       load model (cached)
                                       for each Progress from iter_upscale_retrying:
    on_retry(tile, note) <--retrying--    (out of memory: frames reset, smaller tiles)
    on_step(StepFrame)   <--yielded--    build QImages; check abort
                                       result
    on_done(RunOutput)   <--returned--
    thread.quit(); JobRunner drops worker and thread (Python owns both)

``abort()`` sets a flag read at the next ``yield``; the generator is then closed,
``aborted`` is emitted and nothing else changes. ``TaskWorker`` runs any short
callable (open a photo, export) the same way.

All of a run's torch work stays on its worker thread, and the frames are made there between
the steps, not alongside them: a second thread doing parallel torch work starts a second
OpenMP team, and with more OpenMP threads than cores libgomp stops spin-waiting, which made
sampling 28-48% slower on two cores (running the sampler a step ahead on its own thread
was tried and made the preview 36% dearer). The GUI thread only reads tensors.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from segsr_gui.classes import full_palette
from segsr_gui.ui.convert import PREVIEW_MAX_SIDE, ClassLayer, preview_classes, preview_rgb, qimage_pixels, rgb_to_qimage
from segsr_gui.ui.frames import FrameCollector, known_fractions

log = logging.getLogger(__name__)

_model_cache: dict = {}
_model_lock = threading.Lock()


def load_model_cached(path: Path, device: str):
    """``weights.load_model`` keyed by path, size and mtime (the file may be retrained)."""
    from segsr_gui.engine.nets.weights import load_model

    st = Path(path).stat() if Path(path).exists() else None
    key = (str(path), device, st and st.st_mtime_ns, st and st.st_size)
    with _model_lock:
        if key not in _model_cache:
            _model_cache.clear()
            _model_cache[key] = load_model(path, device=device)
        return _model_cache[key]


@dataclass
class RunRequest:
    rgb: np.ndarray  # float32 (H, W, 3) in [0, 1]
    model_path: Path
    steps: Optional[int] = None
    seed: int = 0
    tile: Optional[int] = None
    device: str = "auto"
    preview_every: int = 1
    precision: str = "auto"  # see precision.py
    mirror: bool = False  # average with a chain on the mirrored photo (sampler.iter_sample)
    strength: Optional[float] = None  # restoration strength 0..1; None = Auto
    repair: str = "auto"  # fill the photo's damage first: "auto", "on" or "off" (repair_step.py)
    repair_mask: Optional[np.ndarray] = None  # bool (H, W): the damage the user painted, filled instead
    alpha: Optional[np.ndarray] = None  # float32 (H, W) opacity: transparent pixels hold no subject

    @classmethod
    def from_params(cls, rgb: np.ndarray, model_path: Path, params, preview_every: int = 1,
                    alpha: Optional[np.ndarray] = None) -> "RunRequest":
        """A request with the batch's ``RunParams``: one photo and a batch run the same way."""
        return cls(rgb, model_path, steps=params.steps, seed=params.seed, tile=params.tile,
                   device=params.device, preview_every=preview_every,
                   precision=params.precision, mirror=params.mirror, strength=params.strength,
                   repair=params.repair, repair_mask=params.repair_mask, alpha=alpha)


@dataclass
class RunStart:
    model_name: str
    classes: list
    palette: list
    steps: int
    tiles: int
    segments: bool = True  # the model finds classes (srdm-only-x4 does not)
    strength: object = None  # pipeline.Strength the run uses (None: the model has one expert)


@dataclass
class RunOutput:
    result: object  # pipeline.UpscaleResult
    image: QImage  # restored image, preview-sized
    image_full: QImage  # restored image at full size (the same object when small)
    classes: Optional[ClassLayer]  # preview-sized (the full map is in ``result``)
    shares: Optional[np.ndarray]
    model_name: str
    model_sha: Optional[str]
    classes_names: list
    palette: list
    steps: int
    seed: int
    elapsed: float
    frames: list = field(default_factory=list)
    frame_seconds: float = 0.0  # of ``elapsed``, spent making the intermediate frames
    mirror: bool = False  # made with the mirror option
    tile: Optional[int] = None  # the LR tile side it ended with (0 = one tile; None = automatic)
    notes: list = field(default_factory=list)  # what the user should know (a retry, ...)
    exported: bool = False  # saved by an export (quitting without one asks first)
    strength: object = None  # pipeline.Strength it used (None: the model has one expert)
    damage_given: bool = False  # its repair filled a mask the user painted (``result.damage``)
    damage_edit: object = None  # app.damage_edit.DamageEdit: the user's edits of that map, made on first use


def _switch(event: threading.Event, on: bool) -> None:
    if on:
        event.set()
    else:
        event.clear()


def run_reporting_errors(worker: QObject, body: Callable[[], None], failure: str) -> None:
    """Run a worker's ``body``; any exception becomes ``worker.errored(message, details)``
    (a dialog for the user, never a traceback), and ``worker.done`` always follows."""
    try:
        body()
    except Exception as exc:  # noqa: BLE001 - every failure must reach the user
        from segsr_gui.errors import SegSRError
        message = str(exc) if isinstance(exc, SegSRError) else f"{failure}: {exc}"
        log.exception(failure)
        worker.errored.emit(message, traceback.format_exc())
    finally:
        worker.done.emit()


class _Aborted(Exception):
    """Raised from the step callback to leave the run at the next step (``drain`` closes it)."""


class UpscaleWorker(QObject):
    started = Signal(object)  # RunStart
    yielded = Signal(object)  # StepFrame
    estimated = Signal(object)  # StepFrame of the experts' estimate, as its pieces are made
    paced = Signal(object)  # pace.PaceReport after every piece and step
    returned = Signal(object)  # RunOutput
    errored = Signal(str, str)  # message, details
    aborted = Signal()
    retrying = Signal(int, str)  # new tile side, a sentence for the user (ran out of memory)
    done = Signal()  # after any of returned / errored / aborted

    def __init__(self, request: RunRequest):
        super().__init__()
        self.request = request
        self._abort = threading.Event()
        self._noisy = threading.Event()
        self._colours = threading.Event()

    def abort(self) -> None:
        self._abort.set()

    def show_classes(self, on: bool) -> None:
        """Whether the window shows class colours: then each frame's map is coloured here, on
        the worker. Otherwise it is coloured on first look, on the GUI thread (colouring every
        frame there made the longest event-loop block about twice as long, gui_latency.py)."""
        _switch(self._colours, on)

    def show_noisy(self, on: bool) -> None:
        """Whether a tiled run's frames carry the noisy state (the window's view asks for it)."""
        _switch(self._noisy, on)

    def _coloured(self, layer: Optional[ClassLayer]) -> Optional[ClassLayer]:
        """``layer``, coloured now on this thread if the window shows class colours."""
        if layer is not None and self._colours.is_set():
            layer.image  # noqa: B018 - the property colours it once
        return layer

    @Slot()
    def run(self) -> None:
        # No lowered thread priority here: a de-scheduled worker holding the GIL stalls the GUI
        # (measured: 525 ms blocks with nice +5 on a loaded 2-core machine, 90 ms without).
        run_reporting_errors(self, self._run, "The run failed")

    def _run(self) -> None:
        from segsr_gui.engine.inference.pipeline import resolve_device
        from segsr_gui.engine.inference.runner import iter_upscale_retrying

        req = self.request
        t0 = time.perf_counter()
        device = str(resolve_device(req.device))
        loaded = load_model_cached(req.model_path, device)
        if self._abort.is_set():
            self.aborted.emit()
            return
        model = loaded.model
        steps = req.steps or model.config.schedule.steps
        self._palette = full_palette(loaded.classes, loaded.palette)  # a short manifest palette is filled
        collector = FrameCollector(req.rgb, model.config.scale, self._palette, model.config.num_classes,
                                   model.has_segmentation, req.preview_every, self._colours.is_set,
                                   self._noisy.is_set)
        self._tile, self._notes = req.tile, []
        if loaded.missing_prior:
            self._notes.append(f"People are not marked as \u201cperson\u201d: {loaded.missing_prior}.")

        def retry(tile: int, exc: BaseException) -> None:  # on this thread, before the next try
            collector.reset()
            note = f"Ran out of memory; trying again with {tile}-pixel tiles."
            self._tile = tile
            self._notes.append(note)
            self.retrying.emit(tile, note)

        gen = iter_upscale_retrying(req.rgb, model, steps=steps, seed=req.seed, tile=req.tile, device=device,
                                    precision=req.precision, mirror=req.mirror,
                                    strength=req.strength, repair=req.repair, repair_mask=req.repair_mask,
                                    alpha=req.alpha, on_retry=retry, expert_progress=True)
        result, frame_seconds = self._drain(gen, collector, loaded, steps, t0)
        if result is not None:
            self._finish(result, collector, loaded, steps, t0, frame_seconds)

    def _drain(self, gen, collector: FrameCollector, loaded, steps: int, t0: float):
        """Iterate the run, emitting frames; (result or None when aborted, seconds spent on frames)."""
        from segsr_gui.engine.inference.drain import drain

        from segsr_gui.app.pace import RunPace
        from segsr_gui.ui.expert_preview import ExpertsPreview

        started, frame_seconds = False, 0.0
        pace, experts = RunPace(t0), ExpertsPreview(self.request.rgb, loaded.model.config.scale)

        def on_progress(p) -> None:
            nonlocal started, frame_seconds
            if self._abort.is_set():
                raise _Aborted
            if not started:
                used = p.strength if loaded.model.has_strength else None
                self.started.emit(RunStart(loaded.name, loaded.classes, self._palette, steps, p.tiles,
                                           loaded.model.has_segmentation, used))
                started = True
            self.paced.emit(pace.update(p, time.perf_counter()))
            if not hasattr(p, "step"):  # an experts' piece (pipeline.ExpertsProgress)
                frame_start = time.perf_counter()
                self.estimated.emit(experts.add(p, steps, frame_start - t0))
                frame_seconds += time.perf_counter() - frame_start
                return
            experts.seed(collector, p)
            if not collector.wanted(p):
                return
            frame_start = time.perf_counter()
            frame = collector.add(p, frame_start - t0)
            if frame is not None:
                self._coloured(frame.classes)
                self.yielded.emit(frame)
            frame_seconds += time.perf_counter() - frame_start

        try:
            return drain(gen, on_progress), frame_seconds
        except _Aborted:
            self.aborted.emit()
            return None, frame_seconds

    def _finish(self, result, collector: FrameCollector, loaded, steps: int, t0: float,
                frame_seconds: float) -> None:
        req, k = self.request, loaded.model.config.num_classes
        cls_img = shares = None
        if result.class_map is not None:
            cls_img = self._coloured(preview_classes(result.class_map, self._palette))
            shares = known_fractions(result.class_map, k)
        full = rgb_to_qimage(result.image)
        image = full
        if max(full.width(), full.height()) > PREVIEW_MAX_SIDE:
            image = preview_rgb(qimage_pixels(full))
        frames, shown = collector.finish(result, image, cls_img, shares, time.perf_counter() - t0)
        if shown is not None:
            self.yielded.emit(shown)
        self.returned.emit(RunOutput(result, image, full, cls_img, shares, loaded.name,
                                     loaded.manifest.get("sha256"), loaded.classes, self._palette,
                                     steps, req.seed, time.perf_counter() - t0, frames, frame_seconds,
                                     req.mirror, self._tile, list(self._notes),
                                     strength=result.strength if loaded.model.has_strength else None,
                                     damage_given=req.repair_mask is not None and result.damage is not None))


class TaskWorker(QObject):
    """Runs one callable off the GUI thread; ``returned(value)`` or ``errored(message, details)``."""

    returned = Signal(object)
    errored = Signal(str, str)
    done = Signal()

    def __init__(self, fn: Callable[[], object]):
        super().__init__()
        self.fn = fn

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn()
        except Exception as exc:
            from segsr_gui.errors import SegSRError
            message = str(exc) if isinstance(exc, SegSRError) else f"{type(exc).__name__}: {exc}"
            log.exception("task failed")
            self.errored.emit(message, traceback.format_exc())
        else:
            self.returned.emit(value)
        finally:
            self.done.emit()


class JobRunner(QObject):
    """Holds running workers and their threads (like superqt's ``_worker_set``) and drains them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._jobs: dict = {}

    def start(self, worker: QObject) -> QThread:
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit)
        worker.done.connect(self._finished)  # queued: runs on the GUI thread
        self._jobs[worker] = thread
        thread.start()
        return thread

    @Slot()
    def _finished(self) -> None:
        worker = self.sender()
        thread = self._jobs.pop(worker, None)
        if thread is not None:
            # Both objects are owned by Python: once the thread has ended, dropping the last
            # reference deletes them here. No deleteLater(): Qt and Python would both delete them.
            thread.wait()

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def abort_all(self, timeout_ms: int = 30000) -> None:
        """Ask every worker to stop and wait for its thread (window closing)."""
        for worker, thread in list(self._jobs.items()):
            if hasattr(worker, "abort"):
                worker.abort()
        for worker, thread in list(self._jobs.items()):
            thread.quit()
            thread.wait(timeout_ms)
        self._jobs.clear()
