"""Issue 7: what an exported photo keeps, the mask files, and that nothing is lost."""

import errno
import io
import json

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from segsr_gui.io import atomic, encode, read
from segsr_gui.app.cli import main
from segsr_gui.io.masks import rle_decode, rle_encode

ICC = b"\x00\x00\x02\x0cfake-but-intact-icc-profile" * 8
CAMERA = "Kodak Retina IIIc"
DATE = "1961:07:14 10:20:30"
ORIGINAL_DATE = "1961:07:14 10:20:29"


def _pattern(w=12, h=10):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 20 % 256, yy * 25 % 256, (xx + yy) * 9 % 256], 2).astype(np.uint8)


def _exif(orientation=1) -> bytes:
    exif = Image.Exif()
    exif[0x0110] = CAMERA  # Model
    exif[0x0132] = DATE  # DateTime
    exif[0x0112] = orientation
    exif[0x011A] = 300.0  # XResolution
    exif[0x011B] = 300.0
    exif[0x0128] = 2  # inches
    exif[0x0100], exif[0x0101] = 12, 10  # ImageWidth/Length, as editors leave them
    exif.get_ifd(0x8769)[0x9003] = ORIGINAL_DATE  # DateTimeOriginal, in the EXIF sub-IFD
    exif.get_ifd(0x8769)[0xA002], exif.get_ifd(0x8769)[0xA003] = 12, 10  # PixelX/YDimension
    return exif.tobytes()


def _run(inputs, out, model, *extra):
    return main(["upscale", *map(str, inputs), "-o", str(out), "--model", str(model), "--steps", "1",
                 "-q", *extra])


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tiff"])
def test_exif_date_camera_and_icc_survive_the_cli(tmp_path, tiny_model_file, capsys, fmt):
    src = tmp_path / "shot.jpg"
    Image.fromarray(_pattern()).save(src, exif=_exif(orientation=6), icc_profile=ICC, quality=95)
    assert _run([src], tmp_path / "out", tiny_model_file, "--format", fmt) == 0
    out = Image.open(tmp_path / "out" / f"shot_x4.{fmt}")
    assert out.size == (40, 48)  # orientation 6 was applied to the 12x10 pixels before x4
    exif = out.getexif()
    assert exif[0x0110] == CAMERA and exif[0x0132] == DATE
    assert exif.get_ifd(0x8769)[0x9003] == ORIGINAL_DATE
    assert (exif.get_ifd(0x8769)[0xA002], exif.get_ifd(0x8769)[0xA003]) == (40, 48)  # the new size
    if fmt != "tiff":  # a TIFF's own ImageWidth/Length are the output's; elsewhere stale ones go
        assert 0x0100 not in exif and 0x0101 not in exif
    assert exif.get(0x0112, 1) == 1  # pixels are upright: orientation reset
    assert float(exif[0x011A]) == pytest.approx(1200.0)  # resolution scaled x4
    assert out.info["icc_profile"] == ICC


@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_16bit_colour_keeps_depth_icc_and_camera(tmp_path, tiny_model_file, capsys, fmt):
    rng = np.random.default_rng(1)
    arr = (rng.random((10, 12, 3)) * 65535).astype(np.uint16)
    src = tmp_path / "scan.png"
    # a 16-bit PNG with ICC and EXIF, written by our own encoder (Pillow cannot write one)
    src.write_bytes(encode._png16(arr, encode._png_metadata_chunks(_exif(), ICC, (600, 600))))
    loaded = read.load_image(src)
    assert loaded.bit_depth == 16 and loaded.icc_profile == ICC
    assert np.abs(loaded.rgb * 65535 - arr).max() < 1
    assert _run([src], tmp_path / "out", tiny_model_file, "--format", fmt) == 0
    path = tmp_path / "out" / f"scan_x4.{fmt}"
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert pixels.dtype == np.uint16 and pixels.shape == (40, 48, 3)
    assert len(np.unique(pixels)) > 256  # really uses the 16 bits
    meta = Image.open(path)
    assert meta.info["icc_profile"] == ICC
    assert meta.getexif()[0x0110] == CAMERA and meta.getexif()[0x0132] == DATE
    assert meta.info["dpi"][0] == pytest.approx(2400, rel=1e-3)


def test_16bit_rgba_and_grayscale_keep_depth_alpha_and_gray(tmp_path, tiny_model_file, capsys):
    h, w = 10, 12
    alpha = np.linspace(0, 65535, h * w).reshape(h, w).astype(np.uint16)
    rgba = np.dstack([(np.random.default_rng(2).random((h, w, 3)) * 65535).astype(np.uint16), alpha])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rgba16.png").write_bytes(encode._png16(rgba))
    gray = (np.linspace(0, 65535, h * w).reshape(h, w)).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "in" / "gray16.png")
    (tmp_path / "in" / "graya16.png").write_bytes(encode._png16(np.dstack([gray, alpha])))
    assert _run([tmp_path / "in"], tmp_path / "out", tiny_model_file) == 0
    out = cv2.imread(str(tmp_path / "out" / "rgba16_x4.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == (40, 48, 4)
    assert out[..., 3].min() < 2000 and out[..., 3].max() > 63000  # the alpha ramp survived
    g = Image.open(tmp_path / "out" / "gray16_x4.png")
    assert g.mode.startswith("I;16") and g.size == (48, 40)
    ga = cv2.imread(str(tmp_path / "out" / "graya16_x4.png"), cv2.IMREAD_UNCHANGED)
    assert ga.dtype == np.uint16
    raw = (tmp_path / "out" / "graya16_x4.png").read_bytes()
    assert raw[24:26] == bytes([16, 4])  # IHDR: 16-bit, colour type 4 (gray + alpha)
    t = tifffile.imread(io.BytesIO(encode.encode_image(np.zeros((4, 4, 3), np.float32), "tiff",
                                                        alpha=np.ones((4, 4), np.float32),
                                                        grayscale=True, bit_depth=16)))
    assert t.dtype == np.uint16 and t.shape == (4, 4, 2)


@pytest.mark.parametrize("fmt,mode", [("png", "RGBA"), ("webp", "RGBA"), ("tiff", "RGBA"), ("jpg", "RGB")])
def test_alpha_kept_except_in_jpeg_with_a_note(tmp_path, tiny_model_file, capsys, fmt, mode):
    a = np.zeros((10, 12), np.uint8)
    a[:, 6:] = 255
    Image.fromarray(np.dstack([_pattern(), a])).save(tmp_path / "cut.png")
    assert _run([tmp_path / "cut.png"], tmp_path / "out", tiny_model_file, "--format", fmt,
                *(["--lossless"] if fmt == "webp" else [])) == 0
    out = Image.open(tmp_path / "out" / f"cut_x4.{fmt}")
    assert out.mode == mode
    if mode == "RGBA":
        alpha = np.asarray(out)[..., 3]
        assert alpha[:, :20].max() < 10 and alpha[:, 28:].min() > 245
    else:
        assert "transparency" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["png", "jpg", "tiff"])
def test_grayscale_stays_grayscale(tmp_path, tiny_model_file, capsys, fmt):
    Image.fromarray(_pattern()[..., 1]).save(tmp_path / "old.jpg", quality=95)
    assert _run([tmp_path / "old.jpg"], tmp_path / "out", tiny_model_file, "--format", fmt) == 0
    assert Image.open(tmp_path / "out" / f"old_x4.{fmt}").mode == "L"


def test_webp_lossless_and_quality(tmp_path, tiny_model_file, capsys):
    Image.fromarray(_pattern(24, 20)).save(tmp_path / "p.png")
    assert _run([tmp_path / "p.png"], tmp_path / "lossless", tiny_model_file, "--format", "webp", "--lossless") == 0
    assert _run([tmp_path / "p.png"], tmp_path / "lossy", tiny_model_file, "--format", "webp", "--quality", "20") == 0
    assert _run([tmp_path / "p.png"], tmp_path / "png", tiny_model_file) == 0
    ref = np.asarray(Image.open(tmp_path / "png" / "p_x4.png"))
    assert np.array_equal(np.asarray(Image.open(tmp_path / "lossless" / "p_x4.webp")), ref)
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "lossy" / "p_x4.webp")), ref)


def test_masks_palette_legend_class_pngs_and_coco_agree(tmp_path, tiny_model_file, capsys):
    Image.fromarray(_pattern(16, 12)).save(tmp_path / "street.png")
    assert _run([tmp_path / "street.png"], tmp_path / "out", tiny_model_file, "--masks", "--class-masks",
                "--coco") == 0
    out = tmp_path / "out"
    classes = Image.open(out / "street_classes.png")
    assert classes.mode == "P" and classes.size == (64, 48)
    ids = np.asarray(classes)
    legend = json.loads((out / "street_legend.json").read_text())
    assert legend["model"] == "tiny" and len(legend["model_sha256"]) == 64
    palette = classes.getpalette()
    for entry in legend["classes"]:
        assert entry["pixels"] == int((ids == entry["id"]).sum())
        assert entry["share"] == pytest.approx(entry["pixels"] / ids.size, abs=1e-6)
        assert palette[3 * entry["id"]:3 * entry["id"] + 3] == entry["color"]
    present = [e for e in legend["classes"] if e["pixels"]]
    masks = sorted(out.glob("street_mask_*.png"))
    assert len(masks) == len(present)
    for entry, path in zip(present, masks):
        assert path.name.startswith(f"street_mask_{entry['id']:02d}_")
        bw = Image.open(path)
        assert bw.mode == "1" and np.array_equal(np.asarray(bw), ids == entry["id"])
    coco = json.loads((out / "street_coco.json").read_text())
    assert coco["images"][0] == {"id": 1, "file_name": "street_x4.png", "width": 64, "height": 48}
    assert [c["name"] for c in coco["categories"]] == [e["name"] for e in legend["classes"]]
    for ann in coco["annotations"]:
        assert np.array_equal(rle_decode(ann["segmentation"]), ids == ann["category_id"])
        assert ann["area"] == int((ids == ann["category_id"]).sum())


def test_rle_matches_the_coco_convention():
    mask = np.array([[1, 0, 0], [1, 1, 0]], bool)
    # column-major: 1,1 | 0,1 | 0,0 -> starts with zero zeros
    assert rle_encode(mask) == {"size": [2, 3], "counts": [0, 2, 1, 1, 2]}
    assert np.array_equal(rle_decode(rle_encode(mask)), mask)
    assert rle_encode(~mask)["counts"] == [2, 1, 1, 2]
    # compressed strings as pycocotools.mask.encode writes them (values taken from it)
    assert rle_encode(mask, compressed=True)["counts"] == "021O1"
    box = np.zeros((40, 60), bool)
    box[5:30, 10:50] = True
    box[0, 0] = True
    assert rle_encode(box, compressed=True)["counts"] == "01d<h0kC" + "0" * 77 + "[<"
    assert np.array_equal(rle_decode(rle_encode(box, compressed=True)), box)


def test_second_run_without_overwrite_leaves_every_byte(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "src"
    (src / "trip").mkdir(parents=True)
    Image.fromarray(_pattern()).save(src / "a.png")
    Image.fromarray(_pattern()[::-1]).save(src / "trip" / "b.jpg", exif=_exif(), icc_profile=ICC)
    args = ["--masks", "--class-masks", "--coco"]
    assert _run([src], tmp_path / "out", tiny_model_file, *args) == 0
    before = _files(tmp_path / "out")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")}
    assert _run([src], tmp_path / "out", tiny_model_file, *args, "--seed", "5") == 0
    assert "2 skipped" in capsys.readouterr().err
    assert _files(tmp_path / "out") == before
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")} == stamps


def _full_disk_after(monkeypatch, files_ok: int):
    """Let ``files_ok`` files be written, then fail the next one half-way with ENOSPC."""
    real = atomic._write_bytes
    calls = {"n": 0}

    def write(f, data):
        calls["n"] += 1
        if calls["n"] > files_ok:
            f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(f, data)

    monkeypatch.setattr(atomic, "_write_bytes", write)


@pytest.mark.parametrize("files_ok", [0, 2])
def test_full_disk_leaves_no_partial_file(tmp_path, tiny_model_file, capsys, monkeypatch, files_ok):
    Image.fromarray(_pattern()).save(tmp_path / "a.png")
    Image.fromarray(_pattern()).save(tmp_path / "b.png")
    _full_disk_after(monkeypatch, files_ok)
    code = _run([tmp_path / "a.png", tmp_path / "b.png"], tmp_path / "out", tiny_model_file, "--masks")
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "disk is full" in err and "1 not started" in err  # the batch stops at a full disk
    assert list((tmp_path / "out").iterdir()) == []  # no partial file, no temporary file


def test_full_disk_during_overwrite_keeps_the_older_files(tmp_path, tiny_model_file, capsys, monkeypatch):
    Image.fromarray(_pattern()).save(tmp_path / "a.png")
    assert _run([tmp_path / "a.png"], tmp_path / "out", tiny_model_file, "--masks") == 0
    before = _files(tmp_path / "out")
    _full_disk_after(monkeypatch, 3)  # image, classes, overlay written; legend fails
    assert _run([tmp_path / "a.png"], tmp_path / "out", tiny_model_file, "--masks", "--overwrite",
                "--seed", "7") == 1
    assert "disk is full" in capsys.readouterr().err
    assert _files(tmp_path / "out") == before


def test_a_rename_failing_half_way_rolls_the_set_back(tmp_path, monkeypatch):
    import os

    old = {tmp_path / f"{n}.bin": f"old {n}".encode() for n in "abc"}
    for p, data in old.items():
        p.write_bytes(data)
    real_replace, seen = os.replace, []

    def replace(src, dst):
        if str(dst).endswith("c.bin") and not str(src).endswith(".old"):
            raise OSError(errno.EIO, "Input/output error", str(src), None, str(dst))
        seen.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(atomic.ImageSaveError, match="Input/output error"):
        atomic.write_files_atomic([(p, b"new") for p in old], overwrite=True)
    assert {p: p.read_bytes() for p in old} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin", "c.bin"]


def test_interrupt_while_writing_leaves_nothing(tmp_path, monkeypatch):
    def write(f, data):
        f.write(data[:3])
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_write_bytes", write)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_files_atomic([(tmp_path / "x.png", b"12345678")])
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_usual_permissions_and_keep_an_older_files(tmp_path):
    import os
    import stat

    old_mask = os.umask(0o022)
    try:
        atomic._UMASK = 0o022
        new = atomic.write_atomic(tmp_path / "new.png", b"x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's 0600
        (tmp_path / "shared.png").write_bytes(b"old")
        os.chmod(tmp_path / "shared.png", 0o664)
        atomic.write_atomic(tmp_path / "shared.png", b"new", overwrite=True)
        assert stat.S_IMODE((tmp_path / "shared.png").stat().st_mode) == 0o664
    finally:
        os.umask(old_mask)
        atomic._UMASK = atomic._umask()


def test_writes_work_without_hard_links(tmp_path, monkeypatch):
    """FAT and exFAT (USB sticks, SD cards) have no hard links: writing still works and
    still never replaces a file unasked."""
    def no_link(src, dst, *a, **kw):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_link)
    atomic.write_files_atomic([(tmp_path / "a.png", b"one"), (tmp_path / "b.png", b"two")])
    with pytest.raises(FileExistsError):
        atomic.write_files_atomic([(tmp_path / "c.png", b"c"), (tmp_path / "a.png", b"again")])
    assert (tmp_path / "a.png").read_bytes() == b"one"
    atomic.write_files_atomic([(tmp_path / "a.png", b"three")], overwrite=True)
    assert (tmp_path / "a.png").read_bytes() == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_class_ids_is_argmax_with_first_wins_on_ties():
    from segsr_gui.io.masks import class_ids

    rng = np.random.default_rng(0)
    scores = rng.standard_normal((11, 13, 17)).astype(np.float32)
    scores[4, :3] = scores[7, :3] = 50.0  # a tie: the lower id wins, as with argmax
    ids = class_ids(scores)
    assert ids.dtype == np.uint8 and ids.shape == (13, 17)
    assert np.array_equal(ids, np.argmax(scores, axis=0))
    assert (ids[:3] == 4).all()


def test_class_fractions_are_each_ids_share_of_the_pixels():
    from segsr_gui.io.masks import class_counts, class_fractions

    ids = np.array([[0, 0, 2], [2, 2, 2]], dtype=np.uint8)
    assert class_counts(ids, 4).tolist() == [2, 0, 4, 0]
    assert np.allclose(class_fractions(ids, 4), [2 / 6, 0, 4 / 6, 0])
    assert np.array_equal(class_fractions(np.zeros((0, 3), np.uint8), 4), np.zeros(4))


def test_overlay_of_a_transparent_photo_keeps_its_alpha(tmp_path, tiny_model_file):
    """#36 walkthrough 4: the overlay's transparent areas stay transparent (no restorer junk)."""
    a = np.zeros((10, 12), np.uint8)
    a[:, 6:] = 255
    Image.fromarray(np.dstack([_pattern(), a])).save(tmp_path / "cut.png")
    assert _run([tmp_path / "cut.png"], tmp_path / "out", tiny_model_file, "--masks") == 0
    out = Image.open(tmp_path / "out" / "cut_overlay.png")
    assert out.mode == "RGBA" and out.size == (48, 40)
    alpha = np.asarray(out)[..., 3]
    assert alpha[:, :20].max() < 10 and alpha[:, 28:].min() > 245
    Image.fromarray(_pattern()).save(tmp_path / "plain.png")  # an opaque photo's overlay stays RGB
    assert _run([tmp_path / "plain.png"], tmp_path / "out", tiny_model_file, "--masks") == 0
    assert Image.open(tmp_path / "out" / "plain_overlay.png").mode == "RGB"


def test_the_studio_setting_writes_what_the_cli_writes_with_both_mask_flags(tmp_path, tiny_model_file):
    """#36 walkthrough 2: the window's and the batch's "class masks" = ``--masks --class-masks``."""
    from segsr_gui.app.export import encode_outputs, studio_options
    from segsr_gui.app.queue import BatchQueue
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    Image.fromarray(_pattern()).save(tmp_path / "p.png")
    assert _run([tmp_path / "p.png"], tmp_path / "cli", tiny_model_file, "--masks", "--class-masks") == 0
    cli = sorted(p.name for p in (tmp_path / "cli").iterdir())
    loaded = load_model(tiny_model_file)
    image = read.load_image(tmp_path / "p.png")
    result = upscale(image.rgb, loaded.model, steps=1)
    blobs = encode_outputs(image, result, tmp_path / "studio", "p", studio_options(masks=True), loaded.name,
                           loaded.classes, loaded.palette)
    studio = sorted(path.name for path, _ in blobs.values())
    assert studio == cli and any(name.startswith("p_mask_") for name in studio)
    assert BatchQueue(masks=True).export_options() == studio_options(masks=True)
    assert studio_options(masks=False).wants_segmentation is False
