"""Encoding a result as PNG, JPEG, WebP or TIFF bytes, with its metadata.

16-bit output is written by a small PNG encoder of our own (ICC, EXIF, DPI kept) or
by tifffile (ICC, DPI and the EXIF text tags of IFD0 kept; the EXIF sub-IFD, e.g.
DateTimeOriginal, is not carried into 16-bit TIFF). Writing the bytes to disk is
``atomic.py``'s job.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Optional

import numpy as np
from PIL import Image

from segsr_gui.io.read import FORMATS, ORIENTATION_TAG, RESOLUTION_TAGS

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
