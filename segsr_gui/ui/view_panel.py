"""What the viewer shows: estimate or noisy state, class layer, opacity, compare mode and pair."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QSlider, QWidget

LAYERS = (("No colours", "photo"), ("Colour by class", "overlay"), ("Class colours only", "mask"))
COMPARES = (("Split slider", "split"), ("Side by side", "side"), ("Difference", "difference"),
            ("Off (restored only)", "off"))
STATES = (("Restored photo", "estimate"), ("Noisy in-between image", "noisy"), ("Photo before", "before"))
STATE_TIPS = {"estimate": "The model's best guess of the restored photo at this step.",
              "noisy": "What the model is still working on: the photo with the noise it has not removed "
                       "yet. It gets cleaner with every step; the last step has none left.",
              "before": "The photo before restoring, enlarged (its classes can still be coloured over it)."}
LAYER_TIP = "Colour the photo by what the model recognises (sky, road, \u2026), painted as a run makes it."


def fit_popup(box: QComboBox) -> None:
    """The drop-down list as wide as its longest entry (the box itself may be narrower)."""
    view = box.view()
    widest = max((box.fontMetrics().horizontalAdvance(box.itemText(i)) for i in range(box.count())), default=0)
    view.setMinimumWidth(widest + 2 * box.style().pixelMetric(box.style().PixelMetric.PM_ScrollBarExtent) + 16)


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
        self.state = _combo(STATES, "What the right side shows at each step (point at an entry for more).")
        for i, (_, key) in enumerate(STATES):
            self.state.setItemData(i, STATE_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.layer = _combo(LAYERS, LAYER_TIP)
        self.layer.setCurrentIndex(self.layer.findData("overlay"))  # a run shows its class map as it forms
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=45)
        self.opacity.setToolTip("How strongly the class colours cover the photo.")
        self.opacity_label = QLabel("45 %")
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        self.compare = _combo(COMPARES, "How to compare two images. Hold B to flip to the left/original.")
        self.upsampler = _combo((("Smooth (bicubic)", "bicubic"), ("Blocky pixels (nearest)", "nearest")),
                                "How the small original is enlarged for comparison.")
        self.left = QComboBox()
        self.left.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.left.setToolTip("Left / before image of the comparison.")
        self.right = QComboBox()
        self.right.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
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
            fit_popup(box)
            box.blockSignals(False)

    def set_has_classes(self, has: bool) -> None:
        self.layer.setEnabled(has)
        self.opacity.setEnabled(has)
        self.layer.setToolTip(LAYER_TIP if has else "The image on the right has no classes: its model does "
                                                   "not segment the photo.")

    def value(self, name: str) -> str:
        return getattr(self, name).currentData()

    def set_value(self, name: str, value) -> None:
        box = getattr(self, name)
        box.setCurrentIndex(max(0, box.findData(value)))
