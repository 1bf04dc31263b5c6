"""The old-photo table: real low-quality photos with no original, scored by the checks that
need none (``segsr_gui.training.photo_checks``) and by NIQE and BRISQUE.

    python -m benchmarks.quality.old_photos [--data ../shared/data] [--model segsr-x4] [--limit N]

Rows: bicubic, SPAN x4 as shipped (the PyTorch port, fp32), realesr-general-x4v3 and
Real-ESRGAN x4plus (both ncnn, 2 threads), and the model at strength 0 (the faithful expert),
1 (the clean expert), both with the repair off, and its default as the app runs it: Auto
strength and Auto repair, with the photo's alpha. Every output is saved under
``runs/old-photos/ROW/PHOTO.png`` for ``blind_sheet.py``; ``--reuse`` scores the saved outputs
instead of making them again (the Auto row still estimates each photo's strength). Columns are means over the photos;
the Auto row lists the strength it picked per photo. Needs ``python -m benchmarks.fetch``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import DATA, ROOT, RUNS, bicubic_up, header, header_line, result_path, to_uint8, write_report

OUTPUTS = RUNS / "old-photos"
CHECKS = ("niqe", "brisque", "lr_consistency", "tone_shift", "newly_clipped", "grid_peak_4", "grid_peak_2")


def photos(folder: Path, limit: int) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    return files[:limit] if limit else files


def model_runner(model_spec: str, strength):
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model

    loaded = load_model(model_spec)
    if loaded.missing_expert:
        raise SystemExit(loaded.missing_expert)
    picked = {}

    def run(lr: np.ndarray, name: str, alpha=None) -> np.ndarray:
        if strength is not None:
            result = upscale(lr, loaded.model, strength=strength)
            picked[name] = round(result.strength.value, 3)
            return result.image
        repaired, filled = strength_only(lr, name, alpha)
        # Auto at exactly 0 or 1 on a photo the repair leaves alone is that row's run
        same = {0.0: "segsr-x4,_strength_0_(faithful_expert)", 1.0: "segsr-x4,_strength_1_(clean_expert)"}
        if not filled and picked[name] in same and (OUTPUTS / same[picked[name]] / f"{name}.png").is_file():
            return np.asarray(Image.open(OUTPUTS / same[picked[name]] / f"{name}.png"), np.float32) / 255
        # the photo as Auto repair left it: the same run as upscale(lr, repair="auto"), the fill done once
        result = upscale(repaired, loaded.model, alpha=alpha)
        picked[name] = round(result.strength.value, 3)
        return result.image

    def strength_only(lr: np.ndarray, name: str, alpha=None) -> tuple[np.ndarray, bool]:
        """Records the strength Auto picks for the photo as the app repairs it; returns the
        photo as Auto repair leaves it and whether the repair filled anything."""
        import torch

        from segsr_gui.engine.inference.pipeline import resolve_strength
        from segsr_gui.engine.inference.repair_step import repair_photo
        repaired, found = repair_photo(loaded.model, lr, "auto", None, 0, "auto", "cpu", alpha)
        as_tensor = torch.from_numpy(repaired.transpose(2, 0, 1).copy())[None] * 2 - 1
        picked[name] = round(resolve_strength(loaded.model, as_tensor, None).value, 3)
        return repaired, found is not None and bool(found.any())

    run.strength_only = strength_only
    return run, picked


def span_runner():
    import torch

    from segsr_gui.engine.nets.span import load_span

    net = load_span(ROOT / "pretrained" / "span_x4_ch48.safetensors").eval()

    def run(lr: np.ndarray, name: str, alpha=None) -> np.ndarray:
        with torch.inference_mode():
            out = net(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]).clamp(0, 1)
        return out[0].permute(1, 2, 0).numpy()
    return run


def ncnn_runner(net):
    return lambda lr, name, alpha=None: net(to_uint8(lr)).astype(np.float32) / 255


def build_rows(args) -> dict:
    from benchmarks.quality.peers import RealESRGAN, RealESRGeneral

    assets = Path(args.assets)
    rows = {"bicubic": lambda lr, name, alpha=None: bicubic_up(lr),
            "SPAN x4 as shipped": span_runner(),
            "realesr-general-x4v3 (ncnn)": ncnn_runner(RealESRGeneral(assets, threads=2)),
            "Real-ESRGAN x4plus (ncnn)": ncnn_runner(RealESRGAN(assets, threads=2))}
    picked = {}
    for label, strength in (("strength 0 (faithful expert)", 0.0), ("strength 1 (clean expert)", 1.0),
                            ("Auto (the default)", None)):
        rows[f"{args.model}, {label}"], picked[label] = model_runner(args.model, strength)
    return rows, picked["Auto (the default)"]


def score(rows, files, niqe_file: Path, reuse: bool = False) -> dict:
    from benchmarks.quality.noref import brisque, niqe, set_default_niqe_params
    from segsr_gui.io.read import load_image
    from segsr_gui.training.photo_checks import photo_checks

    set_default_niqe_params(niqe_file)
    table: dict = {label: {"per_photo": {}, "seconds": 0.0} for label in rows}
    for path in files:
        photo = load_image(path)
        lr = photo.rgb
        for label, run in rows.items():
            saved = OUTPUTS / label.replace(" ", "_").replace("/", "-") / f"{path.stem}.png"
            if reuse and saved.is_file():
                out = np.asarray(Image.open(saved), np.float32) / 255
                if label.endswith("Auto (the default)"):
                    run.strength_only(lr, path.stem, photo.alpha)
            else:
                start = time.perf_counter()
                out = run(lr, path.stem, alpha=photo.alpha)
                table[label]["seconds"] += time.perf_counter() - start
                saved.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(to_uint8(out)).save(saved)
                out = to_uint8(out).astype(np.float32) / 255  # scored as saved, as --reuse scores it
            checks = photo_checks(out, lr)
            checks.update(niqe=niqe(out), brisque=brisque(out))
            table[label]["per_photo"][path.stem] = {k: round(float(v), 4) for k, v in checks.items()}
            print(f"{path.stem} | {label} | " + " ".join(f"{k} {v:.2f}" for k, v in checks.items()), flush=True)
    for entry in table.values():
        entry["mean"] = {k: round(float(np.mean([p[k] for p in entry["per_photo"].values()])), 4) for k in CHECKS}
        entry["worst"] = {"tone_shift": max(p["tone_shift"] for p in entry["per_photo"].values()),
                          "grid_peak": max(max(p["grid_peak_4"], p["grid_peak_2"])
                                           for p in entry["per_photo"].values())}
    return table


def table_rows(rows: dict) -> list[str]:
    """One Markdown row per method (means over the photos); also the model card's."""
    lines = []
    for label, e in rows.items():
        m = e["mean"]
        lines.append(f"| {label} | {m['niqe']:.2f} | {m['brisque']:.1f} | {m['lr_consistency']:.1f} | "
                     f"{m['tone_shift']:.2f} | {100 * m['newly_clipped']:.2f} % | {m['grid_peak_4']:.1f} | "
                     f"{m['grid_peak_2']:.1f} | {e['worst']['grid_peak']:.1f} |")
    return lines


TABLE_HEAD = ["| method | NIQE | BRISQUE | LR consistency (dB) | tone shift | newly clipped | grid 4 px (dB) | "
              "grid 2 px (dB) | worst grid |", "|---|---|---|---|---|---|---|---|---|"]


def render(report: dict) -> str:
    lines = ["# Old and low-quality photos, no original", "", header_line(report), "",
             f"Photos: {', '.join(report['photos'])} (`{report['folder']}`). Means over the photos; "
             "NIQE and BRISQUE lower is better; LR consistency = the output shrunk x4 (bicubic) against "
             "the input, PSNR-Y; tone shift = |mean Y change| of that, grey levels; clipped = new pixels "
             "at Y >= 234; grid = the high-passed Y spectrum at the 4- and 2-pixel periods against its "
             "neighbourhood, dB (worst photo in brackets). Strength 0 and 1 run with the repair off; "
             "Auto is the app's default: Auto strength and Auto repair.", "", *TABLE_HEAD, *table_rows(report["rows"])]
    lines += ["", "Auto picked: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in report["auto_picked"].items()), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"), help="what benchmarks/fetch.py downloaded")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0 = all)")
    ap.add_argument("--photos", nargs="+", help="only these photos (file stems)")
    ap.add_argument("--reuse", action="store_true", help="score the outputs saved by an earlier run")
    ap.add_argument("--out", default=result_path("old_photos"))
    args = ap.parse_args(argv)
    folder = Path(args.data) / "real_world"
    if not folder.is_dir():
        raise SystemExit(f"{folder} missing: pass --data")
    files = [p for p in photos(folder, args.limit) if not args.photos or p.stem in args.photos]
    rows, auto_picked = build_rows(args)
    table = score(rows, files, Path(args.assets) / "niqe_pris_params.npz", args.reuse)
    report = {**header(sys.argv), "folder": str(folder), "photos": [p.stem for p in files], "rows": table,
              "auto_picked": auto_picked}
    write_report(args.out, report, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
