"""What the viewer shows: estimate or noisy state, class layer, opacity, compare mode and pair."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QSlider, QWidget

LAYERS = (("No colours", "photo"), ("Colour by class", "overlay"), ("Class colours only", "mask"))
COMPARES = (("Split slider", "split"), ("Side by side", "side"), ("Difference", "difference"),
            ("Off (restored only)", "off"))
STATES = (("Restored photo", "estimate"), ("Noisy working state (x\u209c)", "noisy"))
LAYER_TIP = "Colour the photo by what the model recognises (sky, road, \u2026)."


def _combo(items, tooltip: str) -> QComboBox:
    box = QComboBox()
    for label, value in items:
        box.addItem(label, value)
    box.setToolTip(tooltip)
    return box


class ViewPanel(QWidget):
    changed = Signal()  # any view choice changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = _combo(STATES, "What the live view shows at each step: the model's current best guess "
                                    "of the restored photo, or the noisy state it is refining.")
        self.layer = _combo(LAYERS, LAYER_TIP)
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=45)
        self.opacity.setToolTip("How strongly the class colours cover the photo.")
        self.opacity_label = QLabel("45 %")
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        self.compare = _combo(COMPARES, "How to compare two images. Hold B to flip to the left/original.")
        self.upsampler = _combo((("Smooth (bicubic)", "bicubic"), ("Blocky pixels (nearest)", "nearest")),
                                "How the small original is enlarged for comparison.")
        self.left = QComboBox()
        self.left.setToolTip("Left / before image of the comparison.")
        self.right = QComboBox()
        self.right.setToolTip("Right / after image: the current run or any earlier run of this photo.")
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(self.opacity, 1)
        opacity_row.addWidget(self.opacity_label)
        form = QFormLayout(self)
        form.addRow("Show", self.state)
        form.addRow("Classes", self.layer)
        form.addRow("Opacity", opacity_row)
        form.addRow("Compare", self.compare)
        form.addRow("Left", self.left)
        form.addRow("Right", self.right)
        form.addRow("Original as", self.upsampler)
        for box in (self.state, self.layer, self.compare, self.upsampler, self.left, self.right):
            box.currentIndexChanged.connect(self.changed)
        self.opacity.valueChanged.connect(self.changed)

    def set_sources(self, items: list[tuple[str, str]], left: str, right: str) -> None:
        """``items``: (label, key) of every image that can be compared."""
        for box, key in ((self.left, left), (self.right, right)):
            box.blockSignals(True)
            box.clear()
            for label, value in items:
                box.addItem(label, value)
            box.setCurrentIndex(max(0, box.findData(key)))
            box.blockSignals(False)

    def set_has_classes(self, has: bool) -> None:
        self.layer.setEnabled(has)
        self.opacity.setEnabled(has)
        self.layer.setToolTip(LAYER_TIP if has else "The image on the right has no classes: its model does "
                                                   "not segment the photo (or nothing is restored yet).")

    def value(self, name: str) -> str:
        return getattr(self, name).currentData()

    def set_value(self, name: str, value) -> None:
        box = getattr(self, name)
        box.setCurrentIndex(max(0, box.findData(value)))
