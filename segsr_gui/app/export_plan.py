"""What an export from the window writes, decided without Qt: the format from the chosen
name, the stem, and a free stem when the user keeps both."""

from __future__ import annotations

from pathlib import Path

from segsr_gui.app.export import ExportOptions, existing_outputs

EXPORT_FILTERS = {"PNG image (*.png)": "png", "JPEG image (*.jpg)": "jpg", "WebP image (*.webp)": "webp",
                  "TIFF image (*.tif *.tiff)": "tiff"}
SUFFIX_FORMATS = {".jpeg": "jpg", ".jpg": "jpg", ".png": "png", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff"}


def format_and_stem(path: Path, chosen_filter: str = "") -> tuple[str, str]:
    """("png" | "jpg" | "webp" | "tiff", stem) for a file name from the save dialog: the
    suffix decides, else the chosen filter; a trailing ``_x4`` is the exporter's own."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower(), EXPORT_FILTERS.get(chosen_filter, "png"))
    stem = path.stem[:-3] if path.stem.endswith("_x4") else path.stem
    return fmt, stem


def free_stem(stem: str, outdir: Path, options: ExportOptions) -> str:
    """``stem-2``, ``stem-3``, ...: the first whose outputs do not exist yet."""
    n = 2
    while existing_outputs(f"{stem}-{n}", Path(outdir), options):
        n += 1
    return f"{stem}-{n}"
