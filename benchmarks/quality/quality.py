"""Quality tables at x4: PSNR/SSIM (Y, 4-px shave) on Set5, Set14, BSD68, Urban100 and CamVid
test for bicubic and real-world LR, CamVid test mIoU of the two models, and NIQE/BRISQUE on the
real photos of ``real_world/`` (no originals), with labelled crops of three old photos.

    python -m benchmarks.fetch                      # once: peers' model files, NIQE's parameters
    mkdir -p runs/old-models && for m in segsr-x4 srdm-only-x4; do for e in safetensors json; do
        git show a4f11df:models/$m.$e > runs/old-models/$m.$e; done; done   # "today's model"
    python -m benchmarks.quality.quality --old-models runs/old-models [--max-images N] [--peer-everywhere]

The peers' outputs are cached (runs/peer_cache), so ``--rows span srmd realesrgan --out
/tmp/peers`` run ahead fills the cache and a later full run spends its time on the models.

Rows: bicubic; SPAN x4 as shipped (``pretrained/span_x4_ch48.safetensors``, from ``segsr
import-pretrained``); SRMD x4 with noise map 5 and Real-ESRGAN x4plus (ncnn on the CPU, files
from ``benchmarks/fetch.py``); the SRDM-only ablation (``srdm-only-x4``); full SegSR
(``segsr-x4``); in the no-reference table also today's pair (``--old-models``). Real-ESRGAN runs
on Set5, Set14 and the real photos only unless ``--peer-everywhere`` (cells not run show "–").

LR inputs are fixed: Pillow bicubic, or the project's ``make_lr(hq, "realworld", seed)`` with a
seed per image, so every run sees the same inputs. The real photos are their own LR (8-bit RGB,
alpha dropped). Writes benchmarks/results/quality.{md,json} and quality_crops_*.png (beside
any other ``--out``). Every number in the report comes from this run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, RUNS, header, nearest_up, result_path, save_crops, seed_for, to_uint8, write_report
from benchmarks.quality.quality_render import render_markdown
from benchmarks.quality.quality_rows import SPAN_FILE, build_rows, image_of, load_real_world, load_set, run_row

SETS = ["Set5", "Set14", "BSD68", "Urban100", "CamVid-test"]
LR_KINDS = ["bicubic", "realworld"]
CROP_PHOTOS = ["old_a.png", "old_b.png", "old_scratch_a.png"]
CROP_ROWS = {"bicubic": "bicubic", "realesrgan": "Real-ESRGAN", "span": "SPAN", "segsr-x4": "ours (SegSR)"}


def reference_pass(rows, data: Path, sets: list[str], limit: int) -> dict:
    """PSNR/SSIM of every row on every set and LR kind; CamVid confusions by sequence."""
    from segsr_gui.classes import IGNORE_ID
    from segsr_gui.training.data import make_lr
    from segsr_gui.training.metrics import confusion, psnr_y, ssim_y

    results, confs, step_confs = {}, {}, {}
    for set_name in sets:
        hqs, labels, names = load_set(data, set_name, limit)
        for kind in LR_KINDS:
            cells = {row.key: {"psnr": [], "ssim": []} for row in rows if row.runs_on(set_name)}
            for i, (hq, name) in enumerate(zip(hqs, names)):
                lr = make_lr(hq, kind, seed_for(set_name, name))
                for row in rows:
                    if row.key not in cells:
                        continue
                    out = run_row(row, lr, f"{set_name}_{kind}_{name}")
                    cells[row.key]["psnr"].append(psnr_y(image_of(out), hq))
                    cells[row.key]["ssim"].append(ssim_y(image_of(out), hq))
                    if labels is not None and row.segmenting:
                        by_seq = confs.setdefault(row.key, {}).setdefault(kind, {})
                        seq = name.split("_")[0]  # "Seq05VD_f00000" -> "Seq05VD"
                        by_seq[seq] = by_seq.get(seq, 0) + confusion(out.class_map, labels[i], 11, IGNORE_ID)
                        by_step = step_confs.setdefault(row.key, {}).setdefault(kind, {})
                        for step, class_map in enumerate(getattr(out, "step_class_maps", [])):
                            by_step[step] = by_step.get(step, 0) + confusion(class_map, labels[i], 11, IGNORE_ID)
                print(f"{set_name} {kind} {i + 1}/{len(hqs)} " + " ".join(
                    f"{k}={v['psnr'][-1]:.2f}" for k, v in cells.items()), file=sys.stderr, flush=True)
            results.setdefault(set_name, {})[kind] = {
                key: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])), "images": len(hqs)}
                for key, v in cells.items()}
    return {"results": results, "confusions": confs, "step_confusions": step_confs}


def segmentation_summary(confs: dict, data: Path, images: int, step_confs: dict | None = None) -> dict:
    """mIoU, IoU per class, mIoU per CamVid sequence and per step of each segmenting row, and which
    sequences the train and val splits hold (a test sequence seen in training may score
    differently from one no split holds)."""
    from segsr_gui.classes import CAMVID_CLASSES
    from segsr_gui.training.metrics import class_iou, miou

    out = {"images": images, "classes": CAMVID_CLASSES[:11], "models": {}, "sequences": {},
           "split_sequences": {split: sorted({f.stem.split("_")[0] for f in (data / "camvid" / split).glob("*.png")})
                               for split in ("train", "val")}}
    names = sorted(f.stem for f in (data / "camvid" / "test").glob("*.png"))
    for key, by_kind in confs.items():
        for kind, by_seq in by_kind.items():
            conf = sum(by_seq.values())
            out["models"].setdefault(key, {})[kind] = {
                "miou": miou(conf), "iou": [float(v) for v in class_iou(conf)[0]],
                "miou_by_sequence": {seq: miou(c) for seq, c in sorted(by_seq.items())},
                "miou_by_step": [miou(c) for _, c in sorted((step_confs or {}).get(key, {}).get(kind, {}).items())]}
            out["sequences"] = {seq: sum(n.startswith(seq + "_") for n in names) for seq in sorted(by_seq)}
    return out


def noref_pass(rows, folder: Path, limit: int, niqe_file: Path, crops_prefix: str) -> dict:
    """NIQE and BRISQUE (lower is better) of every row's x4 output of each real photo, and the
    crops of three old photos. A metric that cannot run (BRISQUE without its package) is None."""
    from benchmarks.quality import noref

    params = noref.load_niqe_params(niqe_file)
    try:
        noref.brisque(np.zeros((64, 64, 3), np.uint8) + 128)
        brisque = noref.brisque
    except ImportError as exc:
        print(f"BRISQUE left out: {exc}", file=sys.stderr)
        brisque = None
    photos, names = load_real_world(folder, limit, CROP_PHOTOS)
    scores = {row.key: {} for row in rows}
    for photo, name in zip(photos, names):
        outputs = {}
        for row in rows:
            sr = to_uint8(image_of(run_row(row, photo, f"real_world_{name}")))
            outputs[row.key] = sr
            scores[row.key][name] = {"niqe": noref.niqe(sr, params),
                                     "brisque": None if brisque is None else brisque(sr)}
            print(f"real_world {name} {row.key}: {scores[row.key][name]}", file=sys.stderr, flush=True)
        if name in CROP_PHOTOS:
            save_photo_crops(Path(f"{crops_prefix}_{Path(name).stem}.png"), photo, outputs)
    return {"folder": str(folder), "photos": {n: list(p.shape[:2]) for n, p in zip(names, photos)},
            "scores": scores, "brisque": brisque is not None}


def save_photo_crops(path: Path, photo: np.ndarray, outputs: dict) -> None:
    """Input (nearest), then bicubic, Real-ESRGAN, SPAN and ours: a 64 LR-px square at the centre."""
    h, w = photo.shape[:2]
    size = min(64, h, w)
    box = (4 * ((h - size) // 2), 4 * ((w - size) // 2), 4 * size)
    panels = [("input (nearest x4)", nearest_up(to_uint8(photo)))]
    panels += [(label, outputs[key]) for key, label in CROP_ROWS.items() if key in outputs]
    save_crops(path, panels, box)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--sets", nargs="+", default=SETS)
    ap.add_argument("--max-images", type=int, default=0, help="evenly spaced images per set, real photos too (0 = all)")
    ap.add_argument("--old-models", help="folder with today's segsr-x4 and srdm-only-x4 (.safetensors + .json)")
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"), help="what benchmarks/fetch.py downloaded")
    ap.add_argument("--span", default=str(SPAN_FILE), help="SPAN x4 as shipped upstream")
    ap.add_argument("--peer-everywhere", action="store_true", help="run Real-ESRGAN on every set (slow)")
    ap.add_argument("--no-peers", action="store_true", help="bicubic and the models only")
    ap.add_argument("--rows", nargs="+", help="only these rows: bicubic span srmd realesrgan srdm-only-x4 "
                    "segsr-x4 (Auto), segsr-x4@0, segsr-x4@1 (strength 0 / 1), old (e.g. the peers alone, to "
                    "fill runs/peer_cache ahead of a run)")
    ap.add_argument("--no-noref", action="store_true", help="skip the real photos' NIQE/BRISQUE table")
    ap.add_argument("--precision", default="auto", help="the nets' precision (auto: as the app runs)")
    ap.add_argument("--out", default=result_path("quality"))
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from segsr_gui.engine.diffusion.precision import describe

    data = Path(args.data)
    niqe_file = Path(args.assets) / "niqe_pris_params.npz"
    if not args.no_noref and not niqe_file.is_file():  # fail now, not after hours of the other table
        raise SystemExit(f"{niqe_file} missing: run python -m benchmarks.fetch --out {args.assets} (or pass --no-noref)")
    rows = build_rows(args)
    report = {**header(sys.argv), "max_images": args.max_images, "precision": describe(torch.device("cpu"), args.precision),
              "data": {"sr_sets": str(data / "sr_bench"), "camvid": str(data / "camvid"),
                       "real_world": str(data / "real_world"), "assets": args.assets, "span": args.span},
              "rows": {r.key: r.label for r in rows}, "row_sets": {r.key: r.sets for r in rows},
              "models": {r.key: r.manifest for r in rows if r.manifest}}
    full_rows = [r for r in rows if not r.key.startswith("old:")]
    passed = reference_pass(full_rows, data, args.sets, args.max_images)
    report["results"] = passed["results"]
    if "CamVid-test" in args.sets:
        images = next(iter(passed["results"]["CamVid-test"]["bicubic"].values()))["images"]
        report["segmentation"] = segmentation_summary(passed["confusions"], data, images, passed["step_confusions"])
    if not args.no_noref:
        out = Path(args.out)
        report["noref"] = noref_pass(rows, data / "real_world", args.max_images, niqe_file,
                                     str(out.parent / f"{out.name}_crops"))
    report["seconds"] = {r.key: r.seconds for r in rows}
    write_report(args.out, report, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
