"""The batch queue panel, driven for real (offscreen) with the tiny random model."""

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui

TIMEOUT = 60000  # a ceiling only: a tiny batch takes about a second


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGSR_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SEGSR_STUDIO_LOG_DIR", str(tmp_path / "log"))
    return tmp_path


@pytest.fixture
def photos(tmp_path):
    """Three 16x16 photos, one of them in a sub-folder."""
    root = tmp_path / "shoebox"
    (root / "1972").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "1972/c.png"):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(root / name)
    (root / "readme.txt").write_text("not a photo")
    return root


def make_panel(qtbot, model_file):
    from segsr_gui.app.batch import RunParams
    from segsr_gui.ui.batch_panel import BatchPanel
    from segsr_gui.ui.worker import JobRunner

    jobs = JobRunner()
    panel = BatchPanel(jobs, lambda: (model_file, RunParams(steps=1, device="cpu")))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def add(qtbot, panel, *paths):
    with qtbot.waitSignal(panel.photosAdded, timeout=TIMEOUT):
        panel.add_paths(list(paths))


def run(qtbot, panel) -> str:
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    return blocker.args[0]


def outputs(folder):
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_runs_to_the_end(qtbot, env, photos, tiny_model_file):
    panel = make_panel(qtbot, tiny_model_file)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "Add photos" in panel.summary_label.text()  # a clear word, no dialog, no traceback
    add(qtbot, panel, photos)
    assert panel.table.rowCount() == 3 and panel.row_states() == ["queued"] * 3
    add(qtbot, panel, photos / "a.png")  # already queued: no duplicate
    assert panel.table.rowCount() == 3 and "1 already queued" in panel.summary_label.text()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "output folder" in panel.summary_label.text()

    out = env / "restored"
    out.mkdir()
    (out / "b_x4.png").write_bytes(b"the user's own file")  # an existing output is never replaced unasked
    panel.set_output_folder(out)
    panel.masks_box.setChecked(True)
    values = []
    panel.bar.valueChanged.connect(values.append)
    assert run(qtbot, panel) == "finished"
    assert panel.row_states() == ["done", "done", "failed"]  # sorted: 1972/c.png, a.png, b.jpg
    assert "b_x4.png already exists" in panel.table.item(2, 3).text()
    assert "Overwrite existing" in panel.table.item(2, 3).text()
    assert (out / "b_x4.png").read_bytes() == b"the user's own file"
    assert "2 done, 0 skipped, 1 failed" in panel.summary_label.text()
    assert values == sorted(values) and panel.bar.value() == panel.bar.maximum()
    assert (out / "1972" / "c_x4.png").exists() and (out / "1972" / "c_legend.json").exists()

    panel.overwrite_box.setChecked(True)  # the failed photo is retried; the done ones stay done
    before = outputs(out)
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    assert blocker.args == ["finished"]
    assert panel.row_states() == ["done"] * 3 and "1 done, 0 skipped, 0 failed" in panel.summary_label.text()
    after = outputs(out)
    assert after["a_x4.png"] == before["a_x4.png"] and after["b_x4.png"][0] != b"the user's own file"
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.table.rowCount() == 0


def _hold_first_photo(monkeypatch):
    """Make the first photo wait (after its first step) until the test lets it go on."""
    from segsr_gui.engine.inference import runner

    real = runner.iter_upscale_retrying
    entered, go = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        gen = real(*args, **kwargs)
        yield next(gen)
        if not entered.is_set():
            entered.set()
            go.wait(30)
        return (yield from gen)

    monkeypatch.setattr(runner, "iter_upscale_retrying", held)
    return entered, go


def test_stop_after_this_photo_then_resume_in_a_new_window(qtbot, env, photos, tiny_model_file, monkeypatch):
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.main_window import MainWindow

    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, photos)
    out = env / "restored"
    panel.set_output_folder(out)
    entered, go = _hold_first_photo(monkeypatch)
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: entered.is_set() and panel.row_states()[0] == "running", timeout=TIMEOUT)
        assert panel.stop_button.isEnabled() and not panel.add_folder_button.isEnabled()
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        go.set()
    assert blocker.args == ["stopped"]
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    assert panel.row_states() == ["done", "queued", "queued"]
    assert "Batch stopped: 1 done" in panel.summary_label.text() and "2 still to do" in panel.summary_label.text()
    first = outputs(out)
    assert list(first) == ["1972/c_x4.png"]
    panel.close()
    monkeypatch.undo()
    monkeypatch.setenv("SEGSR_STUDIO_CONFIG_DIR", str(env / "config"))

    s = settings_mod.load()  # the app starts again: the queue is back and can go on
    s.run.model, s.run.steps = str(tiny_model_file), 1
    window = MainWindow(s, models=[])
    qtbot.addWidget(window)
    window.show()
    again = window.batch_panel
    assert window.batch_dock.isVisible() and window.actions_["batch"].isChecked()
    assert again.row_states() == ["done", "queued", "queued"] and "Press Start to resume" in again.summary_label.text()
    shown_while_running = []  # the window's own progress area says the batch is busy
    again.runningChanged.connect(lambda on: shown_while_running.append((on, window.progress.bar.format())))
    with qtbot.waitSignal(again.batchFinished, timeout=TIMEOUT):
        qtbot.mouseClick(again.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.jobs.busy)
    assert again.row_states() == ["done"] * 3 and "2 done, 0 skipped, 0 failed" in again.summary_label.text()
    assert shown_while_running[0][0] and "Batch queue running" in shown_while_running[0][1]
    assert not shown_while_running[-1][0] and "Ready" in shown_while_running[-1][1]
    second = outputs(out)
    assert len(second) == 3 and second["1972/c_x4.png"] == first["1972/c_x4.png"]  # not redone
    window.close()


def test_cancel_now_leaves_nothing_of_the_photo(qtbot, env, photos, tiny_model_file, monkeypatch):
    from segsr_gui.app.queue import BatchQueue

    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, photos / "a.png")
    out = env / "restored"
    panel.set_output_folder(out)
    entered, go = _hold_first_photo(monkeypatch)
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(entered.is_set, timeout=TIMEOUT)
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        go.set()
    assert blocker.args == ["cancelled"]
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    assert panel.row_states() == ["queued"] and "Batch cancelled: 0 done" in panel.summary_label.text()
    assert not out.exists() or outputs(out) == {}
    assert [i.state for i in BatchQueue.load().items] == ["queued"]


def test_format_choice_and_what_it_cannot_keep(qtbot, env, tiny_model_file):
    src = env / "alpha"
    src.mkdir()
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 1], rgba[..., 3] = 200, 128
    Image.fromarray(rgba).save(src / "glass.png")
    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, src)
    panel.set_output_folder(env / "out")
    panel.format_box.setCurrentIndex(panel.format_box.findData("jpg"))
    assert run(qtbot, panel) == "finished"
    assert panel.row_states() == ["done"] and "transparency" in panel.table.item(0, 3).text()
    assert Image.open(env / "out" / "glass_x4.jpg").size == (64, 64)
    from segsr_gui.app.queue import BatchQueue
    assert BatchQueue.load().format == "jpg"  # the choice is kept with the queue


def test_a_failed_photo_counts_as_failed_not_still_to_do(qtbot, env, tiny_model_file):
    """#32.3: a broken file fails; it is not "still to do", Start does not fail it again, and
    Retry failed tries it again on purpose (also after a restart)."""
    from segsr_gui.ui.batch_panel import BatchPanel

    (env / "broken.jpg").write_text("a text file renamed .jpg")
    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, env / "broken.jpg")
    panel.set_output_folder(env / "out")
    assert run(qtbot, panel) == "finished"
    text = panel.summary_label.text()
    assert panel.row_states() == ["failed"] and panel.pending == 0
    assert "0 done, 0 skipped, 1 failed" in text and "still to do" not in text and "Retry failed" in text
    assert panel.retry_button.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.running and panel.row_states() == ["failed"]
    assert "1 photo failed" in panel.summary_label.text() and "Retry failed" in panel.summary_label.text()
    again = BatchPanel(panel.jobs, panel.run_config)  # after a restart: nothing to resume
    qtbot.addWidget(again)
    assert again.pending == 0 and "still to do" not in again.summary_label.text()
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT):
        qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    assert panel.row_states() == ["failed"] and "0 done, 0 skipped, 1 failed" in panel.summary_label.text()


def test_time_left_counts_the_pixels_still_to_do(qtbot, env, tiny_model_file, monkeypatch):
    """#32.7: after a small photo, two photos 16 times its size take 32 times as long."""
    src = env / "src"
    src.mkdir()
    for name, side in (("a_small.png", 16), ("b_big.png", 64), ("c_big.png", 64)):
        Image.new("RGB", (side, side), (90, 100, 110)).save(src / name)
    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, src)
    panel.set_output_folder(env / "out")
    monkeypatch.setattr(panel.jobs, "start", lambda worker: None)  # the test reports for the worker
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    worker = panel._worker
    assert panel.running and panel.eta_label.text() == "estimating time left\u2026"
    worker.itemStarted.emit(0)
    worker.itemFinished.emit(0, "done", "", 2.0)
    assert panel.eta_label.text() == "about 64 s left"
    worker.itemStarted.emit(1)
    worker.itemProgress.emit(1, 0.5)
    assert panel.eta_label.text() == "about 48 s left"
    worker.finished.emit("stopped")
    worker.done.emit()
    assert not panel.running


def test_output_folder_hint_goes_when_a_folder_is_chosen(qtbot, env, photos, tiny_model_file):
    """#32.7: "Choose an output folder first." does not stay once one is chosen."""
    panel = make_panel(qtbot, tiny_model_file)
    add(qtbot, panel, photos)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.summary_label.text() == "Choose an output folder first."
    messages = []
    panel.message.connect(messages.append)
    panel.set_output_folder(env / "out")
    assert "Choose an output folder" not in panel.summary_label.text()
    assert messages == ["Output folder chosen; press Start."]  # the status bar's hint is replaced too


def _window(qtbot, model_file):
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.main_window import MainWindow

    s = settings_mod.load()
    s.run.model, s.run.steps = str(model_file), 1
    window = MainWindow(s, models=[])
    qtbot.addWidget(window)
    window.show()
    return window


def test_batch_dialogs_start_in_the_last_photo_folder(qtbot, env, photos, tiny_model_file, monkeypatch):
    """#32.7: Add photos and Choose output folder open where the last photo came from."""
    from PySide6.QtWidgets import QFileDialog

    window = _window(qtbot, tiny_model_file)
    with qtbot.waitSignal(window.photoLoaded, timeout=TIMEOUT):
        window.open_path(photos / "1972" / "c.png")
    seen = []
    monkeypatch.setattr(QFileDialog, "exec", lambda dialog: seen.append(dialog.directory().absolutePath()) and 0)
    panel = window.batch_panel
    panel.add_photos_dialog()
    panel.add_folder_dialog()
    panel.choose_output_dialog()
    assert seen == [str(photos / "1972")] * 3


def test_class_masks_are_one_setting_in_the_batch_and_the_file_menu(qtbot, env, tiny_model_file):
    """#32.7: the batch's Class masks box and File > Export class masks too are one setting."""
    window = _window(qtbot, tiny_model_file)
    action, box = window.actions_["export_masks"], window.batch_panel.masks_box
    assert action.isChecked() and box.isChecked()  # one default
    box.setChecked(False)
    assert not action.isChecked() and not window.settings.files.export_masks
    assert window.batch_panel.queue.masks is False
    action.trigger()
    assert box.isChecked() and window.settings.files.export_masks and window.batch_panel.queue.masks


def test_a_model_without_classes_writes_the_photos_and_says_why(qtbot, env, photos, tiny_model_file):
    """#32.7: Class masks ticked with a model that finds no classes: as an export does, the batch
    writes the photos and says why there are no masks (it did not start before)."""
    from conftest import make_tiny_model
    from segsr_gui.app.batch import RunParams
    from segsr_gui.engine.nets.weights import save_model

    plain = save_model(make_tiny_model(bridge=False), env / "models" / "plain", training={"note": "test"})
    panel = make_panel(qtbot, tiny_model_file)
    panel.run_config = lambda: (env / "models" / "plain.safetensors", RunParams(steps=1, device="cpu"))
    add(qtbot, panel, photos / "a.png")
    panel.set_output_folder(env / "out")
    panel.masks_box.setChecked(True)
    assert run(qtbot, panel) == "finished"
    assert panel.row_states() == ["done"] and sorted(p.name for p in (env / "out").iterdir()) == ["a_x4.png"]
    assert f"the model {plain['name']} does not find classes" in panel.summary_label.text()
