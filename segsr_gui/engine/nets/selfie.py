"""MediaPipe's selfie segmentation net (person vs background) in PyTorch.

The net is a MobileNetV3-style encoder-decoder of about 100 small layers, imported from
its TFLite file (``pretrained/tflite_port.py``). Rather than restate that graph by hand, the
import records it as a list of ops (``ops``, JSON in the weights' metadata) and this module
runs the list: every op is one line of PyTorch below, with TFLite's semantics (SAME padding
is TensorFlow's, which pads the bottom/right side more). Input (B, 3, 256, 256) RGB in
[0, 1]; output (B, 1, 256, 256) person probability. The pools are fixed-size, so the input
must be 256x256: ``person_prior.py`` squashes or crops the photo to it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SIZE = 256  # the net's input side


def _same_pad(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    pads = []
    for size, k, s in zip(x.shape[-2:], kernel, stride):
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return F.pad(x, (left, right, top, bottom))


class SelfieNet(nn.Module):
    """``ops``: dicts with ``op``, ``x`` (input tensor names), ``y`` (output name) and the
    op's own fields (``w``/``b`` weight names, ``stride``, ``same``, ``size``); tensors
    named by ``input`` and ``output`` are the graph's ends."""

    def __init__(self, ops: list[dict], shapes: dict[str, list[int]], input: str, output: str):
        super().__init__()
        self.ops, self.input, self.output = ops, input, output
        # weight names hold '/', which module attributes may not
        self.weights = nn.ParameterDict({self.key(name): nn.Parameter(torch.zeros(shape), requires_grad=False)
                                         for name, shape in shapes.items()})

    @classmethod
    def from_graph(cls, graph: dict, tensors: dict[str, torch.Tensor]) -> "SelfieNet":
        """The net of an op list (``graph``: ``ops``, ``input``, ``output``) holding ``tensors``
        (weights by their TFLite names)."""
        net = cls(graph["ops"], {k: list(v.shape) for k, v in tensors.items()}, graph["input"], graph["output"])
        net.load_state_dict({f"weights.{cls.key(k)}": v for k, v in tensors.items()})
        return net.eval()

    @staticmethod
    def key(name: str) -> str:
        return name.replace("/", "__").replace(".", "_")

    def _w(self, name: str) -> torch.Tensor:
        return self.weights[self.key(name)]

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        values = {self.input: rgb}
        for op in self.ops:
            x = [values[name] for name in op["x"]]
            values[op["y"]] = self._run(op, x)
        return values[self.output]

    def _run(self, op: dict, x: list[torch.Tensor]) -> torch.Tensor:
        kind = op["op"]
        if kind in ("conv", "dwconv"):
            w, b, stride = self._w(op["w"]), self._w(op["b"]), tuple(op["stride"])
            inp = _same_pad(x[0], w.shape[-2:], stride) if op["same"] else x[0]
            groups = w.shape[0] if kind == "dwconv" else 1
            return F.conv2d(inp, w.to(inp.dtype), b.to(inp.dtype), stride, groups=groups)
        if kind == "deconv":  # VALID transpose convolution, kernel == stride in this net
            w, b = self._w(op["w"]), self._w(op["b"])
            return F.conv_transpose2d(x[0], w.to(x[0].dtype), b.to(x[0].dtype), tuple(op["stride"]))
        if kind == "avgpool":
            return F.avg_pool2d(x[0], tuple(op["kernel"]), tuple(op["stride"]))
        if kind == "resize":  # half-pixel centres, as TFLite's op is set in this net
            return F.interpolate(x[0], size=tuple(op["size"]), mode="bilinear", align_corners=False)
        if kind == "hswish":
            return F.hardswish(x[0])
        if kind == "relu":
            return F.relu(x[0])
        if kind == "sigmoid":
            return torch.sigmoid(x[0])
        if kind == "add":
            return x[0] + x[1]
        if kind == "mul":
            return x[0] * x[1]
        raise ValueError(f"unknown op {kind!r}")
