"""Run progress: a bar with what the run is doing ("Experts: 2/9 tiles done", "Step i/N
(tile j/M)"), the elapsed time and the time left from the run's measured work
(``app.pace``)."""

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
        self._left = None  # (seconds left, when it was measured, what it is the time of)
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._update_time)
        self.reset()

    def reset(self, text: str = "Ready") -> None:
        self._timer.stop()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.bar.setFormat(text)
        self.time_label.setText("")

    def begin(self, text: str = "Loading the model, then the experts\u2026") -> None:
        self._t0 = time.perf_counter()
        self._left = None
        # an empty bar with words, not a busy one: most styles draw no text on a busy bar
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat(text)
        self._timer.start()
        self._update_time()

    def show_pace(self, report) -> None:
        """One ``pace.PaceReport``: the bar shows the phase's share done, the time label its
        time left (the experts' own while the steps' pace is not measured yet)."""
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * report.fraction))
        self.bar.setFormat(report.label)
        now = time.perf_counter()
        if report.seconds_left is not None:
            self._left = (report.seconds_left, now, "")
        elif report.experts_left is not None:
            self._left = (report.experts_left, now, "experts: ")
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
        if self._left is not None:
            left, measured, what = self._left
            text += f"  \u00b7  {what}about {_clock(left - (time.perf_counter() - measured))} left"
        self.time_label.setText(text)
