"""Issue 7: the CLI batch resumes after an interruption without redoing finished photos."""

import numpy as np
import pytest
from PIL import Image

from segsr_gui import export, imageio
from segsr_gui.cli import _Bar, main


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
        real_write, calls = imageio._write_bytes, {"n": 0}

        def write_then_stop(f, data):
            calls["n"] += 1
            if calls["n"] == 3 * 4 + 2:  # 4 files per photo: stop inside the 4th photo's second
                f.write(data[:10])
                raise KeyboardInterrupt
            real_write(f, data)

        monkeypatch.setattr(imageio, "_write_bytes", write_then_stop)
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
    from segsr_gui.masks import resize_class_map

    ids = np.array([[0, 3], [7, 10]], np.uint8)
    big = resize_class_map(ids, (8, 6))
    assert big.shape == (6, 8) and set(np.unique(big)) == {0, 3, 7, 10}
    assert np.array_equal(resize_class_map(big, (2, 2)), ids)
