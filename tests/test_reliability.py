"""Issue 9: every case of the corpus gives a correct result or one clear line, and
nothing is ever lost, replaced or left half-written; the loader survives fuzzing."""

import atexit
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from corpus import build_cases, run_case
from segsr_gui.errors import ImageLoadError
from segsr_gui.io.read import load_image

CASES = build_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case, tmp_path, tiny_model_file):
    outcome = run_case(case, tmp_path / "case", tiny_model_file)
    text = "\n".join(outcome.lines)
    assert "Traceback" not in text
    assert outcome.lost == [], f"user files changed: {outcome.lost}"
    assert outcome.partial == [], f"partial or stray files: {outcome.partial}"
    if case.ok:
        assert outcome.code == 0, text
        case.check(tmp_path / "case" / "out", text)
    else:
        assert outcome.code != 0
        hits = [line for line in outcome.lines if case.message.lower() in line.lower()]
        assert len(hits) == 1, f"expected one line with {case.message!r} in:\n{text}"
        assert hits[0].startswith("segsr: ") and hits[0].endswith((".", ")"))
        if case.one_line:
            assert len(outcome.lines) == 1, text


def _load_as(uid: int | None, path: Path) -> str:
    """What ``load_image(path)`` gives for user ``uid`` (None: this process's user), as one line.
    Root reads any file whatever its mode, so another user's view is taken in a forked child that
    drops to that user first; its code is already imported, so the child opens no other file."""
    import os

    def attempt() -> str:
        try:
            load_image(path)
        except ImageLoadError as exc:
            return f"ImageLoadError: {exc}"
        except BaseException as exc:  # reported to the parent, which fails the test with it
            return f"{type(exc).__name__}: {exc}"
        return "loaded"

    if uid is None:
        return attempt()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                line = attempt()
            except BaseException as exc:
                line = f"could not become user {uid}: {exc}"
            os.write(write_end, line.encode("utf-8", "replace"))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        line = pipe.read().decode("utf-8")
    os.waitpid(pid, 0)
    return line


def test_an_unreadable_file_is_refused_with_one_clear_line():
    """chmod 000 for real (the corpus case simulates it): read as a user other than root, since
    root reads the file anyway (as CI runs the tests)."""
    import os

    folder = Path(tempfile.mkdtemp(prefix="segsr-unreadable-"))
    try:
        folder.chmod(0o755)  # another user may look inside, not write
        readable, locked = folder / "readable.png", folder / "locked.png"
        for path in (readable, locked):
            Image.new("RGB", (4, 4), (200, 10, 10)).save(path)
        readable.chmod(0o644)
        locked.chmod(0)
        load_image(readable)  # the loader's lazy imports happen here, before any fork
        uid = 65534 if os.geteuid() == 0 else None  # nobody
        assert _load_as(uid, readable) == "loaded"  # so the refusal below is the file's mode
        assert _load_as(uid, locked) == "ImageLoadError: locked.png: permission denied when reading the file."
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _seed_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (12, 10, 3), np.uint8)
    seeds = {}
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 80}), ("PNG", {"icc_profile": b"x" * 40})):
        buf = io.BytesIO()
        exif = Image.Exif()
        exif[0x0112] = 6
        Image.fromarray(arr).save(buf, fmt, exif=exif.tobytes(), **kw)
        seeds[f"{fmt}{len(seeds)}"] = buf.getvalue()
    return seeds


SEEDS = _seed_files()
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="segsr-fuzz-"))
atexit.register(shutil.rmtree, FUZZ_DIR, True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEEDS)),
       edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
       cut=st.one_of(st.none(), st.floats(0, 1)),
       insert=st.binary(max_size=16))
def test_loader_raises_only_its_own_error_on_mutated_bytes(seed, edits, cut, insert):
    data = bytearray(SEEDS[seed])
    for where, value in edits:
        data[int(where * len(data))] = value
    if insert:
        at = len(data) // 3
        data[at:at] = insert
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = FUZZ_DIR / f"fuzz.{'jpg' if seed.startswith('JPEG') else 'png'}"
    path.write_bytes(bytes(data))
    try:
        img = load_image(path)
    except ImageLoadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert img.rgb.dtype == np.float32 and img.rgb.ndim == 3 and img.rgb.shape[2] == 3
    assert np.isfinite(img.rgb).all() and img.rgb.min() >= 0 and img.rgb.max() <= 1


REAL_OOM = r"""
import resource, sys
import numpy as np, psutil, torch
from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.inference.runner import iter_upscale_retrying
from segsr_gui.engine.nets.weights import load_model
torch.set_num_threads(1)
model = load_model(sys.argv[1]).model
side = int(sys.argv[3])
rgb = np.random.default_rng(0).random((side, side, 3)).astype(np.float32)
upscale(rgb[:48, :48], model, steps=1, tile=0)  # load every library before the cap
cap = psutil.Process().memory_info().vms + int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
retries = []
gen = iter_upscale_retrying(rgb, model, steps=1, tile=0, on_retry=lambda t, e: retries.append((t, str(e))))
try:
    while True:
        next(gen)
except StopIteration as stop:
    print("RESULT", stop.value.image.shape, [t for t, _ in retries])
    print("FIRST", retries[0][1][:200] if retries else "")
"""


def test_a_real_out_of_memory_is_retried_with_smaller_tiles(tiny_model_file):
    """The process gets a memory cap (RLIMIT_AS) too small for one pass over a photo twice the
    smallest tile: torch's own allocator error must be recognised and the run finish in the
    smallest tiles. How much address space a pass takes varies from run to run (the
    allocator's arenas), so a few caps are tried, and one of them must give exactly that one
    retry; a cap too small for even the smallest tile gives the user's message, never a
    traceback of torch's error."""
    import subprocess
    import sys

    resource = pytest.importorskip("resource")
    if not hasattr(resource, "RLIMIT_AS"):
        pytest.skip("no address-space limit on this platform")
    from segsr_gui.engine.inference.runner import MIN_TILE

    side = 2 * MIN_TILE
    seen = []
    for cap_mb in (1200, 1000, 1400, 900):
        proc = subprocess.run([sys.executable, "-c", REAL_OOM, str(tiny_model_file), str(cap_mb), str(side)],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            assert "OutOfMemoryError: Ran out of memory even with" in proc.stderr, proc.stderr[-2000:]
            seen.append((cap_mb, "out of memory at the smallest tile"))
            continue
        result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][0]
        assert f"({4 * side}, {4 * side}, 3)" in result
        seen.append((cap_mb, result))
        if f"[{MIN_TILE}]" in result:  # one retry, smallest tile
            first = [ln for ln in proc.stdout.splitlines() if ln.startswith("FIRST")][0]
            assert "allocate memory" in first  # torch's real message, not a simulated one
            return
    pytest.fail(f"no cap gave one retry: {seen}")


def test_out_of_memory_detection_and_tile_halving():
    from segsr_gui.engine.inference.runner import MIN_TILE, is_out_of_memory, smaller_tile

    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried ..."))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))
    side = 4 * MIN_TILE + 20
    assert smaller_tile(0, side, 200, 8) == (side // 2) // 8 * 8
    assert smaller_tile(3 * MIN_TILE, side, 200, 8) == (3 * MIN_TILE // 2) // 8 * 8
    assert smaller_tile(2 * MIN_TILE, side, 200, 8) == MIN_TILE
    assert smaller_tile(2 * MIN_TILE - 8, 300, 200, 8) == MIN_TILE
    assert smaller_tile(MIN_TILE, 300, 200, 8) is None
