"""The check that a port is right: the PyTorch module and ncnn itself (the PyPI package
``ncnn``, CPU, fp32; ``pip install -e .[bench]``) on the same fixed input."""

from __future__ import annotations

from pathlib import Path

from typing import Callable

import numpy as np

from segsr_gui.errors import PretrainedImportError

SPAN_TOLERANCE_ABS = 1e-4
# x4plus is 351 convolutions deep: 4.6e-6 measured here; other CPUs sum in other orders
X4PLUS_TOLERANCE_ABS = 1e-3
SQUEEZENET_TOLERANCE_REL = 1e-3
Log = Callable[[str], None]


def synthetic_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Deterministic RGB float32 (3,h,w) in [0,1]: gradients + seeded noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    yy /= max(h - 1, 1)
    xx /= max(w - 1, 1)
    img = np.stack([xx, yy, 0.5 * (xx + yy) + 0.25 * np.sin(6 * xx)])
    img = img + rng.normal(0.0, 0.05, img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def image_rgb(path: str, size: tuple[int, int] | None = None, crop: int | None = None) -> np.ndarray:
    """An image file as RGB float32 (3,h,w) in [0,1], centre-cropped and/or resized."""
    from PIL import Image

    try:
        im = Image.open(path).convert("RGB")
    except OSError as exc:
        raise PretrainedImportError(f"Could not read the --image {path}: {exc}") from exc
    if crop is not None:
        w, h = im.size
        c = min(crop, w, h)
        left, top = (w - c) // 2, (h - c) // 2
        im = im.crop((left, top, left + c, top + c))
    if size is not None:
        im = im.resize(size, Image.BILINEAR)
    return (np.asarray(im, dtype=np.float32) / 255.0).transpose(2, 0, 1).copy()


def import_ncnn():
    try:
        import ncnn
    except ImportError:
        raise PretrainedImportError(
            "The parity check (--check) needs the ncnn package; install it with "
            "pip install -e .[bench]") from None
    return ncnn


def run_ncnn(param: Path, binf: Path, chw: np.ndarray, in_blob: str, out_blob: str) -> np.ndarray:
    """ncnn's own output for ``chw`` (CPU, one thread, fp32 throughout)."""
    ncnn = import_ncnn()
    net = ncnn.Net()
    opt = net.opt
    opt.use_vulkan_compute = False
    opt.num_threads = 1
    for flag in ("use_fp16_storage", "use_fp16_arithmetic", "use_fp16_packed",
                 "use_bf16_storage", "use_int8_inference"):
        if hasattr(opt, flag):
            setattr(opt, flag, False)
    net.load_param(str(param))
    net.load_model(str(binf))
    arr = np.ascontiguousarray(chw, dtype=np.float32)
    mat = ncnn.Mat(arr)  # ncnn reads arr lazily: keep it alive until extract returns
    ex = net.create_extractor()
    ex.input(in_blob, mat)
    ret, out = ex.extract(out_blob)
    if ret != 0:
        raise PretrainedImportError(f"ncnn could not run {param.name} (extract returned {ret})")
    result = np.array(out, dtype=np.float32).copy()
    del ex, mat, arr
    return result


def parity_check(key: str, param: Path, binf: Path, sd: dict, cfg: dict, image: str | None,
                 log: Log = print) -> dict:
    """Run the PyTorch port and ncnn on the same input; the comparison as a dict
    (``passed``: within tolerance)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tsd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
        if key in ("span", "x4plus"):
            return _sr_parity(key, param, binf, tsd, cfg, image, log)

        from segsr_gui.engine.nets.squeezenet import BGR_MEAN, SqueezeNet

        model = SqueezeNet(**cfg, rgb01_input=True).eval()
        model.load_state_dict(tsd, strict=True)
        x = image_rgb(image, size=(227, 227)) if image else synthetic_rgb(227, 227, seed=0)
        # ncnn gets the Caffe convention, prepared in numpy; torch gets RGB [0,1]
        caffe = x[::-1] * 255.0 - np.array(BGR_MEAN, dtype=np.float32)[:, None, None]
        ref = run_ncnn(param, binf, caffe, "data", "pool10").reshape(-1)
        with torch.no_grad():
            y = model(torch.from_numpy(x)[None])[0].numpy()
        diff = float(np.abs(ref - y).max()) if ref.shape == y.shape else float("inf")
        rel = diff / max(float(np.abs(ref).max()), 1e-12)
        ok = rel <= SQUEEZENET_TOLERANCE_REL and int(ref.argmax()) == int(y.argmax())
        log(f"  SqueezeNet parity: max |torch - ncnn| logits = {diff:.3e}, relative {rel:.3e} "
            f"(tol {SQUEEZENET_TOLERANCE_REL:g}), top-1 ncnn {int(ref.argmax())} torch "
            f"{int(y.argmax())} {'OK' if ok else 'FAIL'}")
        return {"input": image or "synthetic 227x227 seed 0", "max_abs_diff": diff,
                "max_rel_diff": rel, "tolerance_rel": SQUEEZENET_TOLERANCE_REL,
                "top1_ncnn": int(ref.argmax()), "top1_torch": int(y.argmax()), "passed": bool(ok)}
    finally:
        torch.set_num_threads(threads)


def _sr_parity(key: str, param: Path, binf: Path, tsd: dict, cfg: dict, image: str | None, log: Log) -> dict:
    """An x4 SR port against ncnn on a 48x48 crop (of ``image``, or synthetic)."""
    import torch

    if key == "span":
        from segsr_gui.engine.nets.span import SPAN as Net
        name, tolerance = "SPAN", SPAN_TOLERANCE_ABS
    else:
        from segsr_gui.engine.nets.rrdbnet import RRDBNet as Net
        name, tolerance = "Real-ESRGAN x4plus", X4PLUS_TOLERANCE_ABS
    model = Net(**cfg).eval()
    model.load_state_dict(tsd, strict=True)
    x = image_rgb(image, crop=48) if image else synthetic_rgb(48, 48, seed=0)
    ref = run_ncnn(param, binf, x, "data", "output")
    with torch.no_grad():
        y = model(torch.from_numpy(x)[None])[0].numpy()
    diff = float(np.abs(ref - y).max()) if ref.shape == y.shape else float("inf")
    ok = diff <= tolerance
    log(f"  {name} parity: input {tuple(x.shape)} -> {tuple(y.shape)}, "
        f"max |torch - ncnn| = {diff:.3e} (tol {tolerance:g}) {'OK' if ok else 'FAIL'}")
    return {"input": image or "synthetic 48x48 seed 0", "max_abs_diff": diff,
            "tolerance_abs": tolerance, "passed": bool(ok)}
