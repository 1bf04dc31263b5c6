"""The studio window: composes the viewer, panels, menus and status bar, and routes
engine work to worker threads. It holds no model logic and does no file I/O itself."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, Signal
from PySide6.QtWidgets import QMainWindow

from segsr_gui.app.runs import LIVE, ORIGINAL, RunHistory, run_key
from segsr_gui.ui import settings as settings_mod
from segsr_gui.ui import window_parts as parts
from segsr_gui.ui.actions import build_actions, build_toolbar
from segsr_gui.ui.compare_view import CompareView
from segsr_gui.ui.damage_tools import DamageTools
from segsr_gui.ui.error_dialog import show_error
from segsr_gui.ui.hold_to_flip import HoldToFlip
from segsr_gui.ui.export_flow import ExportFlow
from segsr_gui.ui.legend_widget import LegendWidget
from segsr_gui.ui.opening import SCALE, PhotoOpener, local_files
from segsr_gui.ui.progress_widget import ProgressWidget, _clock
from segsr_gui.ui.run_panel import RunPanel
from segsr_gui.ui.step_scrubber import StepScrubber
from segsr_gui.ui.view_composer import Photo, ViewChoices, ViewComposer
from segsr_gui.ui.view_panel import ViewPanel
from segsr_gui.ui.window_batch import NO_MODEL, WindowBatch
from segsr_gui.ui.window_menus import WindowMenus
from segsr_gui.ui.frames import StepFrame
from segsr_gui.ui.worker import JobRunner, RunOutput, RunRequest, UpscaleWorker

log = logging.getLogger(__name__)


class MainWindow(WindowMenus, QMainWindow):
    photoLoaded = Signal(str)
    openFailed = Signal(str)
    stepShown = Signal(int, int)  # index, total
    runFinished = Signal(str)  # "done" | "cancelled" | "failed"
    busyChanged = Signal(bool)
    exported = Signal(list)

    def __init__(self, settings: Optional[settings_mod.Settings] = None, models=None, parent=None):
        super().__init__(parent)
        self.settings = settings or settings_mod.load()
        self.setWindowTitle("SegSR Studio")
        self.setAcceptDrops(True)
        self.jobs = JobRunner(self)
        self.photo = None  # LoadedImage
        self.photo_path: Optional[Path] = None
        self._shown: Optional[Photo] = None  # the photo's display images
        self.history = RunHistory()  # this photo's runs
        self._worker: Optional[UpscaleWorker] = None
        self._live: Optional[StepFrame] = None
        self._live_meta = None
        self._run_photo = None
        self._scrubbed: Optional[str] = None  # the source key whose steps the scrubber holds
        self.composer = ViewComposer()
        self.opener = PhotoOpener(self, self.jobs, self.settings)

        self._compose(models)
        self._wire()
        self._apply_settings()
        self._update_recent_menu()
        self._update_sources()
        self._set_running(False)
        self.resize(1280, 820)
        if self.settings.window.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window.geometry.encode()))

    def _compose(self, models) -> None:
        from segsr_gui.engine.nets.weights import list_models

        self.viewer, self.scrubber = CompareView(), StepScrubber()
        parts.central_column(self, self.viewer, self.scrubber)
        self.run_panel = RunPanel(models if models is not None else list_models())
        self.view_panel, self.legend = ViewPanel(), LegendWidget()
        for title, widget, name in (("Restore", self.run_panel, "runDock"), ("View", self.view_panel, "viewDock"),
                                    ("Classes found", self.legend, "legendDock")):
            parts.add_dock(self, title, widget, name, grow=widget is self.legend)  # the legend takes spare height
        self.progress = ProgressWidget()
        self.coords_label, self.zoom_label = parts.status_widgets(self, self.progress, self.viewer)
        self.actions_ = build_actions(self)
        build_toolbar(self, self.actions_)
        self.recent_menu = self.menus["&File"].addMenu("Open &recent")
        self.menus["&File"].insertMenu(self.actions_["paste"], self.recent_menu)
        self.batch = WindowBatch(self)
        self.batch_panel, self.batch_dock = self.batch.panel, self.batch.dock
        self.exporter = ExportFlow(self, self.jobs, self.settings)
        self.damage = DamageTools(self)  # the Damage dock, its brush over the viewer, Edit > Undo

    def _wire(self) -> None:
        self.run_panel.runRequested.connect(self.start_run)
        self.run_panel.cancelRequested.connect(self.cancel_run)
        self.view_panel.changed.connect(self._update_view)
        self.scrubber.stepSelected.connect(lambda _: self._update_view())
        self.legend.visibilityChanged.connect(lambda _: self._update_view())
        self.exporter.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.opener.message.connect(self.statusBar().showMessage)
        self.opener.opened.connect(self._photo_opened)
        self.opener.failed.connect(self._open_failed)
        self.exporter.exported.connect(self.exported)
        self.batch.wire()
        self.flip_keys = HoldToFlip(self, self.viewer.set_flipped)

    def show_batch(self, on: bool) -> None:
        self.batch_dock.setVisible(bool(on))

    # ---- settings ------------------------------------------------------------------
    def _apply_settings(self) -> None:
        s = self.settings
        self.run_panel.load(s.run)
        self.view_panel.opacity.setValue(int(round(s.view.overlay_opacity * 100)))
        self.view_panel.set_value("upsampler", s.view.original_upsampler)
        # one setting; a batch left half-way keeps its own, so its photos all get the same files
        self.set_export_masks(self.batch_panel.queue.masks if self.batch_panel.pending else s.files.export_masks)
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
        path = self.opener.ask_path()
        if path:
            self.open_path(path)

    def open_path(self, path) -> None:
        if self.running:
            self.cancel_run()
        self.opener.open(path)

    def _open_failed(self, message: str, details: str) -> None:
        self.statusBar().showMessage("The photo could not be opened.", 5000)
        show_error(self, message, details, "Cannot open the photo")
        self.openFailed.emit(message)

    def _photo_opened(self, value) -> None:
        path, loaded, lr, bicubic, cover = value
        self.photo, self.photo_path, self._shown = loaded, path, Photo(lr, bicubic)
        self.viewer.set_transparency(cover)
        w, h = loaded.size
        self.viewer.set_scene_size(w * SCALE, h * SCALE)  # first: every later redraw maps to B's frame
        self.history.clear()  # run numbers count this photo's runs
        self._live, self._live_meta = None, None
        self.scrubber.set_frames([])
        self.legend.set_shares(None)
        self.run_panel.reset_strength()  # a strength is chosen per photo
        if self.opener.remember(path):
            self._update_recent_menu()
        self.setWindowTitle(f"{path.name} \u2013 SegSR Studio")
        notes = " ".join(loaded.notes)
        self.statusBar().showMessage(f"Opened {path.name} ({w}\u00d7{h}). Press F5 to restore it. {notes}", 8000)
        self.progress.reset("Ready: press F5 (Restore photo)")
        self._update_sources()
        self.photoLoaded.emit(str(path))

    def _update_recent_menu(self) -> None:
        self.opener.fill_recent_menu(self.recent_menu, self.open_path)

    def paste(self) -> None:
        path = self.opener.clipboard_path()
        if path is not None:
            self.open_path(path)

    def dragEnterEvent(self, event) -> None:
        if local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = local_files(event.mimeData())
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
        path = self.run_panel.find_model(self.settings.run.model)
        if path is None:
            show_error(self, NO_MODEL, title="No model")
            return
        if self.run_panel.random_seed.isChecked():
            self.run_panel.seed.setValue(random.randrange(2**31 - 1))
        self.store_settings()
        params = self.damage.params(settings_mod.run_params(self.settings.run))  # a painted map, if any
        request = RunRequest.from_params(self.photo.rgb, path, params,
                                         self.settings.run.preview_every, alpha=self.photo.alpha)
        worker = UpscaleWorker(request)
        worker.show_noisy(self.view_panel.value("state") == "noisy")
        worker.show_classes(self.view_panel.value("layer") != "photo")
        for signal, slot in ((worker.started, self._run_started), (worker.yielded, self._run_step),
                             (worker.returned, self._run_returned), (worker.errored, self._run_failed),
                             (worker.aborted, self._run_aborted), (worker.retrying, self._run_retrying),
                             (worker.done, self._run_done), (worker.estimated, self._run_estimate),
                             (worker.paced, self.progress.show_pace)):
            signal.connect(slot)
        self._worker = worker
        self._run_photo = self.photo  # results that arrive after another photo was opened are dropped
        self._live, self._live_meta = None, None
        self.progress.begin()
        self.statusBar().showMessage("Restoring\u2026 the preview updates after every step.")
        self._set_running(True)
        self._update_sources(right=LIVE)
        self.jobs.start(worker)

    def cancel_run(self) -> None:
        if self._worker is not None:
            self._worker.abort()
            self.progress.bar.setFormat("Cancelling after this step\u2026")

    def _run_started(self, start) -> None:
        self._live_meta = start
        self.run_panel.strength.show_picked(start.strength)
        self._update_view()

    def _run_retrying(self, tile: int, note: str) -> None:
        """Out of memory: the worker starts again with smaller tiles; the preview starts over."""
        self._live = None
        self.progress.begin(f"Out of memory: again with {tile}-px tiles\u2026")
        self.statusBar().showMessage(note, 10000)
        self._update_view()

    def _run_estimate(self, frame: StepFrame) -> None:
        """The experts' estimate, piece by piece, before the chain's first step."""
        if self._worker is not None and self.photo is self._run_photo:
            self._live = frame
            self._update_view()

    def _run_step(self, frame: StepFrame) -> None:
        if self._worker is None or self.photo is not self._run_photo:
            return
        self._live = frame
        self._update_view()
        self.stepShown.emit(frame.index, frame.total)

    def _run_returned(self, out: RunOutput) -> None:
        if self.photo is not self._run_photo:
            self._outcome = "cancelled"
            return
        key = self.history.add(out)
        self._live = None
        self._update_sources(right=key)
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
        self._update_sources(right=run_key(self.history.newest) if self.history.newest else ORIGINAL)
        self.runFinished.emit(getattr(self, "_outcome", "done"))

    # ---- what is shown -------------------------------------------------------------
    @property
    def runs(self) -> list[RunOutput]:
        """This photo's runs, newest first."""
        return self.history.runs

    @property
    def lr_image(self):
        return self._shown.lr if self._shown else None

    @property
    def bicubic_image(self):
        return self._shown.bicubic if self._shown else None

    def _update_sources(self, right: Optional[str] = None) -> None:
        items = self.history.sources(self.running)
        left, right = self.history.pick(items, self.view_panel.value("left"), right or self.view_panel.value("right"))
        self.view_panel.set_sources(items, left, right)
        self._update_scrubber()
        self._update_view()

    def _update_scrubber(self) -> None:
        self._scrubbed = self.view_panel.value("right")
        run = self.history.by_key(self._scrubbed)
        # a tiled run's frames are whole-photo frames too: one per step, every tile at that step
        labels = [f"Step {f.index + 1}/{f.total}" for f in run.frames] if run is not None else []
        self.scrubber.set_frames(labels)
        self.scrubber.setEnabled(not self.running and len(labels) > 1)

    def _choices(self) -> ViewChoices:
        v = self.view_panel
        return ViewChoices(v.value("state"), v.value("layer"), v.value("left") or ORIGINAL,
                           v.value("right") or ORIGINAL, v.value("compare"), v.value("upsampler"),
                           self.scrubber.value())

    def _update_view(self) -> None:
        if self.photo is None:
            self.viewer.set_images(None, None, "", "")
            return
        if self.view_panel.value("right") != self._scrubbed:  # the scrubber follows the run shown
            self._update_scrubber()
        choices = self._choices()
        if self._worker is not None:
            self._worker.show_noisy(choices.state == "noisy")
            self._worker.show_classes(choices.layer != "photo")
        scene = self.composer.compose(self._shown, self.history, choices, self._live, self._live_meta,
                                      self.running)
        names, palette, has = scene.legend
        self.legend.set_classes(names, palette)
        self.view_panel.set_has_classes(has)
        self.viewer.set_mode(scene.mode)
        self.viewer.set_images(scene.left, scene.right, scene.left_label, scene.right_label, scene.left_smooth,
                               scene.full)
        # only a shown layer is coloured (a live frame's class ids are made on first use)
        overlay = None if scene.layer == "photo" else \
            self.composer.overlay_for(scene.classes, scene.palette, self.legend.visible())
        self.viewer.set_overlay(overlay, self.view_panel.opacity.value() / 100, scene.layer)
        # read after the overlay: a live frame's shares are exact once its class ids are made
        shares_of = scene.shares_of
        self.legend.set_shares(getattr(shares_of, "shares", None), getattr(shares_of, "shares_estimated", False),
                               getattr(shares_of, "shares_note", ""))

    # ---- export --------------------------------------------------------------------
    def set_export_masks(self, on: bool) -> None:
        """File > Export class masks too and the batch's Class masks box: one setting."""
        self.settings.files.export_masks = bool(on)
        self.actions_["export_masks"].setChecked(bool(on))
        self.batch_panel.masks_box.setChecked(bool(on))

    def current_run(self) -> Optional[RunOutput]:
        return self.history.by_key(self.view_panel.value("right")) or self.history.newest

    def export_dialog(self) -> None:
        run = self.current_run()
        if run is None or self.photo_path is None:
            self.statusBar().showMessage("Restore a photo first (F5), then export it.", 5000)
            return
        self.exporter.dialog(self.photo, self.photo_path, run)

    def export_to(self, outdir: Path, stem: str, fmt: str = "png", ask=None) -> bool:
        """Export the shown run; if outputs exist ask Replace / Keep both / Cancel (``ask`` for tests)."""
        run = self.current_run()
        return run is not None and self.exporter.export(self.photo, run, outdir, stem, fmt, ask)

    def closeEvent(self, event) -> None:
        if not self.may_close(event):
            event.ignore()
            return
        self.store_settings()
        self.flip_keys.remove()
        self.batch_panel.shutdown()
        self.jobs.abort_all()
        self._worker = None
        super().closeEvent(event)
