"""Repairing damage in the real window (#37.4): the Repair damage switch reaches the run and the
batch and persists; a run keeps its damage map and the Damage view paints it red; the brush,
the eraser, undo and redo change the map; Restore again fills the edited map, which is then
the run's damage and the exported NAME_damage.png; a model without repair greys it all out."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDockWidget

from conftest import make_tiny_model
from test_gui_window import env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture
from _gui import TIMEOUT, qimage_to_array

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def repair_model_file(tmp_path_factory):
    """The tiny repair model, its detector's threshold at the median of its damage probability on
    the test photo, so that about half of that photo is marked (untrained, it marks nothing)."""
    from dataclasses import replace

    import torch

    from segsr_gui.engine.nets.weights import save_model

    model = make_tiny_model(repair=True)
    yy, xx = np.mgrid[0:40, 0:48]  # conftest's ``photo``
    rgb = np.stack([(xx * 5) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], axis=2).astype(np.float32) / 255
    with torch.no_grad():
        prob = torch.sigmoid(model.repair.detector(torch.from_numpy(rgb).permute(2, 0, 1)[None]))
    repair = replace(model.config.repair, threshold=float(prob.median()))
    model.config = replace(model.config, repair=repair)
    model.repair.config = repair
    folder = tmp_path_factory.mktemp("repair_model")
    save_model(model, folder / "rep", training={"note": "random test weights"})
    return folder / "rep.safetensors"


def _drag(qtbot, window, points):
    """A left-button drag over the main canvas through ``points`` given in photo pixels."""
    overlay = window.damage.overlays[0]
    view = [overlay.canvas.to_view(QPointF(4 * x, 4 * y)).toPoint() for x, y in points]
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=view[0])
    for pos in view[1:]:
        qtbot.mouseMove(overlay, pos)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=view[-1])


def _open_tab(qtbot, window):
    """Bring the Damage tab (beside Classes found) to the front."""
    window.damage.dock.raise_()
    qtbot.waitUntil(lambda: window.damage.dock.isVisible() and not window.damage.dock.visibleRegion().isEmpty())


def _mask(window):
    return window.damage.edit().mask.copy()


def test_the_choice_reaches_the_run_and_the_batch_and_persists(qtbot, env, repair_model_file):
    from segsr_gui.ui import settings as settings_mod

    window = make_window(qtbot, repair_model_file)
    choice = window.run_panel.repair
    assert choice.isEnabled() and choice.currentData() == "auto"  # Auto by default: photos with scratches
    assert settings_mod.run_params(window.settings.run).repair == "auto"
    choice.setCurrentIndex(choice.findData("on"))
    _, params = window.batch.run_config()
    assert params.repair == "on"
    choice.setCurrentIndex(choice.findData("off"))
    _, params = window.batch.run_config()  # the batch runs with the Restore panel's settings
    assert params.repair == "off" and params.repair_mask is None
    window.store_settings()
    assert json.loads(settings_mod.settings_path().read_text())["run"]["repair"] == "off"
    again = make_window(qtbot, repair_model_file, repair=settings_mod.load().run.repair)
    assert again.run_panel.repair.currentData() == "off"


def test_a_first_version_settings_file_keeps_its_repair_switch(env):
    from segsr_gui.ui import settings as settings_mod

    def loaded(switch):
        settings_mod.settings_path().parent.mkdir(parents=True, exist_ok=True)
        settings_mod.settings_path().write_text(json.dumps({"schema_version": 1, "run": {"repair": switch}}))
        return settings_mod.load().run.repair

    assert loaded(True) == "on" and loaded(False) == "auto"  # off was the first version's default


def test_a_model_without_repair_greys_the_switch_and_the_tools_out(qtbot, env, tiny_model_file, photo):
    window = make_window(qtbot, tiny_model_file)
    assert not window.run_panel.repair.isEnabled()
    assert "no repair stage" in window.run_panel.repair.toolTip()
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    run = window.runs[0]
    assert run.result.damage is None and "repair" not in window.view_panel.right.currentText()
    panel = window.damage.panel
    assert not panel.tool_buttons["brush"].isEnabled() and not panel.again_button.isEnabled()
    assert "no repair stage" in panel.note.text().lower()
    from segsr_gui.app.batch import RunParams

    assert window.damage.params(RunParams()).repair_mask is None


def test_a_run_keeps_its_damage_map_and_the_damage_view_paints_it(qtbot, env, repair_model_file, photo):
    window = make_window(qtbot, repair_model_file, seed=3, repair="on")
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    run = window.runs[0]
    damage = run.result.damage
    assert damage is not None and damage.shape == (40, 48) and damage.dtype == bool
    assert 0.2 < damage.mean() < 0.8  # the fixture's threshold: about half the photo
    assert f"repaired {100 * damage.mean():.1f} %" in window.view_panel.right.currentText()
    window.view_panel.set_value("compare", "off")  # the restored photo alone, so every pixel is the run's
    overlay = window.damage.overlays[0]
    assert overlay.image is None  # the view starts without the red map
    window.view_panel.set_value("layer", "overlay")
    window.damage.panel.show_box.setChecked(True)
    assert window.view_panel.value("layer") == "photo" and overlay.image is not None  # red on class colours reads badly
    window.damage.panel.show_box.setChecked(False)
    assert window.view_panel.value("layer") == "overlay" and overlay.image is None  # as it was
    window.view_panel.set_value("layer", "photo")
    plain = qimage_to_array(window.viewer.main.grab().toImage())
    window.damage.panel.show_box.setChecked(True)
    shown = qimage_to_array(overlay.image.convertToFormat(overlay.image.Format.Format_ARGB32).copy())
    alpha = np.frombuffer(bytes(overlay.image.convertToFormat(overlay.image.Format.Format_ARGB32).constBits()),
                          np.uint8).reshape(40, 48, 4)[..., 3]
    assert np.array_equal(alpha > 0, damage) and shown.shape == (40, 48, 3)
    # what reaches the screen: red over the damaged photo pixels (each a 4x4 block), nothing elsewhere
    screen = qimage_to_array(window.viewer.main.grab().toImage()).astype(int)
    for (y, x), hurt in ((np.argwhere(damage)[len(np.argwhere(damage)) // 2], True),
                         (np.argwhere(~damage)[len(np.argwhere(~damage)) // 2], False)):
        at = overlay.canvas.to_view(QPointF(4 * x + 2, 4 * y + 2)).toPoint()
        now, was = screen[at.y(), at.x()], plain[at.y(), at.x()].astype(int)
        if hurt:
            assert now[0] - was[0] > 40 and now[1] < was[1]
        else:
            assert np.abs(now - was).max() <= 2
    _open_tab(qtbot, window)
    window.damage.panel.set_tool("brush")  # a brush stroke shows at once
    window.damage.panel.size.setValue(4)
    _drag(qtbot, window, [(10.0, 20.0), (30.0, 20.0)])
    marked = _mask(window)
    red = qimage_to_array(window.viewer.main.grab().toImage()).astype(int)
    centre = overlay.canvas.to_view(QPointF(4 * 20.5, 4 * 20.5)).toPoint()
    before, after = plain[centre.y(), centre.x()].astype(int), red[centre.y(), centre.x()]
    assert marked[20, 20] and after[0] - before[0] > 40 and after[1] < before[1]
    clear = np.argwhere(~marked)[0]
    far = overlay.canvas.to_view(QPointF(4 * clear[1] + 2, 4 * clear[0] + 2)).toPoint()
    assert np.abs(red[far.y(), far.x()] - plain[far.y(), far.x()].astype(int)).max() <= 2


def test_brush_eraser_undo_and_redo_change_the_map(qtbot, env, repair_model_file, photo):
    window = make_window(qtbot, repair_model_file, repair="on")
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    tools, panel = window.damage, window.damage.panel
    detected = window.runs[0].result.damage.copy()
    assert window.damage.mask_for_next_run() is None  # untouched: the next run detects
    window.findChild(QDockWidget, "legendDock").raise_()  # the run brought the Damage tab forward: send it back
    panel.set_tool("eraser")
    assert panel.show_box.isChecked()  # choosing a tool shows the map
    qtbot.waitUntil(lambda: not tools.overlays[0].editing)  # the Damage tab is behind Classes found: a drag still pans
    _open_tab(qtbot, window)
    assert tools.overlays[0].editing
    panel.size.setValue(200)
    _drag(qtbot, window, [(24.0, 20.0)])  # one dab wider than the photo: nothing left
    assert not _mask(window).any()
    panel.set_tool("brush")
    panel.size.setValue(3)
    _drag(qtbot, window, [(5.0, 10.5), (40.0, 10.5)])  # a horizontal scratch, 3 photo pixels wide
    brushed = _mask(window)
    assert brushed[9:12, 6:39].all() and not brushed[:8].any() and not brushed[13:].any()
    panel.set_tool("eraser")
    panel.size.setValue(1)
    _drag(qtbot, window, [(20.5, 8.0), (20.5, 14.0)])  # cut it in two
    erased = _mask(window)
    assert not erased[9:12, 20].any() and erased[9:12, 19].all() and erased[9:12, 21].all()
    assert tools.undo_action.isEnabled() and not tools.redo_action.isEnabled()
    shortcuts = {s.toString() for s in tools.undo_action.shortcuts() + tools.redo_action.shortcuts()}
    assert shortcuts == {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y"}
    panel.set_tool("brush")
    panel.size.setFocus()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    _drag(qtbot, window, [(2.5, 30.5)])  # a painting press takes the focus from the size field
    assert tools.overlays[0].canvas.hasFocus() and _mask(window)[30, 2]
    qtbot.keyClick(tools.overlays[0].canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(_mask(window), erased)  # Ctrl+Z took that dab back
    tools.undo_action.trigger()
    assert np.array_equal(_mask(window), brushed)
    strokes = 3 if detected.any() else 2  # wiping an empty map is no stroke
    for _ in range(strokes - 1):
        tools.undo_action.trigger()
    assert np.array_equal(_mask(window), detected) and window.damage.mask_for_next_run() is None
    assert not tools.undo_action.isEnabled()
    for _ in range(strokes - 1):
        tools.redo_action.trigger()
    assert np.array_equal(_mask(window), brushed)
    assert np.array_equal(window.damage.mask_for_next_run(), brushed)
    assert "F5 fills it" in panel.note.text() and panel.again_button.isEnabled()
    window.findChild(QDockWidget, "legendDock").raise_()  # back to the classes: drags pan again
    qtbot.waitUntil(lambda: not tools.overlays[0].editing)


def test_restore_again_fills_the_edited_map_and_exports_it(qtbot, env, repair_model_file, photo):
    window = make_window(qtbot, repair_model_file, repair="on")
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    panel = window.damage.panel
    _open_tab(qtbot, window)
    panel.set_tool("eraser")
    panel.size.setValue(200)
    _drag(qtbot, window, [(24.0, 20.0)])
    panel.set_tool("brush")
    panel.size.setValue(2)
    _drag(qtbot, window, [(3.0, 30.0), (44.0, 25.0)])
    edited = _mask(window)
    assert edited.any()
    with qtbot.waitSignal(window.runFinished, timeout=TIMEOUT) as blocker:
        panel.again_button.click()  # Restore again
    assert blocker.args[0] == "done" and len(window.runs) == 2
    again = window.runs[0]
    assert again.damage_given and np.array_equal(again.result.damage, edited)
    assert "your damage mask" in window.view_panel.right.currentText()
    assert np.array_equal(_mask(window), edited)  # the new run's map is the one shown and edited now
    assert np.array_equal(window.damage.mask_for_next_run(), edited)  # and stays the user's for F5
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as saved:
        assert window.export_to(env / "out", "photo")
    written = {p.name for p in saved.args[0]}
    assert "photo_damage.png" in written
    png = np.asarray(Image.open(env / "out" / "photo_damage.png"))
    assert png.shape == (160, 192) and np.array_equal(png == 255, np.repeat(np.repeat(edited, 4, 0), 4, 1))
    legend = json.loads(next((env / "out").glob("photo_legend.json")).read_text())
    assert legend["damaged_share"] == pytest.approx(edited.mean(), abs=1e-6)
    window.damage.panel.detect_button.click()  # Detect again: the next run finds the damage itself
    assert window.damage.mask_for_next_run() is None


def test_a_run_that_found_damage_by_itself_brings_the_damage_tab_forward(qtbot, env, repair_model_file, photo):
    def in_front(dock):
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

    window = make_window(qtbot, repair_model_file, seed=3, repair="off")
    open_photo(qtbot, window, photo)
    legend = window.findChild(QDockWidget, "legendDock")
    assert run_to_end(qtbot, window) == "done"  # no repair: the classes stay in front
    qtbot.waitUntil(lambda: in_front(legend), timeout=TIMEOUT)
    assert not in_front(window.damage.dock)
    window.run_panel.repair.setCurrentIndex(window.run_panel.repair.findData("on"))
    assert run_to_end(qtbot, window) == "done"
    assert window.current_run().result.damage.any()
    qtbot.waitUntil(lambda: in_front(window.damage.dock), timeout=TIMEOUT)
    assert not in_front(legend)


def test_a_run_label_names_the_repair_only_when_something_was_filled():
    from types import SimpleNamespace

    from segsr_gui.app.runs import repair_words

    def run(damage, given=False):
        return SimpleNamespace(result=SimpleNamespace(damage=damage), damage_given=given)

    some = np.zeros((10, 10), bool)
    some[2, 2:7] = True
    assert repair_words(run(None)) == ""
    assert repair_words(run(np.zeros((10, 10), bool))) == ""  # Auto found no scratches: nothing filled
    assert repair_words(run(some)) == ", repaired 5.0 %"
    assert repair_words(run(some, given=True)) == ", your damage mask (5.0 %)"
