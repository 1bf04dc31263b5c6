"""Drive the real studio window (offscreen) with the tiny random model."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

pytestmark = pytest.mark.gui

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


def test_colours_choice_reaches_the_run(qtbot, window, photo, tiny_model_file):
    from segsr_gui.engine.diffusion.colour_fix import DEFAULT_SIGMA
    from segsr_gui.io.read import load_image
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    open_photo(qtbot, window, photo)
    window.run_panel.colours.setCurrentIndex(window.run_panel.colours.findData("keep"))
    assert run_to_end(qtbot, window) == "done"
    model = load_model(tiny_model_file).model
    kept = upscale(load_image(photo).rgb, model, seed=7, colour_sigma=DEFAULT_SIGMA)
    free = upscale(load_image(photo).rgb, model, seed=7, colour_sigma=0.0)
    assert np.array_equal(window.runs[0].result.image, kept.image)
    assert not np.array_equal(kept.image, free.image)


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
    assert not np.array_equal(mirrored.image, plain.image)


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
    window.run_panel.colours.setCurrentIndex(window.run_panel.colours.findData("keep"))
    window.run_panel.mirror.setChecked(True)
    window.view_panel.opacity.setValue(70)
    window.actions_["light"].trigger()
    window.resize(1000, 700)
    window.close()
    data = json.loads((env / "config" / "settings.json").read_text())
    assert data["schema_version"] == 1

    again = make_window(qtbot, tiny_model_file)
    from segsr_gui.ui import settings as settings_mod
    s = settings_mod.load()
    assert (s.run.steps, s.run.seed, s.run.preview_every, s.run.colours, s.run.mirror) == (5, 42, 2, "keep", True)
    assert s.view.theme == "light" and s.view.overlay_opacity == pytest.approx(0.7)
    assert s.files.recent == [str(photo.resolve())] and s.files.last_open_dir == str(photo.parent)
    assert again.run_panel.steps.value() == 5 and again.view_panel.opacity.value() == 70
    assert again.run_panel.colours.currentData() == "keep" and again.run_panel.mirror.isChecked()
    assert again.recent_menu.actions()[0].text() == photo.name
    QApplication.instance().setStyleSheet("")


def test_settings_validation(env, caplog):
    from segsr_gui.ui import settings as settings_mod

    path = settings_mod.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 1, "run": {"device": "tpu", "steps": 9, "bogus": 1,
                                                                   "colours": "sepia"},
                                "view": {"theme": "light"}, "extra": {}}))
    s = settings_mod.load()
    assert s.run.device == "auto" and s.run.steps == 9 and s.view.theme == "light" and s.run.colours == "model"
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
    assert names == ["photo_classes.png", "photo_legend.json", "photo_overlay.png", "photo_x4.png"]
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


def test_tile_size_box_holds_only_usable_sizes(qtbot, window):
    from segsr_gui.engine.inference.pipeline import MIN_TILE

    box = window.run_panel.tile
    box.setValue(0)
    assert box.text() == "Automatic"
    box.stepBy(1)  # up from Automatic: the smallest tile, not 32 px
    assert box.value() == MIN_TILE
    box.stepBy(1)
    assert box.value() == MIN_TILE + 32
    box.stepBy(-1)
    box.stepBy(-1)  # below the smallest tile: back to Automatic
    assert box.value() == 0
    box.clear()
    QTest.keyClicks(box, "40")
    box.editingFinished.emit()
    assert box.value() == MIN_TILE
    box.setValue(64)  # settings written by an older version
    assert box.value() == MIN_TILE
    assert str(MIN_TILE) in box.toolTip()


def test_live_class_maps_are_made_only_when_shown(qtbot, window, photo):
    """In the photo view no step's class map is made (the legend shows estimated shares, marked
    as such); scrubbing to a step with the class layer on makes its map and exact shares."""
    open_photo(qtbot, window, photo)
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


@pytest.fixture
def wide_photo(tmp_path):
    """A photo wide enough for two of the smallest tiles (issue 26)."""
    from PIL import Image

    from segsr_gui.engine.inference.pipeline import MIN_TILE

    yy, xx = np.mgrid[0:40, 0:MIN_TILE + 64]
    rgb = np.stack([(xx * 5) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], axis=2).astype(np.uint8)
    path = tmp_path / "wide.png"
    Image.fromarray(rgb).save(path)
    return path


def test_tiled_run_scrubs_by_step_over_the_whole_photo(qtbot, env, tiny_model_file, wide_photo):
    """#26.1: after a tiled run the scrubber moves by step, each step a whole-photo frame."""
    from segsr_gui.engine.inference.pipeline import MIN_TILE

    window = make_window(qtbot, tiny_model_file, seed=7, tile=MIN_TILE)
    open_photo(qtbot, window, wide_photo)
    assert run_to_end(qtbot, window) == "done"
    run = window.runs[0]
    assert len(run.frames) == 3 and window.scrubber.slider.maximum() == 2 and window.scrubber.isEnabled()
    bicubic = qimage_to_array(window.bicubic_image).astype(np.int16)
    halves = (slice(0, bicubic.shape[1] // 3), slice(2 * bicubic.shape[1] // 3, None))
    seen = []
    for i in range(3):
        window.scrubber.set_value(i)
        assert window.scrubber.label.text() == f"Step {i + 1}/3"
        shown = qimage_to_array(window.viewer.main.right).astype(np.int16)
        assert shown.shape == bicubic.shape  # the whole photo, not a tile
        for cols in halves:  # both tiles have reached this step
            assert np.abs(shown[:, cols] - bicubic[:, cols]).mean() > 1
        seen.append(shown)
        if i < 2:
            assert f"step {i + 1}" in window.viewer.main.right_label
    assert window.viewer.main.right is run.image
    for cols in halves:  # each step differs from the next everywhere
        assert np.abs(seen[0][:, cols] - seen[1][:, cols]).mean() > 0.5


def test_tiled_run_counts_and_paints_no_class_where_no_tile_has_been(qtbot, env, tiny_model_file, wide_photo):
    """#26.2: the unfinished area is no class: transparent in the overlay, left out of the shares."""
    from segsr_gui.engine.inference.pipeline import MIN_TILE
    from segsr_gui.io.masks import class_fractions
    from segsr_gui.ui.frames import NO_CLASS

    window = make_window(qtbot, tiny_model_file, seed=7, tile=MIN_TILE)
    open_photo(qtbot, window, wide_photo)
    window.view_panel.set_value("layer", "overlay")
    checked = []

    def on_step(index, total):
        f = window._live
        if f is None or f.tile_index != 0:
            return
        ids = f.classes.ids
        right = ids[:, -ids.shape[1] // 10:]
        assert (right == NO_CLASS).all() and (ids[:, :ids.shape[1] // 3] != NO_CLASS).all()
        overlay = window.viewer.main.overlay
        assert overlay.pixelColor(overlay.width() - 1, overlay.height() // 2).alpha() == 0
        assert overlay.pixelColor(2, overlay.height() // 2).alpha() == 255
        texts = [window.legend.item(i, 1).text() for i in range(window.legend.rowCount())]
        if index < total - 1:  # #32.4: no tile is finished yet, so no shares
            assert f.shares is None and set(texts) == {"\u2013"}
        else:
            known = ids[ids != NO_CLASS]
            assert np.allclose(f.shares, class_fractions(known, len(f.shares)))
            total_percent = sum(float(t.split()[-2]) for t in texts)
            assert abs(total_percent - 100) <= 0.5 * len(texts)  # whole percents: an estimate
        checked.append(index)

    window.stepShown.connect(on_step)
    assert run_to_end(qtbot, window) == "done"
    assert checked == [0, 1, 2]
    for frame in window.runs[0].frames:  # every step's frame has every tile: no unclassed pixel
        assert not (frame.classes.ids == NO_CLASS).any()


def test_window_run_falls_back_to_smaller_tiles_when_out_of_memory(qtbot, env, tiny_model_file, wide_photo,
                                                                   monkeypatch):
    """#26.7: the window's run takes the batch queue's road: out of memory, smaller tiles."""
    from segsr_gui.engine.inference import runner
    from segsr_gui.engine.inference.pipeline import MIN_TILE

    real, tries = runner.iter_upscale, []

    def short_of_memory(rgb, model, *, tile=None, **kwargs):
        tries.append(tile)
        if not tile or tile > MIN_TILE:
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate; out of memory")
        return (yield from real(rgb, model, tile=tile, **kwargs))

    monkeypatch.setattr(runner, "iter_upscale", short_of_memory)
    window = make_window(qtbot, tiny_model_file, seed=7)
    open_photo(qtbot, window, wide_photo)
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    assert run_to_end(qtbot, window) == "done"
    assert tries == [0, MIN_TILE]
    run = window.runs[0]
    assert run.tile == MIN_TILE and run.result.image.shape == (160, 4 * (MIN_TILE + 64), 3)
    assert any("out of memory" in m.lower() and str(MIN_TILE) in m for m in messages)
    assert any(str(MIN_TILE) in n for n in run.notes)
    assert len(run.frames) == 3 and window.scrubber.slider.maximum() == 2


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


def test_live_shares_of_a_tiled_run_count_finished_tiles_and_are_marked(qtbot, env, tiny_model_file, wide_photo):
    """#32.4: during a tiled run the legend's shares come from the finished tiles only, every
    one marked "\u2248", and the header says how many tiles they count; the result's are exact."""
    from segsr_gui.engine.inference.pipeline import MIN_TILE
    from segsr_gui.io.masks import class_fractions
    from segsr_gui.ui.frames import NO_CLASS

    window = make_window(qtbot, tiny_model_file, seed=7, tile=MIN_TILE)
    open_photo(qtbot, window, wide_photo)
    seen, first_tile = [], {}

    def on_step(index, total):
        f = window._live
        texts = [window.legend.item(i, 1).text() for i in range(window.legend.rowCount())]
        header = window.legend.horizontalHeaderItem(1).text()
        seen.append((f.tile_index, index, header))
        if f.tile_index == 0 and index == total - 1:
            first_tile["ids"] = f.classes.ids.copy()
        if f.tile_index == 0 and index < total - 1:
            assert set(texts) == {"\u2013"} and header == "Share (after the first tile)"
        else:
            assert all(t.startswith("\u2248 ") for t in texts), texts
            assert header == f"Share ({1 if f.tile_index == 0 or index < total - 1 else 2}/2 tiles done)"
        if f.tile_index == 1 and index < total - 1:  # the second tile's early steps do not count
            done = first_tile["ids"][first_tile["ids"] != NO_CLASS]
            assert np.allclose(f.shares, class_fractions(done, len(f.shares)))

    window.stepShown.connect(on_step)
    assert run_to_end(qtbot, window) == "done"
    assert [s[:2] for s in seen] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    texts = [window.legend.item(i, 1).text() for i in range(window.legend.rowCount())]
    assert window.legend.horizontalHeaderItem(1).text() == "Share"
    assert all(t.endswith(" %") and "\u2248" not in t for t in texts)


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
