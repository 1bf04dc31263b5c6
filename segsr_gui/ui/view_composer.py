"""What the viewer shows, worked out from the photo, the runs, the live frame and the View
panel's choices. No widgets here: the window hands in ``ViewChoices``, gets a ``Scene`` and
applies it to the viewer and the legend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from PySide6.QtGui import QImage

from segsr_gui.app.runs import ORIGINAL, RunHistory
from segsr_gui.ui.convert import colour_ids


@dataclass(frozen=True)
class ViewChoices:
    state: str = "estimate"  # estimate | noisy | before
    layer: str = "photo"  # photo | overlay | mask
    left: str = ORIGINAL
    right: str = ORIGINAL
    compare: str = "split"
    upsampler: str = "bicubic"
    step: int = 0  # the scrubber's frame, for the run on the right


@dataclass
class Scene:
    mode: str
    left: Optional[QImage]
    right: Optional[QImage]
    left_label: str
    right_label: str
    left_smooth: bool = True
    full: Optional[QImage] = None  # the right image at full size, when it has one
    layer: str = "photo"
    classes: object = None  # ClassLayer of the right image
    palette: Optional[list] = None
    shares_of: object = None  # what holds the legend's shares (read after the overlay is made)
    legend: tuple = field(default_factory=lambda: ([], [], False))  # class names, palette, has classes


@dataclass
class Photo:
    lr: QImage  # the photo as it is
    bicubic: QImage  # enlarged x4 (preview-sized)


class ViewComposer:
    """Keeps the one overlay cache; everything else is worked out on each call."""

    def __init__(self):
        self._overlay_cache: tuple = (None, None, None)

    def original(self, photo: Photo, choices: ViewChoices):
        nearest = choices.upsampler == "nearest"
        return (photo.lr if nearest else photo.bicubic), not nearest

    def image_of(self, key: str, photo: Photo, runs: RunHistory, choices: ViewChoices, state: str):
        """(image, classes, what holds its class shares, label, smooth) for a source key."""
        if key == ORIGINAL:
            image, smooth = self.original(photo, choices)
            return image, None, None, "Original", smooth
        run = runs.by_key(key)
        if run is None:
            return None, None, None, "", True
        label = f"Restored (run {run.id})" if len(runs) > 1 else "Restored"
        last_i = len(run.frames) - 1
        frame_i = min(choices.step, last_i) if key == choices.right else last_i
        last = frame_i >= last_i
        frame = run.frames[frame_i] if run.frames else None
        if state == "noisy":  # the last step has no noise left: it would look like the result
            noisy = frame.noisy_image() if frame is not None and not last else None
            if noisy is not None:
                return noisy, frame.classes, frame, label + f" \u00b7 noisy in-between, step {frame_i + 1}", True
        missing = ""
        if state == "noisy":
            missing = " (no noisy image kept)" if not last and frame is not None else \
                " \u00b7 no noise left at the last step (drag Steps back)"
        if last or frame is None:
            return run.image, run.classes, run, label + missing, True
        return frame.image, frame.classes, frame, label + f" \u00b7 step {frame.index + 1}" + missing, True

    def compose(self, photo: Photo, runs: RunHistory, choices: ViewChoices, live=None, live_meta=None,
                running: bool = False) -> Scene:
        left, _, _, left_label, left_smooth = self.image_of(choices.left, photo, runs, choices, "estimate")
        if live is None and not len(runs) and not running:  # nothing restored yet: the photo
            return Scene("off", None, left, "", "Original \u00b7 press F5 to restore", left_smooth,
                         legend=([], [], True))  # the class layer can be chosen before the first run
        run = None
        if live is not None:
            right, classes, shares_of, right_label = self._live(live, choices.state)
            palette = live_meta.palette if live_meta else None
        else:
            right, classes, shares_of, right_label, _ = self.image_of(choices.right, photo, runs, choices,
                                                                      choices.state)
            run = runs.by_key(choices.right)
            palette = run.palette if run else (live_meta.palette if live_meta else None)
            if choices.right == ORIGINAL:
                right_label = "Original"
        full = run.image_full if run is not None and right is run.image else None
        if choices.state == "before" and choices.right != ORIGINAL:  # the photo before, under the classes
            step = right_label.partition(" \u00b7 ")[2]  # of the classes shown over it
            right, full = self.original(photo, choices)[0], None
            right_label = "Photo before" + (f" \u00b7 {step}" if step else "")
        layer = choices.layer if classes is not None else "photo"
        if layer == "mask":
            right_label = right_label.replace("Restored", "Classes")
        return Scene(choices.compare, left, right, left_label, right_label, left_smooth, full, layer, classes,
                     palette, shares_of, self._legend(run, live, live_meta, running))

    @staticmethod
    def _live(f, state: str):
        if f.index < 0:  # the experts' estimate, before the chain's first step
            done = f" ({f.tile_index + 1}/{f.tiles} tiles)" if f.tiles > 1 else ""
            return f.image, None, f, f"Restoring \u00b7 the experts' estimate{done}, before step 1"
        noisy = f.noisy_image() if state == "noisy" else None
        right = noisy if noisy is not None else f.image
        label = f"Restoring \u00b7 step {f.index + 1}/{f.total}"
        if f.tiles > 1:
            label += f", tile {f.tile_index + 1}/{f.tiles}"
        if state == "noisy" and noisy is None:  # a tiled run records x_t only while it is shown
            label += " \u00b7 noisy in-between image from the next tile on"
        return right, f.classes, f, label

    @staticmethod
    def _legend(run, live, live_meta, running: bool) -> tuple:
        """(names, palette, class layer choosable) of the right side: a run with classes lists
        them; a run without (srdm-only-x4) lists none and has no layer; before a run the layer
        can be chosen, so the class map is painted as the run makes it."""
        if run is not None:
            has = run.classes is not None
            return (run.classes_names, run.palette, True) if has else ([], [], False)
        if (live is not None or running) and live_meta is not None and live_meta.segments:
            return live_meta.classes, live_meta.palette, True
        return [], [], live_meta is None or bool(live_meta.segments)

    def overlay_for(self, classes, palette, visible: list[bool]) -> Optional[QImage]:
        """The class layer's colours with the legend's hidden classes left out (cached)."""
        if classes is None:
            return None
        visible = tuple(visible)
        if all(visible) or palette is None:
            return classes.image  # coloured once, on first use
        if self._overlay_cache[0] is classes and self._overlay_cache[1] == visible:
            return self._overlay_cache[2]
        img = colour_ids(classes.ids, palette, list(visible))
        self._overlay_cache = (classes, visible, img)
        return img
