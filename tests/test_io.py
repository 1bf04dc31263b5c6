import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from segsr_gui.errors import ImageLoadError
from segsr_gui.io.encode import encode_image
from segsr_gui.io.read import load_image
from segsr_gui.io.atomic import write_atomic


def _gradient(w=24, h=16):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 10 % 256, yy * 15 % 256, (xx + yy) * 5 % 256], 2).astype(np.uint8)


def test_rgb_png_loads_as_float(tmp_path):
    Image.fromarray(_gradient()).save(tmp_path / "a.png")
    img = load_image(tmp_path / "a.png")
    assert img.rgb.shape == (16, 24, 3) and img.rgb.dtype == np.float32
    assert img.alpha is None and not img.grayscale and img.bit_depth == 8
    assert np.allclose(img.rgb * 255, _gradient(), atol=1e-3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    arr = _gradient(24, 16)
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(tmp_path / "o.jpg", exif=exif.tobytes(), quality=100)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.jpg")))
    img = load_image(tmp_path / "o.jpg")
    assert img.rgb.shape[:2] == expected.shape[:2]
    assert (img.rgb.shape[:2] == (24, 16)) == (orientation >= 5)
    assert np.abs(img.rgb * 255 - expected).max() < 1


def test_grayscale_stays_grayscale(tmp_path):
    Image.fromarray(_gradient()[..., 0]).save(tmp_path / "g.png")
    img = load_image(tmp_path / "g.png")
    assert img.grayscale and img.rgb.shape == (16, 24, 3)
    data = encode_image(img.rgb, "png", grayscale=True)
    assert Image.open(io.BytesIO(data)).mode == "L"


def test_alpha_is_kept(tmp_path):
    rgba = np.dstack([_gradient(), np.linspace(0, 255, 24 * 16).reshape(16, 24).astype(np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = load_image(tmp_path / "a.png")
    assert img.alpha is not None and img.alpha.shape == (16, 24)
    out = Image.open(io.BytesIO(encode_image(img.rgb, "png", alpha=img.alpha)))
    assert out.mode == "RGBA"
    assert np.abs(np.asarray(out)[..., 3].astype(int) - rgba[..., 3]).max() <= 1


def test_16bit_gray_round_trip(tmp_path):
    arr = (np.linspace(0, 65535, 24 * 16).reshape(16, 24)).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    img = load_image(tmp_path / "g16.png")
    assert img.bit_depth == 16 and img.grayscale
    out = Image.open(io.BytesIO(encode_image(img.rgb, "png", grayscale=True, bit_depth=16)))
    back = np.asarray(out).astype(np.int64)
    assert out.mode.startswith("I") and np.abs(back - arr).max() <= 2


def test_16bit_colour_round_trip(tmp_path):
    import cv2

    arr = (np.random.default_rng(0).random((16, 24, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "c16.png"), arr[..., ::-1])
    img = load_image(tmp_path / "c16.png")
    assert img.bit_depth == 16 and not img.grayscale
    assert np.abs(img.rgb * 65535 - arr).max() < 1
    data = encode_image(img.rgb, "png", bit_depth=16)
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.abs(back[..., ::-1].astype(int) - arr).max() <= 1


def test_icc_and_exif_travel_to_output(tmp_path):
    exif = Image.Exif()
    exif[0x0110] = "TestCam 3000"  # Model
    exif[0x0132] = "2020:01:02 03:04:05"  # DateTime
    icc = b"fake-icc-profile-bytes" * 4
    Image.fromarray(_gradient()).save(tmp_path / "m.jpg", exif=exif.tobytes(), icc_profile=icc)
    img = load_image(tmp_path / "m.jpg")
    out = Image.open(io.BytesIO(encode_image(img.rgb, "jpg", exif=img.exif, icc_profile=img.icc_profile)))
    assert out.info.get("icc_profile") == icc
    assert out.getexif()[0x0110] == "TestCam 3000" and out.getexif()[0x0132] == "2020:01:02 03:04:05"


def test_cmyk_and_palette_images_convert(tmp_path):
    Image.fromarray(_gradient()).convert("CMYK").save(tmp_path / "c.jpg")
    assert load_image(tmp_path / "c.jpg").rgb.shape == (16, 24, 3)
    p = Image.fromarray(_gradient()).convert("P")
    p.info["transparency"] = 0
    p.save(tmp_path / "p.png", transparency=0)
    img = load_image(tmp_path / "p.png")
    assert img.rgb.shape == (16, 24, 3)


@pytest.mark.parametrize("content,match", [
    (b"", "empty"), (b"hello, this is text", "not an image"),
])
def test_bad_files_raise_a_clear_error(tmp_path, content, match):
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(ImageLoadError, match=match):
        load_image(tmp_path / "bad.png")


def test_truncated_png_and_folder_and_missing(tmp_path):
    Image.fromarray(_gradient(200, 200)).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError):
        load_image(tmp_path / "t.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "nope.png")


def test_decompression_bomb_is_refused(tmp_path):
    # a valid PNG header declaring 100000 x 100000 pixels
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(tmp_path / "bomb.png")


def test_write_atomic_never_replaces_unasked(tmp_path):
    target = tmp_path / "out.png"
    write_atomic(target, b"first")
    with pytest.raises(FileExistsError):
        write_atomic(target, b"second")
    assert target.read_bytes() == b"first"
    write_atomic(target, b"third", overwrite=True)
    assert target.read_bytes() == b"third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
