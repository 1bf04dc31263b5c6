"""The entry point: ``segsr-gui --screenshot OUT.png IMAGE`` runs the pipeline and saves the window."""

import sys
import threading

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

pytestmark = pytest.mark.gui


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGSR_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SEGSR_STUDIO_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    yield tmp_path
    QApplication.instance().setStyleSheet("")


def test_screenshot_mode_runs_and_saves(qapp, env, tiny_model_file, photo):
    from segsr_gui.ui.app import main

    out = env / "shot.png"
    code = main(["--screenshot", str(out), "--model", str(tiny_model_file), "--theme", "light",
                 "--layer", "overlay", "--size", "800x600", str(photo)])
    assert code == 0
    img = QImage(str(out))
    assert not img.isNull() and img.width() >= 800
    assert (env / "log" / "segsr-studio.log").exists()


def test_screenshot_mid_run_closes_without_a_question(qapp, env, tiny_model_file, photo):
    """#32.2: the window asks before closing mid-run, but the screenshot mode does not."""
    from PySide6.QtCore import QTimer

    from segsr_gui.ui.app import main

    asked = []

    def close_questions():  # a question would wait for a user for ever: note it and close it
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.isVisible():
                asked.append(w.text())
                w.reject()

    timer = QTimer()
    timer.timeout.connect(close_questions)
    timer.start(200)
    out = env / "mid.png"
    code = main(["--screenshot", str(out), "--screenshot-step", "1", "--steps", "12", "--model",
                 str(tiny_model_file), "--size", "800x600", str(photo)])
    timer.stop()
    assert code == 0 and asked == [] and not QImage(str(out)).isNull()


def test_missing_model_gives_dialog(qtbot, env, photo):
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.main_window import MainWindow

    s = settings_mod.Settings()
    s.run.model = "no-such-model"
    window = MainWindow(s, models=[])
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.photoLoaded, timeout=60000):
        window.open_path(photo)
    window.run_panel.set_models([])  # as if no model were installed at all
    import segsr_gui.engine.nets.weights as weights
    orig = weights.list_models
    weights.list_models = lambda folder=None: []
    try:
        window.start_run()
    finally:
        weights.list_models = orig
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes and "No model" in boxes[0].windowTitle()
    boxes[0].close()
    assert not window.running and window.run_panel.run_button.isEnabled()


def test_unhandled_exception_becomes_dialog(qtbot, env):
    from segsr_gui.ui.error_dialog import install_excepthook

    install_excepthook()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()))
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "Something went wrong" in box.text() and "boom" in box.detailedText()
    assert "Traceback" not in box.text()
    box.close()


def test_screenshot_mode_bad_image_exits_nonzero(qapp, env, tiny_model_file):
    from segsr_gui.ui.app import main

    bad = env / "bad.png"
    bad.write_bytes(b"nope")
    assert main(["--screenshot", str(env / "s.png"), "--model", str(tiny_model_file), str(bad)]) == 1
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox):
            w.close()


def test_setup_script_sets_up_once_then_starts_quietly(tmp_path):
    """#26.6: `setup.sh run` installs only the first time (or when pyproject.toml changes),
    with pip's and setuptools' noise in .venv/setup.log; later starts go straight to the app."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    repo = tmp_path / "repo"
    (repo / "packaging").mkdir(parents=True)
    shutil.copy(root / "packaging" / "setup.sh", repo / "packaging" / "setup.sh")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_ = repo / ".venv" / "bin"
    bin_.mkdir(parents=True)
    calls = tmp_path / "calls"
    fakes = {"python": 'echo "python $*" >> "$CALLS"\n'
                       'case "$*" in *"pip install"*) for i in $(seq 80); do echo "SetuptoolsDeprecationWarning $i" >&2;'
                       ' done;; esac\n',
             "segsr-gui": 'echo "gui $*" >> "$CALLS"\n',
             # the pretrained nets' import (its real run downloads 49 MB): it leaves the files behind
             "segsr": 'echo "segsr $*" >> "$CALLS"\nmkdir -p pretrained && touch pretrained/realesrgan_x4plus.safetensors'
                      ' pretrained/selfie_segmentation.safetensors\n'}
    for name, body in fakes.items():
        (bin_ / name).write_text("#!/bin/sh\n" + body)
        (bin_ / name).chmod(0o755)
    env = dict(os.environ, CALLS=str(calls))
    env.pop("QT_QPA_PLATFORM", None)

    def setup(*args):
        done = subprocess.run(["bash", str(repo / "packaging" / "setup.sh"), *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        lines = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return lines, (done.stdout + done.stderr).strip().splitlines()

    lines, shown = setup("run", "old.png")
    assert sum("pip install" in line for line in lines) == 3 and lines[-1].startswith("gui old.png")
    assert "segsr import-pretrained --only x4plus --only selfie --out pretrained" in lines  # once, at set-up
    assert len(shown) == 2 and "setup.log" in shown[0] and "pretrained nets" in shown[1]  # no warnings
    assert "SetuptoolsDeprecationWarning 80" in (repo / ".venv" / "setup.log").read_text()
    lines, shown = setup("run", "old.png")
    assert lines == ["gui old.png"] and shown == []  # set up already: straight to the app
    (repo / "pretrained" / "selfie_segmentation.safetensors").unlink()  # a checkout from before the prior
    lines, shown = setup("run", "old.png")
    assert lines == ["segsr import-pretrained --only selfie --out pretrained", "gui old.png"] and len(shown) == 1
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    lines, shown = setup("test")
    assert sum("pip install" in line for line in lines) == 3
    assert [line.split()[:3] for line in lines if "pytest" in line] == [["python", "-m", "pytest"]] * 2
    lines, shown = setup("test")
    assert len(lines) == 2 and shown == []
