"""Training end to end on a tiny CamVid-shaped folder: log, curves, state, resume, shipping."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

TOML = """
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


def test_train_logs_selects_resumes_and_ships(tmp_path, camvid_like):
    from segsr_gui.train import run_training
    from segsr_gui.weights import load_model

    config = tmp_path / "tiny.toml"
    config.write_text(TOML)
    out, ship = tmp_path / "run", tmp_path / "models" / "tiny.safetensors"
    ship.parent.mkdir()
    lines = []
    meta = run_training(config, camvid_like, out, minutes=0, resume=False, ship=str(ship),
                        log=lines.append, max_iters=4)
    assert meta["iteration"] == 4 and meta["best"]["iteration"] in (2, 4)
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["iteration"]) for r in rows] == [2, 4]
    assert all(np.isfinite(float(r["val_psnr"])) for r in rows)
    assert (out / "curves.png").stat().st_size > 0 and (out / "state.safetensors").is_file()

    manifest = json.loads(ship.with_suffix(".json").read_text())
    assert manifest["training"]["run_iterations"] == 4
    assert manifest["training"]["selected_at_iteration"] == meta["best"]["iteration"]
    assert "3 images" in manifest["training"]["data"]  # counted, not assumed
    assert manifest["config"]["seg_pool"] == 2
    loaded = load_model(ship)  # checksum verified, nothing unpickled
    assert loaded.model.config.seg_pool == 2 and not loaded.model.config.sft_hidden

    # A second sitting continues from the state file instead of starting over.
    lines.clear()
    meta = run_training(config, camvid_like, out, minutes=0, resume=True, ship=str(ship),
                        log=lines.append, max_iters=6)
    assert lines[0] == "resumed at iteration 4" and meta["iteration"] == 6
    assert [int(r["iteration"]) for r in csv.DictReader(open(out / "log.csv"))] == [2, 4, 6]
