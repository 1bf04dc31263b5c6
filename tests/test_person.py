"""Issue 31: people in the class map. The selfie net's port, how its prior joins the classes,
how the photo is read, and that a model without it still works and says so."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segsr_gui.classes import CAMVID_CLASSES, PERSON_ID
from segsr_gui.engine.nets import weights
from segsr_gui.engine.nets.person_prior import _windows, fuse_person, person_probability

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
SELFIE = PRETRAINED / "selfie_segmentation.safetensors"
TFLITE = PRETRAINED / "tflite" / "selfie_segmentation.tflite"
DATA = ROOT.parent / "shared" / "data"
HAS_PRIOR = SELFIE.is_file()
NO_PRIOR = "the person prior is not installed (segsr import-pretrained --only selfie)"


def _portrait_like(size=256):
    """A photo-like synthetic image with no person in it: sky, a hill, a wall and a window."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    sky = np.stack([0.45 + 0.2 * yy, 0.6 + 0.2 * yy, 0.9 - 0.1 * yy], -1)
    ground = np.stack([0.25 + 0.1 * xx, 0.45 + 0.05 * np.sin(30 * xx), 0.2 + 0 * xx], -1)
    rgb = np.where((yy > 0.55 + 0.1 * np.sin(6 * xx))[..., None], ground, sky)
    wall = (xx > 0.6) & (yy > 0.3)
    rgb[wall] = [0.7, 0.65, 0.6]
    rgb[(xx > 0.7) & (xx < 0.8) & (yy > 0.4) & (yy < 0.5)] = [0.1, 0.1, 0.15]
    rgb += np.random.default_rng(0).normal(0, 0.02, rgb.shape)
    return rgb.clip(0, 1).astype(np.float32)


def _logits(probs):
    return torch.tensor(probs, dtype=torch.float32).log().view(1, -1, 1, 1)


def test_union_lets_a_confident_prior_win_and_a_zero_prior_change_nothing():
    probs = [0.05] * 11
    probs[3] = 0.5  # "road", as SegDM labels people in old portraits
    logits = _logits(np.array(probs) / sum(probs))
    same = fuse_person(logits, torch.zeros(1, 1, 1, 1), PERSON_ID)
    assert torch.allclose(same.softmax(1), logits.softmax(1), atol=1e-5)
    won = fuse_person(logits, torch.full((1, 1, 1, 1), 0.6), PERSON_ID)
    assert int(won.argmax(1)) == PERSON_ID
    assert torch.allclose(won.exp().sum(1), torch.ones(1, 1, 1), atol=1e-5)  # still probabilities


@pytest.mark.parametrize("length,side", [(100, 256), (256, 256), (300, 256), (1000, 256), (513, 128)])
def test_windows_cover_the_photo_and_overlap(length, side):
    starts = _windows(length, side)
    covered = np.zeros(length, bool)
    for s in starts:
        covered[s:s + side] = True
    assert covered.all() and starts[0] == 0
    assert all(b - a <= side * 3 // 4 for a, b in zip(starts, starts[1:]))


class _RedIsPerson(torch.nn.Module):
    """A stand-in net: 'person' where the 256x256 input is red, so the reading is checkable."""

    def forward(self, x):
        return (x[:, :1] - x[:, 1:2]).clamp(0, 1)


def test_windows_find_a_small_figure_the_squashed_photo_loses():
    rgb = torch.zeros(1, 3, 600, 900)
    rgb[:, 0, 300:303, 400:402] = 1.0  # a 3x2 px figure: squashed to 256 px it averages away
    whole = person_probability(_RedIsPerson(), rgb, window=0)
    windowed = person_probability(_RedIsPerson(), rgb, window=64)
    assert whole.shape == windowed.shape == (1, 1, 600, 900)
    assert float(whole[..., 300:303, 400:402].max()) < 0.5 < float(windowed[..., 300:303, 400:402].max())
    assert float(windowed[..., :250, :].max()) < 0.05  # and nothing elsewhere


@pytest.mark.skipif(not (HAS_PRIOR and TFLITE.is_file()), reason=NO_PRIOR)
def test_selfie_port_matches_the_original_runtime():
    pytest.importorskip("ai_edge_litert", reason="the parity check needs ai-edge-litert (pip install -e .[test])")
    from PIL import Image

    from segsr_gui.pretrained.tflite_port import parity, parity_images, run_original

    net = weights.load_selfie_net(SELFIE)
    data = TFLITE.read_bytes()
    photo = DATA / "sr_bench" / "Set5" / "woman.png"
    images = parity_images(str(photo) if photo.is_file() else None)
    assert parity(data, net, images) < 1e-3
    if photo.is_file():  # a portrait: the original finds her, so the comparison is not of zeros
        with Image.open(photo) as im:
            rgb = np.asarray(im.convert("RGB").resize((256, 256)), np.float32) / 255
        assert (run_original(data, rgb) > 0.5).mean() > 0.3


@pytest.mark.skipif(not HAS_PRIOR, reason=NO_PRIOR)
def test_a_photo_without_people_gets_no_person_pixels():
    from segsr_gui.engine.inference.pipeline import upscale

    loaded = weights.load_model()
    assert loaded.model.config.classes.person is not None and not loaded.missing_prior
    rgb = _portrait_like(96)
    lr = torch.from_numpy(rgb.transpose(2, 0, 1))[None] * 2 - 1
    assert float(loaded.model.person_probability(lr).max()) < 0.5
    out = upscale(rgb, loaded.model, steps=1, strength=0.0, tile=0)
    assert (out.class_map == PERSON_ID).mean() < 0.001


def test_the_class_is_called_person_in_the_shipped_model_legend_and_exports(tmp_path, photo):
    from segsr_gui.app.cli import main
    from segsr_gui.io.masks import class_mask_pngs

    manifest = json.loads((ROOT / "models" / "segsr-x4.json").read_text())
    assert manifest["classes"][PERSON_ID] == CAMVID_CLASSES[PERSON_ID] == "person"
    assert "pedestrian" not in json.dumps(manifest["classes"])
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--steps", "1", "--strength", "0",
                 "--masks", "--coco", "-q"]) == 0
    legend = json.loads(next((tmp_path / "out").glob("*_legend.json")).read_text())
    coco = json.loads(next((tmp_path / "out").glob("*coco*.json")).read_text())
    assert legend["classes"][PERSON_ID]["name"] == "person"
    assert coco["categories"][PERSON_ID]["name"] == "person"
    assert "pedestrian" not in json.dumps(legend) + json.dumps(coco)
    class_map = np.full((4, 4), PERSON_ID, np.uint8)
    assert list(class_mask_pngs(class_map, manifest["classes"])) == ["mask_09_person"]


def test_a_model_without_the_prior_installed_loads_and_says_so(tmp_path, monkeypatch, photo, capsys):
    from segsr_gui.app.cli import main

    monkeypatch.setattr(weights, "pretrained_dirs", lambda: [tmp_path / "empty"])
    loaded = weights.load_model()
    assert loaded.model.person_net is None
    assert "import-pretrained --only selfie" in loaded.missing_prior
    lr = torch.zeros(1, 3, 8, 8)
    assert loaded.model.person_probability(lr) is None
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--steps", "1", "--strength", "0",
                 "--masks", "-q"]) == 0
    err = capsys.readouterr().err
    assert "person prior" in err and "import-pretrained --only selfie" in err


def test_a_model_made_before_the_prior_loads_without_asking_for_it(tiny_model_file):
    loaded = weights.load_model(tiny_model_file)
    assert loaded.model.config.classes.person is None and loaded.missing_prior == ""


def test_the_scene_classifier_tells_the_fitted_streets_from_other_photos_in_colour_or_grey():
    from segsr_gui.engine.nets.scene import gate
    from segsr_gui.training.scene_gate import fit_scene

    rng = np.random.default_rng(0)
    # feature 0 is "colour" (the same for both kinds); feature 1 tells them apart
    def kind(n, centre):
        x = rng.normal(0, 1, (n, 12))
        x[:, 1] += centre
        return torch.from_numpy(x).float()

    scene = fit_scene(kind(400, -2.0), kind(60, 2.0), iterations=500)
    near, far = scene(kind(50, -2.0)), scene(kind(50, 2.0))
    assert float((near < 0).float().mean()) > 0.9 and float((far > 0).float().mean()) > 0.9
    assert abs(float(scene.weight[1])) > 3 * abs(float(scene.weight[0]))
    assert gate(1.0, 2.0, 4.0) == 0.0 and gate(3.0, 2.0, 4.0) == 0.5 and gate(9.0, 2.0, 4.0) == 1.0


@pytest.mark.data
@pytest.mark.skipif(not (HAS_PRIOR and (DATA / "camvid" / "test").is_dir()), reason="needs ../shared/data and the prior")
def test_the_gate_shuts_the_prior_on_street_scenes_and_opens_it_on_a_portrait():
    from PIL import Image

    model = weights.load_model().model
    frames = sorted((DATA / "camvid" / "test").glob("*.png"))[::10]
    gates = []
    for frame in frames:
        with Image.open(frame) as im:
            rgb = np.asarray(im.convert("RGB"), np.float32) / 255
        lr = torch.from_numpy(rgb.transpose(2, 0, 1))[None] * 2 - 1
        gates.append(model.scene_gate(lr)[1])
        if gates[-1] == 0.0:
            assert model.person_probability(lr) is None
    # the threshold is CamVid val's highest score; a few test frames (a different street)
    # open it a little (benchmarks/results/scene_gate.md), none far
    assert np.mean(np.array(gates) == 0.0) >= 0.8 and max(gates) < 0.5
    with Image.open(DATA / "sr_bench" / "Set5" / "woman.png") as im:
        rgb = np.asarray(im.convert("RGB"), np.float32) / 255
    lr = torch.from_numpy(rgb.transpose(2, 0, 1))[None] * 2 - 1
    assert model.scene_gate(lr)[1] == 1.0
    assert float((model.person_probability(lr) > 0.5).float().mean()) > 0.5
    grey = lr.mean(1, keepdim=True).expand(-1, 3, -1, -1)  # the old gate shut on this one
    assert model.scene_gate(grey)[1] == 1.0


@pytest.mark.skipif(not HAS_PRIOR, reason=NO_PRIOR)
def test_windows_are_read_only_where_the_whole_photo_finds_nobody():
    from PIL import Image

    from segsr_gui.engine.nets.person_prior import _view, person_probability

    net = weights.load_selfie_net(SELFIE)
    with Image.open(ROOT / "resources" / "sample.png") as im:
        portrait = im.convert("RGB").resize((640, 640), Image.BICUBIC)
        small = im.convert("RGB").resize((110, 110), Image.BICUBIC)
    big = torch.from_numpy(np.asarray(portrait, np.float32).transpose(2, 0, 1) / 255)[None]
    # a portrait filling the frame: the whole view finds her, the windows are not read
    assert torch.equal(person_probability(net, big, 256), _view(net, big))
    # the same person small in a large empty scene: the windows find what the whole view misses
    scene = np.full((640, 960, 3), 0.6, np.float32)
    scene[400:510, 700:810] = np.asarray(small, np.float32) / 255
    wide = torch.from_numpy(scene.transpose(2, 0, 1))[None]
    whole, read = _view(net, wide), person_probability(net, wide, 256)
    assert float((read > 0.5).float().mean()) > float((whole > 0.5).float().mean())
