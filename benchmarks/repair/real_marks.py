"""What the automatic damage detection marks on every real photo of ``../shared/data/real_world``
and on the bundled sample: the share of each photo marked, and a sheet of the marks in red.

Only ``old_scratch_a`` and the sample carry scratches and cracks; on the others (old portraits
with grain and fading, grey and alpha photos, a JPEG-damaged street, a landscape) nearly nothing
should be marked, so their shares are false marks (issue 37, "look at every real photo you have"),
and the share of their pixels the repair then changes by more than 4 grey levels is false repairs.
Shares are of the pixels a viewer sees: in a photo with alpha, of its opaque ones.
On ``old_scratch_a`` the marks are also scored against the semi-manual reference mask of
``reference_mask.py`` (precision / recall / F1, 1-px tolerance) when it has been written; on
the sample against the exact damage its aging painted (``packaging/make_sample.py``).

    python -m benchmarks.repair.real_marks [--model segsr-x4] [--weights runs/repair/repair.safetensors]

Writes OUT.{json,md} and OUT.png (the marks in red; OUT = benchmarks/results/real_marks).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, RESULTS, header, header_line, labelled_grid, load_rgb8, result_path, write_report

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = RESULTS.parent / "repair" / "results" / "old_scratch_a_reference.png"
SAMPLE = "resources/sample.png"
DAMAGED = {"real_world/old_scratch_a.png", "resources/sample.png"}  # the photos that do carry damage


def references() -> dict[str, tuple[np.ndarray, str]]:
    """{photo: (truth mask, how it was made)} for the photos with a known damage mask."""
    refs = {}
    if REFERENCE.is_file():
        refs["real_world/old_scratch_a.png"] = (np.asarray(Image.open(REFERENCE)) > 127,
                                                "its semi-manual reference mask (`reference_mask.py`)")
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "packaging" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    sample, damage = make_sample.aged()
    if np.array_equal(sample, load_rgb8(ROOT / SAMPLE)):  # the aging reproduces the shipped file
        refs[SAMPLE] = (damage, "the exact dust and scratches its aging painted (`packaging/make_sample.py`)")
    return refs


def load_repair(model: str, weights: Path | None):
    """The repair stage to measure: a trained repair file, or the named model's own."""
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.engine.repair.repair import RepairModel

    return RepairModel.load(weights) if weights else load_model(model).model.repair


def repair_as_app(repair, photo: np.ndarray, alpha, precision: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(filled photo, damage mask) of ``photo`` (H, W, 3) float in [0, 1] with the repair stage
    ``repair`` on "Always", as the app runs it (``repair_photo``: what lies under transparent
    pixels hidden, only solid pixels marked)."""
    from segsr_gui.engine.inference.repair_step import repair_photo

    return repair_photo(SimpleNamespace(has_repair=True, repair=repair), photo, "on", None, 0, precision,
                        torch.device("cpu"), alpha)


def main(argv=None) -> int:
    from segsr_gui.engine.inference.pipeline import opaque_pixels
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.engine.repair.repair import RepairModel, shows_damage
    from segsr_gui.training.repair_eval import detection_counts, prf
    from segsr_gui.io.read import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--weights", type=Path, help="a trained repair file to measure instead of the model's")
    ap.add_argument("--out", default=result_path("real_marks"))
    args = ap.parse_args(argv)
    loaded = load_model(args.model)
    if not loaded.model.has_repair:
        raise SystemExit(f"{loaded.name} has no repair stage")
    repair = RepairModel.load(args.weights) if args.weights else loaded.model.repair
    photos = {str(p.relative_to(DATA)): p for p in sorted((DATA / "real_world").glob("*"))}
    photos[SAMPLE] = ROOT / SAMPLE
    refs = references()
    rows, tiles = {}, []
    for name, path in photos.items():
        rgb = load_rgb8(path)
        alpha = load_image(path).alpha
        repaired, mask = repair_as_app(repair, rgb.astype(np.float32) / 255, alpha)
        moved = np.abs(np.round(repaired * 255) - rgb).max(2) > 4
        shown_px = np.ones(mask.shape, bool) if alpha is None else opaque_pixels(alpha)  # shares of what is seen
        fills = shows_damage(mask, repair.config.long_marks, repair.config.long_share)  # Auto, the default
        rows[name] = {"size": list(rgb.shape[:2]), "damaged": name in DAMAGED, "marked": float(mask[shown_px].mean()),
                      "changed": float(moved[shown_px].mean()), "auto_fills": bool(fills),
                      "changed_auto": float(moved[shown_px].mean()) if fills else 0.0}
        if name in refs:
            truth, made = refs[name]
            rows[name]["reference"] = {**prf(detection_counts(mask, truth)), "reference_share": float(truth.mean()),
                                       "made": made}
        print(name, rows[name], file=sys.stderr, flush=True)
        shown = rgb.copy()
        shown[mask] = (255, 0, 0)
        tiles.append((name, shown))
    write_report(args.out, {**header(sys.argv), "model": loaded.name, "weights": str(args.weights or ""),
                            "threshold": repair.config.threshold, "photos": rows}, render)
    labelled_grid(args.out + ".png", tiles, cell=300, cols=4)
    return 0


def render(report: dict) -> str:
    rows = report["photos"]
    clean = [r["marked"] for r in rows.values() if not r["damaged"]]
    changed = [r["changed"] for r in rows.values() if not r["damaged"]]
    changed_auto = [r.get("changed_auto", r["changed"]) for r in rows.values() if not r["damaged"]]
    source = f" with the repair weights {report['weights']}" if report.get("weights") else ""
    lines = ["# What the damage detection marks on real photos", "", header_line(report), "",
             f"Model {report['model']}{source}, detection threshold {report['threshold']:g}. Photos without scratches: "
             f"{100 * np.mean(clean):.3f} % marked on average, at most {100 * max(clean):.3f} % "
             f"(false marks). Filling whatever is marked (Always, `--repair on`), the repair changes "
             f"{100 * np.mean(changed):.3f} % of their pixels by more than 4 grey levels on average, at most "
             f"{100 * max(changed):.3f} %; on Auto (the default: only a photo that shows scratches or cracks, "
             f"`shows_damage`) {100 * np.mean(changed_auto):.3f} % on average, at most {100 * max(changed_auto):.3f} % "
             "(issue 37's goal for undamaged photos: at most 0.1 %). Shares are of the pixels a viewer sees (in a "
             "photo with alpha, its opaque ones).", "",
             "| photo | carries damage | size | marked | changed > 4 levels (Always) | Auto fills |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {k} | {'yes' if r['damaged'] else 'no'} | {r['size'][1]}x{r['size'][0]} | {100 * r['marked']:.3f} % | "
              f"{100 * r['changed']:.3f} % | {'yes' if r.get('auto_fills') else 'no'} |" for k, r in rows.items()]
    for k, r in rows.items():
        if "reference" in r:
            ref = r["reference"]
            lines += ["", f"{k} against {ref['made']}, {100 * ref['reference_share']:.2f} % of the photo "
                      f"(1-px tolerance): precision "
                      f"{ref['precision']:.3f}, recall {ref['recall']:.3f}, F1 {ref['f1']:.3f} (issue 37's goal: 0.6)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
