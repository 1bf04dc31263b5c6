"""SegDM on a pretrained SqueezeNet: the encoder reads the clean estimate, fits any photo
size, learns at its own lower rate, and the crops it trains on come at more than one scale."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import TINY_TRAIN_TOML, tiny_config
from segsr_gui.engine.nets.model import SegSRModel
from segsr_gui.engine.nets.seg_encoder import SqueezeEncoder


def encoder_config(**changes):
    config = tiny_config()
    return replace(config, classes=replace(config.classes, **{"pool": 1, "encoder_channels": 8, **changes}))


def encoder_model(seed: int = 0) -> SegSRModel:
    torch.manual_seed(seed)
    model = SegSRModel(encoder_config())
    with torch.no_grad():
        for p in model.classes.segdm.unet.parameters():
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
    assert model.classes.segdm.encoder.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("hw, size", [((40, 56), (10, 14)), ((8, 12), (2, 3)), ((360, 480), (90, 120))])
def test_the_encoder_map_has_exactly_the_grid_it_joins(hw, size):
    enc = SqueezeEncoder(8)
    with torch.no_grad():
        out = enc(torch.rand(1, 3, *hw) * 2 - 1, size)
    assert out.shape == (1, 8, *size)
    assert torch.isfinite(out).all()


def test_segdm_needs_a_pooled_class_state():
    with pytest.raises(ValueError, match="pool"):
        SegSRModel(encoder_config(pool=0))


def test_a_tiny_photo_and_a_tiled_one_upscale_with_the_encoder():
    from segsr_gui.engine.inference.pipeline import upscale

    model = encoder_model().eval()
    for h, w, tile in ((3, 5, 0), (70, 53, 40)):
        lr = np.random.default_rng(h).random((h, w, 3)).astype(np.float32)
        result = upscale(lr, model, steps=2, seed=0, tile=tile, overlap=12, margin=4)
        assert result.image.shape == (4 * h, 4 * w, 3)
        assert result.class_map.shape == (4 * h, 4 * w)


# the shared tiny config, its SegDM on the encoder (the config's ``base`` inheritance)
ENCODER_TOML = """base = "tiny.toml"

[train]
name = "tiny-enc"
crop = 48
seg_lr_scale = 2.0
encoder_lr_scale = 0.1
scale_jitter = 0.25
class_balance = "sqrt_median"

[model.classes]
width = 8
mult = [1, 2]
blocks = 1
image_channels = 8
pool = 1
encoder_channels = 8
"""


def test_the_encoder_learns_at_its_own_rate_and_the_record_says_so(tmp_path, camvid_like):
    from segsr_gui.training.config import load_config
    from segsr_gui.training.records import training_record
    from segsr_gui.training.train import run_training

    (tmp_path / "tiny.toml").write_text(TINY_TRAIN_TOML)
    (tmp_path / "enc.toml").write_text(ENCODER_TOML)
    run_training(tmp_path / "enc.toml", camvid_like, tmp_path / "run", minutes=0, resume=False,
                 ship=None, log=lambda *_: None, max_iters=2)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert [g["lr"] for g in state["param_groups"]] == pytest.approx([2e-3, 2e-4])
    record = training_record(load_config(tmp_path / "enc.toml"), state, 3)
    assert "square root" in record["seg_class_weights"]
    assert record["encoder_lr_scale"].startswith("x0.1")


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
