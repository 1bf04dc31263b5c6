"""Run settings and the Run / Cancel buttons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from segsr_gui.app.model_info import describe, has_repair, has_strength
from segsr_gui.engine.inference.pipeline import MIN_TILE
from segsr_gui.ui.model_picker import set_description, show_descriptions
from segsr_gui.ui.settings import RunSettings
from segsr_gui.ui.strength_control import StrengthControl


class TileSizeBox(QSpinBox):
    """Tile side in input pixels: "Automatic" (0) or at least ``MIN_TILE``, never a value
    between that the engine would raise anyway. Stepping up from Automatic goes to the
    smallest tile; a typed smaller size snaps up to it when editing ends."""

    def __init__(self, parent=None):
        super().__init__(parent, minimum=0, maximum=4096, singleStep=32)
        self.setSpecialValueText("Automatic")
        self.setSuffix(" px")
        self.setToolTip(f"Large photos are processed in tiles of this size (input pixels, at least {MIN_TILE}).\n"
                        "Automatic chooses from the free memory; smaller tiles need less memory.")
        self.editingFinished.connect(self._snap)

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value == 0 and steps > 0:
            self.setValue(MIN_TILE)
        elif 0 < value and value + steps * self.singleStep() < MIN_TILE:
            self.setValue(0 if steps < 0 and value <= MIN_TILE else MIN_TILE)
        else:
            super().stepBy(steps)

    def _snap(self) -> None:
        if 0 < self.value() < MIN_TILE:
            self.setValue(MIN_TILE)

    def setValue(self, value: int) -> None:  # noqa: N802 - Qt's name
        super().setValue(MIN_TILE if 0 < value < MIN_TILE else value)


REPAIR_TIP = ("Find scratches, cracks, dust and torn corners and fill them before enlarging.\n"
              "Auto: only in a photo that shows scratches or cracks; a photo with none is left\n"
              "as it is. Always: whatever the detection finds, in any photo (it also takes some\n"
              "bright small things, a catchlight or a tooth, for damage). The Damage panel shows\n"
              "what was found; paint there to correct it or to mark damage yourself, then\n"
              "Restore again.")
REPAIR_CHOICES = (("Auto (photos with scratches)", "auto"), ("Always", "on"), ("Off", "off"))
NO_REPAIR_TIP = "This model has no repair stage: it enlarges scratches and dust as they are."


class RunPanel(QWidget):
    runRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, models: list[tuple[str, Path]], parent=None):
        super().__init__(parent)
        self.model = QComboBox()
        self.model.setToolTip("Which trained model restores the photo (the list says what each one does).")
        show_descriptions(self.model)
        self.model.setPlaceholderText("No model installed")
        self.set_models(models)
        self.steps = QSpinBox(minimum=0, maximum=50)
        self.steps.setSpecialValueText("Model default")
        self.steps.setToolTip("More steps: slower, sometimes finer detail. 0 = the model's default.")
        self.random_seed = QCheckBox("New seed each run")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.setToolTip("The same seed gives the same result; change it for another variant.")
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.tile = TileSizeBox()
        self.strength = StrengthControl()
        self.model.currentIndexChanged.connect(self._fit_model)
        self.mirror = QCheckBox("Also restore the mirror image (2\u00d7 slower)")
        self.mirror.setToolTip("Restores the photo and its left-right mirror and averages the two.\n"
                               "Class maps get cleaner (about 2 mIoU points on CamVid validation);\n"
                               "the photo itself changes only slightly.")
        self.repair = QComboBox()
        for label, value in REPAIR_CHOICES:
            self.repair.addItem(label, value)
        self.repair.setToolTip(REPAIR_TIP)
        self.device = QComboBox()
        for label, value in (("Automatic", "auto"), ("CPU", "cpu"), ("GPU (CUDA)", "cuda")):
            self.device.addItem(label, value)
        self.preview_every = QSpinBox(minimum=1, maximum=50)
        self.preview_every.setPrefix("every ")
        self.preview_every.setSuffix(" step(s)")
        self.run_button = QPushButton("\u25b6  Restore photo  (F5)")
        self.run_button.setObjectName("runButton")
        self.run_button.setMinimumHeight(34)
        self.cancel_button = QPushButton("Cancel  (Esc)")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.runRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)

        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Strength", self.strength)
        form.addRow("Steps", self.steps)
        form.addRow("Seed", seed_row)
        form.addRow("Quality", self.mirror)
        form.addRow("Repair damage", self.repair)
        form.addRow("Tile size", self.tile)
        form.addRow("Device", self.device)
        form.addRow("Preview", self.preview_every)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)

    def set_models(self, models: list[tuple[str, Path]]) -> None:
        current = self.model.currentData()
        self.model.clear()
        for name, path in models:
            self.model.addItem(name, str(path))
            set_description(self.model, self.model.count() - 1, describe(path))
        if current:
            self.select_model(current)

    def select_model(self, spec: str) -> None:
        """Select by manifest name or path; an unknown path is added as its own entry."""
        for i in range(self.model.count()):
            if spec in (self.model.itemText(i), self.model.itemData(i)):
                self.model.setCurrentIndex(i)
                return
        if spec.endswith(".safetensors"):
            self.model.addItem(Path(spec).stem, spec)
            set_description(self.model, self.model.count() - 1, describe(spec))
            self.model.setCurrentIndex(self.model.count() - 1)

    def model_spec(self) -> str:
        """Manifest name for shipped models (stable across installs), else the file path."""
        from segsr_gui.engine.nets.weights import models_dir
        data = self.model.currentData()
        if data and Path(data).parent.resolve() != models_dir().resolve():
            return str(data)
        return self.model.currentText()

    def model_path(self) -> Path | None:
        data = self.model.currentData()
        return Path(data) if data else None

    def find_model(self, spec: str) -> Path | None:
        """The chosen model's file; if none, look again (one may have been installed since)."""
        if self.model_path() is None:
            from segsr_gui.engine.nets.weights import list_models

            self.set_models(list_models())
            self.select_model(spec)
        return self.model_path()

    def load(self, s: RunSettings) -> None:
        self.select_model(s.model)
        self.steps.setValue(s.steps)
        self.random_seed.setChecked(s.seed_mode == "random")
        self.seed.setValue(s.seed)
        self.seed.setEnabled(s.seed_mode != "random")
        self.tile.setValue(s.tile)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.preview_every.setValue(s.preview_every)
        self.mirror.setChecked(s.mirror)
        self.repair.setCurrentIndex(max(0, self.repair.findData(s.repair)))
        # a chosen strength belongs to the photo it was chosen for: each start (and each photo,
        # see ``reset_strength``) begins at Auto; the slider keeps where it stood
        self.strength.set_value(None, manual=s.strength)

    def reset_strength(self) -> None:
        """A new photo: Auto again (its damage, not the last photo's, decides)."""
        self.strength.set_value(None, manual=self.strength.manual_value())

    def store(self, s: RunSettings) -> None:
        if self.model.count():
            s.model = self.model_spec()
        s.steps = self.steps.value()
        s.seed_mode = "random" if self.random_seed.isChecked() else "fixed"
        s.seed = self.seed.value()
        s.tile = self.tile.value()
        s.device = self.device.currentData()
        s.preview_every = self.preview_every.value()
        s.mirror = self.mirror.isChecked()
        s.repair = self.repair.currentData()
        s.strength_auto = self.strength.value() is None
        s.strength = self.strength.manual_value()

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.model, self.strength, self.steps, self.seed, self.random_seed, self.mirror, self.repair,
                  self.tile, self.device, self.preview_every):
            w.setEnabled(not running and (w is not self.seed or not self.random_seed.isChecked()))
        if not running:
            self._fit_model()

    def _fit_model(self, *_) -> None:
        """Only what the chosen model uses is enabled: the strength needs two experts, the
        repair switch a repair stage."""
        path = self.model_path()
        if path is None:
            return
        self.strength.setEnabled(has_strength(path))
        repairs = has_repair(path)
        self.repair.setEnabled(repairs)
        self.repair.setToolTip(REPAIR_TIP if repairs else NO_REPAIR_TIP)
