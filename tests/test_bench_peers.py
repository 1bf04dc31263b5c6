"""Tests for benchmarks/quality/peers.py without downloads: the input layout, the pins, and the
tiling through ncnn itself on a small SRMD-shaped net written here (the real peers' files come
from ``python -m benchmarks.fetch``)."""
import struct
from pathlib import Path

import numpy as np
import pytest

from _bench import load

peers = load("peers")


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


def _write_srmd_shaped_net(folder: Path, seed: int = 0) -> None:
    """srmd_x4.param/.bin with SRMD's interface (blob "input": RGB + 15 degradation maps + a noise
    map; blob "output": RGB x4 by pixel shuffle) and three 3x3 convolutions: each output pixel
    sees 3 LR pixels around it, so tiles with less context than that would show seams."""
    rng = np.random.default_rng(seed)
    lines, weights = [], bytearray()
    shapes = [("conv0", "input", "c0", 19, 16), ("conv1", "r0", "c1", 16, 16), ("conv2", "r1", "c2", 16, 48)]
    lines.append("Input            input            0 1 input")
    for i, (name, src, dst, cin, cout) in enumerate(shapes):
        w = rng.normal(0, 0.3 / np.sqrt(9 * cin), (cout, cin, 3, 3)).astype("<f4")
        b = rng.normal(0, 0.05, cout).astype("<f4")
        lines.append(f"Convolution      {name:16s} 1 1 {src} {dst} 0={cout} 1=3 4=1 5=1 6={w.size}")
        weights += struct.pack("<I", 0) + w.tobytes() + b.tobytes()  # tag 0: fp32 weights
        if i < 2:
            lines.append(f"ReLU             relu{i}            1 1 {dst} r{i}")
    lines.append("PixelShuffle     shuffle          1 1 c2 output 0=4")
    blobs = {tok for line in lines[1:] for tok in line.split()[4:6] if "=" not in tok} | {"input"}
    (folder / "srmd_x4.param").write_text(f"7767517\n{len(lines)} {len(blobs)}\n" + "\n".join(lines) + "\n")
    (folder / "srmd_x4.bin").write_bytes(bytes(weights))


def test_srmd_tiling_matches_whole_image(tmp_path):
    pytest.importorskip("ncnn", reason="ncnn is in the test extra (pip install -e .[test])")
    _write_srmd_shaped_net(tmp_path)
    lr = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    whole = peers.SRMD(tmp_path, tile=1000)(lr).astype(int)
    tiled = peers.SRMD(tmp_path, tile=16)(lr).astype(int)
    assert whole.shape == (160, 208, 3)
    assert whole.std() > 5  # the net does not map everything to one value
    assert np.abs(whole - tiled).max() <= 1
    # the check has teeth: with no context around each tile, the seams show
    seams = peers.SRMD(tmp_path, tile=16, pad=0)(lr).astype(int)
    assert np.abs(whole - seams).max() > 8
