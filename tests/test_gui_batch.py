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
    assert run(qtbot, panel) == "finished"
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
