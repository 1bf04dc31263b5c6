"""Tests for benchmarks/quality/peers.py: the input layout without downloads; model runs only where
``python -m benchmarks.fetch`` has put the files (runs/bench-assets, or $BENCH_ASSETS)."""
import os
from pathlib import Path

import numpy as np
import pytest

from _bench import load

peers = load("peers")
ASSETS = Path(os.environ.get("BENCH_ASSETS", load("common").RUNS / "bench-assets"))


def test_srmd_input_channels():
    s = object.__new__(peers.SRMD)  # no model files needed for the input layout
    s.noise = 5
    rgb = np.random.default_rng(0).random((3, 5, 7)).astype(np.float32)
    x = s.make_input(rgb)
    assert x.shape == (19, 5, 7)
    assert np.array_equal(x[:3], rgb)
    assert np.allclose(x[3:18, 2, 3], peers.SRMD_DEGRADATION_PCA)
    assert np.allclose(x[18], 5 / 255)
    s.noise = -1
    assert s.make_input(rgb).shape == (18, 5, 7)


def test_bicubic_shape():
    out = peers.bicubic_x4(np.zeros((6, 9, 3), np.uint8))
    assert out.shape == (24, 36, 3) and out.dtype == np.uint8


def test_pins_are_sha256_and_name_their_members():
    for spec, (wheel, digest, members) in peers.PEER_WHEELS.items():
        assert "==" in spec and wheel.endswith(".whl")
        assert len(digest) == 64 and int(digest, 16) >= 0
        assert all(m.endswith((".param", ".bin")) for m in members)


def test_missing_model_files_say_how_to_fetch(tmp_path):
    pytest.importorskip("ncnn")
    with pytest.raises(FileNotFoundError, match="python -m benchmarks.fetch"):
        peers.RealESRGAN(tmp_path)


@pytest.mark.skipif(not (ASSETS / "srmd_x4.bin").is_file(), reason="run python -m benchmarks.fetch first")
def test_srmd_tiling_matches_whole_image():
    pytest.importorskip("ncnn")
    lr = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    whole = peers.SRMD(ASSETS, tile=1000)(lr).astype(int)
    tiled = peers.SRMD(ASSETS, tile=16)(lr).astype(int)
    assert whole.shape == (160, 208, 3)
    assert np.abs(whole - tiled).max() <= 1
