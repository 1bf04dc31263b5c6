"""Drive the real studio window (offscreen) with the tiny random model: runs, the scrubber, the
overlay and comparing runs."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from _gui import TIMEOUT, env, make_window, open_photo, qimage_to_array, run_to_end, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_run_completes_and_last_preview_matches_upscale(qtbot, window, photo, tiny_model_file):
    from segsr_gui.io.read import load_image
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    open_photo(qtbot, window, photo)
    steps_seen = []
    window.stepShown.connect(lambda i, n: steps_seen.append((i, n)))
    assert run_to_end(qtbot, window) == "done"
    assert steps_seen == [(0, 3), (1, 3), (2, 3)]
    run = window.runs[0]
    expected = upscale(load_image(photo).rgb, load_model(tiny_model_file).model, seed=7)
    want = np.round(expected.image * 255).astype(np.int16)
    last = qimage_to_array(run.frames[-1].image).astype(np.int16)
    assert last.shape == want.shape == (160, 192, 3)
    assert np.abs(last - want).max() <= 1
    assert np.array_equal(run.result.class_map, expected.class_map)
    assert window.viewer.main.right is run.image and window.viewer.main.left_label == "Original"
    assert window.run_panel.run_button.isEnabled() and not window.run_panel.cancel_button.isEnabled()
    shares = [window.legend.item(i, 1).text() for i in range(window.legend.rowCount())]
    assert len(shares) == 11 and all(s.endswith("%") for s in shares)


def test_mirror_choice_reaches_the_run(qtbot, window, photo, tiny_model_file):
    from segsr_gui.io.read import load_image
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    open_photo(qtbot, window, photo)
    window.run_panel.mirror.setChecked(True)
    assert run_to_end(qtbot, window) == "done"
    model = load_model(tiny_model_file).model
    rgb = load_image(photo).rgb
    mirrored, plain = upscale(rgb, model, seed=7, mirror=True), upscale(rgb, model, seed=7)
    assert np.array_equal(window.runs[0].result.image, mirrored.image)
    assert np.array_equal(window.runs[0].result.class_map, mirrored.class_map)
    from segsr_gui.app.runs import run_label
    assert run_label(window.runs[0]).endswith(", mirrored")
    assert not np.array_equal(mirrored.class_map, plain.class_map)


def test_cancel_mid_run_keeps_window_usable(qtbot, env, tiny_model_file, photo):
    window = make_window(qtbot, tiny_model_file, steps=12)
    open_photo(qtbot, window, photo)
    window.stepShown.connect(lambda i, n: window.cancel_run() if i == 0 else None)
    assert run_to_end(qtbot, window) == "cancelled"
    assert window.runs == [] and not window.running
    assert window.run_panel.run_button.isEnabled() and window.actions_["run"].isEnabled()
    assert window.viewer.main.right is window.bicubic_image  # the original is on show again
    window.stepShown.disconnect()
    assert run_to_end(qtbot, window) == "done"
    assert len(window.runs) == 1 and len(window.runs[0].frames) == 12


def answer_question(qtbot, button_text: str, seen: list) -> None:
    """Click ``button_text`` in the next message box the window opens (noting its text)."""
    from PySide6.QtCore import QTimer

    tries = [250]  # 5 s, then give up (so a test that never asks fails instead of clicking later)

    def click():
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        if not boxes:
            tries[0] -= 1
            if tries[0]:
                QTimer.singleShot(20, click)
            return
        seen.append(boxes[0].text())
        next(b for b in boxes[0].buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, click)


def test_close_during_run_asks_then_stops_worker(qtbot, env, tiny_model_file, photo):
    """#32.2: closing (or Quit) during a run asks first; "Keep running" keeps the run."""
    from segsr_gui.ui.confirm import KEEP_RUNNING, STOP_AND_QUIT

    window = make_window(qtbot, tiny_model_file, steps=30)
    open_photo(qtbot, window, photo)
    with qtbot.waitSignal(window.stepShown, timeout=TIMEOUT):
        window.start_run()
    seen = []
    answer_question(qtbot, KEEP_RUNNING, seen)
    window.actions_["quit"].trigger()
    assert seen == ["A restore is running. Stop it and quit?"]
    assert window.isVisible() and window.running and window.jobs.busy
    answer_question(qtbot, STOP_AND_QUIT, seen)
    window.close()
    assert len(seen) == 2 and not window.isVisible()
    assert not window.jobs.busy


def test_scrubber_shows_each_step(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    run = window.runs[0]
    assert window.scrubber.isEnabled() and window.scrubber.slider.maximum() == 2
    for i in range(3):
        window.scrubber.set_value(i)
        shown = window.viewer.main.right
        assert shown is (run.image if i == 2 else run.frames[i].image)
        assert window.scrubber.label.text() == f"Step {i + 1}/3"
        if i < 2:
            assert f"step {i + 1}" in window.viewer.main.right_label
    window.view_panel.set_value("state", "noisy")
    window.scrubber.set_value(0)
    assert window.viewer.main.right is run.frames[0].noisy_image()


def test_overlay_mask_and_legend_toggle(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    window.view_panel.set_value("layer", "overlay")
    assert window.viewer.main.layer == "overlay" and window.viewer.main.overlay is not None
    before = window.viewer.main.overlay
    window.legend.set_visible(0, False)
    after = window.viewer.main.overlay
    assert after is not before and window.legend.visible()[0] is False
    window.view_panel.set_value("layer", "mask")
    assert window.viewer.main.layer == "mask"


def test_split_slider_and_side_by_side_are_synchronised(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    viewer = window.viewer
    canvas = viewer.main
    assert viewer.mode == "split" and canvas.left_label == "Original" and canvas.right_label == "Restored"
    x = int(canvas.split_x())
    y = canvas.height() // 2
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    QTest.mouseMove(canvas, QPoint(x - 60, y))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x - 60, y))
    assert canvas.split < 0.5 and abs(canvas.split_x() - (x - 60)) < 2

    canvas_zoom = None
    window.view_panel.set_value("compare", "side")
    qtbot.waitUntil(lambda: viewer.side_left.isVisible() and viewer.side_right.isVisible())
    left, right = viewer.side_left, viewer.side_right
    canvas_zoom = right.zoom_level()
    window.viewer.zoom_in()
    window.viewer.zoom_in()
    QTest.mousePress(right, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(50, 50))
    QTest.mouseMove(right, QPoint(75, 40))
    QTest.mouseRelease(right, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(75, 40))
    assert not viewer.transform.fit
    assert left.zoom_level() == pytest.approx(right.zoom_level()) == pytest.approx(1.25 ** 2 * canvas_zoom)
    # the same image point sits at each view's centre (widths may differ by a pixel)
    for view in (left, right):
        c = view.to_image(QPointF(view.width() / 2, view.height() / 2))
        assert (c.x(), c.y()) == pytest.approx((viewer.transform.centre.x(), viewer.transform.centre.y()))
    assert right.right is window.runs[0].image and left.left is canvas.left
    window.viewer.actual_size()
    assert right.zoom_level() == pytest.approx(1.0)
    window.view_panel.set_value("compare", "difference")
    assert canvas.mode == "difference" and canvas._difference() is not None


def test_hold_key_flips_to_original(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.viewer.main.setFocus()
    QTest.keyPress(window.viewer.main, Qt.Key.Key_B)
    assert window.viewer.main.flipped
    QTest.keyRelease(window.viewer.main, Qt.Key.Key_B)
    assert not window.viewer.main.flipped


def test_compare_any_two_runs(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    window.run_panel.seed.setValue(8)
    run_to_end(qtbot, window)
    assert [r.seed for r in window.runs] == [8, 7]
    keys = [window.view_panel.left.itemData(i) for i in range(window.view_panel.left.count())]
    assert keys == ["original", "run:2", "run:1"]
    window.view_panel.set_value("left", "run:1")
    assert window.viewer.main.left is window.runs[1].image
    assert window.viewer.main.right is window.runs[0].image


def test_live_class_maps_are_made_only_when_shown(qtbot, window, photo):
    """In the photo view no step's class map is made (the legend shows estimated shares, marked
    as such); scrubbing to a step with the class layer on makes its map and exact shares."""
    open_photo(qtbot, window, photo)
    window.view_panel.set_value("layer", "photo")
    run_to_end(qtbot, window)
    run = window.runs[-1]
    live = run.frames[:-1]
    assert live and not any(f.classes.made for f in live)
    window.scrubber.set_value(0)
    assert window.legend.item(0, 1).text().startswith("\u2248") or window.legend.item(0, 1).text() == "\u2013"
    window.view_panel.set_value("layer", "overlay")
    assert live[0].classes.made and not live[0].shares_estimated
    assert window.viewer.main.overlay is live[0].classes.image
    assert window.legend.item(0, 1).text().endswith(" %") and "\u2248" not in window.legend.item(0, 1).text()


def test_classes_follow_the_run_on_the_right_after_a_run_without_classes(qtbot, env, tiny_model_file, photo):
    """#26.3: after a run with a model that finds no classes (the srdm-only ablation), picking a
    run with classes on the right makes its overlay viewable again; a run without lists none."""
    from segsr_gui.ui.theme import apply_theme
    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import save_model

    save_model(make_tiny_model(bridge=False), tiny_model_file.parent / "plain", training={"note": "test"})
    window = make_window(qtbot, tiny_model_file, seed=7)
    apply_theme(QApplication.instance(), "light")
    open_photo(qtbot, window, photo)
    window.view_panel.set_value("layer", "overlay")
    assert run_to_end(qtbot, window) == "done"
    window.run_panel.select_model(str(tiny_model_file.parent / "plain.safetensors"))
    assert run_to_end(qtbot, window) == "done"
    assert window.runs[0].classes is None
    assert not window.view_panel.layer.isEnabled() and window.legend.rowCount() == 0
    window.view_panel.set_value("right", "run:1")
    assert window.view_panel.layer.isEnabled() and window.view_panel.opacity.isEnabled()
    assert window.viewer.main.overlay is window.runs[1].classes.image and window.viewer.main.layer == "overlay"
    assert window.legend.rowCount() == 11
    assert all(window.legend.item(i, 1).text().endswith("%") for i in range(11))
    # present classes keep the theme's text colour, not a colour read before a theme switch
    present = [i for i in range(11) if window.runs[1].shares[i] >= 0.0005]
    assert present and all(window.legend.item(i, 0).data(Qt.ItemDataRole.ForegroundRole) is None
                           for i in present)
    window.view_panel.set_value("right", "run:2")
    assert not window.view_panel.layer.isEnabled() and window.legend.rowCount() == 0
    assert window.viewer.main.layer == "photo"
    QApplication.instance().setStyleSheet("")


def test_show_photo_before_pickers_and_run_numbers(qtbot, window, photo, tmp_path):
    """#26.5: "Photo before" in the Show list; the run pickers' lists show whole labels; run
    numbers count the runs of the photo on show."""
    from PIL import Image

    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    window.view_panel.set_value("layer", "overlay")
    window.view_panel.set_value("state", "before")
    assert window.view_panel.value("state") == "before"
    main = window.viewer.main
    assert main.right is window.bicubic_image and main.right_label == "Photo before"
    assert main.overlay is window.runs[0].classes.image  # the run's classes over the photo before
    window.scrubber.set_value(0)
    assert main.right is window.bicubic_image and main.right_label == "Photo before \u00b7 step 1"
    assert main.overlay is window.runs[0].frames[0].classes.image
    window.scrubber.set_value(2)
    window.view_panel.set_value("state", "estimate")
    assert main.right is window.runs[0].image

    for box in (window.view_panel.left, window.view_panel.right):
        label = box.itemText(box.findData("run:1"))
        assert label.endswith("seed 7")
        assert box.view().minimumWidth() > box.fontMetrics().horizontalAdvance(label)

    other = tmp_path / "other.png"
    Image.new("RGB", (24, 20), (90, 120, 40)).save(other)
    open_photo(qtbot, window, other)
    run_to_end(qtbot, window)
    assert [r.id for r in window.runs] == [1]
    assert window.view_panel.right.currentText().startswith("Run 1:")


def test_comparing_runs_with_different_step_counts(qtbot, window, photo):
    """#32.1: Left = Right = a 3-step run while a 4-step run was scrubbed to 4/4: no crash; the
    scrubber follows the run that is shown, with its own step count."""
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"  # run 1: 3 steps
    window.run_panel.steps.setValue(4)
    assert run_to_end(qtbot, window) == "done"  # run 2: 4 steps, the scrubber at 4/4
    assert window.scrubber.label.text() == "Step 4/4"
    window.view_panel.set_value("left", "run:1")
    window.view_panel.set_value("right", "run:1")
    main, run1 = window.viewer.main, window.runs[1]
    assert main.right is run1.image and main.right_label == "Restored (run 1)"
    assert window.view_panel.layer.isEnabled()
    assert window.scrubber.slider.maximum() == 2 and window.scrubber.label.text() == "Step 3/3"
    window.scrubber.set_value(1)
    assert window.scrubber.label.text() == "Step 2/3" and main.right is run1.frames[1].image
    window.view_panel.set_value("right", "run:2")
    assert window.scrubber.slider.maximum() == 3 and window.scrubber.label.text() == "Step 4/4"
    assert main.right is window.runs[0].image


def test_plain_words_for_the_noisy_view_and_the_models(qtbot, env, tiny_model_file):
    """#32.7: no "x\u209c" in the View panel (the entry says what it shows) and each model in
    the picker has a line saying what it is for, from its manifest or its fields."""
    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import save_model
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.main_window import MainWindow
    from segsr_gui.ui.model_picker import DESCRIPTION_ROLE

    folder = env / "models"
    save_model(make_tiny_model(), folder / "described", description="Test model: restores and labels, quickly")
    save_model(make_tiny_model(bridge=False), folder / "plain", training={"note": "test"})
    window = MainWindow(settings_mod.load(), models=[("described", folder / "described.safetensors"),
                                                      ("plain", folder / "plain.safetensors")])
    qtbot.addWidget(window)
    box = window.view_panel.state
    texts = [box.itemText(i) for i in range(box.count())]
    assert not any("\u209c" in t for t in texts) and "Noisy in-between image" in texts
    tip = box.itemData(texts.index("Noisy in-between image"), Qt.ItemDataRole.ToolTipRole)
    assert "noise" in tip and "step" in tip
    picker = window.run_panel.model
    lines = [picker.itemData(i, DESCRIPTION_ROLE) for i in range(picker.count())]
    assert lines[0] == "Test model: restores and labels, quickly"
    assert "finds no classes" in lines[1] and "3 steps a run" in lines[1]
    row = picker.view().sizeHintForRow(0)
    assert row >= 2 * picker.fontMetrics().height()  # the name and, under it, the line
