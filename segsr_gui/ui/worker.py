"""Running the engine off the GUI thread.

Like superqt's ``GeneratorWorker``, but on a ``QThread``: a small QObject, moved to
its thread, iterates ``pipeline.iter_upscale`` and emits one signal per step with
display-ready QImages (built and scaled here, so the GUI thread only paints; a class map
is coloured when first shown, as most live frames never are).

Call order::

    GUI thread                       worker thread
    ----------                       -------------
    start_job(worker) --start-->     worker.run()
                                       load model (cached)
                                       for each Progress from iter_upscale:
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

from segsr_gui.ui.convert import (PREVIEW_MAX_SIDE, ClassLayer, estimated_shares, logits_to_ids, preview_classes,
                      preview_rgb, qimage_pixels, resize_rgb, rgb_to_qimage, step_ids, tensor_to_rgb)

log = logging.getLogger(__name__)

# Live frames of one run that may wait for their class ids: each holds its step's logits (11
# output-size planes, 65 MB at the largest untiled output), so a long run makes the older
# ones' ids as it goes; the default 4 steps have 3 live frames, and none are made.
LAZY_FRAMES = 3

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
    colour_sigma: Optional[float] = None  # None = the model's default
    precision: str = "auto"  # see precision.py
    mirror: bool = False  # average with a chain on the mirrored photo (sampler.iter_sample)

    @classmethod
    def from_params(cls, rgb: np.ndarray, model_path: Path, params, preview_every: int = 1) -> "RunRequest":
        """A request with the batch's ``RunParams``: one photo and a batch run the same way."""
        return cls(rgb, model_path, steps=params.steps, seed=params.seed, tile=params.tile,
                   device=params.device, preview_every=preview_every, colour_sigma=params.colour_sigma,
                   precision=params.precision, mirror=params.mirror)


@dataclass
class RunStart:
    model_name: str
    classes: list
    palette: list
    steps: int
    tiles: int


@dataclass
class StepFrame:
    """One previewed step: ``image`` is x0_hat, ``classes`` the argmax ids; ``noisy_image()``
    shows x_t.

    The noisy state is made into an image only when someone looks at it: converting it on
    every step was most of the live preview's cost. An untiled run keeps the step's ``x_t``
    tensor (the sampler never changes it in place); a tiled run pastes each tile's ``x_t``
    into a canvas only while the window asks for it (``UpscaleWorker.show_noisy``). The class
    ids of an untiled run's live frame are likewise made on first use (``ClassLayer``; at most
    ``LAZY_FRAMES`` wait at a time); until then ``shares`` is an unbiased estimate from 1/64
    of the pixels, and exact once they are.
    """

    index: int
    total: int
    tile_index: int
    tiles: int
    image: QImage
    classes: Optional[ClassLayer]
    given_shares: Optional[np.ndarray]  # fraction of pixels per class (see ``shares``)
    elapsed: float
    noisy: Optional[QImage] = None
    x_t: object = field(default=None, repr=False)  # (1, 3, h, w) tensor, cropped, for ``noisy_image``
    shares_estimated: bool = False

    @property
    def shares(self) -> Optional[np.ndarray]:
        """Fraction of pixels per class: exact once the class ids are made."""
        if self.shares_estimated and self.classes is not None and self.classes.made:
            from segsr_gui.io.masks import class_fractions

            ids = self.classes.ids
            self.given_shares = class_fractions(ids, len(self.given_shares))
            self.shares_estimated = False
        return self.given_shares

    def noisy_image(self) -> Optional[QImage]:
        if self.noisy is None and self.x_t is not None:
            h, w = self.x_t.shape[-2:]
            self.noisy = preview_rgb(tensor_to_rgb(self.x_t, h, w))
            self.x_t = None
        return self.noisy


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


class UpscaleWorker(QObject):
    started = Signal(object)  # RunStart
    yielded = Signal(object)  # StepFrame
    returned = Signal(object)  # RunOutput
    errored = Signal(str, str)  # message, details
    aborted = Signal()
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
        from segsr_gui.engine.inference.pipeline import iter_upscale, resolve_device
        from segsr_gui.io.masks import class_fractions
        from PIL import Image

        req = self.request
        t0 = time.perf_counter()
        device = str(resolve_device(req.device))
        loaded = load_model_cached(req.model_path, device)
        if self._abort.is_set():
            self.aborted.emit()
            return
        model = loaded.model
        scale, k = model.config.scale, model.config.num_classes
        h, w = req.rgb.shape[:2]
        steps = req.steps or model.config.schedule.steps
        gen = iter_upscale(req.rgb, model, steps=steps, seed=req.seed, tile=req.tile, device=device,
                           colour_sigma=req.colour_sigma, precision=req.precision, mirror=req.mirror)
        bicubic = canvas = None  # tiled runs: tiles are pasted into the bicubic x4 as they finish steps
        noisy_canvas = None  # tiled runs only, made when the noisy view first asks
        ids = np.zeros((h * scale, w * scale), np.uint8) if model.has_segmentation else None
        started = False
        frames = []
        waiting = []  # live frames whose class ids are not made yet (each holds its step's logits)
        final_step = None  # an untiled run's last step: its frame is the result's, made once
        frame_seconds = 0.0
        try:
            while True:
                try:
                    p = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                if self._abort.is_set():
                    self.aborted.emit()
                    return
                if not started:
                    self.started.emit(RunStart(loaded.name, loaded.classes, loaded.palette, steps, p.tiles))
                    started = True
                last = p.step.index == p.step.total - 1
                if not last and (p.step.index + 1) % req.preview_every:
                    continue
                frame_start = time.perf_counter()
                hr = p.box.scaled(scale)
                noisy = x_t = None
                estimated = False
                if p.tiles == 1:
                    if last:
                        final_step = p.step
                        continue
                    image, cls_img, shares, estimated = whole_step_preview(
                        p.step, hr.height, hr.width, loaded.palette, k, classes_now=self._colours.is_set())
                    x_t = p.step.x_t[..., :hr.height, :hr.width]
                else:
                    rows = slice(hr.top, hr.top + hr.height)
                    cols = slice(hr.left, hr.left + hr.width)
                    if canvas is None:
                        lr8 = np.round(np.clip(req.rgb, 0, 1) * 255).astype(np.uint8)
                        bicubic = resize_rgb(lr8, (w * scale, h * scale), Image.BICUBIC)
                        canvas = bicubic.copy()
                    tensor_to_rgb(p.step.x0_hat, hr.height, hr.width, out=canvas[rows, cols])
                    if self._noisy.is_set():
                        if noisy_canvas is None:
                            noisy_canvas = bicubic.copy()
                        tensor_to_rgb(p.step.x_t, hr.height, hr.width, out=noisy_canvas[rows, cols])
                        noisy = preview_rgb(noisy_canvas)
                    image, cls_img, shares = preview_rgb(canvas), None, None
                    if ids is not None and p.step.logits is not None:
                        step_ids(p.step, hr.height, hr.width, out=ids[rows, cols])
                        shares = class_fractions(ids, k)
                        cls_img = preview_classes(ids, loaded.palette, reused=True)
                frame = StepFrame(p.step.index, p.step.total, p.tile_index, p.tiles, image,
                                  self._coloured(cls_img), shares,
                                  time.perf_counter() - t0, noisy, x_t, shares_estimated=estimated)
                if p.tiles == 1 or last:  # tiled runs keep one frame per tile for the scrubber
                    frames.append(frame)
                if estimated:
                    waiting.append(frame.classes)
                    if len(waiting) > LAZY_FRAMES:  # bound the logits held: make the oldest's ids
                        waiting.pop(0).ids  # noqa: B018 - the property makes them
                self.yielded.emit(frame)
                frame_seconds += time.perf_counter() - frame_start
        finally:
            gen.close()
        cls_img = shares = None
        if result.class_map is not None:
            cls_img = self._coloured(preview_classes(result.class_map, loaded.palette))
            shares = class_fractions(result.class_map, k)
        full = rgb_to_qimage(result.image)
        image = full
        if max(full.width(), full.height()) > PREVIEW_MAX_SIDE:
            image = preview_rgb(qimage_pixels(full))
        if final_step is not None:
            oh, ow = result.image.shape[:2]
            frame = StepFrame(final_step.index, final_step.total, 0, 1, image, cls_img, shares,
                              time.perf_counter() - t0, None, final_step.x_t[..., :oh, :ow])
            frames.append(frame)
            self.yielded.emit(frame)
        self.returned.emit(RunOutput(result, image, full, cls_img, shares, loaded.name,
                                     loaded.manifest.get("sha256"), loaded.classes, loaded.palette,
                                     steps, req.seed, time.perf_counter() - t0, frames, frame_seconds,
                                     req.mirror))


def whole_step_preview(step, height: int, width: int, palette, num_classes: int, classes_now: bool = True):
    """(image, ClassLayer or None, shares or None, whether the shares are estimated) of one
    step of an untiled run; without ``classes_now`` the class ids are made on first use."""
    from segsr_gui.io.masks import class_fractions

    if max(height, width) <= PREVIEW_MAX_SIDE:  # straight into the QImage's pixels
        image = QImage(width, height, QImage.Format.Format_RGB888)
        tensor_to_rgb(step.x0_hat, height, width, out=qimage_pixels(image))
    else:
        image = preview_rgb(tensor_to_rgb(step.x0_hat, height, width))
    if step.logits is None:
        return image, None, None, False
    if not classes_now:  # the layer keeps the logits only, not the whole step
        logits, bias = step.logits, step.class_bias
        layer = ClassLayer(None, palette, make=lambda: preview_classes(
            logits_to_ids(logits, height, width, bias=bias), palette).ids)
        return image, layer, estimated_shares(step, height, width, num_classes), True
    ids = step_ids(step, height, width)
    return image, preview_classes(ids, palette), class_fractions(ids, num_classes), False


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
