"""What the window tests share: a fresh settings folder, the window on the tiny model, and waits
for a photo to open and a run to end."""

import numpy as np
import pytest
from PySide6.QtGui import QImage

TIMEOUT = 60000  # a ceiling only: runs take ~1 s on an idle machine, far longer on a loaded one


def qimage_to_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(bytes(img.constBits()), np.uint8).reshape(h, bpl)[:, :3 * w].reshape(h, w, 3).copy()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGSR_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SEGSR_STUDIO_LOG_DIR", str(tmp_path / "log"))
    return tmp_path


def make_window(qtbot, model_file, **run):
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.main_window import MainWindow

    s = settings_mod.load()
    s.run.model = str(model_file)
    for key, value in run.items():
        setattr(s.run, key, value)
    window = MainWindow(s, models=[])
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    return window


@pytest.fixture
def window(qtbot, env, tiny_model_file):
    return make_window(qtbot, tiny_model_file, seed=7)


def open_photo(qtbot, window, path):
    with qtbot.waitSignal(window.photoLoaded, timeout=TIMEOUT):
        window.open_path(path)


def run_to_end(qtbot, window) -> str:
    with qtbot.waitSignal(window.runFinished, timeout=TIMEOUT) as blocker:
        window.start_run()
    return blocker.args[0]
