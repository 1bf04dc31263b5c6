"""Reading photos into float arrays.

``load_image`` returns RGB float32 (H, W, 3) in [0, 1] with EXIF orientation
applied, plus what must travel to the output: alpha, whether the photo is
grayscale, its bit depth (8 or 16), EXIF and ICC bytes.

Pillow holds 16 bits per sample only for grayscale, so 16-bit colour input is
decoded by OpenCV (metadata still comes from Pillow).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from segsr_gui.errors import ImageLoadError

MAX_INPUT_PIXELS = 40_000_000  # 40 MP in, 640 MP out: beyond that a run is not practical
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tiff": "TIFF"}
ORIENTATION_TAG = 0x0112
RESOLUTION_TAGS = (0x011A, 0x011B)  # XResolution, YResolution


@dataclass
class LoadedImage:
    """A photo ready for the engine, with what its output must keep."""

    rgb: np.ndarray  # float32 (H, W, 3) in [0, 1]
    alpha: Optional[np.ndarray] = None  # float32 (H, W) in [0, 1]; kept even when fully opaque
    grayscale: bool = False
    bit_depth: int = 8
    exif: Optional[bytes] = None
    icc_profile: Optional[bytes] = None
    dpi: Optional[tuple[float, float]] = None
    notes: list[str] = field(default_factory=list)
    path: Optional[Path] = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]


def _png_bit_depth(path: Path) -> int:
    with open(path, "rb") as f:
        head = f.read(26)
    return head[24] if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) > 24 else 8


def _png_gray_alpha(im: Image.Image, path: Path) -> bool:
    """A 16-bit gray + alpha PNG (colour type 4), which Pillow opens as RGBA."""
    if im.format != "PNG" or im.mode != "RGBA":
        return False
    with open(path, "rb") as f:
        head = f.read(26)
    return len(head) == 26 and head[25] == 4


def _source_bit_depth(im: Image.Image, path: Path) -> int:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return 16
    if im.format == "PNG":
        return _png_bit_depth(path)
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        return int(bits[0] if isinstance(bits, tuple) else bits)
    return 8


def _read_16bit_colour(path: Path) -> np.ndarray:
    """(H, W, 3|4) float32 RGB(A) from a 16-bit colour file, via OpenCV."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim != 3:
        raise ImageLoadError(f"{path.name}: the 16-bit colour data cannot be decoded.")
    arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA if arr.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return arr.astype(np.float32) / (65535.0 if arr.dtype == np.uint16 else 255.0)


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W, C) array, as ``ImageOps.exif_transpose``."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: a.transpose(1, 0, 2)[:, ::-1],
           7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1], 8: lambda a: a.transpose(1, 0, 2)[::-1]}
    return np.ascontiguousarray(ops[orientation](arr)) if orientation in ops else arr


def _open(path: Path) -> Image.Image:
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a folder, not an image file.")
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path.name}: the file is empty (0 bytes).")
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
            im.load()
        return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(f"{path.name}: the image is too large to process "
                             f"(over {MAX_INPUT_PIXELS // 1_000_000} megapixels).") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path.name}: not an image file, or a format SegSR cannot read.") from None
    except PermissionError:
        raise ImageLoadError(f"{path.name}: permission denied when reading the file.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"{path.name}: the image is damaged or truncated ({exc}).") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def load_image(path: str | os.PathLike) -> LoadedImage:
    """Read a photo; every failure is an ``ImageLoadError`` with one clear message.

    A damaged file can break a decoder in many ways (``OSError``, ``SyntaxError``,
    ``struct.error``, ``EOFError``, ...): each becomes an ``ImageLoadError``.
    """
    path = Path(path)
    try:
        return _load(path)
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"{path.name}: not enough memory to read this image.") from None
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise ImageLoadError(f"{path.name}: the image is damaged or cannot be decoded "
                             f"({type(exc).__name__}: {exc}).") from None


def _load(path: Path) -> LoadedImage:
    im = _open(path)
    notes = []
    if getattr(im, "n_frames", 1) > 1:
        notes.append(f"{path.name} has {im.n_frames} frames; only the first is used.")
        im.seek(0)
    exif = im.getexif()
    orientation = int(exif.get(ORIENTATION_TAG, 1) or 1)
    icc = im.info.get("icc_profile")
    dpi = im.info.get("dpi")
    bit_depth = 16 if _source_bit_depth(im, path) > 8 else 8
    alpha = None
    grayscale = im.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F") or _png_gray_alpha(im, path)
    if bit_depth == 16 and im.mode in ("RGB", "RGBA"):  # Pillow holds these as 8-bit: use OpenCV
        arr = _orient(_read_16bit_colour(path), orientation)
        rgb, alpha = arr[..., :3], (arr[..., 3] if arr.shape[2] == 4 else None)
    else:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            arr = np.asarray(im, dtype=np.float32)
            peak = 65535.0 if bit_depth == 16 else max(1.0, float(arr.max()))
            rgb = np.repeat(np.clip(arr / peak, 0, 1)[..., None], 3, axis=2)
        else:
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            if im.mode == "CMYK":
                im = im.convert("RGB")
                icc = None  # a CMYK profile does not describe the converted RGB pixels
            has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            if has_alpha:
                rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255
                rgb, alpha = rgba[..., :3], rgba[..., 3]
            else:
                rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255
    exif.pop(ORIENTATION_TAG, None)
    exif_bytes = exif.tobytes() if len(exif) else None
    return LoadedImage(np.ascontiguousarray(rgb, dtype=np.float32), alpha, grayscale, bit_depth,
                       exif_bytes, icc, tuple(dpi) if dpi else None, notes, path)


# --- writing --------------------------------------------------------------------
