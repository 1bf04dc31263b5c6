"""The window's files: opening (drop, paste, bad files), settings across restarts, and export
(never overwriting, where the dialogs start, alpha and masks)."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from _gui import TIMEOUT, env, make_window, open_photo, run_to_end, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_drag_and_drop_opens_file(qtbot, window, photo):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.photoLoaded, timeout=TIMEOUT) as blocker:
        window.dropEvent(event)
    assert blocker.args[0] == str(photo)
    assert window.photo is not None and window.viewer.transform.image_size.width() == 192


def test_paste_image_opens_it(qtbot, window):
    img = QImage(20, 16, QImage.Format.Format_RGB888)
    img.fill(Qt.GlobalColor.darkCyan)
    QApplication.clipboard().setImage(img)
    with qtbot.waitSignal(window.photoLoaded, timeout=TIMEOUT):
        window.paste()
    assert window.photo.size == (20, 16)


def test_settings_survive_restart(qtbot, env, tiny_model_file, photo):
    window = make_window(qtbot, tiny_model_file)
    open_photo(qtbot, window, photo)
    window.run_panel.steps.setValue(5)
    window.run_panel.seed.setValue(42)
    window.run_panel.preview_every.setValue(2)
    window.run_panel.mirror.setChecked(True)
    window.view_panel.opacity.setValue(70)
    window.actions_["light"].trigger()
    window.resize(1000, 700)
    window.close()
    data = json.loads((env / "config" / "settings.json").read_text())
    assert data["schema_version"] == 2

    again = make_window(qtbot, tiny_model_file)
    from segsr_gui.ui import settings as settings_mod
    s = settings_mod.load()
    assert (s.run.steps, s.run.seed, s.run.preview_every, s.run.mirror) == (5, 42, 2, True)
    assert s.view.theme == "light" and s.view.overlay_opacity == pytest.approx(0.7)
    assert s.files.recent == [str(photo.resolve())] and s.files.last_open_dir == str(photo.parent)
    assert again.run_panel.steps.value() == 5 and again.view_panel.opacity.value() == 70
    assert again.run_panel.mirror.isChecked()
    assert again.recent_menu.actions()[0].text() == photo.name
    QApplication.instance().setStyleSheet("")


def test_settings_validation(env, caplog):
    from segsr_gui.ui import settings as settings_mod

    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 1, "run": {"device": "tpu", "steps": 9, "bogus": 1,
                                                                   "seed_mode": "sepia"},
                                "view": {"theme": "light"}, "extra": {}}))
    s = settings_mod.load()
    assert s.run.device == "auto" and s.run.steps == 9 and s.view.theme == "light" and s.run.seed_mode == "fixed"
    assert "tpu" in caplog.text and "bogus" in caplog.text
    assert path.read_text().count("bogus") == 1  # reading writes nothing
    path.write_text("{not json")
    assert settings_mod.load() == settings_mod.Settings()


def test_bad_file_gives_dialog_not_crash(qtbot, window, env, photo):
    bad = env / "broken.jpg"
    bad.write_bytes(b"this is not a photo")
    window.open_path(bad)

    def dialog():
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        assert boxes
        return boxes[0]

    qtbot.waitUntil(lambda: dialog() is not None, timeout=TIMEOUT)
    box = dialog()
    assert "broken.jpg" in box.text() and "Traceback" not in box.text()
    from segsr_gui.ui.error_dialog import log_file
    assert log_file() is None or str(log_file()) in box.informativeText()  # set up once per process
    box.close()
    assert window.photo is None
    open_photo(qtbot, window, photo)  # still usable
    assert window.photo is not None


def test_export_never_overwrites_silently(qtbot, window, photo, env):
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    out = env / "out"
    out.mkdir()
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as first:
        assert window.export_to(out, "photo", "png")
    names = sorted(p.name for p in first.args[0])
    fixed = [n for n in names if not n.startswith("photo_mask_")]
    assert fixed == ["photo_classes.png", "photo_legend.json", "photo_overlay.png", "photo_x4.png"]
    assert len(names) > len(fixed)  # one black-and-white mask per class found
    mtime = (out / "photo_x4.png").stat().st_mtime_ns
    assert not window.export_to(out, "photo", "png", ask=lambda existing: "cancel")
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as second:
        assert window.export_to(out, "photo", "png", ask=lambda existing: "keep")
    assert (out / "photo-2_x4.png").exists() and (out / "photo_x4.png").stat().st_mtime_ns == mtime


def test_opening_another_photo_mid_run_drops_the_old_run(qtbot, env, tiny_model_file, photo, tmp_path):
    from PIL import Image

    other = tmp_path / "other.png"
    Image.new("RGB", (24, 20), (90, 120, 40)).save(other)
    window = make_window(qtbot, tiny_model_file, steps=12)
    open_photo(qtbot, window, photo)
    with qtbot.waitSignal(window.stepShown, timeout=TIMEOUT):
        window.start_run()
    with qtbot.waitSignal(window.runFinished, timeout=TIMEOUT):
        window.open_path(other)
    qtbot.waitUntil(lambda: window.photo_path == other, timeout=TIMEOUT)
    assert window.runs == [] and window.photo.size == (24, 20)
    assert window.viewer.transform.image_size.width() == 96


def _accept_file_dialogs(monkeypatch, answer, seen):
    """Stand in for the user in the app's file dialogs: note each dialog, choose ``answer``."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QFileDialog

    def exec_(dialog):
        seen.append((dialog.directory().absolutePath(), dialog.testOption(QFileDialog.Option.DontConfirmOverwrite),
                     dialog.acceptMode()))
        dialog.selectFile(str(answer()))
        return 1

    monkeypatch.setattr(QFileDialog, "exec", exec_)
    # a dialog the app opens some other way is closed rather than left waiting for a user
    QTimer.singleShot(20000, lambda: [w.reject() for w in QApplication.topLevelWidgets()
                                      if isinstance(w, QFileDialog) and w.isVisible()])


def test_export_asks_once_and_starts_in_the_export_folder(qtbot, window, photo, env, monkeypatch):
    """#26.4: one question about existing files (the app's), and the dialog opens in the last
    export folder or a `restored` folder in Pictures, never beside the original."""
    import platformdirs
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(platformdirs, "user_pictures_dir", lambda: str(env / "Pictures"))
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    seen, asked = [], []
    target = env / "Pictures" / "restored" / "photo_x4.png"
    _accept_file_dialogs(monkeypatch, lambda: target, seen)
    monkeypatch.setattr(window.exporter, "ask_replace", lambda existing: asked.append(existing) or "replace")
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_dialog()
    folder, no_qt_question, mode = seen[0]
    assert folder == str(env / "Pictures" / "restored") != str(photo.parent)
    assert no_qt_question and mode == QFileDialog.AcceptMode.AcceptSave and asked == []
    assert target.exists()

    other = env / "elsewhere"
    other.mkdir()
    target = other / "photo_x4.png"
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_dialog()
    assert seen[1][0] == str(env / "Pictures" / "restored")  # the last export folder
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        window.export_dialog()  # over the existing file: the app asks, once
    assert seen[2][0] == str(other) and seen[2][1] and len(asked) == 1


def test_file_dialogs_show_whole_columns(qtbot, env):
    """#26.5: the file dialog's Size and Type columns are as wide as their contents."""
    from PySide6.QtWidgets import QTreeView

    from segsr_gui.ui.file_dialogs import make_open_dialog

    for i in range(3):
        (env / f"a photo with a rather long name {i}.png").write_bytes(b"\0" * (1000 ** i))
    dialog = make_open_dialog(None, "Open a photo", str(env), "Photos (*.png)")
    qtbot.addWidget(dialog)
    dialog.show()
    tree = dialog.findChild(QTreeView, "treeView")
    qtbot.waitUntil(lambda: tree.model().rowCount(tree.rootIndex()) >= 3, timeout=TIMEOUT)
    header = tree.header()
    qtbot.waitUntil(lambda: header.sectionSize(1) >= tree.sizeHintForColumn(1), timeout=TIMEOUT)
    for column in range(header.count()):  # Name, Size, Type, Date Modified
        assert header.sectionSize(column) >= max(tree.sizeHintForColumn(column), header.sectionSizeHint(column))
    dialog.close()


def test_rgba_photo_without_transparent_pixels_is_exported_as_rgba(qtbot, window, env):
    """#32.6: an RGBA photo keeps its alpha channel even when no pixel is transparent."""
    from PIL import Image

    rgba = np.full((12, 14, 4), 255, np.uint8)
    rgba[..., 0] = np.arange(14, dtype=np.uint8)[None] * 15
    Image.fromarray(rgba).save(env / "opaque.png")
    open_photo(qtbot, window, env / "opaque.png")
    run_to_end(qtbot, window)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        assert window.export_to(env / "out", "opaque", "png")
    out = Image.open(env / "out" / "opaque_x4.png")
    assert out.mode == "RGBA" and out.size == (56, 48)
    assert np.asarray(out)[..., 3].min() == 255


def _canvas_colours(canvas, points) -> list:
    """The colours on screen at image points of ``canvas`` (grabbed as drawn)."""
    shot = canvas.grab().toImage()
    ratio = shot.devicePixelRatio()
    out = []
    for x, y in points:
        v = canvas.to_view(QPointF(x, y))
        out.append(shot.pixelColor(int(v.x() * ratio), int(v.y() * ratio)).getRgb()[:3])
    return out


def test_transparent_areas_are_drawn_over_a_checkerboard(qtbot, window, env):
    """#32.5: the viewer draws a photo's transparent area over a checkerboard (before and
    after the run), its opaque area as it is."""
    from PIL import Image

    from segsr_gui.ui.image_canvas import CHECKER

    rgba = np.zeros((12, 16, 4), np.uint8)
    rgba[..., 0] = 230  # red under the transparent half
    rgba[:, 8:] = (20, 200, 40, 255)  # opaque green
    Image.fromarray(rgba).save(env / "cut.png")
    open_photo(qtbot, window, env / "cut.png")
    window.view_panel.set_value("layer", "photo")  # the colour check assumes no class tint
    checker = {c.getRgb()[:3] for c in CHECKER}
    canvas = window.viewer.main
    # scene pixels (x4): the transparent half is x < 32, the opaque one x >= 32
    transparent = [(x + 0.5, y + 0.5) for x in range(2, 28, 3) for y in range(4, 44, 3)]
    for stage in ("before the run", "after the run"):
        seen = _canvas_colours(canvas, transparent)
        assert set(seen) <= checker and len(set(seen)) == 2, stage
        r, g, b = _canvas_colours(canvas, [(50.5, 24.5)])[0]
        assert g > 150 and r < 100, stage
        if stage == "before the run":
            run_to_end(qtbot, window)
            window.view_panel.set_value("compare", "off")


def test_export_without_classes_says_why_there_are_no_masks(qtbot, env, tiny_model_file, photo):
    """#32.7: a model without classes, masks ticked: the photo is saved and the status bar
    says why no masks were written."""
    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import save_model

    plain = env / "models" / "plain"
    save_model(make_tiny_model(bridge=False), plain, training={"note": "test"})
    window = make_window(qtbot, plain.with_suffix(".safetensors"), seed=7)
    assert window.actions_["export_masks"].isChecked()
    open_photo(qtbot, window, photo)
    run_to_end(qtbot, window)
    messages = []
    window.exporter.message.connect(messages.append)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as done:
        assert window.export_to(env / "out", "photo", "png")
    assert [p.name for p in done.args[0]] == ["photo_x4.png"]
    assert "No class masks" in messages[-1] and "plain does not find classes" in messages[-1]
