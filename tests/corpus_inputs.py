"""The inputs of the reliability corpus (``corpus.py``): the unusual files a user might bring,
made here (nothing downloaded); the faults that cannot be made for real (root reads and writes
anything; a full disk; out of memory), simulated by patching the one place they would surface;
and the command lines and damaged model copies the cases run with.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import struct
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image, ImageOps


# --- files a user might bring -------------------------------------------------


def pattern(w: int = 16, h: int = 12) -> np.ndarray:
    """uint8 (h, w, 3): a bright top-left quadrant on a dark ramp (shows orientation)."""
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([xx * 4 + 20, yy * 4 + 20, (xx + yy) * 2 + 20], 2).astype(np.uint8)
    arr[: h // 2, : w // 2] = 235
    return arr


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` but holds almost no data."""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def png16(arr: np.ndarray) -> bytes:
    from segsr_gui.io.encode import _png16

    return _png16(arr)


def save(im: Image.Image, path: Path, **kw) -> Path:
    im.save(path, **kw)
    return path


def oriented_jpeg(folder: Path, orientation: int) -> Path:
    """A JPEG whose stored pixels, turned by EXIF ``orientation``, show ``pattern()`` upright."""
    upright = pattern()
    path = folder / f"orientation{orientation}.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    base = Image.fromarray(upright)
    ops = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_90,
           Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
           Image.Transpose.TRANSVERSE]
    for op in ops:
        stored = base if op is None else base.transpose(op)
        buf = io.BytesIO()
        stored.save(buf, "JPEG", quality=100, exif=exif.tobytes())
        shown = np.asarray(ImageOps.exif_transpose(Image.open(buf)))
        if shown.shape == upright.shape and np.abs(shown.astype(int) - upright).mean() < 4:
            path.write_bytes(buf.getvalue())
            return path
    raise AssertionError(f"no stored layout for orientation {orientation}")


def tiny_model_file(folder: Path) -> Path:
    """The tests' tiny random model (``conftest.make_tiny_model``) saved in ``folder`` as the loader
    expects, for ``reliability_table.py``, which runs outside pytest's fixtures."""
    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import save_model

    save_model(make_tiny_model(), folder / "tiny", training={"note": "random test weights"})
    return folder / "tiny.safetensors"


def truncated(kind):
    def make(folder: Path) -> Path:
        path = folder / f"truncated.{kind}"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
            path, quality=90) if kind == "jpg" else Image.fromarray(
            np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    return make


def write_file(name, data):
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path
    return make


def pil_file(name, build, **kw):
    def make(folder: Path) -> Path:
        return save(build(), folder / name, **kw)
    return make


def animated_gif(folder: Path) -> Path:
    frames = [Image.fromarray(pattern()).convert("P"), Image.fromarray(255 - pattern()).convert("P")]
    path = folder / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def multipage_tiff(folder: Path) -> Path:
    path = folder / "scans.tiff"
    Image.fromarray(pattern()).save(path, save_all=True, append_images=[Image.fromarray(255 - pattern())])
    return path


def palette_transparent() -> Image.Image:
    p = Image.fromarray(pattern()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p.info["transparency"] = int(np.asarray(p)[0, 0])
    return p


def unreadable(folder: Path) -> Path:
    path = save(Image.fromarray(pattern()), folder / "locked.png")
    os.chmod(path, 0)
    return path


# --- what cannot be made for real: simulated -----------------------------------


def simulate_unreadable(folder: Path):
    """Root reads any file whatever its permission bits: simulate what a user gets."""
    if os.geteuid() != 0:
        return contextlib.nullcontext()
    real_open = Image.open

    def open_(fp, *a, **kw):
        if Path(str(fp)).name == "locked.png":
            raise PermissionError(errno.EACCES, "Permission denied", str(fp))
        return real_open(fp, *a, **kw)
    return mock.patch("segsr_gui.io.read.Image.open", open_)


def simulate_unwritable(folder: Path):
    """Root writes anywhere: simulate a read-only output folder at the one place files are made."""
    def mkstemp(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")
    return mock.patch("segsr_gui.io.atomic.tempfile.mkstemp", mkstemp)


def simulate_full_disk(folder: Path):
    def write(f, data):
        f.write(bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")
    return mock.patch("segsr_gui.io.atomic._write_bytes", write)


def simulate_oom(always: bool):
    def factory(folder: Path):
        from segsr_gui.engine.inference import pipeline
        from segsr_gui.engine.inference.runner import MIN_TILE

        real = pipeline.iter_upscale

        def iter_upscale(rgb, model, *, tile=None, **kw):
            if always or tile == 0 or tile is None or tile > MIN_TILE:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return (yield from real(rgb, model, tile=tile, **kw))
        return mock.patch("segsr_gui.engine.inference.runner.iter_upscale", iter_upscale)
    return factory


# --- command lines and damaged models -----------------------------------------


def photo_args(folder: Path, model: Path, *extra: str) -> list[str]:
    photo = save(Image.fromarray(pattern(64, 48)), folder / "photo.png")
    return [str(photo), "--model", str(model), *extra]


def big_photo_size() -> tuple[int, int]:
    from segsr_gui.engine.inference.runner import MIN_TILE

    return MIN_TILE + 32, MIN_TILE + 8


BIG_PHOTO = big_photo_size()  # just larger than the smallest tile


def big_photo_args(folder: Path, model: Path, *extra: str) -> list[str]:
    """A photo larger than the smallest tile, so halving the tile is possible."""
    photo = save(Image.fromarray(pattern(*BIG_PHOTO)), folder / "photo.png")
    return [str(photo), "--model", str(model), *extra]


def truncate_weights(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    manifest = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(manifest))


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def other_architecture(path: Path) -> None:
    """Weights of a wider net, with a manifest whose hash matches them but whose config does not."""
    import torch
    from safetensors.torch import save_file

    from segsr_gui.engine.nets.weights import sha256_of

    torch.manual_seed(1)
    state = {"srdm.head.weight": torch.randn(48, 96, 3, 3), "srdm.head.bias": torch.zeros(48)}
    save_file(state, str(path))
    manifest = json.loads(path.with_suffix(".json").read_text())
    manifest["sha256"] = sha256_of(path)
    path.with_suffix(".json").write_text(json.dumps(manifest))


def bad_manifest(path: Path) -> None:
    path.with_suffix(".json").write_text("{ not json")


def existing_outputs(folder: Path, model: Path) -> list[str]:
    args = photo_args(folder, model)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    (out / "photo_x4.png").write_bytes(b"an older result the user kept")
    return args


def input_folder_args(folder: Path, model: Path, same: bool) -> list[str]:
    photos = make_folder(folder / "photos")
    save(Image.fromarray(pattern()), photos / "a.jpg")
    save(Image.fromarray(255 - pattern()), photos / "a.png")
    return [str(photos), "--model", str(model)] + (["-o", str(photos)] if same else [])


def make_folder(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def touch(path: Path) -> Path:
    path.write_bytes(b"a file of the user's\n")
    return path
