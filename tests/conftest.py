import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tiny_config(bridge: bool = True, steps: int = 3):
    """A small model: a 4-channel SPAN as the faithful expert, no clean expert, and (with
    ``bridge``) a small class chain at LR/2. The tone guard at 1 HR pixel makes the untrained
    expert's output the photo's bicubic enlargement plus the expert's faint detail."""
    from segsr_gui.engine.diffusion.schedule import ScheduleConfig
    from segsr_gui.engine.nets.model import ModelConfig
    from segsr_gui.engine.stages.class_chain import ClassChainConfig
    from segsr_gui.engine.stages.experts import ExpertsConfig

    experts = ExpertsConfig(faithful_channels=4, faithful_blocks=1, clean="", auto_strength=(),
                            lattice_sigma=0.0, tone_sigma=1.0)
    classes = ClassChainConfig(width=8, mult=(1, 2), blocks=1, image_channels=8, pool=2, encoder_channels=0)
    return ModelConfig(schedule=ScheduleConfig(steps=steps), noise_scale=1.0, experts=experts,
                       classes=classes if bridge else None)


def make_tiny_model(bridge: bool = True, seed: int = 0, experts: dict | None = None, classes: dict | None = None,
                    repair: bool = False, **config_changes):
    """A small random model; ``experts`` and ``classes`` replace fields of those stages'
    configs, ``config_changes`` fields of ``tiny_config``'s ModelConfig; ``repair`` adds a
    small untrained repair stage."""
    from dataclasses import replace

    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.repair.repair import RepairConfig

    config = tiny_config(bridge)
    if repair:
        config = replace(config, repair=RepairConfig(widths=(4, 8, 8), fill_widths=(4, 8, 8), steps=2))
    if experts:
        config = replace(config, experts=replace(config.experts, **experts))
    if classes:
        config = replace(config, classes=replace(config.classes, **classes))
    torch.manual_seed(seed)
    model = SegSRModel(replace(config, **config_changes))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
        # an untrained expert's output is far out of range: make it faint detail around grey
        up = model.experts.faithful.upsampler
        up.weight.mul_(1e-4)
        up.bias.fill_(0.5)
    return model.eval()


# A training config small enough for a test run (tests/test_train.py, tests/test_seg_encoder.py).
TINY_TRAIN_TOML = """
[train]
name = "tiny"
batch = 2
crop = 32
lr = 1e-3
val_every = 2
val_images = 2
bicubic_share = 0.5
old_photo_share = 0.25

[model]
noise_scale = 0.0

[model.experts]
faithful_channels = 4
faithful_blocks = 1
clean = ""
auto_strength = []
lattice_sigma = 0.0
tone_sigma = 1.0

[model.classes]
width = 8
mult = [1, 2]
blocks = 1
image_channels = 8
pool = 2
encoder_channels = 0

[schedule]
steps = 3
"""


@pytest.fixture(scope="session")
def tiny_model():
    return make_tiny_model()


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    """A tiny model saved as safetensors + manifest, as the loader expects."""
    from segsr_gui.engine.nets.weights import save_model

    folder = tmp_path_factory.mktemp("models")
    save_model(make_tiny_model(), folder / "tiny", training={"note": "random test weights"})
    return folder / "tiny.safetensors"


@pytest.fixture
def photo(tmp_path):
    """A small smooth RGB photo with structure, written as PNG."""
    from PIL import Image

    yy, xx = np.mgrid[0:40, 0:48]
    rgb = np.stack([(xx * 5) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], axis=2).astype(np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    return path


def needs_data(sub: str = ""):
    return pytest.mark.skipif(not (DATA / sub).exists(),
                              reason=f"../shared/data/{sub} is absent (data-driven check)")


@pytest.fixture
def camvid_like(tmp_path):
    """Three 64x64 photos with 11-class labels (and ignored pixels) per split."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for split in ("train", "val"):
        (root / "camvid" / split).mkdir(parents=True)
        (root / "camvid" / f"{split}annot").mkdir()
        for i in range(3):
            labels = (np.arange(64)[:, None] // 6 + np.arange(64)[None] // 9 + i) % 12
            photo = (rng.random((64, 64, 3)) * 60 + labels[..., None] * 15).clip(0, 255).astype(np.uint8)
            Image.fromarray(photo).save(root / "camvid" / split / f"f{i}.png")
            Image.fromarray(labels.astype(np.uint8)).save(root / "camvid" / f"{split}annot" / f"f{i}.png")
    return root
