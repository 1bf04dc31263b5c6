"""Issue 7: the CLI batch resumes after an interruption without redoing finished photos."""

import json

import numpy as np
import pytest
from PIL import Image

from segsr_gui.app import export

from segsr_gui.io import atomic
from segsr_gui.app.cli import _Bar, main


def _shoebox(root, n=6):
    """n small photos in nested folders, as a scanned shoebox."""
    paths = []
    for i in range(n):
        folder = root / ("" if i < 2 else f"19{60 + i // 2}")
        folder.mkdir(parents=True, exist_ok=True)
        arr = np.full((8, 10, 3), 30 * i, np.uint8)
        arr[:, :5] = 200
        path = folder / f"photo{i}.{'jpg' if i % 2 else 'png'}"
        Image.fromarray(arr).save(path)
        paths.append(path)
    return paths


def _run(src, out, model, *extra):
    return main(["upscale", str(src), "-o", str(out), "--model", str(model), "--steps", "1", "-q",
                 "--masks", *extra])


def _state(folder):
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where", ["between photos", "while writing"])
def test_interrupted_batch_resumes_without_redoing(tmp_path, tiny_model_file, capsys, monkeypatch, where):
    _shoebox(tmp_path / "src")
    out = tmp_path / "out"
    if where == "between photos":
        real, calls = export.export_result, {"n": 0}

        def export_then_stop(*args, **kwargs):
            if calls["n"] == 3:
                raise KeyboardInterrupt
            calls["n"] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(export, "export_result", export_then_stop)
    else:
        real_write, calls = atomic._write_bytes, {"n": 0}

        def write_then_stop(f, data):
            calls["n"] += 1
            if calls["n"] == 3 * 4 + 2:  # 4 files per photo: stop inside the 4th photo's second
                f.write(data[:10])
                raise KeyboardInterrupt
            real_write(f, data)

        monkeypatch.setattr(atomic, "_write_bytes", write_then_stop)
    assert _run(tmp_path / "src", out, tiny_model_file) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "3 done" in err and "3 not started" in err and "Traceback" not in err
    first = _state(out)
    assert len(first) == 3 * 4  # three complete photos, nothing of the fourth, no temporary file
    assert not any(".part" in name for name in first)
    monkeypatch.undo()

    assert _run(tmp_path / "src", out, tiny_model_file) == 0
    err = capsys.readouterr().err
    assert "3 done, 3 skipped, 0 failed" in err
    second = _state(out)
    assert len(second) == 6 * 4
    assert {k: second[k] for k in first} == first  # finished photos untouched: bytes and mtimes
    assert (out / "1962" / "photo5_x4.png").exists()  # sub-folders mirrored


def test_output_folder_inside_the_input_is_not_processed_again(tmp_path, tiny_model_file, capsys):
    _shoebox(tmp_path / "src", 2)
    assert _run(tmp_path / "src", tmp_path / "src" / "restored", tiny_model_file) == 0
    assert _run(tmp_path / "src", tmp_path / "src" / "restored", tiny_model_file) == 0
    assert "0 done, 2 skipped, 0 failed" in capsys.readouterr().err
    assert not list((tmp_path / "src" / "restored").glob("*_x4_x4*"))


def test_name_clash_is_a_clear_failure_not_a_silent_skip(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src / "a.jpg")
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(src / "a.png")
    assert _run(src, tmp_path / "out", tiny_model_file) == 1
    err = capsys.readouterr().err
    assert "a.png: its outputs would have the same names as those of" in err and "rename one" in err
    assert "1 done, 0 skipped, 1 failed" in err


def test_partial_set_from_elsewhere_is_kept_and_reported(tmp_path, tiny_model_file, capsys):
    _shoebox(tmp_path / "src", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo0_overlay.png").write_bytes(b"the user's own file")
    assert _run(tmp_path / "src", out, tiny_model_file) == 1
    assert "photo0_overlay.png already exists; it was left untouched" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["photo0_overlay.png"]
    assert (out / "photo0_overlay.png").read_bytes() == b"the user's own file"


def test_progress_only_goes_up():
    bar = _Bar(2, quiet=True)
    seen = []
    for fraction in (0.25, 0.5, 0.1, 0.3, 0.75, 1.0):  # a retry restarts the photo at 0.1
        bar.step(fraction)
        seen.append(bar.finished + bar.current)
    bar.photo_finished()
    bar.step(0.5)
    seen.append(bar.finished + bar.current)
    assert seen == sorted(seen) and seen[-1] == 1.5
    bar.close()


def test_an_input_is_never_replaced_by_an_output(tmp_path, tiny_model_file, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((8, 8, 3), 99, np.uint8)).save(folder / "a_x4.png")  # the user's own
    mine = (folder / "a_x4.png").read_bytes()
    assert main(["upscale", str(folder / "a.png"), str(folder / "a_x4.png"), "-o", str(folder), "--model",
                 str(tiny_model_file), "--steps", "1", "-q", "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "a.png: its output a_x4.png would replace one of the input photos" in err
    assert "1 done, 0 skipped, 1 failed" in err  # a_x4.png itself became a_x4_x4.png
    assert (folder / "a_x4.png").read_bytes() == mine
    assert _run(folder, folder, tiny_model_file) == 2
    assert "is also an input folder" in capsys.readouterr().err


def test_class_maps_are_resized_with_nearest_neighbour_only():
    from segsr_gui.io.masks import resize_class_map

    ids = np.array([[0, 3], [7, 10]], np.uint8)
    big = resize_class_map(ids, (8, 6))
    assert big.shape == (6, 8) and set(np.unique(big)) == {0, 3, 7, 10}
    assert np.array_equal(resize_class_map(big, (2, 2)), ids)


# ---- the window's queue, engine side (segsr_gui.app.batch) --------------------------------

def _queue_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGSR_STUDIO_CONFIG_DIR", str(tmp_path / "config"))


def test_queue_round_trip_and_running_is_queued_again(tmp_path, monkeypatch):
    from segsr_gui.app import batch, queue

    _queue_env(tmp_path, monkeypatch)
    q = queue.BatchQueue(output_folder=str(tmp_path / "out"), format="webp", masks=True, overwrite=True,
                         quality=80)
    for i, state in enumerate(batch.STATES):
        q.items.append(queue.QueueItem(str(tmp_path / f"p{i}.png"), "1962/summer" if i else ".", state,
                                       "" if state in ("queued", "running") else f"why {i}"))
    q.save()
    folder = queue.queue_path().parent
    assert [p.name for p in folder.iterdir()] == ["batch_queue.json"]  # the temporary file was renamed
    back = queue.BatchQueue.load()
    assert [i.state for i in back.items] == ["queued", "queued", "done", "failed", "skipped"]
    assert [i.subfolder for i in back.items] == [".", "1962/summer", "1962/summer", "1962/summer", "1962/summer"]
    assert back.items[3].reason == "why 3" and back.items[1].reason == ""
    assert back.format == "webp" and back.masks and back.quality == 80 and back.output_folder == q.output_folder
    assert back.overwrite is False  # replacing files is never carried over into a new session


def test_a_damaged_queue_file_gives_a_usable_queue(tmp_path, monkeypatch):
    from segsr_gui.app import queue

    _queue_env(tmp_path, monkeypatch)
    queue.queue_path().parent.mkdir(parents=True)
    queue.queue_path().write_text("{not json")
    assert queue.BatchQueue.load().items == []
    queue.queue_path().write_text(json.dumps({"format": "bmp", "masks": "yes", "items": [
        {"source": "/a.png", "state": "exploded", "subfolder": "../../etc"}, {"nothing": 1}, 7]}))
    q = queue.BatchQueue.load()
    assert q.format == "png" and q.masks is False
    assert [(i.source, i.state, i.subfolder) for i in q.items] == [("/a.png", "queued", ".")]


def test_adding_is_recursive_image_types_only_without_duplicates(tmp_path):
    from segsr_gui.app import queue

    paths = _shoebox(tmp_path / "src", 4)
    (tmp_path / "src" / "notes.txt").write_text("not a photo")
    (tmp_path / "src" / "restored").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "src" / "restored" / "old_x4.png")
    q = queue.BatchQueue(output_folder=str(tmp_path / "src" / "restored"))
    added, problems = q.add([tmp_path / "src"])
    assert added == 4 and problems == []
    assert sorted(i.subfolder for i in q.items) == [".", ".", "1961", "1961"]
    assert q.add([tmp_path / "src", paths[0]]) == (0, [])  # already queued
    added, problems = q.add([tmp_path / "src" / "notes.txt", tmp_path / "missing"])
    assert added == 0 and len(problems) == 2
    assert any("notes.txt: not a photo" in p for p in problems) and any("no such file" in p for p in problems)


def test_gui_decisions_say_what_to_tick(tmp_path):
    from segsr_gui.app import batch
    from segsr_gui.app.export import ExportOptions

    src = _shoebox(tmp_path / "src", 1)[0]
    out = tmp_path / "out"
    out.mkdir()
    options = ExportOptions()
    inputs = {src.resolve()}
    assert batch.decide(src, out, options, inputs, hints=batch.GUI_HINTS).action == batch.PROCESS
    (out / "photo0_x4.png").write_bytes(b"x")
    skip = batch.decide(src, out, options, inputs, hints=batch.GUI_HINTS)
    assert skip.action == batch.SKIP and "Overwrite existing" in skip.reason
    fail = batch.decide(src, out, ExportOptions(masks=True), inputs, hints=batch.GUI_HINTS)
    assert fail.action == batch.FAIL and "photo0_x4.png already exists; it was left untouched" in fail.reason
    assert batch.decide(src, out, ExportOptions(masks=True, overwrite=True), inputs).action == batch.PROCESS


class _Quit(BaseException):
    """The app quitting in the middle of a photo (nothing catches it)."""


def test_queue_interrupted_half_way_resumes_without_redoing(tmp_path, monkeypatch, tiny_model_file):
    from segsr_gui.app import batch, queue
    from segsr_gui.engine.nets.weights import load_model

    _queue_env(tmp_path, monkeypatch)
    _shoebox(tmp_path / "src", 5)
    out = tmp_path / "out"
    q = queue.BatchQueue(output_folder=str(out), masks=True)
    q.add([tmp_path / "src"])
    q.save()
    loaded = load_model(tiny_model_file, device="cpu")
    params = batch.RunParams(steps=2)
    started = []

    def emit_and_save(event, quit_in=None):
        if event.kind == "started":
            started.append(event.index)
        if event.kind == "progress" and event.index == quit_in:
            raise _Quit  # mid-photo: the queue file still says "running"
        q.apply(event)
        q.save()

    with pytest.raises(_Quit):
        batch.run_batch(q.plan(), loaded, q.export_options(), params, lambda e: emit_and_save(e, quit_in=2))
    first = _state(out)
    fixed = [name for name in first if "_mask_" not in name]  # and one mask per class found
    assert len(fixed) == 2 * 4 and len(first) > len(fixed)
    assert not any(".part" in name or "tmp" in name for name in first)
    assert json.loads(queue.queue_path().read_text())["items"][2]["state"] == "running"

    q = queue.BatchQueue.load()  # the app starts again
    assert [i.state for i in q.items] == ["done", "done", "queued", "queued", "queued"]
    started.clear()
    outcome = batch.run_batch(q.plan(), loaded, q.export_options(), params, emit_and_save)
    assert outcome == "finished" and started == [2, 3, 4]  # finished photos are not even looked at
    assert [i.state for i in queue.BatchQueue.load().items] == ["done"] * 5
    second = _state(out)
    assert len([name for name in second if "_mask_" not in name]) == 5 * 4
    assert {k: second[k] for k in first} == first  # bytes and mtimes unchanged


def test_stop_and_cancel_leave_the_rest_queued(tmp_path, monkeypatch, tiny_model_file):
    from segsr_gui.app import batch, queue
    from segsr_gui.engine.nets.weights import load_model

    _queue_env(tmp_path, monkeypatch)
    _shoebox(tmp_path / "src", 3)
    out = tmp_path / "out"
    q = queue.BatchQueue(output_folder=str(out))
    q.add([tmp_path / "src"])
    loaded = load_model(tiny_model_file, device="cpu")
    events = []

    def emit(event):
        events.append(event)
        q.apply(event)

    stop = {"after": False, "now": False}
    emit_stop = lambda e: (emit(e), stop.update(after=True) if e.kind == "started" else None)  # noqa: E731
    assert batch.run_batch(q.plan(), loaded, q.export_options(), batch.RunParams(steps=2), emit_stop,
                           stop_after_current=lambda: stop["after"]) == "stopped"
    assert [i.state for i in q.items] == ["done", "queued", "queued"]

    def emit_cancel(event):
        emit(event)
        if event.kind == "progress":
            stop["now"] = True

    assert batch.run_batch(q.plan(), loaded, q.export_options(), batch.RunParams(steps=3), emit_cancel,
                           cancel_now=lambda: stop["now"]) == "cancelled"
    assert [i.state for i in q.items] == ["done", "queued", "queued"]
    assert len(_state(out)) == 1  # the first photo's image; nothing of the cancelled one
    assert events[-1].kind == "end" and events[-1].reason == "cancelled"


def test_time_left_and_summary_of_the_window_batch():
    """#32.3/#32.7: time left from the pixels still to do; failed photos are not "still to do"."""
    from segsr_gui.app.batch_report import TimeLeft, summary

    pace = TimeLeft({0: 100, 1: 1600, 2: 0})  # an unknown size counts as the mean of the known
    assert pace.seconds(0.0) is None
    pace.start(0, 0.0)
    pace.progress(0.5)
    assert pace.seconds(1.0) == pytest.approx((50 + 1600 + 850) * 1.0 / 50)
    pace.finish(0, "done", 2.0)
    pace.start(1, 10.0)
    pace.finish(1, "queued", 1.0)  # cancelled: still to do
    assert pace.seconds(11.0) == pytest.approx((1600 + 850) * 2.0 / 100)
    assert pace.text(11.0) == "about 49 s left"
    text = summary("finished", {"done": 0, "skipped": 0, "failed": 1}, 0, 1, 0)
    assert text == "Batch finished: 0 done, 0 skipped, 1 failed; press Retry failed to try it again."
    assert "2 still to do" in summary("stopped", {"done": 1, "skipped": 0, "failed": 0}, 2, 0, 3)
