"""The reliability corpus of issue 9: every kind of bad or unusual input, generated
here (nothing downloaded), and one way to run each case through the CLI.

Used by ``tests/test_reliability.py`` (asserts) and ``benchmarks/reliability_table.py``
(writes ``docs/reliability.md``). Each case runs ``segsr upscale`` in-process into
an output folder that already holds a file of the user's (``keep.txt``); the outcome
records the exit code, the stderr lines, and whether anything was lost, replaced or
left half-written.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional
from unittest import mock

import numpy as np
from PIL import Image, ImageOps

SENTINEL = "keep.txt"
SENTINEL_BYTES = b"a file of the user's that must survive every run\n"


# --- small helpers --------------------------------------------------------------


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


def _save(im: Image.Image, path: Path, **kw) -> Path:
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
    """A tiny random model saved as the loader expects (as ``conftest.tiny_model_file``)."""
    import torch

    from segsr_gui.engine.nets.model import ModelConfig

    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.diffusion.schedule import ScheduleConfig
    from segsr_gui.engine.nets.weights import save_model

    torch.manual_seed(0)
    model = SegSRModel(ModelConfig(bridge=True, sr_width=8, sr_mult=(1, 2), sr_blocks=1, seg_width=8,
                                   seg_mult=(1, 2), seg_blocks=1, bridge_channels=8,
                                   schedule=ScheduleConfig(steps=3), noise_scale=1.0))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    save_model(model.eval(), folder / "tiny", training={"note": "random test weights"})
    return folder / "tiny.safetensors"


# --- cases ----------------------------------------------------------------------


@dataclass
class Case:
    """One input a user might bring, and what must happen.

    ``make(folder, model)`` writes the input and returns the CLI arguments after
    ``upscale`` (inputs plus options; ``-o`` is added). ``ok``: a correct result is
    expected (exit 0), else a clear failure (non-zero exit, one line naming the
    problem, containing ``message``). ``check(out, stderr)`` asserts more of a result.
    ``patch(folder)`` returns a context that simulates what cannot be made for real.
    """

    name: str
    description: str
    make: Callable[[Path, Path], list[str]]
    ok: bool
    message: str = ""
    check: Optional[Callable[[Path, str], None]] = None
    patch: Optional[Callable[[Path], contextlib.AbstractContextManager]] = None
    one_line: bool = False  # the whole run stops with exactly one stderr line
    other_outputs: bool = False  # another input of the run succeeds, so outputs may appear


def _image_case(name, description, make_file, ok, message="", check=None, patch=None):
    def make(folder: Path, model: Path) -> list[str]:
        return [str(make_file(folder)), "--model", str(model)]

    return Case(name, description, make, ok, message, check, patch)


def _result(out: Path, stem: str, ext: str = "png") -> Image.Image:
    path = out / f"{stem}_x4.{ext}"
    assert path.is_file(), f"{path.name} was not written"
    return Image.open(path)


def _expect(stem, size, mode=None, note=None, ext="png", bits=None):
    def check(out: Path, err: str) -> None:
        im = _result(out, stem, ext)
        assert im.size == size, f"{im.size} != {size}"
        if mode:
            assert im.mode == mode, f"mode {im.mode} != {mode}"
        if note:
            assert note in err, f"note {note!r} missing"
        if bits:
            data = (out / f"{stem}_x4.{ext}").read_bytes()
            assert data[24] == bits, f"PNG bit depth {data[24]} != {bits}"
    return check


def _upright(stem):
    def check(out: Path, err: str) -> None:
        arr = np.asarray(_result(out, stem).convert("L"), np.float32)
        assert arr.shape == (48, 64), f"shape {arr.shape}: not upright"
        tl, rest = arr[:24, :32].mean(), arr[24:, 32:].mean()
        assert tl > rest + 60, f"bright quadrant not at the top left ({tl:.0f} vs {rest:.0f})"
    return check


def _truncated(kind):
    def make(folder: Path) -> Path:
        path = folder / f"truncated.{kind}"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
            path, quality=90) if kind == "jpg" else Image.fromarray(
            np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    return make


def _write(name, data):
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path
    return make


def _pil(name, build, **kw):
    def make(folder: Path) -> Path:
        return _save(build(), folder / name, **kw)
    return make


def _animated_gif(folder: Path) -> Path:
    frames = [Image.fromarray(pattern()).convert("P"), Image.fromarray(255 - pattern()).convert("P")]
    path = folder / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def _multipage_tiff(folder: Path) -> Path:
    path = folder / "scans.tiff"
    Image.fromarray(pattern()).save(path, save_all=True, append_images=[Image.fromarray(255 - pattern())])
    return path


def _palette_transparent() -> Image.Image:
    p = Image.fromarray(pattern()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p.info["transparency"] = int(np.asarray(p)[0, 0])
    return p


def _unreadable(folder: Path) -> Path:
    path = _save(Image.fromarray(pattern()), folder / "locked.png")
    os.chmod(path, 0)
    return path


def _simulate_unreadable(folder: Path):
    """Root reads any file whatever its permission bits: simulate what a user gets."""
    if os.geteuid() != 0:
        return contextlib.nullcontext()
    real_open = Image.open

    def open_(fp, *a, **kw):
        if Path(str(fp)).name == "locked.png":
            raise PermissionError(errno.EACCES, "Permission denied", str(fp))
        return real_open(fp, *a, **kw)
    return mock.patch("segsr_gui.io.read.Image.open", open_)


def _simulate_unwritable(folder: Path):
    """Root writes anywhere: simulate a read-only output folder at the one place files are made."""
    def mkstemp(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")
    return mock.patch("segsr_gui.io.atomic.tempfile.mkstemp", mkstemp)


def _simulate_full_disk(folder: Path):
    def write(f, data):
        f.write(bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")
    return mock.patch("segsr_gui.io.atomic._write_bytes", write)


def _simulate_oom(always: bool):
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


def _photo_args(folder: Path, model: Path, *extra: str) -> list[str]:
    photo = _save(Image.fromarray(pattern(64, 48)), folder / "photo.png")
    return [str(photo), "--model", str(model), *extra]


def _big_photo_size() -> tuple[int, int]:
    from segsr_gui.engine.inference.runner import MIN_TILE

    return MIN_TILE + 32, MIN_TILE + 8


BIG_PHOTO = _big_photo_size()  # just larger than the smallest tile


def _big_photo_args(folder: Path, model: Path, *extra: str) -> list[str]:
    """A photo larger than the smallest tile, so halving the tile is possible."""
    photo = _save(Image.fromarray(pattern(*BIG_PHOTO)), folder / "photo.png")
    return [str(photo), "--model", str(model), *extra]


def _weights_case(name, description, damage, message):
    """A copy of the good model, damaged by ``damage(weights_path)``."""
    def make(folder: Path, model: Path) -> list[str]:
        target = folder / "models" / "damaged.safetensors"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(model.read_bytes())
        manifest = json.loads(model.with_suffix(".json").read_text())
        manifest["name"] = "damaged"
        target.with_suffix(".json").write_text(json.dumps(manifest))
        damage(target)
        photo = _save(Image.fromarray(pattern()), folder / "photo.png")
        return [str(photo), "--model", str(target)]
    return Case(name, description, make, False, message, one_line=True)


def _remove(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    manifest = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(manifest))


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_architecture(path: Path) -> None:
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


def _bad_manifest(path: Path) -> None:
    path.with_suffix(".json").write_text("{ not json")


def _existing_outputs(folder: Path, model: Path) -> list[str]:
    args = _photo_args(folder, model)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    (out / "photo_x4.png").write_bytes(b"an older result the user kept")
    return args


def build_cases() -> list[Case]:
    """Every case of the corpus, in the order of the table."""
    W, H = 64, 48  # 4 x pattern()
    cases = [
        _image_case("truncated-png", "PNG cut off half-way (interrupted download)", _truncated("png"),
                    False, "damaged or truncated"),
        _image_case("truncated-jpeg", "JPEG cut off half-way", _truncated("jpg"), False, "damaged or truncated"),
        _image_case("zero-bytes", "zero-byte file named .jpg", _write("empty.jpg", b""), False, "empty (0 bytes)"),
        _image_case("text-as-png", "text file named .png", _write("notes.png", b"shopping list: milk\n"),
                    False, "not an image file"),
        _image_case("bomb", "decompression bomb (PNG declaring 100000 x 100000)",
                    _write("bomb.png", lambda: png_header_only(100_000, 100_000)), False, "too large"),
        _image_case("absurd-dimensions", "PNG declaring 4000000000 x 1 pixels",
                    _write("absurd.png", lambda: png_header_only(4_000_000_000, 1)), False, "too large"),
        _image_case("zero-dimensions", "PNG declaring 0 x 0 pixels",
                    _write("zero.png", lambda: png_header_only(0, 0)), False, "not an image file"),
        _image_case("one-pixel", "1 x 1 pixel PNG", _pil("dot.png", lambda: Image.new("RGB", (1, 1), (200, 10, 10))),
                    True, check=_expect("dot", (4, 4), "RGB")),
        _image_case("cmyk-jpeg", "CMYK JPEG (print scan)", _pil("cmyk.jpg", lambda: Image.fromarray(pattern()).convert("CMYK")),
                    True, check=_expect("cmyk", (W, H), "RGB")),
        _image_case("rgb16-png", "16-bit RGB PNG", _write("rgb16.png", lambda: png16(pattern().astype(np.uint16) * 257)),
                    True, check=_expect("rgb16", (W, H), bits=16)),
        _image_case("rgba16-png", "16-bit RGBA PNG",
                    _write("rgba16.png", lambda: png16(np.dstack([pattern().astype(np.uint16) * 257,
                                                                  np.full((12, 16), 30000, np.uint16)]))),
                    True, check=_expect("rgba16", (W, H), bits=16)),
        _image_case("gray16-png", "I;16 grayscale PNG",
                    _pil("gray16.png", lambda: Image.fromarray(pattern()[..., 0].astype(np.uint16) * 257)),
                    True, check=_expect("gray16", (W, H), "I;16", bits=16)),
        _image_case("la-png", "LA (grayscale + alpha) PNG", _pil("la.png", lambda: Image.fromarray(np.dstack(
                        [pattern()[..., 0], np.linspace(0, 255, 12 * 16).reshape(12, 16).astype(np.uint8)]))),
                    True, check=_expect("la", (W, H), "LA")),
        _image_case("palette-transparency", "palette PNG with a transparent colour",
                    _pil("palette.png", _palette_transparent, transparency=0), True,
                    check=_expect("palette", (W, H), "RGBA")),
        _image_case("animated-gif", "animated GIF (2 frames)", _animated_gif, True,
                    check=_expect("animated", (W, H), "RGB", note="has 2 frames; only the first is used")),
        _image_case("multipage-tiff", "multi-page TIFF (2 pages)", _multipage_tiff, True,
                    check=_expect("scans", (W, H), "RGB", note="has 2 frames; only the first is used")),
    ]
    for o in range(1, 9):
        cases.append(_image_case(f"exif-orientation-{o}", f"JPEG with EXIF orientation {o}",
                                 lambda folder, o=o: oriented_jpeg(folder, o), True,
                                 check=_upright(f"orientation{o}")))
    cases += [
        _image_case("non-ascii-name", "non-ASCII file name (Oma’s Hochzeit – 1962 é.jpg)",
                    _pil("Oma’s Hochzeit – 1962 é.jpg", lambda: Image.fromarray(pattern())),
                    True, check=_expect("Oma’s Hochzeit – 1962 é", (W, H), "RGB")),
        _image_case("unreadable", "file without read permission (chmod 000; simulated when root)",
                    _unreadable, False, "permission denied", patch=_simulate_unreadable),
        Case("folder-as-file", "a folder named like a photo (holiday.jpg/) passed as the input",
             lambda folder, model: [str(_mkdir(folder / "holiday.jpg")), "--model", str(model)],
             False, "holds no image files"),
        Case("missing-input", "an input path that does not exist",
             lambda folder, model: [str(folder / "gone.jpg"), "--model", str(model)], False, "no such file"),
        Case("unwritable-output", "output folder not writable (simulated: runs as root)",
             lambda folder, model: _photo_args(folder, model), False, "Cannot write to the output folder",
             patch=_simulate_unwritable, one_line=True),
        Case("output-is-a-file", "output path is an existing file",
             lambda folder, model: _photo_args(folder, model) + ["-o", str(_touch(folder / "out.txt"))],
             False, "is a file, not a folder", one_line=True),
        Case("output-is-input-folder", "the output folder is the input folder",
             lambda folder, model: _input_folder_args(folder, model, same=True), False,
             "is also an input folder", one_line=True),
        Case("same-name-inputs", "a.jpg and a.png in one folder (their outputs would share names)",
             lambda folder, model: _input_folder_args(folder, model, same=False), False,
             "would have the same names", other_outputs=True),
        Case("full-disk", "disk full while writing (simulated ENOSPC half-way through a file)",
             lambda folder, model: _photo_args(folder, model, "--masks"), False, "the disk is full",
             patch=_simulate_full_disk),
        Case("existing-output", "output already exists, no --overwrite (a batch re-run)",
             _existing_outputs, True, check=_kept_older),
        Case("out-of-memory-retry", "out of memory at full size (simulated): retried with smaller tiles",
             lambda folder, model: _big_photo_args(folder, model, "--tile", "0"), True,
             check=_expect("photo", (4 * BIG_PHOTO[0], 4 * BIG_PHOTO[1]), note="ran out of memory; trying again with"),
             patch=_simulate_oom(False)),
        Case("out-of-memory", "out of memory at every tile size (simulated)",
             lambda folder, model: _photo_args(folder, model), False, "Ran out of memory even",
             patch=_simulate_oom(True)),
        Case("missing-weights", "model weights missing",
             lambda folder, model: _photo_args(folder, Path(folder / "nowhere.safetensors")), False,
             "Model weights not found", one_line=True),
        _weights_case("truncated-weights", "model weights truncated to a third", _truncate, "damaged"),
        _weights_case("sha-mismatch", "model weights with one byte changed (sha256 mismatch)", _flip_byte,
                      "do not match their manifest"),
        _weights_case("wrong-architecture", "weights of another architecture (hash matches)",
                      _other_architecture, "do not fit the SegSR architecture"),
        _weights_case("bad-manifest", "model manifest is not valid JSON", _bad_manifest, "not valid JSON"),
    ]
    return cases


def _input_folder_args(folder: Path, model: Path, same: bool) -> list[str]:
    photos = _mkdir(folder / "photos")
    _save(Image.fromarray(pattern()), photos / "a.jpg")
    _save(Image.fromarray(255 - pattern()), photos / "a.png")
    return [str(photos), "--model", str(model)] + (["-o", str(photos)] if same else [])


def _mkdir(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def _touch(path: Path) -> Path:
    path.write_bytes(b"a file of the user's\n")
    return path


def _kept_older(out: Path, err: str) -> None:
    assert (out / "photo_x4.png").read_bytes() == b"an older result the user kept"
    assert "skipped, outputs already exist" in err


# --- running a case -------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    lines: list[str]  # stderr lines
    lost: list[str] = field(default_factory=list)  # user files changed or gone
    partial: list[str] = field(default_factory=list)  # temporary or half-written files left

    @property
    def message(self) -> str:
        """The line a user reads: the failure (or note) rather than the summary."""
        useful = [ln for ln in self.lines if not ln.startswith("segsr: ") or
                  not ln.split(": ", 1)[1][:1].isdigit()]
        return useful[0] if useful else (self.lines[-1] if self.lines else "")


def _snapshot(folder: Path) -> dict[str, bytes]:
    found = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            try:
                found[str(p.relative_to(folder))] = p.read_bytes()
            except PermissionError:  # the unreadable case, when not root
                found[str(p.relative_to(folder))] = b"<unreadable>"
    return found


def run_case(case: Case, folder: Path, model: Path) -> Outcome:
    """Run one case in ``folder`` (a fresh, empty folder) with the good ``model``."""
    from segsr_gui.app.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    args = case.make(folder, model)
    out = folder / "out"
    if "-o" not in args:
        out.mkdir(exist_ok=True)
        (out / SENTINEL).write_bytes(SENTINEL_BYTES)
        args += ["-o", str(out)]
    before = _snapshot(folder)
    err = io.StringIO()
    patch = case.patch(folder) if case.patch else contextlib.nullcontext()
    with patch, contextlib.redirect_stderr(err):
        code = main(["upscale", *args, "--steps", "1", "-q"])
    after = _snapshot(folder)
    lost = [name for name, data in before.items() if after.get(name) != data]
    partial = [name for name in after if ".part" in name or name.endswith(".old")]
    if not case.ok and not case.other_outputs:  # a failed input leaves no output of its own
        partial += [name for name in after if name not in before and "_x4" in name]
    return Outcome(code, err.getvalue().strip().splitlines(), lost, partial)
