"""The reliability corpus of issue 9: every kind of bad or unusual input, generated
here (nothing downloaded), and one way to run each case through the CLI.

Used by ``tests/test_reliability.py`` (asserts) and ``tests/reliability_table.py``
(writes ``docs/reliability.md``). Each case runs ``segsr upscale`` in-process into
an output folder that already holds a file of the user's (``keep.txt``); the outcome
records the exit code, the stderr lines, and whether anything was lost, replaced or
left half-written. The inputs themselves are made in ``corpus_inputs.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

from corpus_inputs import (
    animated_gif, bad_manifest, BIG_PHOTO, big_photo_args, existing_outputs, flip_byte, input_folder_args,
    make_folder, multipage_tiff, oriented_jpeg, other_architecture, palette_transparent, pattern, photo_args,
    pil_file, png16, png_header_only, save, simulate_full_disk, simulate_oom, simulate_unreadable,
    simulate_unwritable, touch, truncate_weights, truncated, unreadable, write_file)
from corpus_inputs import tiny_model_file  # noqa: F401 - reliability_table imports it from here

SENTINEL = "keep.txt"
SENTINEL_BYTES = b"a file of the user's that must survive every run\n"


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
        photo = save(Image.fromarray(pattern()), folder / "photo.png")
        return [str(photo), "--model", str(target)]
    return Case(name, description, make, False, message, one_line=True)


def build_cases() -> list[Case]:
    """Every case of the corpus, in the order of the table."""
    W, H = 64, 48  # 4 x pattern()
    cases = [
        _image_case("truncated-png", "PNG cut off half-way (interrupted download)", truncated("png"),
                    False, "damaged or truncated"),
        _image_case("truncated-jpeg", "JPEG cut off half-way", truncated("jpg"), False, "damaged or truncated"),
        _image_case("zero-bytes", "zero-byte file named .jpg", write_file("empty.jpg", b""), False, "empty (0 bytes)"),
        _image_case("text-as-png", "text file named .png", write_file("notes.png", b"shopping list: milk\n"),
                    False, "not an image file"),
        _image_case("bomb", "decompression bomb (PNG declaring 100000 x 100000)",
                    write_file("bomb.png", lambda: png_header_only(100_000, 100_000)), False, "too large"),
        _image_case("absurd-dimensions", "PNG declaring 4000000000 x 1 pixels",
                    write_file("absurd.png", lambda: png_header_only(4_000_000_000, 1)), False, "too large"),
        _image_case("zero-dimensions", "PNG declaring 0 x 0 pixels",
                    write_file("zero.png", lambda: png_header_only(0, 0)), False, "not an image file"),
        _image_case("one-pixel", "1 x 1 pixel PNG", pil_file("dot.png", lambda: Image.new("RGB", (1, 1), (200, 10, 10))),
                    True, check=_expect("dot", (4, 4), "RGB")),
        _image_case("cmyk-jpeg", "CMYK JPEG (print scan)", pil_file("cmyk.jpg", lambda: Image.fromarray(pattern()).convert("CMYK")),
                    True, check=_expect("cmyk", (W, H), "RGB")),
        _image_case("rgb16-png", "16-bit RGB PNG", write_file("rgb16.png", lambda: png16(pattern().astype(np.uint16) * 257)),
                    True, check=_expect("rgb16", (W, H), bits=16)),
        _image_case("rgba16-png", "16-bit RGBA PNG",
                    write_file("rgba16.png", lambda: png16(np.dstack([pattern().astype(np.uint16) * 257,
                                                                  np.full((12, 16), 30000, np.uint16)]))),
                    True, check=_expect("rgba16", (W, H), bits=16)),
        _image_case("gray16-png", "I;16 grayscale PNG",
                    pil_file("gray16.png", lambda: Image.fromarray(pattern()[..., 0].astype(np.uint16) * 257)),
                    True, check=_expect("gray16", (W, H), "I;16", bits=16)),
        _image_case("la-png", "LA (grayscale + alpha) PNG", pil_file("la.png", lambda: Image.fromarray(np.dstack(
                        [pattern()[..., 0], np.linspace(0, 255, 12 * 16).reshape(12, 16).astype(np.uint8)]))),
                    True, check=_expect("la", (W, H), "LA")),
        _image_case("palette-transparency", "palette PNG with a transparent colour",
                    pil_file("palette.png", palette_transparent, transparency=0), True,
                    check=_expect("palette", (W, H), "RGBA")),
        _image_case("animated-gif", "animated GIF (2 frames)", animated_gif, True,
                    check=_expect("animated", (W, H), "RGB", note="has 2 frames; only the first is used")),
        _image_case("multipage-tiff", "multi-page TIFF (2 pages)", multipage_tiff, True,
                    check=_expect("scans", (W, H), "RGB", note="has 2 frames; only the first is used")),
    ]
    for o in range(1, 9):
        cases.append(_image_case(f"exif-orientation-{o}", f"JPEG with EXIF orientation {o}",
                                 lambda folder, o=o: oriented_jpeg(folder, o), True,
                                 check=_upright(f"orientation{o}")))
    cases += [
        _image_case("non-ascii-name", "non-ASCII file name (Oma’s Hochzeit – 1962 é.jpg)",
                    pil_file("Oma’s Hochzeit – 1962 é.jpg", lambda: Image.fromarray(pattern())),
                    True, check=_expect("Oma’s Hochzeit – 1962 é", (W, H), "RGB")),
        _image_case("unreadable", "file without read permission (chmod 000; simulated when root)",
                    unreadable, False, "permission denied", patch=simulate_unreadable),
        Case("folder-as-file", "a folder named like a photo (holiday.jpg/) passed as the input",
             lambda folder, model: [str(make_folder(folder / "holiday.jpg")), "--model", str(model)],
             False, "holds no image files"),
        Case("missing-input", "an input path that does not exist",
             lambda folder, model: [str(folder / "gone.jpg"), "--model", str(model)], False, "no such file"),
        Case("unwritable-output", "output folder not writable (simulated: runs as root)",
             lambda folder, model: photo_args(folder, model), False, "Cannot write to the output folder",
             patch=simulate_unwritable, one_line=True),
        Case("output-is-a-file", "output path is an existing file",
             lambda folder, model: photo_args(folder, model) + ["-o", str(touch(folder / "out.txt"))],
             False, "is a file, not a folder", one_line=True),
        Case("output-is-input-folder", "the output folder is the input folder",
             lambda folder, model: input_folder_args(folder, model, same=True), False,
             "is also an input folder", one_line=True),
        Case("same-name-inputs", "a.jpg and a.png in one folder (their outputs would share names)",
             lambda folder, model: input_folder_args(folder, model, same=False), False,
             "would have the same names", other_outputs=True),
        Case("full-disk", "disk full while writing (simulated ENOSPC half-way through a file)",
             lambda folder, model: photo_args(folder, model, "--masks"), False, "the disk is full",
             patch=simulate_full_disk),
        Case("existing-output", "output already exists, no --overwrite (a batch re-run)",
             existing_outputs, True, check=_kept_older),
        Case("out-of-memory-retry", "out of memory at full size (simulated): retried with smaller tiles",
             lambda folder, model: big_photo_args(folder, model, "--tile", "0"), True,
             check=_expect("photo", (4 * BIG_PHOTO[0], 4 * BIG_PHOTO[1]), note="ran out of memory; trying again with"),
             patch=simulate_oom(False)),
        Case("out-of-memory", "out of memory at every tile size (simulated)",
             lambda folder, model: photo_args(folder, model), False, "Ran out of memory even",
             patch=simulate_oom(True)),
        Case("missing-weights", "model weights missing",
             lambda folder, model: photo_args(folder, Path(folder / "nowhere.safetensors")), False,
             "Model weights not found", one_line=True),
        _weights_case("truncated-weights", "model weights truncated to a third", truncate_weights, "damaged"),
        _weights_case("sha-mismatch", "model weights with one byte changed (sha256 mismatch)", flip_byte,
                      "do not match their manifest"),
        _weights_case("wrong-architecture", "weights of another architecture (hash matches)",
                      other_architecture, "do not fit the SegSR architecture"),
        _weights_case("bad-manifest", "model manifest is not valid JSON", bad_manifest, "not valid JSON"),
    ]
    return cases


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
