import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tiny_config(bridge: bool = True, steps: int = 3):
    from segsr_gui.engine.nets.model import ModelConfig
    from segsr_gui.engine.diffusion.schedule import ScheduleConfig

    return ModelConfig(bridge=bridge, sr_width=8, sr_mult=(1, 2), sr_blocks=1, seg_width=8,
                       seg_mult=(1, 2), seg_blocks=1, bridge_channels=8,
                       schedule=ScheduleConfig(steps=steps), noise_scale=1.0)


def make_tiny_model(bridge: bool = True, seed: int = 0, **config_changes):
    """A small random model whose output is not plain bicubic (the SR head starts at zero);
    ``config_changes`` replace fields of ``tiny_config``."""
    from dataclasses import replace

    from segsr_gui.engine.nets.model import SegSRModel

    torch.manual_seed(seed)
    model = SegSRModel(replace(tiny_config(bridge), **config_changes))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
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
bridge = true
sr_width = 8
sr_mult = [1, 2]
sr_blocks = 1
seg_width = 8
seg_mult = [1, 2]
seg_blocks = 1
bridge_channels = 8
seg_pool = 2
sft_hidden = false
noise_scale = 0.0

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
