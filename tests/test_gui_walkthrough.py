"""The window walked through as a user does (#36): a second photo after a restore, and the
class legend's edge cases."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSizeF

from _gui import TIMEOUT, env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def absent_class_model(tmp_path_factory):
    """A tiny model that never paints class 10, so the legend has an absent class after a run
    (the state in which opening a second photo crashed the window)."""
    from _tiny_bias import save_biased_model

    return save_biased_model(tmp_path_factory.mktemp("absent"), "absent", {10: -50.0})


def _shares(window) -> list[str]:
    return [window.legend.item(i, 1).text() for i in range(window.legend.rowCount())]


def test_second_photo_after_a_restore_takes_over_the_window(qtbot, env, absent_class_model, photo, tmp_path):
    """#36.1: photo A (48x40) restored, then photo B (24x36): every part of the window shows B."""
    from PIL import Image

    from segsr_gui.app.runs import ORIGINAL

    errors = []
    window = make_window(qtbot, absent_class_model, seed=7)
    window.openFailed.connect(errors.append)
    open_photo(qtbot, window, photo)
    window.view_panel.set_value("layer", "overlay")
    assert run_to_end(qtbot, window) == "done"
    assert window.scrubber.isEnabled() and window.scrubber.slider.maximum() == 2
    assert window.viewer.main.overlay is not None
    assert "0.0 %" in _shares(window)  # class 10 is absent and greyed: the crash's precondition

    other = tmp_path / "other.png"
    yy, xx = np.mgrid[0:36, 0:24]
    Image.fromarray(np.stack([xx * 9, yy * 6, (xx + yy) * 4], 2).astype(np.uint8)).save(other)
    open_photo(qtbot, window, other)
    assert not errors and window.photo.size == (24, 36)
    main = window.viewer.main
    assert window.viewer.transform.image_size == QSizeF(96, 144)  # the view's frame is B's, x4
    assert main.right is window.bicubic_image and window.bicubic_image.width() == 96
    window.viewer.actual_size()
    assert main.zoom_level() == pytest.approx(1.0)
    assert window.zoom_label.text() == "Zoom 100 %"
    # the pixel readout maps the view's centre to B's centre and B's corner to its last pixel
    centre = main.to_image(QPointF(main.width() / 2, main.height() / 2))
    assert (centre.x(), centre.y()) == pytest.approx((48, 72))
    assert main.to_image(main.to_view(QPointF(95.5, 143.5))).y() == pytest.approx(143.5)
    assert window.windowTitle().startswith("other.png")
    assert window.statusBar().currentMessage().startswith("Opened other.png (24\u00d736)")
    assert "Opening" not in window.progress.bar.format()
    for box in (window.view_panel.left, window.view_panel.right):
        keys = [box.itemData(i) for i in range(box.count())]
        assert not any(str(k).startswith("run:") for k in keys), keys
    assert window.view_panel.value("right") == ORIGINAL
    assert window.recent_menu.actions()[0].text() == "other.png"
    assert window.scrubber.slider.maximum() == 0 and not window.scrubber.isEnabled()
    assert main.overlay is None  # A's classes are not painted over B
    assert all(text == "\u2013" for text in _shares(window))
    assert window.legend.rowCount() == 0  # B has no run: no classes to list yet
