"""Issue 9: every case of the corpus gives a correct result or one clear line, and
nothing is ever lost, replaced or left half-written; the loader survives fuzzing."""

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from corpus import build_cases, run_case
from segsr_gui.errors import ImageLoadError
from segsr_gui.imageio import load_image

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


def test_unreadable_for_real_when_not_root(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("running as root, who can read any file: the corpus case simulates it instead")
    path = tmp_path / "locked.png"
    Image.new("RGB", (4, 4)).save(path)
    path.chmod(0)
    with pytest.raises(ImageLoadError, match="permission denied"):
        load_image(path)


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
