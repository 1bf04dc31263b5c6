"""Restore, then refine: the restorer is the chain's start, a zero SRDM head returns it
unchanged, the start model carries a shipped model's nets, and neither the restorer's
fine-tuning nor the diffusion training breaks what they promise."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from conftest import make_tiny_model, tiny_config
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule
from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.nets.model import SegSRModel, bicubic_up
from segsr_gui.engine.nets.span import SPAN


def restorer_model(seed: int = 0, zero_head: bool = False) -> SegSRModel:
    torch.manual_seed(seed)
    config = replace(tiny_config(), restorer="span", restorer_channels=4, restorer_blocks=1, noise_scale=0.0)
    model = SegSRModel(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
        if zero_head:
            model.srdm.unet.head.weight.zero_()
            model.srdm.unet.head.bias.zero_()
    return model.eval()


def test_the_chain_starts_from_the_restorers_output_not_bicubic():
    model = restorer_model()
    lr = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        y = model.first_estimate(lr)
        expected = (model.restorer((lr + 1) / 2) * 2 - 1).clamp(-1, 1)
    assert y.shape == (1, 3, 64, 64)
    assert torch.equal(y, expected)
    assert (y - bicubic_up(lr, 4)).abs().mean() > 0.01


def test_a_zero_srdm_head_returns_the_restorers_output_at_every_step():
    model = restorer_model(zero_head=True)
    rgb = np.random.default_rng(1).random((16, 24, 3)).astype(np.float32)
    result = upscale(rgb, model, tile=0, colour_sigma=0.0, precision="fp32")
    lr = torch.from_numpy(rgb.transpose(2, 0, 1))[None] * 2 - 1
    with torch.no_grad():
        y = model.first_estimate(lr)
    restored = ((y[0] + 1) / 2).clamp(0, 1).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(result.image, restored, atol=1e-5)


def test_without_a_restorer_the_start_is_bicubic_and_unknown_restorers_are_refused():
    model = SegSRModel(tiny_config())
    assert model.restorer is None
    lr = torch.rand(1, 3, 8, 8) * 2 - 1
    assert torch.equal(model.first_estimate(lr), bicubic_up(lr, 4))
    with pytest.raises(ValueError, match="restorer"):
        SegSRModel(replace(tiny_config(), restorer="esrgan"))


def test_the_start_model_keeps_a_shipped_models_nets_and_begins_as_the_restorer(tmp_path):
    from segsr_gui.engine.nets.weights import load_model, save_model
    from segsr_gui.training.restorer import build_start_model

    base = make_tiny_model()
    save_model(base, tmp_path / "base")
    span = SPAN()
    save_file({k: v.contiguous() for k, v in span.state_dict().items()}, str(tmp_path / "span.safetensors"))
    build_start_model(tmp_path / "base.safetensors", tmp_path / "span.safetensors", tmp_path / "start",
                      log=lambda *_: None)
    start = load_model(tmp_path / "start.safetensors").model
    assert start.config.restorer == "span"
    assert torch.equal(start.segdm.unet.head.weight, base.segdm.unet.head.weight)
    assert torch.equal(start.restorer.conv_1.weight, span.conv_1.weight)
    assert not start.srdm.unet.head.weight.any()
    manifest = json.loads((tmp_path / "start.json").read_text())
    assert manifest["config"]["restorer"] == "span"


def test_diffusion_training_leaves_the_restorer_frozen():
    from segsr_gui.training.config import TrainConfig
    from segsr_gui.training.train import parameter_groups, train_step

    model = restorer_model()
    model.restorer.requires_grad_(False)
    before = {k: v.clone() for k, v in model.restorer.state_dict().items()}
    srdm_before = model.srdm.unet.head.weight.clone()
    opt = torch.optim.AdamW(parameter_groups(model, 1.0), lr=1e-2)
    rng = np.random.default_rng(0)
    batch = (rng.random((2, 8, 8, 3), dtype=np.float32), rng.random((2, 32, 32, 3), dtype=np.float32),
             rng.integers(0, 12, (2, 32, 32)).astype(np.uint8))
    model.train()
    train_step(model, opt, ResShiftSchedule(model.config.schedule), batch, TrainConfig(), autocast=False)
    assert all(torch.equal(v, model.restorer.state_dict()[k]) for k, v in before.items())
    assert not torch.equal(srdm_before, model.srdm.unet.head.weight)
    groups = parameter_groups(model, 1.0)
    restorer_ids = {id(p) for p in model.restorer.parameters()}
    assert not any(id(p) in restorer_ids for g in groups for p in g["params"])


def test_restorer_fine_tuning_keeps_the_best_on_val_and_says_what_it_did(tmp_path, camvid_like):
    from segsr_gui.training.restorer import RestorerConfig, fine_tune, load_span

    span = SPAN()
    save_file({k: v.contiguous() for k, v in span.state_dict().items()}, str(tmp_path / "span.safetensors"))
    cfg = RestorerConfig(batch=2, crop=32, max_iters=2, val_every=1, val_images=2, bf16=False)
    best = fine_tune(tmp_path / "span.safetensors", camvid_like, tmp_path / "out", cfg, log=lambda *_: None)
    record = json.loads((tmp_path / "out" / "restorer.json").read_text())
    assert record["iterations"] == 2 and len(record["history"]) == 3
    assert record["best"] == best
    tuned = load_span(tmp_path / "out" / "restorer.safetensors")
    changed = not torch.equal(tuned.conv_1.weight, span.conv_1.weight)
    # the pretrained net is kept unless an iteration beat it on val
    assert changed == (best["iteration"] > 0)


def test_selection_prefers_real_world_gains_within_the_clean_guard():
    from segsr_gui.training.restorer import better

    pretrained = {"iteration": 0, "realworld": 23.0, "bicubic": 26.0}
    assert better({"realworld": 23.4, "bicubic": 25.6}, pretrained, pretrained, 0.5)
    assert not better({"realworld": 24.0, "bicubic": 25.4}, pretrained, pretrained, 0.5)  # forgot too much
    assert not better({"realworld": 22.9, "bicubic": 26.1}, pretrained, pretrained, 0.5)  # no gain


def test_a_start_no_checkpoint_beat_is_shipped_with_what_the_run_found(tmp_path):
    from segsr_gui.engine.nets.weights import load_model, save_model
    from segsr_gui.training.restorer import ship_start

    start = restorer_model(zero_head=True)
    save_model(start, tmp_path / "start-x", training={"iterations": 10, "wall_clock_minutes": 1.0},
               restorer={"licence": "Apache-2.0"})
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(json.dumps({
        "iteration": 40, "seconds": 120.0, "best": None,
        "init": {"name": "start-x", "val_psnr": 24.5, "val_miou": 0.3, "val_psnr_steps": [24.5, 24.5]}}))
    ship_start(run, tmp_path / "shipped", log=lambda *_: None)
    shipped = load_model(tmp_path / "shipped.safetensors")
    assert torch.equal(shipped.model.srdm.unet.head.weight, start.srdm.unet.head.weight)
    assert shipped.manifest["validation"]["val_psnr"] == 24.5
    assert "40 iterations" in shipped.manifest["training"]["refinement_run"]
    assert shipped.manifest["restorer"] == {"licence": "Apache-2.0"}
    (run / "state.json").write_text(json.dumps({"iteration": 40, "seconds": 1.0, "best": {"iteration": 20},
                                                "init": {"name": "start-x"}}))
    with pytest.raises(ValueError, match="beat the start"):
        ship_start(run, tmp_path / "again", log=lambda *_: None)
