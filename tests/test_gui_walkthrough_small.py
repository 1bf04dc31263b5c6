"""#36 walkthrough 6-8: the class layer before a run, runs told apart, and the smaller ones
(dialog folders, Auto per photo, the noisy view's words, quitting unexported, the batch's
counts and F5, the zoom after a resize)."""

from types import SimpleNamespace

import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from _gui import TIMEOUT, env, make_window, open_photo, run_to_end, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_class_layer_is_chosen_up_front_and_painted_during_the_run(qtbot, window, photo):
    """#36.6: before any run the Classes box is enabled and on "Colour by class"; the live
    frames are painted with their classes."""
    open_photo(qtbot, window, photo)
    panel = window.view_panel
    assert panel.layer.isEnabled() and panel.value("layer") == "overlay"
    painted = []
    window.stepShown.connect(lambda i, n: painted.append((window.viewer.main.layer, window.viewer.main.overlay)))
    assert run_to_end(qtbot, window) == "done"
    assert painted and all(layer == "overlay" and overlay is not None for layer, overlay in painted)
    panel.set_value("layer", "photo")  # a choice made before the next run is kept
    assert run_to_end(qtbot, window) == "done" and panel.value("layer") == "photo"


def test_run_labels_tell_runs_apart_by_strength():
    """#36.7: the pickers show each run's strength (Auto with what it picked, or the value)."""
    from segsr_gui.app.runs import run_label
    from segsr_gui.engine.inference.pipeline import Strength

    run = SimpleNamespace(id=1, model_name="segsr-x4", steps=3, seed=0, mirror=False,
                          strength=Strength(0.21, True, 0.3))
    assert run_label(run) == "Run 1: segsr-x4, Auto (21 %), 3 steps, seed 0"
    run.id, run.strength = 2, Strength(1.0, False)
    assert run_label(run) == "Run 2: segsr-x4, 100 %, 3 steps, seed 0"
    run.strength = None  # a model with one expert has no strength to show
    assert run_label(run) == "Run 2: segsr-x4, 3 steps, seed 0"


def test_first_dialogs_start_in_pictures_and_the_sample_is_not_remembered(qtbot, env, tiny_model_file,
                                                                          monkeypatch):
    """#36.8: the first Open and Add folder dialogs start in Pictures (not the app's resources,
    where the bundled sample lives)."""
    from segsr_gui.ui import batch_panel, opening
    from segsr_gui.ui.app import sample_photo

    sample = sample_photo()
    if sample is None:
        pytest.skip("this install has no bundled sample photo")
    pictures = env / "Pictures"
    pictures.mkdir()
    monkeypatch.setenv("XDG_PICTURES_DIR", str(pictures))
    window = make_window(qtbot, tiny_model_file)
    open_photo(qtbot, window, sample)
    assert window.settings.files.last_open_dir == "" and window.settings.files.recent == []
    seen = []
    monkeypatch.setattr(opening, "ask_open", lambda parent, caption, folder, *a, **k: seen.append(folder) or [])
    monkeypatch.setattr(batch_panel, "ask_folder", lambda parent, caption, folder: seen.append(folder))
    window.open_dialog()
    window.batch_panel.add_folder_dialog()
    assert seen == [str(pictures)] * 2


def test_auto_strength_is_per_photo_and_every_start_begins_at_auto(qtbot, env, tiny_model_file, photo, tmp_path):
    """#36.8: a slider value is chosen for one photo; the next photo, and the next start, are Auto."""
    from segsr_gui.engine.inference.pipeline import Strength
    from segsr_gui.ui import settings as settings_mod

    window = make_window(qtbot, tiny_model_file)
    control = window.run_panel.strength
    open_photo(qtbot, window, photo)
    control.slider.setValue(40)
    assert control.value() == pytest.approx(0.4)
    window.store_settings()
    assert settings_mod.load().run.strength_auto is False
    again = make_window(qtbot, tiny_model_file)  # a restart
    assert again.run_panel.strength.value() is None and again.run_panel.strength.manual_value() == pytest.approx(0.4)
    control.auto.setChecked(True)
    control.show_picked(Strength(0.41, True))  # what Auto picked for this photo
    assert control.text() == "Auto (41 %)" and not control.value_label.toolTip()
    control.show_picked(Strength(1.0, True, 0.2, toned=True))  # a sepia print
    assert control.text() == "Auto (100 %)" and "toned print" in control.value_label.toolTip()
    control.slider.setValue(40)
    other = tmp_path / "other.png"
    Image.new("RGB", (20, 16), (90, 120, 40)).save(other)
    open_photo(qtbot, window, other)
    assert control.value() is None and control.manual_value() == pytest.approx(0.4)
    assert control.text() == "Auto" and not control.value_label.toolTip()  # not the last photo's pick


def test_noisy_view_says_what_it_shows(qtbot, window, photo):
    """#36.8: at the last step the noisy view would look like the result: the label says so."""
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    window.view_panel.set_value("state", "noisy")
    main = window.viewer.main
    assert main.right is window.runs[0].image and "no noise left at the last step" in main.right_label
    window.scrubber.set_value(0)
    assert main.right is window.runs[0].frames[0].noisy_image()
    assert main.right_label == "Restored \u00b7 noisy in-between, step 1"


def _answer(button_text: str, seen: list) -> None:
    """Click ``button_text`` in the next message box (noting its text); give up after 3 s."""
    tries = [150]

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


def test_quitting_with_an_unexported_result_asks(qtbot, window, photo, env):
    from segsr_gui.ui.confirm import QUIT_UNSAVED

    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    seen = []
    _answer("Cancel", seen)
    window.actions_["quit"].trigger()
    assert seen and "not exported (run 1)" in seen[0] and window.isVisible()
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_to(env / "out", "photo")
    run_to_end(qtbot, window)  # run 2 is not exported
    _answer(QUIT_UNSAVED, seen)
    window.actions_["quit"].trigger()
    assert len(seen) == 2 and "(run 2)" in seen[1] and not window.isVisible()


def test_quitting_after_exporting_asks_nothing(qtbot, window, photo, env):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_to(env / "out", "photo")
    window.actions_["quit"].trigger()
    assert not window.isVisible()


def test_batch_greys_restore_and_counts_no_failed_photo_as_finished(qtbot, env, tiny_model_file, photo):
    """#36.8: F5 is disabled during a batch; a photo that failed before is not "finished in
    earlier runs"."""
    window = make_window(qtbot, tiny_model_file, steps=1)
    panel = window.batch_panel
    (env / "broken.jpg").write_text("a text file renamed .jpg")
    with qtbot.waitSignal(panel.photosAdded, timeout=TIMEOUT):
        panel.add_paths([str(env / "broken.jpg")])
    panel.set_output_folder(env / "out")
    enabled = []
    panel.runningChanged.connect(lambda running: enabled.append((running, window.actions_["run"].isEnabled(),
                                                                 window.run_panel.run_button.isEnabled())))
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT):
        panel.start()
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    assert enabled[0] == (True, False, False) and enabled[-1] == (False, True, True)
    assert panel.row_states() == ["failed"]
    with qtbot.waitSignal(panel.photosAdded, timeout=TIMEOUT):
        panel.add_paths([str(photo)])
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT):
        panel.start()
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    text = panel.summary_label.text()
    assert "1 done, 0 skipped, 0 failed" in text and "earlier" not in text and "Retry failed" in text


def test_zoom_in_the_status_bar_follows_a_resize(qtbot, window, photo):
    open_photo(qtbot, window, photo)
    main = window.viewer.main
    qtbot.waitUntil(lambda: window.zoom_label.text() == f"Zoom {main.zoom_level() * 100:.0f} %")
    before = window.zoom_label.text()
    window.resize(1400, 1000)
    qtbot.waitUntil(lambda: window.zoom_label.text() != before)
    assert window.zoom_label.text() == f"Zoom {main.zoom_level() * 100:.0f} %"
