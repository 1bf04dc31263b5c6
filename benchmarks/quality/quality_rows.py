"""The rows of the quality tables (the methods compared) and the images they run on.

A row is a function from an LR image (float32 (H, W, 3) in [0, 1]) to an x4 image (float32 in
[0, 1]) or to the pipeline's ``UpscaleResult`` (``.image`` and ``.class_map``). Rows whose output
never changes (bicubic aside: SPAN as shipped, SRMD, Real-ESRGAN) cache it under
``runs/peer_cache/ROW/`` (ignored by git), keyed by the image and its LR kind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from PIL import Image

from benchmarks.common import ROOT, RUNS, bicubic_up, load_rgb8, to_uint8

CACHE = RUNS / "peer_cache"
SPAN_FILE = ROOT / "pretrained" / "span_x4_ch48.safetensors"
# Real-ESRGAN costs 5-30 s per image on this machine: by default it runs on these sets only
PEER_SETS = ("Set5", "Set14", "real_world")


@dataclass
class Row:
    key: str
    label: str
    fn: Callable[[np.ndarray], object]
    cache: bool = False  # deterministic output, kept under runs/peer_cache/KEY/
    sets: Optional[tuple] = None  # None: every set
    segmenting: bool = False
    manifest: dict = field(default_factory=dict)
    seconds: float = 0.0

    def runs_on(self, set_name: str) -> bool:
        return self.sets is None or set_name in self.sets


def image_of(out) -> np.ndarray:
    return out.image if hasattr(out, "image") else out


def run_row(row: Row, lr: np.ndarray, cache_name: str):
    """The row's output for one LR image, from the cache when the row allows it."""
    import time

    path = CACHE / row.key / f"{cache_name}.png"
    if row.cache and path.is_file():
        return np.asarray(Image.open(path), dtype=np.float32) / 255
    start = time.perf_counter()
    out = row.fn(lr)
    row.seconds += time.perf_counter() - start
    if row.cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(to_uint8(image_of(out))).save(path)
    return out


def span_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """SPAN x4 as shipped upstream (the pretrained file, not fine-tuned)."""
    from segsr_gui.engine.nets.span import load_span

    net = load_span(path).eval()

    def run(lr: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1)))[None].float()
            return net(x).clamp(0, 1)[0].permute(1, 2, 0).numpy()

    return run


def ncnn_runner(net) -> Callable[[np.ndarray], np.ndarray]:
    """An ncnn peer (uint8 in and out) as a float row."""
    return lambda lr: np.asarray(net(to_uint8(lr)), dtype=np.float32) / 255


@dataclass
class ModelOutput:
    """A model row's output: the pipeline's image and class map, and for an untiled photo the
    class map of every step (the chain's promise that each step's classes hold or improve)."""

    image: np.ndarray
    class_map: Optional[np.ndarray]
    step_class_maps: list = field(default_factory=list)


def model_row(key: str, spec, label: str, precision: str, strength: Optional[float] = None) -> Row:
    """A model through the app's pipeline: untiled up to 512 LR px a side (as the SR sets),
    tiles chosen from free memory beyond (the larger real photos)."""
    from segsr_gui.engine.inference.drain import drain
    from segsr_gui.engine.inference.pipeline import iter_upscale
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.io.masks import class_ids

    loaded = load_model(spec)
    model = loaded.model
    manifest = {k: loaded.manifest.get(k) for k in ("name", "sha256", "steps", "noise_scale")}
    manifest["classes"] = model.has_segmentation
    manifest["strength"] = "auto" if strength is None else strength

    def run(lr: np.ndarray) -> ModelOutput:
        h, w = (model.config.scale * n for n in lr.shape[:2])
        maps = []

        def keep(progress) -> None:
            if progress.tiles == 1 and progress.step.s0_hat is not None:
                maps.append(class_ids(progress.step.s0_hat[0, :, :h, :w].float().numpy()))

        result = drain(iter_upscale(lr, model, seed=0, tile=0 if max(lr.shape[:2]) <= 512 else None,
                                    precision=precision, strength=strength), keep)
        return ModelOutput(result.image, result.class_map, maps)

    return Row(key, label, run, segmenting=model.has_segmentation, manifest=manifest)


def peer_rows(assets: Path, threads: int, peer_everywhere: bool, span: Path) -> list[Row]:
    """SPAN as shipped, SRMD (noise map 5) and Real-ESRGAN x4plus; a peer whose files or
    package are missing is left out with a note on stderr (``benchmarks/fetch.py`` gets them)."""
    rows = []
    try:
        rows.append(Row("span", "SPAN x4 as shipped (pretrained)", span_runner(span), cache=True))
    except Exception as exc:
        print(f"SPAN row left out: {exc}", file=sys.stderr)
    try:
        from benchmarks.quality import peers

        rows.append(Row("srmd", "SRMD x4, noise map 5 (ncnn)",
                        ncnn_runner(peers.SRMD(assets, noise=5, threads=threads)), cache=True))
        rows.append(Row("realesrgan", "Real-ESRGAN x4plus (ncnn)",
                        ncnn_runner(peers.RealESRGAN(assets, threads=threads)), cache=True,
                        sets=None if peer_everywhere else PEER_SETS))
    except Exception as exc:  # ncnn is an optional extra
        print(f"ncnn peers left out: {exc}", file=sys.stderr)
    return rows


def build_rows(args) -> list[Row]:
    """bicubic, the peers, the ablation, full SegSR; with ``--old-models``, today's pair too (those
    run on the real photos only); ``--rows`` keeps some of them (bicubic always)."""
    wanted = set(args.rows or ["bicubic", "span", "srmd", "realesrgan", "segsr-x4@0", "segsr-x4@1", "segsr-x4",
                               "old"])
    rows = [Row("bicubic", "Bicubic (Pillow)", bicubic_up)]
    if not args.no_peers and wanted & {"span", "srmd", "realesrgan"}:
        rows += peer_rows(Path(args.assets), torch.get_num_threads(), args.peer_everywhere, Path(args.span))
    names = {"srdm-only-x4": "SRDM-only ablation", "segsr-x4": "SegSR (full)"}
    for name, label in names.items():
        if name in wanted:
            rows.append(model_row(name, name, f"{label}, Auto strength (the default) [{name}]", args.precision))
        for strength in (0, 1):  # the two experts, each alone
            if f"{name}@{strength}" in wanted:
                rows.append(model_row(f"{name}@{strength}", name, f"{label}, strength {strength} [{name}]",
                                      args.precision, float(strength)))
    if args.old_models and "old" in wanted:
        for name, label in names.items():
            path = Path(args.old_models) / f"{name}.safetensors"
            row = model_row(f"old:{name}", path, f"{label}, first model (bicubic start) [{path.name}]", args.precision)
            row.sets = ("real_world",)
            rows.append(row)
    return [r for r in rows if r.key in wanted | {"bicubic"} or r.key.startswith("old:")]


# --- the images ---------------------------------------------------------------------------


def load_set(data: Path, name: str, limit: int):
    """(HQ images float [0,1], labels or None, names) of a set; ``limit`` evenly spaced images."""
    from segsr_gui.training.data import labels_or_ignore, load_camvid, load_sr_set

    if name == "CamVid-test":
        cv = load_camvid(data, "test")
        hqs = [im.astype(np.float32) / 255 for im in cv.images]
        labels, names = [labels_or_ignore(lab, 11) for lab in cv.labels], cv.names
    else:
        (hqs, names), labels = load_sr_set(data, name), None
    idx = pick(len(hqs), limit)
    return [hqs[i] for i in idx], None if labels is None else [labels[i] for i in idx], [names[i] for i in idx]


def pick(count: int, limit: int) -> list[int]:
    if not limit or limit >= count:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, limit).astype(int).tolist()))


def load_real_world(folder: Path, limit: int, first=()) -> tuple[list[np.ndarray], list[str]]:
    """The real photos as 8-bit RGB (16-bit scaled, grey repeated, alpha dropped), float [0,1];
    with a ``limit``, the photos named in ``first`` (the crops' photos) are taken first."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if limit:
        files = sorted(files, key=lambda f: f.name not in first)[:limit]
    return [load_rgb8(f).astype(np.float32) / 255 for f in files], [f.name for f in files]
