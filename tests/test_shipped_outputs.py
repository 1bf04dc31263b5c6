"""The shipped models give the recorded outputs (tests/data/shipped_outputs, made by its
record.py): the image within 1/255, the class map identical, Auto picking the same strength,
with what was added since (the repair, the background class) switched off.

bf16 autocast moves the image by a few grey levels, so each precision has its own record and
the test checks the one this machine runs: ``bf16`` on a CPU with native bf16, ``fp32``
elsewhere. The fp32 class maps may differ on a few pixels where two classes tie, since fp32
sums are ordered differently by the AVX2 and AVX-512 kernels."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from segsr_gui.engine.diffusion.precision import autocast_dtype

HERE = Path(__file__).parent / "data" / "shipped_outputs"
PRECISION = "bf16" if autocast_dtype(torch.device("cpu")) == torch.bfloat16 else "fp32"
RECORD = HERE / PRECISION
RUNS = json.loads((RECORD / "runs.json").read_text())
_spec = importlib.util.spec_from_file_location("record", HERE / "record.py")
record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record)


@pytest.fixture(scope="module")
def sample():
    return np.asarray(Image.open(HERE.parents[2] / "resources" / "sample.png").convert("RGB"), dtype=np.float32) / 255


@pytest.fixture(scope="module")
def models():
    return {}


@pytest.mark.parametrize("key", sorted(RUNS))
def test_shipped_model_output_unchanged(key, sample, models):
    loaded, result = record.run(key, sample, "auto", models)
    assert not loaded.missing_expert and not loaded.missing_prior, "set-up must fetch the pretrained nets"
    recorded = RUNS[key]
    assert (result.strength.value, result.strength.auto) == (recorded["strength"], recorded["auto"])
    image = (result.image * 255).round().astype(np.uint8)
    if "image_sha256" in recorded:
        assert hashlib.sha256(image.tobytes()).hexdigest() == recorded["image_sha256"]
    elif (RECORD / f"{key}_small.png").exists():
        expected = np.asarray(Image.open(RECORD / f"{key}_small.png"))
        assert np.abs(record.box_mean(image).astype(int) - expected).max() <= 1
    else:
        expected = np.asarray(Image.open(RECORD / f"{key}.png"))
        assert np.abs(image.astype(int) - expected).max() <= 1
    classes = RECORD / f"{key}_classes.png"
    if classes.exists():
        differ = (result.class_map != np.asarray(Image.open(classes))).mean()
        assert differ == 0 if PRECISION == "bf16" else differ <= 0.001
    else:
        assert result.class_map is None
