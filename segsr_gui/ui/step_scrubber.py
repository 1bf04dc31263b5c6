"""After a run: a slider that revisits every previewed step."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget


class StepScrubber(QWidget):
    stepSelected = Signal(int)  # index into the run's frames

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Steps")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setToolTip("Drag to watch the photo (and its classes) evolve, step by step.")
        self.label = QLabel()
        self.label.setMinimumWidth(150)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._labels: list[str] = []
        self.slider.valueChanged.connect(self._update_label)
        self.slider.valueChanged.connect(self.stepSelected)
        self.set_frames([])

    def set_frames(self, labels: list[str]) -> None:
        """One label per frame; the slider goes to the last."""
        self._labels = list(labels)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(labels) - 1))
        self.slider.setValue(max(0, len(labels) - 1))
        self.slider.blockSignals(False)
        self.setEnabled(len(labels) > 1)
        self._update_label(self.slider.value())

    def _update_label(self, value: int) -> None:
        self.label.setText(self._labels[value] if 0 <= value < len(self._labels) else "Steps appear after a run")

    def value(self) -> int:
        return self.slider.value()

    def set_value(self, value: int) -> None:
        self.slider.setValue(value)
