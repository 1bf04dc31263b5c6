"""Run progress: a bar with "Step i/N (tile j/M)", elapsed time and an ETA."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(260)
        self.time_label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.time_label)
        self._t0 = 0.0
        self._fraction = 0.0
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._update_time)
        self.reset()

    def reset(self, text: str = "Ready") -> None:
        self._timer.stop()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.bar.setFormat(text)
        self.time_label.setText("")

    def begin(self, text: str = "Loading the model\u2026") -> None:
        self._t0 = time.perf_counter()
        self._fraction = 0.0
        self.bar.setRange(0, 0)  # busy until the first step
        self.bar.setFormat(text)
        self._timer.start()
        self._update_time()

    def step(self, index: int, total: int, tile_index: int, tiles: int) -> None:
        done = tile_index * total + index + 1
        self._fraction = done / max(1, total * tiles)
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * self._fraction))
        text = f"Step {index + 1}/{total}"
        if tiles > 1:
            text += f"  (tile {tile_index + 1}/{tiles})"
        self.bar.setFormat(text)
        self._update_time()

    def finish(self, text: str) -> None:
        self._timer.stop()
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000 if text.startswith("Done") else 0)
        self.bar.setFormat(text)
        self.time_label.setText("")

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def _update_time(self) -> None:
        elapsed = self.elapsed()
        text = f"Elapsed {_clock(elapsed)}"
        if self._fraction > 0:
            text += f"  \u00b7  about {_clock(elapsed / self._fraction - elapsed)} left"
        self.time_label.setText(text)
