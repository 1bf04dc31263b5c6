"""Lifting the weights of ncnn graphs onto the project's PyTorch modules: SPAN x4
(``engine/nets/span.py``), Real-ESRGAN x4plus (``engine/nets/rrdbnet.py``) and SqueezeNet
v1.1 (``engine/nets/squeezenet.py``), by the order of the graphs' layers (``ncnn_file``
parses them)."""

from __future__ import annotations

import numpy as np

from segsr_gui.pretrained.ncnn_file import Layer, conv_weight


def span_config_from_ncnn(layers: list[Layer]) -> dict:
    """Read channels / scale / blocks / out_channels off a folded-SPAN ncnn graph."""
    convs = [L for L in layers if L.type == "Convolution"]
    shuffles = [L for L in layers if L.type == "PixelShuffle"]
    if len(shuffles) != 1 or len(convs) < 7 or (len(convs) - 4) % 3 != 0:
        raise ValueError("graph does not look like folded SPAN")
    channels = int(convs[0].p(0))
    scale = int(shuffles[0].p(0))
    out_ch = int(convs[-1].p(0)) // (scale * scale)
    return {"channels": channels, "scale": scale, "blocks": (len(convs) - 4) // 3,
            "out_channels": out_ch}


def span_conv_keys(blocks: int) -> list[str]:
    keys = ["conv_1"]
    for b in range(blocks):
        keys += [f"blocks.{b}.c1_r", f"blocks.{b}.c2_r", f"blocks.{b}.c3_r"]
    keys += ["conv_2", "conv_cat", "upsampler"]
    return keys


def span_state_dict_from_ncnn(layers: list[Layer]) -> dict[str, np.ndarray]:
    """Map the ncnn layers (from ``ncnn_file.load_ncnn``) to SPAN state-dict keys.

    Convolutions are assigned in graph order: conv_1, (c1_r, c2_r, c3_r) per
    block, conv_2, conv_cat, upsampler. The MemoryData blob becomes ``mean``;
    the scalar of the BinaryOp multiply is checked to be 255.
    """
    cfg = span_config_from_ncnn(layers)
    convs = [L for L in layers if L.type == "Convolution"]
    keys = span_conv_keys(cfg["blocks"])
    sd: dict[str, np.ndarray] = {}
    for key, L in zip(keys, convs, strict=True):
        sd[f"{key}.weight"] = conv_weight(L)
        sd[f"{key}.bias"] = L.weights["bias"].reshape(-1)
    mem = [L for L in layers if L.type == "MemoryData"]
    if len(mem) != 1:
        raise ValueError(f"expected one MemoryData layer (the mean), found {len(mem)}")
    sd["mean"] = mem[0].weights["data"].reshape(1, -1, 1, 1)
    muls = [L for L in layers if L.type == "BinaryOp" and L.p(0) == 2 and L.p(1, 0) == 1]
    if not muls or abs(float(muls[0].p(2)) - 255.0) > 1e-6:
        raise ValueError("expected the input to be scaled by 255 (BinaryOp mul 255)")
    return sd


def span_from_ncnn(layers: list[Layer]):
    """A ``SPAN`` (eval mode) carrying the ncnn graph's weights."""
    import torch

    from segsr_gui.engine.nets.span import SPAN

    cfg = span_config_from_ncnn(layers)
    model = SPAN(**cfg)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in
          span_state_dict_from_ncnn(layers).items()}
    model.load_state_dict(sd, strict=True)
    return model.eval()


def squeezenet_conv_keys() -> list[str]:
    from segsr_gui.engine.nets.squeezenet import FIRE_CFG

    keys = ["conv1"]
    for i in range(len(FIRE_CFG)):
        keys += [f"fires.{i}.squeeze", f"fires.{i}.expand1x1", f"fires.{i}.expand3x3"]
    keys.append("conv10")
    return keys


def squeezenet_state_dict_from_ncnn(layers) -> dict[str, np.ndarray]:
    """Map ncnn layers to state-dict keys in graph order (conv1, per fire:
    squeeze, expand1x1, expand3x3, then conv10); ``mean`` is the Caffe mean."""
    from segsr_gui.engine.nets.squeezenet import BGR_MEAN

    convs = [L for L in layers if L.type == "Convolution"]
    keys = squeezenet_conv_keys()
    if len(convs) != len(keys):
        raise ValueError(f"expected {len(keys)} convolutions, found {len(convs)}")
    sd: dict[str, np.ndarray] = {}
    for key, L in zip(keys, convs):
        sd[f"{key}.weight"] = conv_weight(L)
        sd[f"{key}.bias"] = L.weights["bias"].reshape(-1)
    sd["mean"] = np.array(BGR_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    return sd


def squeezenet_from_ncnn(layers: list[Layer], rgb01_input: bool = True):
    """A ``SqueezeNet`` (eval mode) carrying the ncnn graph's weights."""
    import torch

    from segsr_gui.engine.nets.squeezenet import SqueezeNet

    num_classes = int([L for L in layers if L.type == "Convolution"][-1].p(0))
    model = SqueezeNet(num_classes=num_classes, rgb01_input=rgb01_input)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v))
          for k, v in squeezenet_state_dict_from_ncnn(layers).items()}
    model.load_state_dict(sd, strict=True)
    return model.eval()


def rrdbnet_state_dict_from_ncnn(layers: list[Layer]) -> tuple[dict[str, np.ndarray], dict]:
    """Map an RRDBNet x4 ncnn graph (Real-ESRGAN x4plus) onto ``RRDBNet``, convolutions in
    graph order; checks what the module assumes of the graph: LeakyReLU 0.2 exactly on the
    convolutions that have it in the module, two nearest x2 resizes, 0.2 residual scalings."""
    from segsr_gui.engine.nets.rrdbnet import conv_keys

    convs = [L for L in layers if L.type == "Convolution"]
    blocks = (len(convs) - 6) // 15
    if len(convs) != 15 * blocks + 6 or blocks < 1:
        raise ValueError(f"{len(convs)} convolutions do not make an RRDBNet x4")
    cfg = {"channels": int(convs[0].p(0)), "blocks": blocks, "growth": int(convs[1].p(0)), "scale": 4}
    keys = conv_keys(blocks)
    plain = {"conv_first", "conv_body", "conv_last"}
    for key, L in zip(keys, convs, strict=True):
        wants_lrelu = key not in plain and not key.endswith("convs.4")
        has_lrelu = L.p(9, 0) == 2 and abs(float((L.p(10) or [0.0])[0]) - 0.2) < 1e-6
        if wants_lrelu != has_lrelu:
            raise ValueError(f"convolution {L.name} ({key}): activation does not match RRDBNet")
    resizes = [L for L in layers if L.type == "Interp"]
    if len(resizes) != 2 or any(L.p(0) != 1 or float(L.p(1)) != 2.0 for L in resizes):
        raise ValueError("expected two nearest x2 resizes")
    sd: dict[str, np.ndarray] = {}
    for key, L in zip(keys, convs):
        sd[f"{key}.weight"] = conv_weight(L)
        sd[f"{key}.bias"] = L.weights["bias"].reshape(-1)
    return sd, cfg


def convert(key: str, layers: list[Layer]) -> tuple[dict[str, np.ndarray], dict]:
    """(state dict as numpy, constructor config) for model ``key``."""
    if key == "span":
        return span_state_dict_from_ncnn(layers), span_config_from_ncnn(layers)
    if key == "x4plus":
        return rrdbnet_state_dict_from_ncnn(layers)
    num_classes = int([L for L in layers if L.type == "Convolution"][-1].p(0))
    return squeezenet_state_dict_from_ncnn(layers), {"num_classes": num_classes}
