"""SegDM on a pretrained SqueezeNet: the encoder reads the clean estimate, fits any photo
size, starts from imported weights, learns at its own lower rate, and the crops it trains on
come at more than one scale."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from conftest import TINY_TRAIN_TOML, make_tiny_model, tiny_config
from segsr_gui.engine.nets.model import SegSRModel
from segsr_gui.engine.nets.seg_encoder import SqueezeEncoder
from segsr_gui.engine.nets.squeezenet import SqueezeNet


def encoder_config(**changes):
    return replace(tiny_config(), **{"seg_pool": 1, "seg_encoder": "squeezenet", "seg_encoder_channels": 8,
                                     **changes})


def encoder_model(seed: int = 0) -> SegSRModel:
    torch.manual_seed(seed)
    model = SegSRModel(encoder_config())
    with torch.no_grad():
        for p in model.segdm.unet.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def test_segdm_reads_the_clean_estimate_through_the_encoder_and_trains_it():
    model = encoder_model()
    b, k = 2, model.config.num_classes
    x_t, y = torch.rand(b, 3, 48, 64) * 2 - 1, torch.rand(b, 3, 48, 64) * 2 - 1
    s_t = torch.softmax(torch.randn(b, k, 48, 64), 1)
    eta = torch.full((b,), 0.5)
    x0_prev = torch.rand(b, 3, 48, 64) * 2 - 1
    _, logits = model(x_t, s_t, y, x0_prev, eta)
    assert logits.shape == (b, k, 48, 64)
    _, other = model(x_t, s_t, y, x0_prev.flip(-1), eta)  # only the estimate the encoder reads changes
    assert not torch.allclose(logits, other)
    logits.square().mean().backward()
    assert model.segdm.encoder.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("hw, size", [((40, 56), (10, 14)), ((8, 12), (2, 3)), ((360, 480), (90, 120))])
def test_the_encoder_map_has_exactly_the_grid_it_joins(hw, size):
    enc = SqueezeEncoder(8)
    with torch.no_grad():
        out = enc(torch.rand(1, 3, *hw) * 2 - 1, size)
    assert out.shape == (1, 8, *size)
    assert torch.isfinite(out).all()


def test_the_encoder_needs_a_pooled_segdm_and_a_known_name():
    with pytest.raises(ValueError, match="pooled"):
        SegSRModel(encoder_config(seg_pool=0))
    with pytest.raises(ValueError, match="seg_encoder"):
        SegSRModel(replace(encoder_config(), seg_encoder="resnet"))


def test_a_tiny_photo_and_a_tiled_one_upscale_with_the_encoder():
    from segsr_gui.engine.inference.pipeline import upscale

    model = encoder_model().eval()
    for h, w, tile in ((3, 5, 0), (70, 53, 40)):
        lr = np.random.default_rng(h).random((h, w, 3)).astype(np.float32)
        result = upscale(lr, model, steps=2, seed=0, tile=tile, overlap=12, margin=4)
        assert result.image.shape == (4 * h, 4 * w, 3)
        assert result.class_map.shape == (4 * h, 4 * w)


def _base_and_encoder_files(tmp_path):
    from segsr_gui.engine.nets.weights import save_model

    base = make_tiny_model(seed=1, seg_pool=2, sft_hidden=False)
    save_model(base, tmp_path / "base")
    imagenet = SqueezeNet()
    save_file({k: v.contiguous() for k, v in imagenet.state_dict().items()}, str(tmp_path / "squeeze.safetensors"))
    (tmp_path / "squeeze.json").write_text(json.dumps({"name": "squeezenet_v1.1", "version": "1.0.6",
                                                       "licence": "BSD-2-Clause", "package_sha256": "ab" * 32}))
    return base, imagenet


# the shared tiny config, its SegDM on the encoder (the config's ``base`` inheritance)
ENCODER_TOML = """base = "tiny.toml"

[train]
name = "tiny-enc"
crop = 48
seg_lr_scale = 2.0
encoder_lr_scale = 0.1
scale_jitter = 0.25
class_balance = "sqrt_median"

[model]
seg_pool = 1
seg_encoder = "squeezenet"
seg_encoder_channels = 8
"""


def _configs(tmp_path):
    """(the tiny config, the encoder config) written to files."""
    (tmp_path / "tiny.toml").write_text(TINY_TRAIN_TOML)
    (tmp_path / "enc.toml").write_text(ENCODER_TOML)
    return tmp_path / "tiny.toml", tmp_path / "enc.toml"


def test_the_start_keeps_fitting_nets_loads_imagenet_weights_and_trains(tmp_path, camvid_like):
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.encoder_start import build_encoder_start
    from segsr_gui.training.config import load_config
    from segsr_gui.training.records import training_record
    from segsr_gui.training.train import run_training

    base, imagenet = _base_and_encoder_files(tmp_path)
    _configs(tmp_path)
    build_encoder_start(tmp_path / "base.safetensors", tmp_path / "enc.toml", tmp_path / "squeeze.safetensors",
                        tmp_path / "start", log=lambda *_: None)
    start = load_model(tmp_path / "start.safetensors")
    assert torch.equal(start.model.srdm.unet.head.weight, base.srdm.unet.head.weight)
    assert torch.equal(start.model.bridge.seg_to_image[0].weight, base.bridge.seg_to_image[0].weight)
    assert torch.equal(start.model.segdm.encoder.backbone.fires[7].expand3x3.weight,
                       imagenet.fires[7].expand3x3.weight)
    assert start.manifest["seg_encoder"]["pretrained"]["version"] == "1.0.6"
    assert "BSD-2-Clause" in start.manifest["seg_encoder"]["licence"]

    run_training(tmp_path / "enc.toml", camvid_like, tmp_path / "run", minutes=0, resume=False,
                 ship=str(tmp_path / "shipped"), log=lambda *_: None, max_iters=2,
                 init=str(tmp_path / "start.safetensors"))
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert [g["lr"] for g in state["param_groups"]] == pytest.approx([1e-3, 2e-3, 2e-4])
    # what a checkpoint that beats the start ships with (train.py: _Run.validate)
    assert state["init"]["seg_encoder"]["pretrained"]["name"] == "squeezenet_v1.1"
    record = training_record(load_config(tmp_path / "enc.toml"), state, 3)
    assert "square root" in record["seg_class_weights"]
    assert record["encoder_lr_scale"].startswith("x0.1")


def test_build_start_needs_a_config_with_an_encoder(tmp_path):
    from segsr_gui.training.encoder_start import build_encoder_start

    _base_and_encoder_files(tmp_path)
    plain, _ = _configs(tmp_path)
    with pytest.raises(ValueError, match="no seg_encoder"):
        build_encoder_start(tmp_path / "base.safetensors", plain,
                            tmp_path / "squeeze.safetensors", tmp_path / "start", log=lambda *_: None)


def test_scale_jitter_gives_crops_of_one_size_from_several_and_invents_no_class(camvid_like):
    from segsr_gui.training.data import CropSampler, load_camvid
    from segsr_gui.training.degrade import DegradationMix

    data = load_camvid(camvid_like, "train")
    mix = DegradationMix(bicubic=1.0, old_photo=0.0)
    plain = CropSampler(data, 40, mix=mix, seed=5).batch(8)
    jittered = CropSampler(data, 40, mix=mix, seed=5, scale_jitter=0.5).batch(8)
    assert jittered[0].shape == plain[0].shape and jittered[2].shape == plain[2].shape
    assert not np.array_equal(plain[2], jittered[2])
    present = set(np.unique(np.stack(data.labels)))
    assert set(np.unique(jittered[2])) <= present


def test_build_start_on_the_command_line_keeps_an_existing_file_unless_told(tmp_path, capsys):
    from segsr_gui.app.cli import main

    _base_and_encoder_files(tmp_path)
    _configs(tmp_path)
    args = ["build-start", str(tmp_path / "base.safetensors"), "--config", str(tmp_path / "enc.toml"),
            "--encoder", str(tmp_path / "squeeze.safetensors"), "--out", str(tmp_path / "start")]
    assert main(args) == 0
    first = (tmp_path / "start.safetensors").read_bytes()
    (tmp_path / "start.safetensors").write_bytes(b"mine")
    assert main(args) != 0
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "start.safetensors").read_bytes() == b"mine"
    assert main(args + ["--overwrite"]) == 0
    assert (tmp_path / "start.safetensors").read_bytes() == first
    assert main(args[:2] + ["--encoder", str(tmp_path / "squeeze.safetensors"), "--out", str(tmp_path / "x")]) != 0
