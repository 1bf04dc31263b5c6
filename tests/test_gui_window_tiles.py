"""The window on photos cut into tiles: the tile size box, scrubbing and live shares of a tiled
run, and falling back to smaller tiles."""

import numpy as np
import pytest
from PySide6.QtTest import QTest

from _gui import env, make_window, open_photo, qimage_to_array, run_to_end, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


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
    window.view_panel.set_value("layer", "mask")
    seen = []
    for i in range(3):
        window.scrubber.set_value(i)
        assert window.scrubber.label.text() == f"Step {i + 1}/3"
        shown = qimage_to_array(window.viewer.main.right).astype(np.int16)
        assert shown.shape == bicubic.shape  # the whole photo, not a tile
        ids = run.frames[i].classes.ids
        for cols in halves:  # both tiles have reached this step: classes everywhere
            assert ids.shape[:2] == bicubic.shape[:2] and (ids[:, cols] < 11).all()
        seen.append(ids)
        if i < 2:
            assert f"step {i + 1}" in window.viewer.main.right_label
    assert window.viewer.main.right is run.image
    assert all(ids is not seen[0] for ids in seen[1:])  # a map of its own per step


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
