"""The repair stage in a run: off is today's result exactly; a given mask is filled there and
nowhere far from it; the CLI's --repair-mask names every problem in one line; the damage map
and its share are exported with the masks."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import make_tiny_model
from segsr_gui.app.cli import main
from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.nets.weights import save_model


@pytest.fixture(scope="module")
def repair_model():
    return make_tiny_model(repair=True)


@pytest.fixture
def repair_model_file(tmp_path, repair_model):
    save_model(repair_model, tmp_path / "rep", training={"note": "random test weights"})
    return tmp_path / "rep.safetensors"


def _photo(h=40, w=48):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([(xx * 5) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], 2).astype(np.float32) / 255


def test_repair_off_is_exactly_the_run_of_a_model_without_repair(repair_model):
    from dataclasses import replace

    from segsr_gui.engine.nets.model import SegSRModel

    plain = SegSRModel(replace(repair_model.config, repair=None)).eval()
    plain.load_state_dict({k: v for k, v in repair_model.state_dict().items() if not k.startswith("repair.")})
    rgb = _photo()
    off = upscale(rgb, repair_model, steps=2, seed=1, tile=0, repair="off")
    ref = upscale(rgb, plain, steps=2, seed=1, tile=0)
    assert off.damage is None and np.array_equal(off.image, ref.image)
    assert np.array_equal(off.class_map, ref.class_map)


def test_a_given_mask_is_filled_there_and_nowhere_far_from_it(repair_model):
    rgb = _photo()
    mask = np.zeros(rgb.shape[:2], bool)
    mask[18:21, 5:40] = True  # a 3-pixel scratch
    rgb[mask] = 1.0
    off = upscale(rgb, repair_model, steps=2, seed=1, tile=0, repair="off")
    on = upscale(rgb, repair_model, steps=2, seed=1, tile=0, repair_mask=mask)
    assert np.array_equal(on.damage, mask)
    diff = np.abs(on.image - off.image).max(axis=2)
    assert diff[4 * 18:4 * 21, 4 * 5:4 * 40].mean() > 0.05  # the white line is gone
    far = np.ones_like(mask)
    far[10:29, 0:48] = False  # beyond 8 photo pixels of the scratch: the experts' reach and more
    assert diff[np.repeat(np.repeat(far, 4, 0), 4, 1)].max() < 1 / 255


def test_a_mask_of_another_size_is_refused(repair_model):
    with pytest.raises(ValueError, match="mask is 10x10 pixels; the photo is 48x40"):
        upscale(_photo(), repair_model, steps=1, tile=0, repair_mask=np.zeros((10, 10), bool))


def test_cli_repair_mask_problems_are_one_line_each(tmp_path, photo, repair_model_file, tiny_model_file, capsys):
    out = tmp_path / "out"
    base = ["upscale", str(photo), "-o", str(out), "--steps", "1", "-q"]
    Image.new("L", (10, 10), 255).save(tmp_path / "small.png")
    (tmp_path / "notes.txt").write_text("not an image")
    cases = [(["--model", str(repair_model_file), "--repair-mask", str(tmp_path / "small.png")], "must be the photo's size"),
             (["--model", str(repair_model_file), "--repair-mask", str(tmp_path / "notes.txt")], "not an image"),
             (["--model", str(repair_model_file), "--repair-mask", str(tmp_path / "none.png")], "no such file"),
             (["--model", str(tiny_model_file), "--repair-mask", str(tmp_path / "small.png")], "no repair stage")]
    for extra, words in cases:
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_writes_the_damage_map_and_its_share_with_the_masks(tmp_path, photo, repair_model_file):
    w, h = Image.open(photo).size
    mask = np.zeros((h, w), np.uint8)
    mask[10:13, 4:30] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out"
    assert main(["upscale", str(photo), "-o", str(out), "--model", str(repair_model_file), "--steps", "1",
                 "--masks", "--repair-mask", str(tmp_path / "mask.png"), "-q"]) == 0
    damage = np.asarray(Image.open(out / "photo_damage.png"))
    assert damage.shape == (4 * h, 4 * w) and set(np.unique(damage)) == {0, 255}
    assert np.array_equal(damage[::4, ::4] == 255, mask == 255)  # nearest neighbour, pixel-aligned
    legend = json.loads((out / "photo_legend.json").read_text())
    assert legend["damaged_share"] == pytest.approx((mask == 255).mean(), abs=1e-6)
    # repair off: no damage map, and the legend says no repair ran
    assert main(["upscale", str(photo), "-o", str(tmp_path / "off"), "--model", str(repair_model_file),
                 "--steps", "1", "--masks", "--repair", "off", "-q"]) == 0
    assert not (tmp_path / "off" / "photo_damage.png").exists()
    assert json.loads((tmp_path / "off" / "photo_legend.json").read_text())["damaged_share"] is None
    # by default the repair runs on Auto: the legend has a share (0 where the photo shows no scratches)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "auto"), "--model", str(repair_model_file),
                 "--steps", "1", "--masks", "-q"]) == 0
    assert isinstance(json.loads((tmp_path / "auto" / "photo_legend.json").read_text())["damaged_share"], float)


def test_a_model_without_repair_runs_and_says_so(tmp_path, photo, tiny_model_file, capsys):
    assert main(["upscale", str(photo), "-o", str(tmp_path / "o"), "--model", str(tiny_model_file),
                 "--steps", "1", "--repair", "auto", "-q"]) == 0
    assert "no repair stage" in capsys.readouterr().err


def test_add_repair_keeps_every_tensor_and_joins_the_repair_stage(tmp_path, tiny_model_file, repair_model):
    from segsr_gui.engine.nets.weights import load_model

    repair_model.repair.save(tmp_path / "repair.safetensors")
    (tmp_path / "repair.json").write_text(json.dumps({"iterations": 3}))
    assert main(["add-repair", str(tiny_model_file), "--repair", str(tmp_path / "repair.safetensors"),
                 "--out", str(tmp_path / "joined")]) == 0
    base, joined = load_model(tiny_model_file), load_model(tmp_path / "joined.safetensors")
    assert joined.model.has_repair and joined.manifest["repair"]["iterations"] == 3
    assert joined.classes == base.classes and joined.palette == base.palette
    state = joined.model.state_dict()
    assert all(k.startswith("repair.") for k in set(state) - set(base.model.state_dict()))
    assert all(state[k].equal(v) for k, v in base.model.state_dict().items())
    assert main(["add-repair", str(tiny_model_file), "--repair", str(tmp_path / "repair.json"),
                 "--out", str(tmp_path / "bad")]) == 2
