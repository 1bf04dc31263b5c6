"""What the benchmark scripts share: where results go (``benchmarks/results/NAME.{json,md}``,
written from one report dict), the machine line of a report header, the fixed per-image seeds,
8-bit RGB loading of any photo, Pillow bicubic x4 and labelled side-by-side crops.

The scripts run as modules from the repository folder, ``python -m benchmarks.FOLDER.NAME``, and
import each other as ``benchmarks.…``; they import ``segsr_gui`` as the installed package
(``bash packaging/setup.sh`` installs the checkout into ``.venv``, editable). benchmarks/README.md
lists them.
"""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT.parent / "shared" / "data"
RUNS = ROOT / "runs"  # ignored by git: caches, downloaded assets, old models


def result_path(name: str) -> str:
    """The default ``--out`` stem of a benchmark: ``benchmarks/results/NAME``."""
    return str(RESULTS / name)


def write_report(out: str, report: dict, render: Callable[[dict], str]) -> None:
    """OUT.json (the numbers) and OUT.md (the table) from one report dict; the table on stdout."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out + ".json").write_text(json.dumps(report, indent=1))
    text = render(report)
    Path(out + ".md").write_text(text)
    print(text)


def cpu_label() -> str:
    """The architecture and the model name, for a report's machine line: "x86_64 CPU (AMD EPYC)"."""
    import platform

    return f"{platform.machine()} CPU ({cpu_name()})"


def cpu_name() -> str:
    """The CPU's model name (platform.processor() is empty on Linux), or the architecture."""
    import platform

    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_line(argv: list[str]) -> str:
    """The command that started this run, as a reader types it again: ``python -m benchmarks.X.Y ARGS``
    for a script run as a module (``argv[0]`` is then its file), else ``python ARGV``."""
    import sys

    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name.startswith("benchmarks.") and argv:
        return " ".join(["python", "-m", spec.name] + list(argv[1:]))
    return " ".join(["python"] + list(argv))


def script_name(command: str) -> str:
    """The script a report's ``command`` ran (``quality.py``), in either form ``command_line`` writes."""
    words = command.split()
    if len(words) > 2 and words[1] == "-m":
        return words[2].rsplit(".", 1)[-1] + ".py"
    return Path(words[1]).name if len(words) > 1 else command


def header(command_argv: list[str]) -> dict:
    """A report's header: machine, threads, torch and Python versions, date and the command."""
    import platform
    import time

    import torch

    return {"machine": cpu_label(), "threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": command_line(command_argv)}


def header_line(report: dict) -> str:
    return (f"Measured {report['date']} on {report['machine']}, {report['threads']} threads, torch "
            f"{report['torch']}, Python {report['python']}, with `{report['command']}`.")


def seed_for(set_name: str, image_name: str) -> int:
    """The fixed seed of one image's degradation: every run sees the same LR input."""
    return zlib.crc32(f"{set_name}/{image_name}".encode()) & 0x7FFFFFFF


def to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def load_rgb8(path: str | Path) -> np.ndarray:
    """Any photo as 8-bit RGB (H, W, 3): 16-bit scaled down, grayscale repeated, alpha dropped."""
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(Image.open(path))
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        a = np.round(a / (65535.0 if a.max() > 255 else 255.0) * 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    arr = np.asarray(im)
    if arr.dtype == np.uint16:  # 16-bit RGB(A) from a Pillow that keeps it
        arr = np.round(arr / 257.0).astype(np.uint8)
        return arr[..., :3] if arr.ndim == 3 else np.repeat(arr[..., None], 3, axis=2)
    return np.asarray(im.convert("RGB"))


def bicubic_up(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """Pillow bicubic x``scale`` of a float [0,1] or uint8 RGB image, as float [0,1]."""
    from PIL import Image

    h, w = lr.shape[:2]
    im = Image.fromarray(to_uint8(lr)).resize((scale * w, scale * h), Image.BICUBIC)
    return np.asarray(im, dtype=np.float32) / 255


def nearest_up(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    return np.repeat(np.repeat(lr, scale, 0), scale, 1)


def save_crops(path: Path, panels: list[tuple[str, np.ndarray]], box, tile: int = 256) -> None:
    """One row of labelled crops (``box`` = top, left, size in the panels' pixels), each enlarged
    to ``tile`` pixels with nearest-neighbour so no panel is smoothed by the figure itself."""
    from PIL import Image, ImageDraw

    top, left, size = box
    row = Image.new("RGB", ((tile + 2) * len(panels), tile + 20), (0, 0, 0))
    for i, (label, img) in enumerate(panels):
        crop = to_uint8(img[top:top + size, left:left + size])
        canvas = Image.new("RGB", (tile, tile + 20), (20, 20, 20))
        canvas.paste(Image.fromarray(crop).resize((tile, tile), Image.NEAREST), (0, 20))
        ImageDraw.Draw(canvas).text((4, 4), label, fill=(230, 230, 230))
        row.paste(canvas, (i * (tile + 2), 0))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    row.save(path)


def sequence_note(seg: dict) -> str:
    """Which CamVid test sequences the training split also holds, from a quality report's
    ``segmentation`` (its ``split_sequences``, read from the data's file names); "" if unknown."""
    train = (seg.get("split_sequences") or {}).get("train")
    if train is None:
        return ""
    inside = [q for q in seg["sequences"] if q in train]
    outside = [q for q in seg["sequences"] if q not in train]
    return ", ".join(([f"the training split holds frames of {', '.join(inside)}"] if inside else [])
                     + ([f"none of {', '.join(outside)}"] if outside else []))


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """The best wall time of ``repeats`` calls of ``fn`` (this machine is shared: the
    minimum is the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def labelled_grid(path: str | Path, tiles: list, cell: int = 240, cols: int = 6) -> None:
    """A sheet of ``tiles`` ((name, uint8 RGB) each), each shrunk into a ``cell`` px square under
    its file name, in rows of ``cols``."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", (cols * cell, ((len(tiles) + cols - 1) // cols) * (cell + 16)), "black")
    draw = ImageDraw.Draw(sheet)
    for i, (name, rgb) in enumerate(tiles):
        im = Image.fromarray(rgb)
        im.thumbnail((cell, cell))
        x, y = (i % cols) * cell, (i // cols) * (cell + 16)
        sheet.paste(im, (x, y + 16))
        draw.text((x + 2, y + 2), Path(name).name, fill="yellow")
    sheet.save(path)
