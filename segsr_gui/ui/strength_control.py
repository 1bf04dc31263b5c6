"""The Restore panel's "Restoration strength": Auto (the default) or a slider from
faithful (0) to clean (100 %). After a run with Auto it says what Auto picked."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget


class StrengthControl(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.auto = QCheckBox("Auto")
        self.auto.setToolTip("Auto measures how damaged the photo is (grain, noise, JPEG blocks)\n"
                             "and picks an end: 0 % if it reads clean, 100 % if damaged; a sepia or\n"
                             "other warm-toned print gets 100 %.\n"
                             "After a run it shows what it picked.")
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, singleStep=5, pageStep=10)
        self.slider.setToolTip("0 %: faithful \u2014 sharp, keeps the photo as it is, grain included.\n"
                               "100 %: clean \u2014 removes grain, noise and JPEG blocks, smoother look.\n"
                               "In between: a blend of the two. Tones are kept either way.")
        from segsr_gui.engine.diffusion.precision import bf16_supported

        if not bf16_supported():
            self.slider.setToolTip(self.slider.toolTip() + "\nThis CPU has no native bf16: above 0 % the clean "
                                   "expert runs in fp32, about 1.5\u00d7 slower than on a CPU with it.")
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(84)
        ends = QHBoxLayout()
        for text, align in (("faithful", Qt.AlignmentFlag.AlignLeft), ("clean", Qt.AlignmentFlag.AlignRight)):
            end = QLabel(text)
            end.setEnabled(False)  # drawn dimmed: a caption, not a control
            ends.addWidget(end, 1, align)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.auto)
        top.addWidget(self.slider, 1)
        top.addWidget(self.value_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(ends)
        self._picked: Optional[float] = None
        self.auto.toggled.connect(self._on_auto)
        self.slider.valueChanged.connect(self._on_slider)
        self.set_value(None)

    def value(self) -> Optional[float]:
        """None = Auto, else the strength 0..1."""
        return None if self.auto.isChecked() else self.slider.value() / 100

    def set_value(self, value: Optional[float], manual: float = 0.7) -> None:
        """Auto (None) or a strength; ``manual`` is where the slider stands under Auto. What Auto
        picked for an earlier photo is not shown any more."""
        self._picked = None
        self.value_label.setToolTip("")
        self.slider.blockSignals(True)
        self.slider.setValue(round(100 * (manual if value is None else value)))
        self.slider.blockSignals(False)
        self.auto.setChecked(value is None)
        self._refresh()

    def manual_value(self) -> float:
        return self.slider.value() / 100

    def show_picked(self, strength) -> None:
        """What a run used (``pipeline.Strength``, or None for a model without a strength)."""
        self._picked = strength.value if strength is not None and strength.auto else None
        toned = self._picked is not None and getattr(strength, "toned", False)
        self.value_label.setToolTip("Auto read this photo as a toned print (sepia or brown) and gave it\n"
                                    "the clean look; move the slider to choose otherwise." if toned else "")
        if self._picked is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(round(100 * self._picked))
            self.slider.blockSignals(False)
        self._refresh()

    def text(self) -> str:
        return self.value_label.text()

    def _on_auto(self, on: bool) -> None:
        self._refresh()
        self.changed.emit()

    def _on_slider(self, _value: int) -> None:
        if self.auto.isChecked():  # moving the slider is overriding Auto
            self.auto.blockSignals(True)
            self.auto.setChecked(False)
            self.auto.blockSignals(False)
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        if self.auto.isChecked():
            picked = "" if self._picked is None else f" ({round(100 * self._picked)} %)"
            self.value_label.setText(f"Auto{picked}")
        else:
            self.value_label.setText(f"{self.slider.value()} %")
