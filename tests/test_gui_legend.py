"""The class legend (#36 walkthrough 5 and item 7): sorted by share, absent classes hidden, every
class listed without scrolling in a tall window, and a short manifest palette filled in."""

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from _gui import env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def absent_class_model(tmp_path_factory):
    from _tiny_bias import save_biased_model

    return save_biased_model(tmp_path_factory.mktemp("absent"), "absent", {10: -50.0, 3: -50.0})


def _rows(legend):
    return [(legend.item(r, 0).text(), legend.item(r, 1).text(), legend.isRowHidden(r))
            for r in range(legend.rowCount())]


def test_legend_sorts_by_share_hides_absent_classes_and_fits(qtbot, env, absent_class_model, photo):
    window = make_window(qtbot, absent_class_model, seed=7)
    window.resize(1600, 1000)  # a maximised window on a 1080-pixel screen
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    legend, run = window.legend, window.runs[0]
    names = run.classes_names
    rows = _rows(legend)
    absent = {k for k in range(11) if run.shares[k] < 0.0005}
    assert {3, 10} <= absent and len(absent) < 11
    assert {r[0] for r in rows if r[2]} == {names[k] for k in absent}  # hidden: the classes not found
    assert all(r[1] == "0.0 %" for r in rows if r[2])
    want = sorted((k for k in range(11) if k not in absent), key=lambda k: -run.shares[k])
    shown = [r for r in rows if not r[2]]
    assert [r[0] for r in shown] == [names[k] for k in want]
    assert [r[1] for r in shown] == [f"{100 * run.shares[k]:.1f} %" for k in want]
    shares = np.linspace(1, 2, 11) / np.linspace(1, 2, 11).sum()  # all eleven found: all listed
    legend.set_shares(shares)
    assert [legend.item(r, 0).text() for r in range(11)] == [names[k] for k in range(10, -1, -1)]
    qtbot.waitUntil(lambda: legend.verticalScrollBar().maximum() == 0)  # no scrolling in a tall window
    assert legend.viewport().height() >= sum(legend.rowHeight(r) for r in range(11))
    legend.set_shares(run.shares)

    window.view_panel.set_value("layer", "overlay")
    assert window.viewer.main.overlay is run.classes.image
    top = want[0]  # unticking a class by its row hides that class, whatever its row
    legend.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert legend.visible() == [k != top for k in range(11)]
    overlay = window.viewer.main.overlay
    assert overlay is not None and overlay is not run.classes.image  # made again without it
    legend.set_visible(top, True)
    assert all(legend.visible()) and window.viewer.main.overlay is run.classes.image


def test_a_palette_shorter_than_the_classes_gets_generated_colours(qtbot, env, tiny_model_file, photo, tmp_path):
    """#36.7: a manifest with 4 colours for 11 classes crashed the legend; now every class has one."""
    import shutil

    from segsr_gui.classes import CAMVID_PALETTE, full_palette

    filled = full_palette(["c"] * 11, CAMVID_PALETTE[:4])
    assert filled[:4] == CAMVID_PALETTE[:4] and len(set(filled)) == 11
    model = tmp_path / "short.safetensors"
    shutil.copy(tiny_model_file, model)
    manifest = json.loads(tiny_model_file.with_suffix(".json").read_text())
    manifest["palette"] = manifest["palette"][:4]
    model.with_suffix(".json").write_text(json.dumps(manifest))
    window = make_window(qtbot, model, seed=7)
    open_photo(qtbot, window, photo)
    window.view_panel.set_value("layer", "overlay")
    assert run_to_end(qtbot, window) == "done"
    legend = window.legend
    assert legend.rowCount() == 11 and all(legend.item(r, 1).text().endswith("%") for r in range(11))
    icons = {legend.item(r, 0).data(Qt.ItemDataRole.UserRole): legend.item(r, 0).icon().pixmap(14, 14).toImage()
             for r in range(11)}
    assert icons[10].pixelColor(7, 7).getRgb()[:3] == filled[10]
    assert window.viewer.main.overlay is not None
    legend.set_visible(10, False)  # the overlay without a class is coloured from the filled palette
    assert window.viewer.main.overlay is not None
    assert np.array_equal(window.runs[0].palette, filled)
