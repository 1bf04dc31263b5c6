import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import DATA, needs_data
from segsr_gui.app.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_upscale_writes_the_four_outputs(photo, tmp_path, tiny_model_file, capsys):
    out = tmp_path / "out"
    code = main(["upscale", str(photo), "-o", str(out), "--model", str(tiny_model_file), "--masks",
                 "--steps", "2", "-q"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["photo_classes.png", "photo_legend.json", "photo_overlay.png", "photo_x4.png"]
    img = Image.open(out / "photo_x4.png")
    assert img.size == (192, 160)
    classes = Image.open(out / "photo_classes.png")
    assert classes.mode == "P" and classes.size == (192, 160)
    ids = np.asarray(classes)
    legend = json.loads((out / "photo_legend.json").read_text())
    assert legend["model"] == "tiny"
    for entry in legend["classes"]:
        assert entry["pixels"] == int((ids == entry["id"]).sum())
    assert sum(e["pixels"] for e in legend["classes"]) == ids.size


def test_second_run_without_overwrite_leaves_outputs_untouched(photo, tmp_path, tiny_model_file, capsys):
    out = tmp_path / "out"
    args = ["upscale", str(photo), "-o", str(out), "--model", str(tiny_model_file), "--masks", "--steps", "2", "-q"]
    assert main(args) == 0
    before = _snapshot(out)
    assert main(args + ["--seed", "99"]) == 0  # all outputs present: skipped, not redone
    assert "skipped" in capsys.readouterr().err
    assert _snapshot(out) == before
    # a partial set of outputs is a failure that names the file, still touching nothing
    (out / "photo_overlay.png").unlink()
    before = _snapshot(out)
    assert main(args + ["--seed", "99"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert _snapshot(out) == before
    assert main(args + ["--seed", "99", "--overwrite"]) == 0
    assert _snapshot(out)["photo_classes.png"] != before["photo_classes.png"]  # another seed's classes


def test_failures_are_one_line_each_and_exit_non_zero(photo, tmp_path, tiny_model_file, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code = main(["upscale", str(photo), str(bad), str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "o"),
                 "--model", str(tiny_model_file), "--steps", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert any("bad.png" in line and "not an image" in line for line in err.splitlines())
    assert any("missing.jpg" in line for line in err.splitlines())
    assert (tmp_path / "o" / "photo_x4.png").exists()


def test_folder_input_is_mirrored(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(src / "a.png")
    Image.fromarray(np.full((8, 8, 3), 60, np.uint8)).save(src / "sub" / "b.jpg")
    (src / "notes.txt").write_text("ignored")
    assert main(["upscale", str(src), "-o", str(tmp_path / "o"), "--model", str(tiny_model_file),
                 "--steps", "1", "-q", "--format", "jpg"]) == 0
    assert (tmp_path / "o" / "a_x4.jpg").exists() and (tmp_path / "o" / "sub" / "b_x4.jpg").exists()


def test_bad_model_is_one_clear_line(photo, tmp_path, capsys):
    assert main(["upscale", str(photo), "-o", str(tmp_path), "--model", str(tmp_path / "none.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0]


def test_version_and_info(tiny_model_file, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "segsr" in capsys.readouterr().out
    assert main(["info", str(tiny_model_file)]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "tiny"


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "segsr_gui.app.cli", "upscale", str(tmp_path / "x.png"),
                           "-o", str(tmp_path), "--model", str(tmp_path / "m.safetensors")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


@needs_data("real_world")
@pytest.mark.data
def test_real_photo_with_the_shipped_model(tmp_path, capsys):
    model = ROOT / "models" / "segsr-x4.safetensors"
    if not model.exists():
        pytest.skip("models/segsr-x4 is not shipped yet")
    photo = DATA / "real_world" / "0014.jpg"
    out = tmp_path / "out"
    args = ["upscale", str(photo), "-o", str(out), "--masks", "-q"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0014_classes.png", "0014_legend.json",
                                                     "0014_overlay.png", "0014_x4.png"]
    w, h = Image.open(photo).size
    assert Image.open(out / "0014_x4.png").size == (4 * w, 4 * h)
    before = _snapshot(out)
    main(args)
    assert _snapshot(out) == before


def test_mirror_flag_averages_the_classes_with_the_mirrored_photo(photo, tmp_path, tiny_model_file):
    """The image is the experts' either way; the class map is the mean of both chains'."""
    from segsr_gui.io.read import load_image
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    outs = {}
    for flag in ([], ["--mirror"]):
        out = tmp_path / ("mirror" if flag else "plain")
        assert main(["upscale", str(photo), "-o", str(out), "--model", str(tiny_model_file), "--steps", "2",
                     "--masks", "-q", *flag]) == 0
        outs[bool(flag)] = [np.asarray(Image.open(out / name)) for name in ("photo_x4.png", "photo_classes.png")]
    expected = upscale(load_image(photo).rgb, load_model(tiny_model_file).model, steps=2, mirror=True)
    assert np.array_equal(outs[True][1], expected.class_map)
    assert np.array_equal(outs[True][0], outs[False][0]) and not np.array_equal(outs[True][1], outs[False][1])
