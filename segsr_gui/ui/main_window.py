"""The studio window: composes the viewer, panels, menus and status bar, and routes
engine work to worker threads. It holds no model logic and does no file I/O itself."""

from __future__ import annotations

import logging
import random
import tempfile
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QLineEdit, QMainWindow,
                               QMessageBox, QAbstractSpinBox, QVBoxLayout, QWidget)

from segsr_gui.engine.diffusion.colour_fix import COLOUR_MODES
from segsr_gui.ui import settings as settings_mod
from segsr_gui.ui.compare_view import CompareView
from segsr_gui.ui.convert import colour_ids, preview_size, resize_rgb, rgb_to_qimage, to_uint8
from segsr_gui.ui.error_dialog import log_file, show_error
from segsr_gui.ui.file_dialogs import ask_open, ask_save
from segsr_gui.ui.legend_widget import LegendWidget
from segsr_gui.ui.progress_widget import ProgressWidget, _clock
from segsr_gui.ui.run_panel import RunPanel
from segsr_gui.ui.step_scrubber import StepScrubber
from segsr_gui.ui.view_panel import ViewPanel
from segsr_gui.ui.worker import JobRunner, RunOutput, RunRequest, StepFrame, TaskWorker, UpscaleWorker
from segsr_gui.ui.actions import build_actions
from segsr_gui.ui.batch_panel import BatchPanel

log = logging.getLogger(__name__)
SCALE = 4
MAX_RUNS = 5  # runs of the current photo kept for comparison
KEEP_STEPS_RUNS = 2  # the newest runs keep every step for the scrubber
OPEN_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
EXPORT_FILTERS = {"PNG image (*.png)": "png", "JPEG image (*.jpg)": "jpg", "WebP image (*.webp)": "webp",
                  "TIFF image (*.tif *.tiff)": "tiff"}


def _open_photo(path: Path):
    """Worker side: decode the photo and build its display images."""
    from segsr_gui.io.read import load_image

    loaded = load_image(path)
    from PIL import Image

    lr8 = to_uint8(loaded.rgb)
    w, h = loaded.size
    bicubic = resize_rgb(lr8, preview_size(w * SCALE, h * SCALE), Image.BICUBIC)
    return path, loaded, rgb_to_qimage(lr8), rgb_to_qimage(bicubic)


class MainWindow(QMainWindow):
    photoLoaded = Signal(str)
    openFailed = Signal(str)
    stepShown = Signal(int, int)  # index, total
    runFinished = Signal(str)  # "done" | "cancelled" | "failed"
    busyChanged = Signal(bool)
    exported = Signal(list)

    def __init__(self, settings: Optional[settings_mod.Settings] = None, models=None, parent=None):
        super().__init__(parent)
        from segsr_gui.engine.nets.weights import list_models

        self.settings = settings or settings_mod.load()
        self.setWindowTitle("SegSR Studio")
        self.setAcceptDrops(True)
        self.jobs = JobRunner(self)
        self.photo = None  # LoadedImage
        self.photo_path: Optional[Path] = None
        self.lr_image: Optional[QImage] = None
        self.bicubic_image: Optional[QImage] = None
        self.runs: list[RunOutput] = []  # newest first, this photo only
        self._run_ids = 0
        self._worker: Optional[UpscaleWorker] = None
        self._live: Optional[StepFrame] = None
        self._live_meta = None
        self._run_photo = None
        self._overlay_cache: tuple = (None, None, None)
        self._paste_dir = tempfile.TemporaryDirectory(prefix="segsr-paste-")

        # ---- composition ----
        self.viewer = CompareView()
        self.scrubber = StepScrubber()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.viewer, 1)
        column.addWidget(self.scrubber)
        self.setCentralWidget(central)
        self.run_panel = RunPanel(models if models is not None else list_models())
        self.view_panel = ViewPanel()
        self.legend = LegendWidget()
        for title, widget, name in (("Restore", self.run_panel, "runDock"), ("View", self.view_panel, "viewDock"),
                                    ("Classes found", self.legend, "legendDock")):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                             QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.progress = ProgressWidget()
        self.zoom_label = QLabel("")
        self.coords_label = QLabel("")
        self.coords_label.setMinimumWidth(150)
        self.statusBar().addPermanentWidget(self.coords_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.progress.setFixedWidth(430)  # leaves room on the left for status messages and hints
        self.statusBar().addPermanentWidget(self.progress)
        self.actions_ = build_actions(self)
        self._build_toolbar()
        self.recent_menu = self.menus["&File"].addMenu("Open &recent")
        self.menus["&File"].insertMenu(self.actions_["paste"], self.recent_menu)
        self._build_batch_dock()

        # ---- wiring ----
        self.run_panel.runRequested.connect(self.start_run)
        self.run_panel.cancelRequested.connect(self.cancel_run)
        self.view_panel.changed.connect(self._update_view)
        self.scrubber.stepSelected.connect(lambda _: self._update_view())
        self.legend.visibilityChanged.connect(lambda _: self._update_view())
        self.viewer.cursorMoved.connect(self._update_coords)
        self.viewer.zoomChanged.connect(self._update_zoom)
        QApplication.instance().installEventFilter(self)

        self._apply_settings()
        self._update_recent_menu()
        self._update_sources()
        self._set_running(False)
        self.resize(1280, 820)
        if self.settings.window.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window.geometry.encode()))

    def _build_toolbar(self) -> None:
        from PySide6.QtWidgets import QStyle, QToolBar

        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        for key, icon in (("open", QStyle.StandardPixmap.SP_DialogOpenButton),
                          ("run", QStyle.StandardPixmap.SP_MediaPlay),
                          ("cancel", QStyle.StandardPixmap.SP_MediaStop),
                          ("export", QStyle.StandardPixmap.SP_DialogSaveButton), (None, None),
                          ("fit", None), ("actual", None), ("zoom_out", None), ("zoom_in", None)):
            if key is None:
                bar.addSeparator()
                continue
            action = self.actions_[key]
            if icon is not None:
                action.setIcon(style.standardIcon(icon))
            bar.addAction(action)
        self.actions_["open"].setIconText("Open")
        self.actions_["run"].setIconText("Restore (F5)")
        self.actions_["cancel"].setIconText("Cancel")
        self.actions_["export"].setIconText("Export")
        self.actions_["fit"].setIconText("Fit")
        self.actions_["actual"].setIconText("100%")
        self.actions_["zoom_out"].setIconText("−")
        self.actions_["zoom_in"].setIconText("+")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _build_batch_dock(self) -> None:
        """The batch queue, below the viewer; shown at start when a batch is unfinished."""
        self.batch_panel = BatchPanel(self.jobs, self._batch_run_config)
        self.batch_dock = QDockWidget("Batch queue", self)
        self.batch_dock.setObjectName("batchDock")
        self.batch_dock.setWidget(self.batch_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.batch_dock)
        # The right-hand panels keep the full height; the queue sits under the viewer only.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.batch_dock.visibilityChanged.connect(self.actions_["batch"].setChecked)
        self.batch_panel.message.connect(self._batch_message)
        self.batch_panel.runningChanged.connect(self._batch_running)
        self.batch_dock.setVisible(self.batch_panel.pending > 0)
        if self.batch_panel.pending:
            self.statusBar().showMessage(f"The batch queue has {self.batch_panel.pending} photos to do; "
                                         "press Start in the Batch queue to resume.", 10000)

    def _batch_running(self, running: bool) -> None:
        if not self.running:  # a photo's own run keeps its progress display
            self.progress.reset("Batch queue running (progress below)" if running
                                else "Ready: press F5 (Restore photo)")

    def _batch_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def show_batch(self, on: bool) -> None:
        self.batch_dock.setVisible(bool(on))

    def _batch_run_config(self):
        """The model and run settings the batch uses: the ones of the Restore panel."""
        if self.running:
            return "A photo is being restored; wait for it to finish (or cancel it), then start the batch."
        path = self.run_panel.model_path()
        if path is None:
            return ("No model is installed. Put a model (NAME.safetensors and NAME.json) into the models "
                    "folder, or pick a model file in the Restore panel.")
        self.store_settings()
        return path, self._run_params()

    def _run_params(self):
        """The Restore panel's settings as the engine's ``RunParams`` (for a photo and a batch)."""
        from segsr_gui.app.batch import RunParams

        r = self.settings.run
        return RunParams(r.steps or None, r.seed, r.tile or None, r.device, COLOUR_MODES[r.colours],
                         mirror=r.mirror)

    # ---- settings ------------------------------------------------------------------
    def _apply_settings(self) -> None:
        s = self.settings
        self.run_panel.load(s.run)
        self.view_panel.opacity.setValue(int(round(s.view.overlay_opacity * 100)))
        self.view_panel.set_value("upsampler", s.view.original_upsampler)
        self.actions_["export_masks"].setChecked(s.files.export_masks)
        self.actions_["light"].setChecked(s.view.theme == "light")

    def store_settings(self) -> None:
        s = self.settings
        self.run_panel.store(s.run)
        s.view.overlay_opacity = self.view_panel.opacity.value() / 100
        s.view.original_upsampler = self.view_panel.value("upsampler")
        s.files.export_masks = self.actions_["export_masks"].isChecked()
        s.window.geometry = bytes(self.saveGeometry().toBase64()).decode()
        try:
            settings_mod.save(s)
        except OSError as exc:
            log.warning("settings could not be saved: %s", exc)

    # ---- opening -------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.settings.files.last_open_dir or str(Path.home())
        paths = ask_open(self, "Open a photo", start, OPEN_FILTER)
        if paths:
            self.open_path(paths[0])

    def open_path(self, path) -> None:
        path = Path(path)
        if self.running:
            self.cancel_run()
        self.statusBar().showMessage(f"Opening {path.name}\u2026")
        worker = TaskWorker(lambda: _open_photo(path))
        worker.returned.connect(self._photo_opened)  # bound slots run on the GUI thread
        worker.errored.connect(self._open_failed)
        self.jobs.start(worker)

    def _open_failed(self, message: str, details: str) -> None:
        self.statusBar().showMessage("The photo could not be opened.", 5000)
        show_error(self, message, details, "Cannot open the photo")
        self.openFailed.emit(message)

    def _photo_opened(self, value) -> None:
        path, loaded, lr, bicubic = value
        self.photo, self.photo_path, self.lr_image, self.bicubic_image = loaded, path, lr, bicubic
        w, h = loaded.size
        self.runs.clear()
        self._run_ids = 0  # run numbers count this photo's runs
        self._live = None
        self.scrubber.set_frames([])
        self.legend.set_shares(None)
        self.viewer.set_scene_size(w * SCALE, h * SCALE)
        if not str(path).startswith(self._paste_dir.name):
            self.settings.add_recent(path)
            self.settings.files.last_open_dir = str(path.parent)
            self._update_recent_menu()
        self.setWindowTitle(f"{path.name} \u2013 SegSR Studio")
        notes = " ".join(loaded.notes)
        self.statusBar().showMessage(f"Opened {path.name} ({w}\u00d7{h}). Press F5 to restore it. {notes}", 8000)
        self.progress.reset("Ready: press F5 (Restore photo)")
        self._update_sources()
        self.photoLoaded.emit(str(path))

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.files.recent:
            self.recent_menu.addAction(Path(p).name, lambda p=p: self.open_path(p)).setToolTip(p)
        self.recent_menu.setEnabled(bool(self.settings.files.recent))

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if local:
                self.open_path(local[0])
                return
        image = QApplication.clipboard().image()
        if image.isNull():
            self.statusBar().showMessage("The clipboard holds no image.", 4000)
            return
        self._paste_count = getattr(self, "_paste_count", 0) + 1
        path = Path(self._paste_dir.name) / f"pasted-{self._paste_count}.png"
        image.save(str(path), "PNG")
        self.open_path(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    # ---- running -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def _set_running(self, running: bool) -> None:
        self.run_panel.set_running(running)
        self.actions_["run"].setEnabled(not running)
        self.actions_["cancel"].setEnabled(running)
        self.scrubber.setEnabled(not running and self.scrubber.slider.maximum() > 0)
        self.busyChanged.emit(running)

    def start_run(self) -> None:
        if self.running:
            return
        if self.batch_panel.running:
            self.statusBar().showMessage("The batch queue is running; stop it first, or wait for it.", 5000)
            return
        if self.photo is None:
            self.statusBar().showMessage("Open a photo first (File \u25b8 Open, or drag one onto the window).", 5000)
            return
        path = self.run_panel.model_path()
        if path is None:  # a model may have been installed since the window opened
            from segsr_gui.engine.nets.weights import list_models
            self.run_panel.set_models(list_models())
            self.run_panel.select_model(self.settings.run.model)
            path = self.run_panel.model_path()
        if path is None:
            show_error(self, "No model is installed. Put a model (NAME.safetensors and NAME.json) into "
                             "the models folder, or pick a model file.", title="No model")
            return
        if self.run_panel.random_seed.isChecked():
            self.run_panel.seed.setValue(random.randrange(2**31 - 1))
        self.store_settings()
        request = RunRequest.from_params(self.photo.rgb, path, self._run_params(),
                                         self.settings.run.preview_every)
        worker = UpscaleWorker(request)
        worker.show_noisy(self.view_panel.value("state") == "noisy")
        worker.show_classes(self.view_panel.value("layer") != "photo")
        worker.started.connect(self._run_started)
        worker.yielded.connect(self._run_step)
        worker.returned.connect(self._run_returned)
        worker.errored.connect(self._run_failed)
        worker.aborted.connect(self._run_aborted)
        worker.retrying.connect(self._run_retrying)
        worker.done.connect(self._run_done)
        self._worker = worker
        self._run_photo = self.photo  # results that arrive after another photo was opened are dropped
        self._live, self._live_meta = None, None
        self.progress.begin()
        self.statusBar().showMessage("Restoring\u2026 the preview updates after every step.")
        self._set_running(True)
        self._update_sources(right="live")
        self.jobs.start(worker)

    def cancel_run(self) -> None:
        if self._worker is not None:
            self._worker.abort()
            self.progress.bar.setFormat("Cancelling after this step\u2026")

    def _run_started(self, start) -> None:
        self._live_meta = start
        self._update_view()

    def _run_retrying(self, tile: int, note: str) -> None:
        """Out of memory: the worker starts again with smaller tiles; the preview starts over."""
        self._live = None
        self.progress.begin(f"Out of memory: again with {tile}-px tiles\u2026")
        self.statusBar().showMessage(note, 10000)
        self._update_view()

    def _run_step(self, frame: StepFrame) -> None:
        if self._worker is None or self.photo is not self._run_photo:
            return
        self._live = frame
        self.progress.step(frame.index, frame.total, frame.tile_index, frame.tiles)
        self._update_view()
        self.stepShown.emit(frame.index, frame.total)

    def _run_returned(self, out: RunOutput) -> None:
        if self.photo is not self._run_photo:
            self._outcome = "cancelled"
            return
        self._run_ids += 1
        out.id = self._run_ids
        self.runs.insert(0, out)
        del self.runs[MAX_RUNS:]
        for older in self.runs[KEEP_STEPS_RUNS:]:  # bound memory: older runs keep their result only
            older.frames = older.frames[-1:]
        self._live = None
        self._update_sources(right=f"run:{out.id}")
        self.progress.finish(f"Done in {_clock(out.elapsed)}  \u00b7  {out.steps} steps")
        self.statusBar().showMessage(" ".join(out.notes + ["Done. Drag the slider on the photo to compare; "
                                                           "File \u25b8 Export saves it."]), 10000)
        self._outcome = "done"

    def _run_failed(self, message: str, details: str) -> None:
        self._live = None
        self.progress.finish("Failed")
        show_error(self, message, details, "The run failed")
        self._outcome = "failed"

    def _run_aborted(self) -> None:
        self._live = None
        self.progress.finish("Cancelled")
        self.statusBar().showMessage("Cancelled. Nothing was changed.", 5000)
        self._outcome = "cancelled"

    def _run_done(self) -> None:
        self._worker = None
        self._set_running(False)
        self._update_sources(right=f"run:{self.runs[0].id}" if self.runs else "original")
        self.runFinished.emit(getattr(self, "_outcome", "done"))

    # ---- what is shown -------------------------------------------------------------
    def _run_label(self, run: RunOutput) -> str:
        return (f"Run {run.id}: {run.model_name}, {run.steps} steps, seed {run.seed}"
                + (", mirrored" if run.mirror else ""))

    def _update_sources(self, right: Optional[str] = None) -> None:
        items = [("Original photo", "original")] + [(self._run_label(r), f"run:{r.id}") for r in self.runs]
        if self.running:
            items.insert(1, ("This run (in progress)", "live"))
        left = self.view_panel.value("left") or "original"
        right = right or self.view_panel.value("right") or (f"run:{self.runs[0].id}" if self.runs else "original")
        keys = [k for _, k in items]
        if left not in keys:
            left = "original"
        if right not in keys:
            right = keys[1] if len(keys) > 1 else "original"
        self.view_panel.set_sources(items, left, right)
        self._update_scrubber()
        self._update_view()

    def _run_by_key(self, key: str) -> Optional[RunOutput]:
        for run in self.runs:
            if key == f"run:{run.id}":
                return run
        return None

    def _update_scrubber(self) -> None:
        run = self._run_by_key(self.view_panel.value("right") or "")
        labels = []
        if run is not None:
            # a tiled run's frames are whole-photo frames too: one per step, every tile at that step
            labels = [f"Step {f.index + 1}/{f.total}" for f in run.frames]
        self.scrubber.set_frames(labels)
        self.scrubber.setEnabled(not self.running and len(labels) > 1)

    def _image_of(self, key: str, state: str):
        """(image, classes image, what holds its class shares, label, smooth) for a source key."""
        if key == "original" or self.photo is None:
            nearest = self.view_panel.value("upsampler") == "nearest"
            return (self.lr_image if nearest else self.bicubic_image), None, None, "Original", not nearest
        run = self._run_by_key(key)
        if run is None:
            return None, None, None, "", True
        label = f"Restored (run {run.id})" if len(self.runs) > 1 else "Restored"
        frame_i = self.scrubber.value() if key == self.view_panel.value("right") else len(run.frames) - 1
        last = frame_i >= len(run.frames) - 1
        frame = run.frames[frame_i] if run.frames else None
        if state == "noisy" and frame is not None and frame.noisy_image() is not None:
            return frame.noisy_image(), frame.classes, frame, label + f" \u00b7 noisy x\u209c step {frame_i + 1}", True
        if last or frame is None:
            return run.image, run.classes, run, label, True
        return frame.image, frame.classes, frame, label + f" \u00b7 step {frame.index + 1}", True

    def _overlay_for(self, classes, palette) -> Optional[QImage]:
        """The class layer's colours with the legend's hidden classes left out (cached)."""
        if classes is None:
            return None
        visible = tuple(self.legend.visible())
        if all(visible) or palette is None:
            return classes.image  # coloured once, on first use
        if self._overlay_cache[0] is classes and self._overlay_cache[1] == visible:
            return self._overlay_cache[2]
        img = colour_ids(classes.ids, palette, list(visible))
        self._overlay_cache = (classes, visible, img)
        return img

    def _update_view(self) -> None:
        if self.photo is None:
            self.viewer.set_images(None, None, "", "")
            return
        state = self.view_panel.value("state")
        if self._worker is not None:
            self._worker.show_noisy(state == "noisy")
            self._worker.show_classes(self.view_panel.value("layer") != "photo")
        left_key = self.view_panel.value("left") or "original"
        right_key = self.view_panel.value("right") or "original"
        left, _, _, left_label, left_smooth = self._image_of(left_key, "estimate")
        palette = self._live_meta.palette if self._live_meta else None
        if self._live is None and not self.runs and not self.running:  # nothing restored yet: the photo
            self.viewer.set_mode("off")
            self.viewer.set_images(None, left, "", "Original · press F5 to restore", left_smooth)
            self.viewer.set_overlay(None, 0, "photo")
            self._update_classes(None)
            return
        if self._live is not None:
            f = self._live
            noisy = f.noisy_image() if state == "noisy" else None
            right = noisy if noisy is not None else f.image
            classes, shares_of = f.classes, f
            right_label = f"Restoring \u00b7 step {f.index + 1}/{f.total}"
            if f.tiles > 1:
                right_label += f", tile {f.tile_index + 1}/{f.tiles}"
            if state == "noisy" and noisy is None:  # a tiled run records x_t only while it is shown
                right_label += " \u00b7 noisy state from the next tile on"
        else:
            right, classes, shares_of, right_label, _ = self._image_of(right_key, state)
            run = self._run_by_key(right_key)
            palette = run.palette if run else palette
            if right_key == "original":
                right_label = "Original"
        run = self._run_by_key(right_key) if self._live is None else None
        self._update_classes(run)
        full = run.image_full if run is not None and right is run.image else None
        if state == "before" and right_key != "original":  # the photo before, under this run's classes
            right, full, right_label = self._image_of("original", state)[0], None, "Photo before"
        self.viewer.set_mode(self.view_panel.value("compare"))
        layer = self.view_panel.value("layer") if classes is not None else "photo"
        if layer == "mask":
            right_label = right_label.replace("Restored", "Classes")
        self.viewer.set_images(left, right, left_label, right_label, left_smooth, full)
        # only a shown layer is coloured (a live frame's class ids are made on first use)
        overlay = self._overlay_for(classes, palette) if layer != "photo" else None
        self.viewer.set_overlay(overlay, self.view_panel.opacity.value() / 100, layer)
        # read after the overlay: a live frame's shares are exact once its class ids are made
        self.legend.set_shares(getattr(shares_of, "shares", None), getattr(shares_of, "shares_estimated", False))

    def _update_classes(self, run: Optional[RunOutput]) -> None:
        """The Classes choice and the legend follow the run on the right (or the live run):
        a run with classes always shows them; one without lists none."""
        if run is not None:
            names, palette, has = run.classes_names, run.palette, run.classes is not None
        elif self._live is not None or (self.running and self._live_meta is not None):
            meta = self._live_meta
            names, palette, has = meta.classes, meta.palette, meta.segments
        else:
            names, palette, has = [], [], False
        self.legend.set_classes(names if has else [], palette if has else [])
        self.view_panel.set_has_classes(has)

    def _update_coords(self, pt) -> None:
        self.coords_label.setText("" if pt is None else f"x {int(pt.x())}, y {int(pt.y())}")

    def _update_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"Zoom {zoom * 100:.0f} %")

    # ---- navigation ----------------------------------------------------------------
    def fit(self) -> None:
        self.viewer.fit()

    def actual_size(self) -> None:
        self.viewer.actual_size()

    def zoom_in(self) -> None:
        self.viewer.zoom_in()

    def zoom_out(self) -> None:
        self.viewer.zoom_out()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Hold B anywhere (outside text fields) to flip the view to the left/original image."""
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == Qt.Key.Key_B \
                and not event.isAutoRepeat() and self.isActiveWindow() \
                and not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox)):
            self.viewer.set_flipped(kind == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(obj, event)

    # ---- export --------------------------------------------------------------------
    def set_export_masks(self, on: bool) -> None:
        self.settings.files.export_masks = bool(on)

    def current_run(self) -> Optional[RunOutput]:
        return self._run_by_key(self.view_panel.value("right") or "") or (self.runs[0] if self.runs else None)

    def export_dialog(self) -> None:
        run = self.current_run()
        if run is None or self.photo_path is None:
            self.statusBar().showMessage("Restore a photo first (F5), then export it.", 5000)
            return
        folder = self.export_folder()
        path, chosen = ask_save(self, "Export the restored photo", folder / f"{self.photo_path.stem}_x4.png",
                                list(EXPORT_FILTERS))
        if path is None:
            return
        fmt = {".jpeg": "jpg", ".jpg": "jpg", ".png": "png", ".webp": "webp", ".tif": "tiff",
               ".tiff": "tiff"}.get(path.suffix.lower(), EXPORT_FILTERS.get(chosen, "png"))
        stem = path.stem[:-3] if path.stem.endswith("_x4") else path.stem
        self.export_to(path.parent, stem, fmt)

    def export_folder(self) -> Path:
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

    def export_to(self, outdir: Path, stem: str, fmt: str = "png", ask=None) -> bool:
        """Export the shown run; if outputs exist ask Replace / Keep both / Cancel (``ask`` for tests)."""
        from segsr_gui.app.export import ExportOptions, existing_outputs

        run = self.current_run()
        if run is None:
            return False
        options = ExportOptions(format=fmt, masks=self.settings.files.export_masks and run.classes is not None)
        existing = existing_outputs(stem, Path(outdir), options)
        if existing:
            choice = (ask or self._ask_replace)(existing)
            if choice == "cancel":
                return False
            if choice == "replace":
                options = ExportOptions(format=fmt, masks=options.masks, overwrite=True)
            else:
                n = 2
                while existing_outputs(f"{stem}-{n}", Path(outdir), options):
                    n += 1
                stem = f"{stem}-{n}"
        self.settings.files.last_export_dir = str(outdir)
        photo, result = self.photo, run.result
        args = (photo, result, Path(outdir), stem, options, run.model_name, run.classes_names, run.palette,
                run.model_sha)

        def work():
            from segsr_gui.app.export import export_result
            return export_result(*args)

        worker = TaskWorker(work)
        worker.returned.connect(self._exported)
        worker.errored.connect(self._export_failed)
        self.statusBar().showMessage("Saving\u2026")
        self.jobs.start(worker)
        return True

    def _exported(self, written: dict) -> None:
        self.statusBar().showMessage("Saved " + ", ".join(p.name for p in written.values()), 10000)
        self.exported.emit(list(written.values()))

    def _export_failed(self, message: str, details: str) -> None:
        show_error(self, message, details, "Export failed")

    def _ask_replace(self, existing: list[Path]) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Files already exist",
                          "These files already exist:\n" + "\n".join(p.name for p in existing), parent=self)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep both", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "replace" if box.clickedButton() is replace else "keep" if box.clickedButton() is keep else "cancel"

    # ---- misc ----------------------------------------------------------------------
    def set_light_theme(self, on: bool) -> None:
        from segsr_gui.ui.app import apply_theme
        self.settings.view.theme = "light" if on else "dark"
        apply_theme(QApplication.instance(), self.settings.view.theme)

    def open_log_folder(self) -> None:
        where = log_file()
        if where is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(where.parent)))

    def about(self) -> None:
        from segsr_gui import __version__
        QMessageBox.about(self, "About SegSR Studio",
                          f"<b>SegSR Studio {__version__}</b><p>Restores photos at 4\u00d7 their size with a "
                          "diffusion model that also recognises what is in them (sky, road, buildings\u2026), "
                          "after SegSR (Xiao et al., 2024).</p>")

    def closeEvent(self, event) -> None:
        self.store_settings()
        QApplication.instance().removeEventFilter(self)
        self.batch_panel.shutdown()
        self.jobs.abort_all()
        self._worker = None
        super().closeEvent(event)
