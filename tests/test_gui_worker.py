"""The QThread worker on its own, like superqt's test_threadworker."""

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def request_(tiny_model_file):
    from segsr_gui.ui.worker import RunRequest

    rgb = np.random.default_rng(0).random((16, 24, 3), dtype=np.float32)
    return RunRequest(rgb, tiny_model_file, seed=3)


def run_to_end(qtbot, request, show_classes: bool = False):
    """Run one UpscaleWorker on its thread; (frames it yielded, its RunOutput)."""
    from segsr_gui.ui.worker import JobRunner, UpscaleWorker

    runner = JobRunner()
    worker = UpscaleWorker(request)
    worker.show_classes(show_classes)
    frames = []
    worker.yielded.connect(frames.append)
    with qtbot.waitSignal(worker.returned, timeout=60000) as blocker:
        runner.start(worker)
    qtbot.waitUntil(lambda: not runner.busy)
    return frames, blocker.args[0]


def test_worker_signals_in_order(qtbot, request_):
    from segsr_gui.ui.worker import JobRunner, UpscaleWorker

    runner = JobRunner()
    worker = UpscaleWorker(request_)
    frames = []
    worker.yielded.connect(frames.append)
    with qtbot.waitSignals([worker.started] + [worker.yielded] * 3 + [worker.returned, worker.done],
                           order="strict", timeout=60000):
        runner.start(worker)
    qtbot.waitUntil(lambda: not runner.busy)
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[-1].image.width() == 96 and frames[-1].classes is not None
    assert abs(frames[-1].shares.sum() - 1) < 1e-6


def test_worker_preview_every_and_abort(qtbot, request_):
    from segsr_gui.ui.worker import JobRunner, UpscaleWorker

    request_.steps, request_.preview_every = 6, 4
    runner = JobRunner()
    worker = UpscaleWorker(request_)
    frames = []
    worker.yielded.connect(frames.append)
    with qtbot.waitSignal(worker.returned, timeout=60000) as blocker:
        runner.start(worker)
    assert [f.index for f in frames] == [3, 5]
    assert [f.index for f in blocker.args[0].frames] == [3, 5]

    request_.preview_every = 1
    worker = UpscaleWorker(request_)
    worker.yielded.connect(lambda f: worker.abort())
    with qtbot.waitSignals([worker.aborted, worker.done], order="strict", timeout=60000):
        runner.start(worker)
    qtbot.waitUntil(lambda: not runner.busy)


def test_worker_reports_errors(qtbot, tmp_path, request_):
    from segsr_gui.ui.worker import JobRunner, UpscaleWorker

    request_.model_path = tmp_path / "missing.safetensors"
    runner = JobRunner()
    worker = UpscaleWorker(request_)
    with qtbot.waitSignal(worker.errored, timeout=60000) as blocker:
        runner.start(worker)
    qtbot.waitUntil(lambda: not runner.busy)
    message, details = blocker.args
    assert "not found" in message and "Traceback" not in message and "Traceback" in details


def test_preview_conversions_match_the_torch_reference():
    import numpy as np
    import torch

    from segsr_gui.ui.convert import logits_to_ids, tensor_to_rgb

    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 20, 30, generator=g) * 2.4 - 1.2  # values past [-1, 1] are clipped
    logits = torch.randn(1, 11, 20, 30, generator=g)
    ref = ((x[0, :, :17, :25].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(tensor_to_rgb(x, 17, 25), ref)
    ids = logits_to_ids(logits, 17, 25)
    assert ids.dtype == np.uint8 and ids.shape == (17, 25)
    assert np.array_equal(ids, logits[0, :, :17, :25].argmax(0).numpy())


def test_noisy_state_is_converted_only_when_looked_at(qtbot, request_):
    """An untiled run keeps x_t and makes its image on first use; a tiled run records it only
    while the window asks (show_noisy), so the live preview does not pay for a hidden view."""
    import torch

    from segsr_gui.ui.convert import _qimage_view, tensor_to_rgb
    from segsr_gui.ui.worker import JobRunner, UpscaleWorker

    runner = JobRunner()
    worker = UpscaleWorker(request_)
    frames = []
    worker.yielded.connect(frames.append)
    with qtbot.waitSignal(worker.returned, timeout=60000):
        runner.start(worker)
    qtbot.waitUntil(lambda: not runner.busy)
    first = frames[0]
    assert first.noisy is None and first.x_t is not None  # nothing converted during the run
    x_t = first.x_t.clone()
    image = first.noisy_image()
    assert first.noisy_image() is image and first.x_t is None  # made once, tensor released
    assert np.array_equal(_qimage_view(image, 3), tensor_to_rgb(x_t, 64, 96))
    assert not torch.equal(x_t, frames[-1].x_t)  # each step keeps its own state

    # A photo big enough for two of the smallest tiles.
    from segsr_gui.engine.inference.pipeline import MIN_TILE

    request_.rgb = np.random.default_rng(1).random((16, MIN_TILE + 64, 3), dtype=np.float32)
    request_.tile, request_.steps = MIN_TILE, 2
    for wanted in (False, True):
        worker = UpscaleWorker(request_)
        worker.show_noisy(wanted)
        tiled = []
        worker.yielded.connect(tiled.append)
        with qtbot.waitSignal(worker.returned, timeout=60000):
            runner.start(worker)
        qtbot.waitUntil(lambda: not runner.busy)
        assert tiled[-1].tiles > 1
        assert all((f.noisy_image() is not None) == wanted for f in tiled)
        # the canvas of ids is written again by later tiles: each frame keeps its own copy
        assert len({id(f.classes.ids) for f in tiled}) == len(tiled)
        assert not np.array_equal(tiled[0].classes.ids, tiled[-1].classes.ids)


@pytest.fixture
def three_torch_threads():
    """Three bands for the conversions below, whatever this machine has."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(before)


def test_conversions_in_row_bands_match_one_pass(three_torch_threads):
    """The per-step conversions run in bands on several threads; each row exactly once."""
    import torch

    from segsr_gui.io.masks import class_ids
    from segsr_gui.ui.convert import (
        colour_ids, in_row_bands, logits_to_ids, qimage_pixels, rgb_to_qimage, tensor_to_rgb,
    )

    seen = []
    in_row_bands(lambda rows: seen.append((rows.start, rows.stop)), 200)
    assert len(seen) == 3 and sorted(seen)[0][0] == 0 and sorted(seen)[-1][1] == 200
    assert sum(b - a for a, b in seen) == 200 and len({a for a, _ in seen}) == 3

    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 210, 70, generator=g) * 2.4 - 1.2
    logits = torch.randn(1, 11, 210, 70, generator=g)
    ref = ((x[0, :, :200, :64].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(tensor_to_rgb(x, 200, 64), ref)
    ids = logits_to_ids(logits, 200, 64)
    assert np.array_equal(ids, class_ids(logits[0, :, :200, :64].numpy()))
    canvas = np.full((220, 80), 99, np.uint8)  # into a view: the pixels around stay
    logits_to_ids(logits, 200, 64, out=canvas[10:210, 8:72])
    assert np.array_equal(canvas[10:210, 8:72], ids) and (canvas[:10] == 99).all() and (canvas[:, :8] == 99).all()

    rgb = np.random.default_rng(2).random((200, 33, 3)).astype(np.float32)
    assert np.array_equal(qimage_pixels(rgb_to_qimage(rgb)), np.round(rgb * 255).astype(np.uint8))
    # out of range and float64 (every channel clipped, not only the first), into padded rows
    wide = np.random.default_rng(3).uniform(-0.3, 1.3, (31, 33, 3))
    assert np.array_equal(qimage_pixels(rgb_to_qimage(wide)), np.round(np.clip(wide, 0, 1) * 255).astype(np.uint8))
    palette = [(10 * i, 5 * i, 255 - i) for i in range(11)]
    coloured = colour_ids(ids, palette)  # held: the view below reads its pixels
    view = np.frombuffer(coloured.bits(), np.uint32).reshape(200, -1)[:, :64]
    assert (view >> 24 == 255).all() and np.array_equal((view >> 16) & 255, ids.astype(np.uint32) * 10)


def test_untiled_frames_end_on_the_result_and_keep_their_own_classes(qtbot, request_):
    """The last step's frame is the result itself (converted once), and each frame's class
    ids are its own: hiding a class on an earlier step must colour that step's map."""
    from segsr_gui.ui.convert import qimage_pixels

    frames, out = run_to_end(qtbot, request_)
    assert [f.index for f in out.frames] == [0, 1, 2] and out.frames == frames
    assert frames[-1].image is out.image and frames[-1].classes is out.classes
    assert np.array_equal(qimage_pixels(out.image), np.round(out.result.image * 255).astype(np.uint8))
    assert np.array_equal(out.classes.ids, out.result.class_map)
    assert len({id(f.classes.ids) for f in frames}) == 3
    assert not np.array_equal(frames[0].classes.ids, frames[-1].classes.ids)


def test_class_maps_are_coloured_on_the_worker_only_while_the_window_shows_them(qtbot, request_):
    for shown in (False, True):
        _, out = run_to_end(qtbot, request_, show_classes=shown)
        layers = [f.classes for f in out.frames] + [out.classes]
        assert all((layer._image is not None) == shown for layer in layers)
        image = layers[0].image  # made on first use either way
        assert image.width() == layers[0].ids.shape[1] and layers[0].image is image


def test_live_class_ids_wait_for_the_class_view_and_the_shares_become_exact(qtbot, request_):
    """In the photo view a live frame's class ids are made on first use; its legend shares are
    an estimate until then and the exact shares of those ids after. The result's are exact."""
    from segsr_gui.io.masks import class_fractions

    for shown in (False, True):
        frames, out = run_to_end(qtbot, request_, show_classes=shown)
        live, last = frames[:-1], frames[-1]
        assert all(f.classes.made == shown and f.shares_estimated == (not shown) for f in live)
        assert last.classes.made and not last.shares_estimated
        for f in live:
            estimate = f.shares.copy()
            assert abs(estimate.sum() - 1) < 1e-6
            ids = f.classes.ids  # made now, on first look
            exact = class_fractions(ids, len(estimate))
            assert np.allclose(f.shares, exact) and not f.shares_estimated
            if not shown:  # the estimate counted these pixels of the 64x96 output
                sampled = ids[4::8, 4::8]
                assert np.allclose(estimate, class_fractions(sampled, len(estimate)))


def test_estimated_shares_sample_the_exact_argmax():
    """The estimate counts the exact argmax at every 8th pixel across and down."""
    import torch

    from segsr_gui.io.masks import class_ids

    from segsr_gui.io.masks import class_fractions
    from segsr_gui.ui.convert import estimated_shares

    class Step:
        logits = torch.randn(1, 5, 70, 90, generator=torch.Generator().manual_seed(4))

    shares = estimated_shares(Step, 64, 80, 5)
    full = class_ids(Step.logits[0, :, :64, :80].numpy())
    assert np.allclose(shares, class_fractions(full[4::8, 4::8], 5))
    assert np.abs(shares - class_fractions(full, 5)).max() < 0.08


def test_a_long_run_bounds_the_frames_waiting_for_their_class_ids(qtbot, request_):
    """Each waiting frame holds its step's logits: past LAZY_FRAMES the oldest are made."""
    from segsr_gui.ui.frames import LAZY_FRAMES

    request_.steps = LAZY_FRAMES + 4
    frames, out = run_to_end(qtbot, request_)
    live = frames[:-1]
    assert len(live) == LAZY_FRAMES + 3
    assert [f.classes.made for f in live] == [True] * 3 + [False] * LAZY_FRAMES
    assert all(f.classes._make is None for f in live[:3])  # made ones let go of the logits


def test_tiled_step_frames_stay_within_their_memory_bound():
    """#26.1: a tiled run keeps one preview-sized whole-photo frame per step, bounded in all."""
    from segsr_gui.ui.convert import PREVIEW_MAX_SIDE, preview_size
    from segsr_gui.ui.frames import MIN_STEP_SIDE, STEP_FRAMES_BYTES, step_frame_side

    full = (736 * 4, 1016 * 4)  # the largest real-world photo: 24 tiles
    assert step_frame_side(*full, 3) == PREVIEW_MAX_SIDE
    for steps in (3, 15, 49):
        w, h = preview_size(*full, step_frame_side(*full, steps))
        assert steps * w * h * 4 <= STEP_FRAMES_BYTES and max(w, h) >= MIN_STEP_SIDE


def test_a_run_without_the_person_prior_says_so_in_its_notes(qtbot, tmp_path, monkeypatch):
    from segsr_gui.engine.nets import weights
    from segsr_gui.ui import worker
    from segsr_gui.ui.worker import RunRequest

    monkeypatch.setattr(weights, "pretrained_dirs", lambda: [tmp_path / "empty"])
    monkeypatch.setattr(worker, "_model_cache", {})  # the shipped model, loaded afresh without it
    rgb = np.random.default_rng(0).random((16, 24, 3), dtype=np.float32)
    _, out = run_to_end(qtbot, RunRequest(rgb, weights.resolve_model_path(None), steps=1, strength=0.0))
    assert any("person" in note and "import-pretrained --only selfie" in note for note in out.notes)
