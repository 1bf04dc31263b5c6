"""#36 walkthrough 3: the experts' work is shown piece by piece, the first estimate as soon as it
exists, and the time left comes from the run's measured work (``app.pace``)."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from _gui import env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture


@pytest.fixture
def wide_photo(tmp_path):
    """Two of the smallest tiles wide."""
    from segsr_gui.engine.inference.pipeline import MIN_TILE

    yy, xx = np.mgrid[0:40, 0:MIN_TILE + 64]
    rgb = np.stack([(xx * 5) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], axis=2).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    return tmp_path / "wide.png"


def test_experts_pieces_come_first_cover_the_photo_and_change_nothing(tiny_model, wide_photo):
    from segsr_gui.engine.inference.drain import drain
    from segsr_gui.engine.inference.pipeline import MIN_TILE, ExpertsProgress, iter_upscale, upscale
    from segsr_gui.io.read import load_image

    rgb = load_image(wide_photo).rgb
    events = []
    result = drain(iter_upscale(rgb, tiny_model, steps=2, seed=3, tile=MIN_TILE, expert_progress=True),
                   events.append)
    plain = upscale(rgb, tiny_model, steps=2, seed=3, tile=MIN_TILE)
    assert np.array_equal(result.image, plain.image) and np.array_equal(result.class_map, plain.class_map)
    experts = [e for e in events if isinstance(e, ExpertsProgress)]
    steps = events[len(experts):]
    assert len(experts) == 2 and events[:2] == experts and not any(isinstance(e, ExpertsProgress) for e in steps)
    covered = np.zeros(rgb.shape[:2], int)
    for e in experts:
        b = e.box
        covered[b.top:b.top + b.height, b.left:b.left + b.width] += 1
        assert tuple(e.estimate.shape[-2:]) == (4 * b.height, 4 * b.width)
    assert (covered == 1).all()  # every LR pixel once
    done = [e.work_done for e in experts]
    assert done == sorted(done) and done[-1] == experts[-1].work_total
    work = [e.work_done for e in steps]
    assert len(steps) == 4 and work == sorted(work) and work[-1] == steps[-1].work_total
    assert work[0] < work[1] and work[1] - work[0] == steps[0].box.height * steps[0].box.width


def _expert_event(index, done, total):
    return SimpleNamespace(index=index, pieces=2, work_done=done, work_total=total)


def _step_event(index, done, total):
    return SimpleNamespace(step=SimpleNamespace(index=index, total=3), tile_index=0, tiles=1, work_done=done,
                           work_total=total)


def test_time_left_is_each_phases_own_measured_pace():
    """20 s of experts then 1 s a step: the steps' time left is not the experts' pace."""
    from segsr_gui.app.pace import RunPace

    pace = RunPace(0.0)
    first = pace.update(_expert_event(0, 100, 200), 10.0)
    assert first.label == "Experts: 1/2 tiles done" and first.fraction == 0.5
    assert first.seconds_left is None and first.experts_left == pytest.approx(10.0)
    assert pace.update(_expert_event(1, 200, 200), 20.0).experts_left == 0
    step = pace.update(_step_event(0, 10, 30), 21.0)  # the first step: 1 s for 10 units
    assert step.label == "Step 1/3" and step.seconds_left == pytest.approx(2.0)
    step = pace.update(_step_event(1, 20, 30), 23.0)  # then 2 s for 10: the pace since the first step
    assert step.seconds_left == pytest.approx(2.0)
    assert step.photo_fraction == pytest.approx(23 / 25)


@pytest.mark.gui
def test_window_shows_the_experts_estimate_before_step_one(qtbot, env, tiny_model_file, wide_photo):
    from PySide6.QtCore import QObject, Slot

    from segsr_gui.engine.inference.pipeline import MIN_TILE

    window = make_window(qtbot, tiny_model_file, seed=7, tile=MIN_TILE)
    open_photo(qtbot, window, wide_photo)
    seen = []

    class Recorder(QObject):  # lives on the GUI thread: the worker's signals reach it queued
        @Slot(object)
        def pace(self, report):
            seen.append(("pace", report.label, window.progress.time_label.text()))

        @Slot(object)
        def estimate(self, frame):
            seen.append(("estimate", window.viewer.main.right_label, window.viewer.main.right is frame.image))

    recorder = Recorder()

    def on_busy(busy):  # before the worker starts: it is made, not yet running
        if busy:
            window._worker.paced.connect(recorder.pace)
            window._worker.estimated.connect(recorder.estimate)

    window.busyChanged.connect(on_busy)
    window.stepShown.connect(lambda i, n: seen.append(("step", i)))
    assert run_to_end(qtbot, window) == "done"
    kinds = [s[0] for s in seen]
    assert kinds.index("estimate") < kinds.index("step")
    estimates = [s for s in seen if s[0] == "estimate"]
    assert len(estimates) == 2
    assert all(shown and "the experts' estimate" in label for _, label, shown in estimates)
    paces = [s for s in seen if s[0] == "pace"]
    assert paces[0][1] == "Experts: 1/2 tiles done" and "experts: about" in paces[0][2]
    assert paces[-1][1] == "Step 3/3  (tile 2/2)" and "about 0:0" in paces[-1][2]


def test_batch_progress_starts_with_the_experts_and_only_goes_up(tmp_path, tiny_model_file, photo):
    from segsr_gui.app import batch
    from segsr_gui.app.export import studio_options
    from segsr_gui.engine.nets.weights import load_model

    loaded = load_model(tiny_model_file, device="cpu")
    plan = [batch.PlannedItem(0, photo, tmp_path / "out", None, {photo.resolve()})]
    events = []
    assert batch.run_batch(plan, loaded, studio_options(), batch.RunParams(steps=2), events.append,
                           expert_progress=True) == "finished"
    progress = [e for e in events if e.kind == "progress"]
    assert progress[0].reason == "experts 1/1" and progress[0].fraction == 0.0
    assert [e.reason for e in progress[1:]] == ["tile 1/1 step 1/2", "tile 1/1 step 2/2"]
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1
