"""Writing one photo's outputs (DESIGN.md section 3): ``NAME_x4.<fmt>`` and, with
masks, ``NAME_classes.png``, ``NAME_overlay.png``, ``NAME_legend.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .imageio import LoadedImage, encode_image, write_atomic
from .masks import legend, overlay, palette_png
from .pipeline import UpscaleResult


@dataclass(frozen=True)
class ExportOptions:
    format: str = "png"  # png | jpg | webp | tiff
    masks: bool = False
    overwrite: bool = False
    quality: int = 95
    lossless_webp: bool = False


def output_paths(stem: str, outdir: Path, options: ExportOptions) -> dict[str, Path]:
    paths = {"image": outdir / f"{stem}_x4.{options.format}"}
    if options.masks:
        paths.update(classes=outdir / f"{stem}_classes.png", overlay=outdir / f"{stem}_overlay.png",
                     legend=outdir / f"{stem}_legend.json")
    return paths


def existing_outputs(stem: str, outdir: Path, options: ExportOptions) -> list[Path]:
    return [p for p in output_paths(stem, outdir, options).values() if p.exists()]


def _resize_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Alpha is upscaled on its own (bicubic, clipped): it has no texture to restore."""
    from PIL import Image

    im = Image.fromarray(alpha.astype(np.float32), "F").resize(size, Image.BICUBIC)
    return np.clip(np.asarray(im), 0, 1)


def export_result(source: LoadedImage, result: UpscaleResult, outdir: Path, stem: str,
                  options: ExportOptions, model_name: str, classes, palette,
                  model_sha256: str | None = None) -> dict[str, Path]:
    """Encode everything first, then write each file atomically; nothing is replaced unless
    ``options.overwrite`` (a ``FileExistsError`` names the first existing output)."""
    paths = output_paths(stem, outdir, options)
    if not options.overwrite:
        for p in paths.values():
            if p.exists():
                raise FileExistsError(f"{p} already exists (use --overwrite to replace it).")
    h, w = result.image.shape[:2]
    alpha = None if source.alpha is None else _resize_alpha(source.alpha, (w, h))
    blobs = {"image": encode_image(result.image, options.format, alpha=alpha, grayscale=source.grayscale,
                                   bit_depth=source.bit_depth, exif=source.exif,
                                   icc_profile=source.icc_profile, dpi=source.dpi,
                                   quality=options.quality, lossless=options.lossless_webp)}
    if options.masks and result.class_map is not None:
        blobs["classes"] = palette_png(result.class_map, palette)
        import io
        from PIL import Image
        buf = io.BytesIO()
        Image.fromarray(overlay(result.image, result.class_map, palette)).save(buf, "PNG")
        blobs["overlay"] = buf.getvalue()
        blobs["legend"] = (json.dumps(legend(result.class_map, classes, palette, model_name, model_sha256),
                                      indent=2) + "\n").encode()
    written = {}
    for key, data in blobs.items():
        written[key] = write_atomic(paths[key], data, overwrite=options.overwrite)
    return written
