"""Writing one photo's outputs (docs/design.md section 3): ``NAME_x4.<fmt>`` and, with
masks, ``NAME_classes.png``, ``NAME_overlay.png``, ``NAME_legend.json``; optionally
one black-and-white ``NAME_mask_<id>_<class>.png`` per class present and a COCO
RLE ``NAME_coco.json``; with masks, when the repair filled damage, ``NAME_damage.png`` (255 = filled).

A photo's outputs are one unit: everything is encoded in memory first, then
written with ``write_files_atomic`` (all files appear, or none does; an older
version is never damaged and never replaced unless ``overwrite``).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segsr_gui.io.read import LoadedImage

from segsr_gui.io.encode import encode_image

from segsr_gui.io.atomic import write_files_atomic
from segsr_gui.io.masks import (
    class_mask_pngs, coco_json, damage_png, legend, overlay, palette_png, resize_class_map,
)
from segsr_gui.engine.inference.pipeline import UpscaleResult


@dataclass(frozen=True)
class ExportOptions:
    """What to write for each photo.

    Args:
        format: ``Literal["png", "jpg", "webp", "tiff"]``, default ``"png"``.
        masks: class-id palette PNG, overlay PNG and JSON legend (default False).
        overwrite: replace existing outputs (default False: existing files are kept).
        quality: JPEG/WebP quality 1-100 (default 95).
        lossless_webp: lossless WebP, ``quality`` ignored (default False).
        class_masks: one black-and-white PNG per class present (default False).
        coco: COCO-style RLE JSON of the class map (default False).
    """

    format: str = "png"
    masks: bool = False
    overwrite: bool = False
    quality: int = 95
    lossless_webp: bool = False
    class_masks: bool = False
    coco: bool = False

    @property
    def wants_segmentation(self) -> bool:
        return self.masks or self.class_masks or self.coco


def studio_options(format: str = "png", masks: bool = False, overwrite: bool = False,
                   quality: int = 95) -> ExportOptions:
    """The window's and the batch's one "class masks" setting: what the command line writes with
    ``--masks --class-masks`` (class map, overlay, legend and a black-and-white mask per class
    present, ``NAME_mask_09_person.png`` among them)."""
    return ExportOptions(format, masks, overwrite, quality, class_masks=masks)


def output_paths(stem: str, outdir: Path, options: ExportOptions) -> dict[str, Path]:
    """The outputs whose names are known before the run (per-class masks are not:
    they depend on the classes found)."""
    paths = {"image": outdir / f"{stem}_x4.{options.format}"}
    if options.masks:
        paths.update(classes=outdir / f"{stem}_classes.png", overlay=outdir / f"{stem}_overlay.png",
                     legend=outdir / f"{stem}_legend.json")
    if options.coco:
        paths["coco"] = outdir / f"{stem}_coco.json"
    return paths


def class_mask_files(stem: str, outdir: Path) -> list[Path]:
    """Per-class mask files of ``stem`` already in ``outdir``."""
    return sorted(p for p in outdir.glob(f"{stem}_mask_[0-9][0-9]_*.png") if p.is_file())


def damage_file(stem: str, outdir: Path) -> Path:
    """The damage map's file: written with the masks when the repair filled damage."""
    return outdir / f"{stem}_damage.png"


def existing_outputs(stem: str, outdir: Path, options: ExportOptions) -> list[Path]:
    found = [p for p in output_paths(stem, outdir, options).values() if p.exists()]
    if options.masks and damage_file(stem, outdir).exists():
        found.append(damage_file(stem, outdir))
    if options.class_masks and outdir.is_dir():
        found += class_mask_files(stem, outdir)
    return found


def is_done(stem: str, outdir: Path, options: ExportOptions) -> bool:
    """Every output of a finished photo is present (so a batch can skip it)."""
    if not all(p.exists() for p in output_paths(stem, outdir, options).values()):
        return False
    return not options.class_masks or bool(class_mask_files(stem, outdir))


def export_notes(source: LoadedImage, options: ExportOptions) -> list[str]:
    """What the chosen format cannot keep, in sentences for the user."""
    notes = []
    name = source.path.name if source.path else "the photo"
    if source.alpha is not None and source.alpha.min() < 1.0 and options.format == "jpg":
        notes.append(f"{name} has transparency, which JPEG cannot store; it is dropped "
                     "(choose --format png, webp or tiff to keep it).")
    if source.bit_depth == 16 and options.format in ("jpg", "webp"):
        notes.append(f"{name} has 16 bits per sample; {options.format.upper()} stores 8 "
                     "(choose --format png or tiff to keep 16).")
    return notes


def _resize_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Alpha is upscaled on its own (bicubic, clipped): it has no texture to restore."""
    from PIL import Image

    im = Image.fromarray(alpha.astype(np.float32), "F").resize(size, Image.BICUBIC)
    return np.clip(np.asarray(im), 0, 1)


def _png(rgb8: np.ndarray, alpha: np.ndarray | None = None) -> bytes:
    """PNG of uint8 RGB; with ``alpha`` (float, 0..1) an RGBA PNG, so what was transparent in the
    photo stays transparent (its colour values are whatever the restorer made of them)."""
    from PIL import Image

    if alpha is not None:
        rgb8 = np.dstack([rgb8, np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgb8).save(buf, "PNG")
    return buf.getvalue()


def _json(obj, indent: int | None = 2) -> bytes:
    return (json.dumps(obj, indent=indent, separators=None if indent else (",", ":")) + "\n").encode()


def strength_record(result: UpscaleResult) -> dict | None:
    """What the legend says of the restoration strength a result was made with."""
    used = result.strength
    if used is None:
        return None
    return {"value": round(used.value, 4), "auto": used.auto,
            "damage": None if used.damage is None else round(used.damage, 4), "toned_print": used.toned}


def encode_outputs(source: LoadedImage, result: UpscaleResult, outdir: Path, stem: str,
                   options: ExportOptions, model_name: str, classes, palette,
                   model_sha256: str | None = None) -> dict[str, tuple[Path, bytes]]:
    """Every output of one photo, encoded in memory: ``{key: (path, bytes)}``."""
    paths = output_paths(stem, outdir, options)
    h, w = result.image.shape[:2]
    alpha = None if source.alpha is None else _resize_alpha(source.alpha, (w, h))
    blobs = {"image": (paths["image"], encode_image(
        result.image, options.format, alpha=alpha, grayscale=source.grayscale,
        bit_depth=source.bit_depth, exif=source.exif, icc_profile=source.icc_profile, dpi=source.dpi,
        quality=options.quality, lossless=options.lossless_webp))}
    class_map = result.class_map
    if class_map is None or not options.wants_segmentation:
        return blobs
    class_map = resize_class_map(class_map, (w, h))  # a no-op for the pipeline's maps
    if options.masks:
        blobs["classes"] = (paths["classes"], palette_png(class_map, palette))
        blobs["overlay"] = (paths["overlay"], _png(overlay(result.image, class_map, palette), alpha))
        damaged = None if result.damage is None else round(float(result.damage.mean()), 6)
        blobs["legend"] = (paths["legend"], _json(legend(class_map, classes, palette, model_name,
                                                         model_sha256, strength_record(result), damaged)))
        if result.damage is not None and result.damage.any():
            blobs["damage"] = (damage_file(stem, outdir), damage_png(result.damage, (w, h)))
    if options.class_masks:
        for suffix, data in class_mask_pngs(class_map, classes).items():
            blobs[suffix] = (outdir / f"{stem}_{suffix}.png", data)
    if options.coco:
        blobs["coco"] = (paths["coco"], _json(coco_json(class_map, classes, palette, paths["image"].name,
                                                        model_name, model_sha256), indent=None))
    return blobs


def export_result(source: LoadedImage, result: UpscaleResult, outdir: Path, stem: str,
                  options: ExportOptions, model_name: str, classes, palette,
                  model_sha256: str | None = None) -> dict[str, Path]:
    """Encode everything first, then write all files as one unit. Nothing is replaced
    unless ``options.overwrite`` (a ``FileExistsError`` names the first existing output);
    a failure (``ImageSaveError``) or interruption leaves no file of this photo behind."""
    blobs = encode_outputs(source, result, outdir, stem, options, model_name, classes, palette,
                           model_sha256)
    written = write_files_atomic(list(blobs.values()), overwrite=options.overwrite)
    return dict(zip(blobs.keys(), written))
