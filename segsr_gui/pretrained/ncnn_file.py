"""Minimal reader for ncnn model files (text ``.param`` + binary ``.bin``).

Used by ``segsr import-pretrained`` (pretrained/importer.py) to lift the
weights of the pretrained ncnn models into numpy; no ncnn install is needed.
Only what that needs is implemented:

* ``parse_param(text)`` turns the text graph into an ordered list of
  :class:`Layer` (type, name, input blob names, output blob names, params).
* ``load_ncnn(param_path, bin_path)`` additionally walks the ``.bin`` file in
  layer order, attaching each layer's weights as float32 numpy arrays, and
  asserts that the whole file was consumed (no byte left over, none missing).

Weight storage in ``.bin`` (little endian):

* "tagged" blobs (convolution / inner-product weights) start with a 4-byte
  tag: ``0x01306B47`` -> fp16 values follow, padded to a multiple of 4 bytes;
  ``0x000D4B38`` -> int8 values, padded to 4 bytes; ``0x0002C056`` -> fp32
  values; ``0`` -> fp32 values; any other non-zero tag -> a 256-entry fp32
  lookup table followed by uint8 indices padded to 4 bytes.
* "raw" blobs (biases, MemoryData, BatchNorm statistics ...) are plain fp32
  with no tag.
"""
from __future__ import annotations

import dataclasses
import struct
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FP32_SCALED = 0x0002C056

ARRAY_KEY_BASE = -23300


@dataclasses.dataclass
class Layer:
    """One layer: ``params`` maps ncnn param ids to values (array params by their id)."""

    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, Any]
    weights: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def p(self, key: int, default: Any = None) -> Any:
        return self.params.get(key, default)


def _number(tok: str) -> int | float:
    if any(c in tok for c in ".eE") and not tok.lower().startswith("0x"):
        return float(tok)
    return int(tok)


def _parse_value(key: int, raw: str) -> tuple[int, Any]:
    if key <= ARRAY_KEY_BASE:
        # array param: "-233xx=n,v1,...,vn" -> id xx
        items = raw.split(",")
        n = int(items[0])
        vals = items[1:]
        if len(vals) != n:
            raise ValueError(f"array param {key}: count {n} but {len(vals)} values")
        is_float = any(any(c in v for c in ".eE") for v in vals)
        arr = [float(v) if is_float else int(v) for v in vals]
        return ARRAY_KEY_BASE - key, arr
    return key, _number(raw)


def parse_param(text: str) -> list[Layer]:
    """The layers of a text .param file, in file order."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines or int(lines[0]) != MAGIC:
        raise ValueError("not an ncnn .param file (bad magic)")
    layer_count, blob_count = (int(t) for t in lines[1].split())
    layers: list[Layer] = []
    for ln in lines[2:]:
        toks = ln.split()
        ltype, name = toks[0], toks[1]
        n_in, n_out = int(toks[2]), int(toks[3])
        pos = 4
        inputs = toks[pos:pos + n_in]
        pos += n_in
        outputs = toks[pos:pos + n_out]
        pos += n_out
        params: dict[int, Any] = {}
        for kv in toks[pos:]:
            k, v = kv.split("=", 1)
            key, val = _parse_value(int(k), v)
            params[key] = val
        layers.append(Layer(ltype, name, inputs, outputs, params))
    if len(layers) != layer_count:
        raise ValueError(f"header says {layer_count} layers, found {len(layers)}")
    blobs = {b for layer in layers for b in layer.outputs}
    if len(blobs) != blob_count:
        raise ValueError(f"header says {blob_count} blobs, found {len(blobs)}")
    return layers


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(
                f".bin truncated: need {n} bytes at offset {self.pos}, "
                f"file has {len(self.data)}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def raw_f32(self, count: int) -> np.ndarray:
        return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32)

    def tagged(self, count: int) -> np.ndarray:
        (tag,) = struct.unpack("<I", self.take(4))
        if tag == TAG_FP16:
            buf = self.take(_align4(2 * count))
            return np.frombuffer(buf[:2 * count], dtype="<f2").astype(np.float32)
        if tag == TAG_INT8:
            buf = self.take(_align4(count))
            return np.frombuffer(buf[:count], dtype=np.int8).astype(np.float32)
        if tag == TAG_FP32_SCALED or tag == 0:
            return self.raw_f32(count)
        # quantised: 256-entry fp32 table then uint8 indices
        table = self.raw_f32(256)
        idx = np.frombuffer(self.take(_align4(count))[:count], dtype=np.uint8)
        return table[idx]


def _align4(n: int) -> int:
    return (n + 3) & ~3


# Layers with a weight blob and an optional bias: the param ids of (weight element count,
# bias flag); param 0 is the output channel count, the bias's length.
_CONV_TYPES = ("Convolution", "ConvolutionDepthWise", "Deconvolution", "DeconvolutionDepthWise",
               "Convolution1D", "Convolution3D")
_WEIGHT_PARAMS = {**{t: (6, 5) for t in _CONV_TYPES}, "InnerProduct": (2, 1)}


# Layers whose weights we know how to read. Each entry returns the list of
# (weight name, kind, element count) to read in file order.
def _weight_plan(layer: Layer) -> list[tuple[str, str, int]]:
    t, p = layer.type, layer.p
    if t in _WEIGHT_PARAMS:
        count_key, bias_key = _WEIGHT_PARAMS[t]
        if p(8, 0):
            raise NotImplementedError(f"{layer.name}: int8 scale terms not supported")
        plan = [("weight", "tagged", int(p(count_key)))]
        if p(bias_key, 0):
            plan.append(("bias", "raw", int(p(0))))
        return plan
    if t == "MemoryData":
        w, h, d, c = int(p(0, 0)), int(p(1, 0)), int(p(11, 0)), int(p(2, 0))
        count = max(w, 1) * max(h, 1) * max(d, 1) * max(c, 1)
        return [("data", "raw", count)]
    if t == "BatchNorm":
        c = int(p(0))
        return [(k, "raw", c) for k in ("slope", "mean", "var", "bias")]
    if t == "Scale":
        n = int(p(0))
        plan = [] if n == -233 else [("scale", "raw", n)]
        if p(1, 0):
            plan.append(("bias", "raw", abs(n)))
        return plan
    if t == "PReLU":
        return [("slope", "raw", int(p(0, 0)))]
    if t == "Bias":
        return [("bias", "raw", int(p(0)))]
    return []


WEIGHTLESS = {
    "Input", "Split", "BinaryOp", "Sigmoid", "Swish", "ReLU", "Concat",
    "PixelShuffle", "Pooling", "Softmax", "Dropout", "Eltwise", "Interp",
    "UnaryOp", "Clip", "Reshape", "Flatten", "Permute", "Crop", "Padding",
    "HardSigmoid", "HardSwish", "TanH", "Noop", "Slice", "ELU", "Mish",
}


def attach_weights(layers: list[Layer], data: bytes) -> list[Layer]:
    """Read ``data`` (a .bin) in layer order into ``layer.weights``; every byte must be used."""
    rd = _Reader(data)
    for layer in layers:
        plan = _weight_plan(layer)
        if not plan and layer.type not in WEIGHTLESS:
            raise NotImplementedError(
                f"layer type {layer.type} ({layer.name}) may carry weights; "
                "its layout is not implemented")
        for wname, kind, count in plan:
            arr = rd.tagged(count) if kind == "tagged" else rd.raw_f32(count)
            layer.weights[wname] = arr
    if rd.pos != len(data):
        raise ValueError(
            f".bin not fully consumed: read {rd.pos} of {len(data)} bytes")
    return layers


def load_ncnn(param_path: str | Path, bin_path: str | Path) -> list[Layer]:
    """Parse ``param_path`` and attach the weights of ``bin_path`` (all of it, exactly)."""
    layers = parse_param(Path(param_path).read_text())
    return attach_weights(layers, Path(bin_path).read_bytes())


def conv_weight(layer: Layer) -> np.ndarray:
    """Convolution weight reshaped to (out, in / group, kh, kw) (PyTorch layout)."""
    out_c = int(layer.p(0))
    kw = int(layer.p(1))
    kh = int(layer.p(11, kw))
    w = layer.weights["weight"]
    in_per_group = w.size // (out_c * kh * kw)
    if in_per_group * out_c * kh * kw != w.size:
        raise ValueError(f"{layer.name}: {w.size} weights do not fit {out_c} x ? x {kh} x {kw}")
    return w.reshape(out_c, in_per_group, kh, kw)


def param_count(layers: list[Layer], types: tuple[str, ...] | None = None) -> int:
    """Number of weight values, over all layers or those of the given types."""
    return sum(a.size for L in layers if types is None or L.type in types
               for a in L.weights.values())


if __name__ == "__main__":  # inspection: python -m segsr_gui.pretrained.ncnn_file x.param x.bin
    import sys

    found = load_ncnn(sys.argv[1], sys.argv[2])
    for L in found:
        shapes = {k: v.shape for k, v in L.weights.items()}
        print(f"{L.type:22s} {L.name:40s} {L.params} {shapes}")
    print("params:", param_count(found))
