"""The batch queue inside the window: its dock, the run settings a Start uses (the Restore
panel's), and what the window's status bar and progress area say about it."""

from __future__ import annotations

from PySide6.QtCore import QObject

from segsr_gui.ui import settings as settings_mod
from segsr_gui.ui import window_parts as parts
from segsr_gui.ui.batch_panel import BatchPanel

NO_MODEL = ("No model is installed. Put a model (NAME.safetensors and NAME.json) into the models folder, "
            "or pick a model file in the Restore panel.")


class WindowBatch(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = BatchPanel(window.jobs, self.run_config, window.settings.files)
        self.dock = parts.batch_dock(window, self.panel)

    def wire(self) -> None:
        w = self.window
        self.dock.visibilityChanged.connect(w.actions_["batch"].setChecked)
        self.panel.message.connect(self._message)
        self.panel.runningChanged.connect(self._running)
        self.panel.masks_box.toggled.connect(w.set_export_masks)  # one setting, two places
        self.dock.setVisible(self.panel.pending > 0)
        if self.panel.pending:
            w.statusBar().showMessage(f"The batch queue has {self.panel.pending} photos to do; "
                                      "press Start in the Batch queue to resume.", 10000)

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)

    def _running(self, running: bool) -> None:
        w = self.window
        # Restore (F5) waits for the batch: it looks disabled, and says why
        for control in (w.actions_["run"], w.run_panel.run_button):
            control.setEnabled(not running and not w.running)
            control.setToolTip("The batch queue is running; Restore waits for it to end." if running
                               else "Start restoring the photo")
        if not w.running:  # a photo's own run keeps its progress display
            w.progress.reset("Batch queue running (progress below)" if running else "Ready: press F5 (Restore photo)")

    def run_config(self):
        """The model and run settings the batch uses: the ones of the Restore panel."""
        w = self.window
        if w.running:
            return "A photo is being restored; wait for it to finish (or cancel it), then start the batch."
        path = w.run_panel.model_path()
        if path is None:
            return NO_MODEL
        w.store_settings()
        return path, settings_mod.run_params(w.settings.run)
