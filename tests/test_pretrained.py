"""The pretrained-weights import: the ncnn parser, the ncnn -> state-dict mappings and the
two PyTorch ports, offline (tiny synthetic ncnn files written here; no downloads), plus one
data-driven check of SPAN x4 on Set5 (the index a fetch goes through: test_pretrained_fetch.py)."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import DATA
from segsr_gui.app.cli import main
from segsr_gui.engine.nets.span import SPAN
from segsr_gui.engine.nets.squeezenet import FEATURE_CHANNELS, FEATURE_STRIDES, SqueezeNet
from segsr_gui.pretrained.specs import LICENSES_DIR, SPECS
from segsr_gui.pretrained.ncnn_ports import (
    span_config_from_ncnn, span_from_ncnn, span_state_dict_from_ncnn, squeezenet_conv_keys,
    squeezenet_state_dict_from_ncnn)
from segsr_gui.pretrained.ncnn_file import TAG_FP16, conv_weight, load_ncnn, parse_param

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED_SPAN = ROOT / "pretrained" / "span_x4_ch48.safetensors"


# --------------------------------------------------------------- tiny writer

class NcnnWriter:
    """Writes a .param/.bin pair; convolutions as fp16 (tagged) or fp32 (tag 0)."""

    def __init__(self):
        self.lines: list[str] = []
        self.blobs: set[str] = set()
        self.bin = bytearray()

    def layer(self, ltype, name, inputs, outputs, params=""):
        self.blobs.update(outputs)
        self.lines.append(f"{ltype:16s} {name:16s} {len(inputs)} {len(outputs)} "
                          f"{' '.join(inputs + outputs)} {params}".rstrip())

    def conv(self, name, inp, out, w: np.ndarray, b: np.ndarray, pad=1, stride=1, fp16=True):
        o, _, k, _ = w.shape
        self.layer("Convolution", name, [inp], [out],
                   f"0={o} 1={k} 3={stride} 4={pad} 5=1 6={w.size}")
        if fp16:
            self.bin += struct.pack("<I", TAG_FP16)
            raw = w.astype("<f2").tobytes()
            self.bin += raw + b"\0" * ((-len(raw)) % 4)
        else:
            self.bin += struct.pack("<I", 0) + w.astype("<f4").tobytes()
        self.bin += b.astype("<f4").tobytes()

    def memory(self, name, out, data: np.ndarray):
        self.layer("MemoryData", name, [], [out], f"0=1 1=1 2={data.size}")
        self.bin += data.astype("<f4").tobytes()

    def write(self, d: Path, stem: str = "m") -> tuple[Path, Path]:
        text = "7767517\n" + f"{len(self.lines)} {len(self.blobs)}\n" + "\n".join(self.lines) + "\n"
        p, b = d / f"{stem}.param", d / f"{stem}.bin"
        p.write_text(text)
        b.write_bytes(bytes(self.bin))
        return p, b


def _rand(rng, *shape, scale=0.1):
    # values exactly representable in fp16 so the round trip is exact
    return (rng.standard_normal(shape) * scale).astype(np.float16).astype(np.float32)


# --------------------------------------------------------------- parser tests

def test_parse_param_arrays_and_floats():
    text = ("7767517\n2 2\nInput in 0 1 data 0=4 1=4 2=3\n"
            "BinaryOp mul 1 1 data y 0=2 1=1 2=2.550000e+02 -23303=3,1.5,2,3\n")
    layers = parse_param(text)
    assert [L.type for L in layers] == ["Input", "BinaryOp"]
    assert layers[0].params == {0: 4, 1: 4, 2: 3}
    assert layers[1].params[2] == pytest.approx(255.0)
    assert layers[1].params[3] == [1.5, 2.0, 3.0]
    assert layers[1].inputs == ["data"] and layers[1].outputs == ["y"]


def test_round_trip_fp16_fp32_and_memorydata(tmp_path):
    rng = np.random.default_rng(0)
    w1, b1 = _rand(rng, 5, 3, 3, 3), _rand(rng, 5)       # 135 halves: odd -> padding
    w2, b2 = _rand(rng, 4, 5, 1, 1), _rand(rng, 4)
    mean = rng.random(3).astype(np.float32)
    wr = NcnnWriter()
    wr.layer("Input", "in", [], ["data"])
    wr.memory("mean", "m", mean)
    wr.conv("c1", "data", "a", w1, b1, fp16=True)
    wr.conv("c2", "a", "b", w2, b2, pad=0, fp16=False)
    p, b = wr.write(tmp_path)
    layers = load_ncnn(p, b)
    assert [L.name for L in layers] == ["in", "mean", "c1", "c2"]
    np.testing.assert_array_equal(layers[1].weights["data"], mean)
    np.testing.assert_array_equal(conv_weight(layers[2]), w1)
    np.testing.assert_array_equal(layers[2].weights["bias"], b1)
    np.testing.assert_array_equal(conv_weight(layers[3]), w2)
    np.testing.assert_array_equal(layers[3].weights["bias"], b2)


def test_truncated_or_oversized_bin_is_rejected(tmp_path):
    rng = np.random.default_rng(1)
    wr = NcnnWriter()
    wr.layer("Input", "in", [], ["data"])
    wr.conv("c1", "data", "a", _rand(rng, 2, 3, 3, 3), _rand(rng, 2))
    p, b = wr.write(tmp_path)
    full = b.read_bytes()
    b.write_bytes(full[:-4])
    with pytest.raises(ValueError, match="truncated"):
        load_ncnn(p, b)
    b.write_bytes(full + b"\0\0\0\0")
    with pytest.raises(ValueError, match="not fully consumed"):
        load_ncnn(p, b)


# --------------------------------------------------------------- SPAN

def _write_span_graph(d: Path, ch=8, blocks=2, scale=4, seed=0):
    """Synthetic folded-SPAN ncnn graph with random weights (weights only need
    to be in graph order; connectivity is what the SPAN module hard-codes)."""
    rng = np.random.default_rng(seed)
    wr = NcnnWriter()
    wr.layer("Input", "input", [], ["data"])
    wr.memory("mean", "mean", np.array([0.4, 0.5, 0.6], np.float32))
    wr.layer("BinaryOp", "sub", ["data", "mean"], ["s"], "0=1")
    wr.layer("BinaryOp", "mul", ["s"], ["x"], "0=2 1=1 2=2.550000e+02")
    wr.conv("conv_1", "x", "h0", _rand(rng, ch, 3, 3, 3), _rand(rng, ch))
    prev = "h0"
    for i in range(blocks):
        for j in range(3):
            out = f"b{i}c{j}"
            wr.conv(out, prev, out, _rand(rng, ch, ch, 3, 3), _rand(rng, ch))
            prev = out
    wr.conv("conv_2", prev, "f", _rand(rng, ch, ch, 3, 3), _rand(rng, ch))
    wr.conv("conv_cat", "f", "g", _rand(rng, ch, 4 * ch, 1, 1), _rand(rng, ch), pad=0)
    wr.conv("up", "g", "u", _rand(rng, 3 * scale * scale, ch, 3, 3), _rand(rng, 3 * scale * scale))
    wr.layer("PixelShuffle", "ps", ["u"], ["output"], f"0={scale}")
    return wr.write(d, "span")


def test_span_mapping_from_synthetic_graph(tmp_path):
    p, b = _write_span_graph(tmp_path, ch=8, blocks=2)
    layers = load_ncnn(p, b)
    cfg = span_config_from_ncnn(layers)
    assert cfg == {"channels": 8, "scale": 4, "blocks": 2, "out_channels": 3}
    sd = span_state_dict_from_ncnn(layers)
    model = SPAN(channels=8, scale=4, blocks=2)
    assert set(sd) == set(model.state_dict())
    for k, v in model.state_dict().items():
        assert tuple(sd[k].shape) == tuple(v.shape), k
    m = span_from_ncnn(layers)
    np.testing.assert_allclose(m.mean.flatten().numpy(), [0.4, 0.5, 0.6])
    np.testing.assert_array_equal(m.blocks[1].c3_r.weight.detach().numpy(), sd["blocks.1.c3_r.weight"])


def test_span_mapping_loads_strictly_into_a_tiny_span(tmp_path):
    p, b = _write_span_graph(tmp_path, ch=4, blocks=1, seed=3)
    layers = load_ncnn(p, b)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in span_state_dict_from_ncnn(layers).items()}
    model = SPAN(channels=4, blocks=1)
    model.load_state_dict(sd, strict=True)
    conv_1 = next(L for L in layers if L.name == "conv_1")
    np.testing.assert_array_equal(model.conv_1.weight.detach().numpy(), conv_weight(conv_1))
    with torch.no_grad():
        assert model.eval()(torch.rand(1, 3, 5, 6)).shape == (1, 3, 20, 24)


@pytest.mark.parametrize("scale", [2, 4])
def test_span_shapes(scale):
    torch.manual_seed(0)
    m = SPAN(channels=8, scale=scale, blocks=2).eval()
    x = torch.rand(2, 3, 13, 17)
    with torch.no_grad():
        y = m(x)
    assert y.shape == (2, 3, 13 * scale, 17 * scale)
    assert torch.isfinite(y).all()


def test_span_default_param_count():
    m = SPAN(channels=48, scale=4, blocks=6)
    n = sum(p.numel() for p in m.parameters())
    assert n == 426_288
    assert "mean" in dict(m.named_buffers())


def test_span_is_trainable():
    m = SPAN(channels=8, scale=4, blocks=1)
    y = m(torch.rand(1, 3, 8, 8))
    y.mean().backward()
    assert m.conv_1.weight.grad is not None


# --------------------------------------------------------------- SqueezeNet

def test_squeezenet_feature_strides_and_logits():
    torch.manual_seed(0)
    m = SqueezeNet(num_classes=10).eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.01)
    x = torch.rand(1, 3, 227, 227)
    with torch.no_grad():
        feats = m.features(x, include_stem=True)
        logits = m(x)
    assert [f.shape[1] for f in feats] == [64] + FEATURE_CHANNELS
    assert FEATURE_STRIDES == [4, 8, 16] and SqueezeNet.feature_channels == [128, 256, 512]
    assert [f.shape[-1] for f in feats] == [113, 56, 28, 14]
    assert logits.shape == (1, 10)
    x = torch.rand(2, 3, 128, 160)
    with torch.no_grad():
        f4, f8, f16 = m.features(x)
    # strides are nominal (conv1 unpadded, ceil-mode pools): 128x160 -> 31x39, 15x19, 7x9
    assert (f4.shape[-2:], f8.shape[-2:], f16.shape[-2:]) == ((31, 39), (15, 19), (7, 9))


def test_squeezenet_param_count_and_mapping():
    m = SqueezeNet()
    assert sum(p.numel() for p in m.parameters()) == 1_235_496

    class FakeLayer:  # stand-in for ncnn layers, built from the module's own shapes
        def __init__(self, w, b):
            self.type, self.params = "Convolution", {0: w.shape[0], 1: w.shape[-1], 6: w.numel()}
            self.weights = {"weight": w.detach().numpy().reshape(-1), "bias": b.detach().numpy()}
            self.name = "c"

        def p(self, k, d=None):
            return self.params.get(k, d)

    mods = dict(m.named_modules())
    layers = [FakeLayer(mods[k].weight, mods[k].bias) for k in squeezenet_conv_keys()]
    sd = squeezenet_state_dict_from_ncnn(layers)
    ref = m.state_dict()
    assert set(sd) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(sd[k], ref[k].numpy(), err_msg=k)


def test_squeezenet_rgb01_equals_caffe_input():
    torch.manual_seed(0)
    a = SqueezeNet(num_classes=5, rgb01_input=True).eval()
    b = SqueezeNet(num_classes=5, rgb01_input=False).eval()
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 3, 64, 64)
    caffe = x.flip(1) * 255 - torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(caffe))


# --------------------------------------------------------------- the import command and its files

def _pinned(spec) -> str:
    """How a pinned package is written: pip's NAME==VERSION, npm's @SCOPE/NAME@VERSION."""
    return f"{spec['package']}@{spec['version']}" if spec["dist"] == "npm" else f"{spec['package']}=={spec['version']}"


def test_specs_pin_versions_and_full_sha256s():
    for spec in SPECS.values():
        name = spec["package"].rsplit("/", 1)[-1]  # npm tarballs drop the scope
        assert spec["filename"].startswith((name, name.replace("-", "_")))
        if spec["dist"] == "npm":
            assert spec["tarball"].startswith(spec["package"] + "/-/") and spec["tarball"].endswith(spec["filename"])
        assert spec["version"] in spec["filename"]
        assert len(spec["sha256"]) == 64 and int(spec["sha256"], 16) >= 0
        for name in spec["repo_licences"]:
            assert (LICENSES_DIR / name).is_file(), name


def test_committed_licence_files():
    span = (LICENSES_DIR / "LICENSE-SPAN").read_text()
    assert "hongyuanyu/SPAN" in span and "Apache License" in span and "END OF TERMS AND CONDITIONS" in span
    squeeze = (LICENSES_DIR / "LICENSE-SqueezeNet").read_text()
    assert "Forrest N. Iandola" in squeeze and "BSD 2-Clause" in squeeze
    assert "zlib" not in squeeze and "android.toolchain" not in squeeze  # only SqueezeNet's section
    notice = (LICENSES_DIR / "NOTICE").read_text()
    for spec in SPECS.values():
        assert spec["sha256"] in notice and _pinned(spec) in notice
    assert "models/segsr-x4.safetensors" in notice and "models/srdm-only-x4.safetensors" in notice
    # every shipped model carrying the SqueezeNet weights is named in SqueezeNet's section
    squeeze_section = notice.split("SqueezeNet v1.1 --", 1)[1]
    for manifest in (LICENSES_DIR.parent / "models").glob("*.json"):
        if "seg_encoder" in json.loads(manifest.read_text()):
            assert f"models/{manifest.stem}.safetensors" in squeeze_section


def test_import_pretrained_errors_are_one_line(tmp_path, capsys):
    code = main(["import-pretrained", "--out", str(tmp_path / "pt"), "--image", str(tmp_path / "none.png")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("segsr: ") and "none.png" in err
    assert "Traceback" not in err
    assert not (tmp_path / "pt").exists()  # nothing written, nothing downloaded


# --------------------------------------------------------------- data-driven

def _shipped_span() -> SPAN:
    """SPAN x4 as the shipped model carries it: its faithful expert holds SPAN's pretrained
    weights unchanged (its manifest says so), under whatever key prefix the model gives it."""
    from safetensors.torch import load_file

    tensors = load_file(str(ROOT / "models" / "segsr-x4.safetensors"))
    model = SPAN()
    wanted = {k: v.shape for k, v in model.state_dict().items()}
    prefixes = {k[:len(k) - len(w)] for k in tensors for w in wanted if k.endswith("." + w)}
    for prefix in sorted(prefixes):
        found = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if found.keys() == wanted.keys() and all(found[k].shape == wanted[k] for k in wanted):
            model.load_state_dict(found, strict=True)
            return model.eval()
    raise AssertionError("no SPAN x4 state dict in models/segsr-x4.safetensors")


@pytest.mark.data
@pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data (Set5)")
def test_pretrained_span_on_set5():
    from segsr_gui.training.data import load_sr_set
    from segsr_gui.training.degrade import bicubic
    from segsr_gui.training.metrics import psnr_y

    model = _shipped_span()
    if PRETRAINED_SPAN.exists():  # an import here gives the very same weights
        from safetensors.torch import load_file

        imported = load_file(str(PRETRAINED_SPAN))
        assert all(torch.equal(v, imported[k]) for k, v in model.state_dict().items())
    hrs, names = load_sr_set(DATA, "Set5", scale=4)
    assert len(hrs) == 5, names
    scores = []
    with torch.no_grad():
        for hr in hrs:
            lr = bicubic(hr, 4)  # Pillow bicubic /4 of the HR cropped to a multiple of 4
            x = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]
            sr = model(x).clamp(0, 1)[0].numpy().transpose(1, 2, 0)
            scores.append(psnr_y(sr, hr, shave=4))
    mean = float(np.mean(scores))
    assert mean >= 32.1, dict(zip(names, scores))
