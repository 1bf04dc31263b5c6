"""Reading photos into float arrays and writing results without losing anything.

``load_image`` returns RGB float32 (H, W, 3) in [0, 1] with EXIF orientation
applied, plus what must travel to the output: alpha, whether the photo is
grayscale, its bit depth (8 or 16), EXIF and ICC bytes. ``save_image`` writes
through a temporary file in the target folder that is renamed into place, and
never replaces an existing file unless asked.

Pillow holds 16 bits per sample only for grayscale, so 16-bit colour input is
decoded by OpenCV (metadata still comes from Pillow) and 16-bit output is written
by a small PNG encoder of our own (ICC, EXIF, DPI kept) or by tifffile (ICC, DPI
and the EXIF text tags of IFD0 kept; the EXIF sub-IFD, e.g. DateTimeOriginal, is
not carried into 16-bit TIFF).
"""

from __future__ import annotations

import errno
import io
import os
import struct
import tempfile
import zlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError, ImageSaveError

MAX_INPUT_PIXELS = 40_000_000  # 40 MP in, 640 MP out: beyond that a run is not practical
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tiff": "TIFF"}
ORIENTATION_TAG = 0x0112
RESOLUTION_TAGS = (0x011A, 0x011B)  # XResolution, YResolution


@dataclass
class LoadedImage:
    """A photo ready for the engine, with what its output must keep."""

    rgb: np.ndarray  # float32 (H, W, 3) in [0, 1]
    alpha: Optional[np.ndarray] = None  # float32 (H, W) in [0, 1]
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
    if alpha is not None and alpha.min() >= 1.0:
        alpha = None  # fully opaque: nothing to carry
    exif.pop(ORIENTATION_TAG, None)
    exif_bytes = exif.tobytes() if len(exif) else None
    return LoadedImage(np.ascontiguousarray(rgb, dtype=np.float32), alpha, grayscale, bit_depth,
                       exif_bytes, icc, tuple(dpi) if dpi else None, notes, path)


# --- writing --------------------------------------------------------------------


LAYOUT_TAGS = (0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0111, 0x0115, 0x0116, 0x0117, 0x011C)
# ImageWidth, ImageLength, BitsPerSample, Compression, PhotometricInterpretation, StripOffsets,
# SamplesPerPixel, RowsPerStrip, StripByteCounts, PlanarConfiguration: they describe the source
# pixels (an editor's EXIF often carries them) and would be wrong for the output.
EXIF_IFD, PIXEL_X_DIMENSION, PIXEL_Y_DIMENSION = 0x8769, 0xA002, 0xA003


def _exif_for_output(exif_bytes: Optional[bytes], scale: int,
                     size: Optional[tuple[int, int]] = None) -> Optional[bytes]:
    """Orientation reset (pixels are upright), resolution scaled with the pixel count,
    source layout tags dropped and the EXIF pixel dimensions set to ``size`` (w, h)."""
    if not exif_bytes:
        return None
    exif = Image.Exif()
    exif.load(exif_bytes)
    exif[ORIENTATION_TAG] = 1
    for tag in RESOLUTION_TAGS:
        if tag in exif:
            try:
                exif[tag] = float(exif[tag]) * scale
            except (TypeError, ValueError, ZeroDivisionError):
                pass
    for tag in LAYOUT_TAGS:
        exif.pop(tag, None)
    if size and EXIF_IFD in exif:
        sub = exif.get_ifd(EXIF_IFD)
        if PIXEL_X_DIMENSION in sub or PIXEL_Y_DIMENSION in sub:
            sub[PIXEL_X_DIMENSION], sub[PIXEL_Y_DIMENSION] = int(size[0]), int(size[1])
    return exif.tobytes()


def _has_exif_sub_ifd(exif_bytes: Optional[bytes]) -> bool:
    if not exif_bytes:
        return False
    exif = Image.Exif()
    exif.load(exif_bytes)
    return any(tag in exif for tag in (0x8769, 0x8825))  # ExifIFD, GPSInfo


def _to_pil(rgb: np.ndarray, alpha: Optional[np.ndarray], grayscale: bool, fmt: str) -> Image.Image:
    """8-bit L, LA, RGB or RGBA image (JPEG never gets alpha)."""
    to8 = lambda a: np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
    if fmt == "JPEG":
        alpha = None
    planes = [rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)] if grayscale else [rgb]
    if alpha is not None:
        planes.append(alpha[..., None])
    arr = to8(np.dstack(planes) if len(planes) > 1 else planes[0])
    return Image.fromarray(np.ascontiguousarray(arr))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_metadata_chunks(exif: Optional[bytes], icc: Optional[bytes], dpi) -> bytes:
    """iCCP, eXIf and pHYs chunks (PNG spec 11.3.3.3, PNG extensions 3.7, 11.3.5.3)."""
    chunks = b""
    if icc:
        chunks += _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
    if exif:
        body = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
        chunks += _png_chunk(b"eXIf", body)
    if dpi:
        ppm = [max(1, int(round(d / 0.0254))) for d in dpi]  # dots per inch -> per metre
        chunks += _png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))
    return chunks


def _png16(arr: np.ndarray, extra_chunks: bytes = b"") -> bytes:
    """A 16-bit PNG of a uint16 (H, W) or (H, W, C) array, C in 1-4, with ``extra_chunks``
    placed before the image data. Rows use the Up filter (PNG spec 9.2) and zlib level 1:
    as small as OpenCV's 16-bit PNG within about 5%, and several times faster than level 6."""
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w, c = arr.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = arr.astype(">u2").reshape(h, w * c).view(np.uint8)
    up = raw.copy()
    up[1:] = raw[1:] - raw[:-1]  # uint8 arithmetic wraps modulo 256, as the filter asks
    rows = np.hstack([np.full((h, 1), 2, np.uint8), up])
    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + extra_chunks
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


_TIFF_ASCII_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)
# ImageDescription, Make, Model, Software, DateTime, Artist, Copyright: the EXIF IFD0 text
# tags that are also baseline TIFF tags, so a 16-bit TIFF can carry them.


def _encode_16bit(rgb: np.ndarray, alpha: Optional[np.ndarray], grayscale: bool, fmt: str,
                  exif: Optional[bytes] = None, icc: Optional[bytes] = None, dpi=None) -> bytes:
    """16 bits per sample. PNG: our own small encoder, which keeps ICC, EXIF and DPI.
    TIFF: tifffile, which keeps ICC, DPI and the EXIF IFD0 text tags (camera, date, artist)."""
    to16 = lambda a: np.round(np.clip(a, 0, 1) * 65535).astype(np.uint16)
    if grayscale:
        planes = [rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)]
    else:
        planes = [rgb[..., 0], rgb[..., 1], rgb[..., 2]]
    if alpha is not None:
        planes.append(alpha)
    arr = np.dstack([to16(p) for p in planes]) if len(planes) > 1 else to16(planes[0])
    if fmt == "PNG":
        return _png16(arr, _png_metadata_chunks(exif, icc, dpi))
    import tifffile

    extratags = []
    if exif:
        tags = Image.Exif()
        tags.load(exif)
        for tag in _TIFF_ASCII_TAGS:
            value = tags.get(tag)
            if isinstance(value, str) and value and value.isascii():
                extratags.append((tag, "s", 0, value, True))
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, photometric="minisblack" if grayscale else "rgb",
                     extrasamples=["unassalpha"] if alpha is not None else None,
                     compression="zlib", iccprofile=icc or None, metadata=None,
                     resolution=tuple(dpi) if dpi else None,
                     resolutionunit="INCH" if dpi else None, extratags=extratags)
    return buf.getvalue()


def encode_image(rgb: np.ndarray, fmt: str, *, alpha=None, grayscale=False, bit_depth=8, exif=None,
                 icc_profile=None, dpi=None, scale: int = 4, quality: int = 95, lossless=False) -> bytes:
    """Encode an output image to bytes (``fmt`` a key of ``FORMATS``).

    ``rgb`` is float32 (H, W, 3) in [0, 1]; ``alpha`` float32 (H, W) or None. EXIF
    keeps everything but orientation (reset: pixels are upright) and resolution
    (multiplied by ``scale``); ICC is copied. JPEG has no alpha: it is dropped.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    pil_format = FORMATS[fmt]
    out_exif = _exif_for_output(exif, scale, (rgb.shape[1], rgb.shape[0]))
    out_dpi = tuple(float(d) * scale for d in dpi) if dpi else None
    if bit_depth == 16 and pil_format in ("PNG", "TIFF"):
        return _encode_16bit(rgb, alpha, grayscale, pil_format, out_exif, icc_profile, out_dpi)
    im = _to_pil(rgb, alpha if pil_format != "JPEG" else None, grayscale, pil_format)
    params = {}
    if out_exif:
        params["exif"] = out_exif
    if icc_profile:
        params["icc_profile"] = icc_profile
    if out_dpi:
        params["dpi"] = out_dpi
    if pil_format == "JPEG":
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif pil_format == "WEBP":
        params.update(lossless=lossless, quality=quality if not lossless else 100)
    elif pil_format == "TIFF" and not _has_exif_sub_ifd(out_exif):
        # Pillow's libtiff encoder (needed for compression) cannot write the EXIF and
        # GPS sub-IFDs: with them the TIFF is stored uncompressed so nothing is lost.
        params["compression"] = "tiff_deflate"
    buf = io.BytesIO()
    im.save(buf, pil_format, **params)
    return buf.getvalue()


def _exists_message(path: Path) -> str:
    return f"{path} already exists; it was left untouched (use --overwrite to replace it)."


def _save_error(path: Path, exc: OSError) -> ImageSaveError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full (no space left on device)"
    err = ImageSaveError(f"Cannot write {path}: {reason}; nothing was written for it.")
    err.errno = exc.errno
    return err


def _write_bytes(f, data: bytes) -> None:
    """Write in 1 MiB pieces (a seam tests use to simulate a disk filling up mid-write)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        f.write(view[start:start + (1 << 20)])


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it, which races threads


def _new_file_mode(path: Path) -> int:
    """An older file's permission bits, or what ``open()`` would give a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _write_temp(path: Path, data: bytes) -> str:
    """``data`` in a fsynced hidden temporary file beside ``path``; removed again on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        err = ImageSaveError(f"Cannot write to the folder {path.parent}: {exc.strerror or exc}.")
        err.errno = exc.errno
        raise err from None
    try:
        os.chmod(tmp, _new_file_mode(path))  # mkstemp makes 0600 files: give the usual mode
        with os.fdopen(fd, "wb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        _unlink_quietly(tmp)
        if isinstance(exc, OSError):
            raise _save_error(path, exc) from None
        raise
    return tmp


# os.link fails with these where the file system has no hard links (FAT, exFAT, some shares)
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}


def _place_new(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` without ever replacing a file there. A hard link fails
    atomically if the name exists; without hard links: check, then rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", tmp, None, str(path)) from None
        os.rename(tmp, path)
        return
    _unlink_quietly(tmp)


def _backup(path: Path, backup: str) -> Optional[str]:
    """A second name for the older version (restored if the set fails); None where the
    file system has no hard links (the older file is then replaced atomically, unrestorable)."""
    try:
        os.link(path, backup)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        return None
    return backup


def write_files_atomic(items: Sequence[tuple[str | os.PathLike, bytes]], overwrite: bool = False) -> list[Path]:
    """Write several files as one unit: all of them appear, or none does.

    Phase 1 writes every file to a temporary file in its target folder. Phase 2
    moves them into place; an existing file is replaced (``overwrite``) by an atomic
    rename, so it is either the old or the new version, never a damaged one. Any
    failure or interruption (also ``KeyboardInterrupt``) removes the temporary files
    and undoes the files already moved, restoring older versions.

    Without ``overwrite`` an existing target raises ``FileExistsError`` and nothing
    is written. OS failures raise ``ImageSaveError`` (``.errno`` set).
    """
    items = [(Path(p), data) for p, data in items]
    if not overwrite:
        for path, _ in items:
            if path.exists():
                raise FileExistsError(_exists_message(path))
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in items:
            temps.append((_write_temp(path, data), path))
    except BaseException:
        for tmp, _ in temps:
            _unlink_quietly(tmp)
        raise
    committed: list[tuple[Path, Optional[str]]] = []  # (target, backup of the older version)
    try:
        for tmp, path in temps:
            backup = None
            if overwrite:
                if path.exists():
                    backup = _backup(path, tmp + ".old")
                os.replace(tmp, path)
            else:
                _place_new(tmp, path)
            committed.append((path, backup))
    except BaseException as exc:
        for path, backup in reversed(committed):
            if backup:
                os.replace(backup, path)
            else:
                _unlink_quietly(path)
        for tmp, _ in temps:
            _unlink_quietly(tmp)
            _unlink_quietly(tmp + ".old")
        if isinstance(exc, FileExistsError):
            raise FileExistsError(_exists_message(Path(exc.filename2 or exc.filename or "output"))) from None
        if isinstance(exc, OSError):
            raise _save_error(Path(exc.filename2 or exc.filename or temps[0][1]), exc) from None
        raise
    for _, backup in committed:
        if backup:
            _unlink_quietly(backup)
    return [path for _, path in temps]


def check_writable_folder(folder: str | os.PathLike) -> Optional[str]:
    """None when ``folder`` exists or can be created and a file can be written in it;
    otherwise one sentence saying why not. (Probes with a real file: permission bits
    say nothing when running as root or on network shares.)"""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"The output folder {folder} is a file, not a folder."
    except OSError as exc:
        return f"Cannot create the output folder {folder}: {exc.strerror or exc}."
    if not folder.is_dir():
        return f"The output folder {folder} is a file, not a folder."
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".segsr-probe-", suffix=".part")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"Cannot write to the output folder {folder}: {exc.strerror or exc}."
    return None


def write_atomic(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Without ``overwrite`` an existing file is left untouched and ``FileExistsError``
    is raised; on any failure no partial file remains and an older file is intact.
    """
    return write_files_atomic([(path, data)], overwrite)[0]
