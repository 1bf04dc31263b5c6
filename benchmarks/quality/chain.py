"""Per-step quality of the sampler chain on CamVid val, and the choice of the
default sampler settings (noise scale, steps) made on it.

    python -m benchmarks.quality.chain --data ../shared/data [--models segsr-x4 srdm-only-x4]
        [--noise 0 0.5 1] [--steps 3 4] [--images 24] [--write-default]

For every model and setting: PSNR (Y, 4-px shave) and mIoU of ``x0_hat`` at each
step, on evenly spaced CamVid val images, each as Real-ESRGAN-degraded LR and as
plain bicubic LR (seeded). Writes benchmarks/results/chain.md and chain.json. With
``--write-default`` the setting with the best mean final PSNR over both LR kinds
(plus 10 x mIoU) among those that never lose more than 0.05 dB or 0.5 mIoU points
between steps and end on their best step (or, if none does, among those that only
hold) is written into each model's manifest (weights are untouched, so
the sha256 stays valid). With ``--mirror`` the default chain is also run with the
mirror option (``sampler.iter_sample(mirror=True)``) beside the plain one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, command_line, cpu_label, result_path, write_report
from segsr_gui.training.data import labels_or_ignore, load_camvid, make_lr  # noqa: E402
from segsr_gui.training.evaluate import chain_scores  # noqa: E402
from segsr_gui.engine.diffusion.precision import PRECISIONS, describe  # noqa: E402
from segsr_gui.engine.nets.weights import load_model, update_manifest  # noqa: E402

MAX_PSNR_DROP = 0.05
MAX_MIOU_DROP = 0.005


def monotone(scores) -> bool:
    ok = all(b >= a - MAX_PSNR_DROP for a, b in zip(scores.psnr, scores.psnr[1:]))
    ok &= all(b >= a - MAX_MIOU_DROP for a, b in zip(scores.miou, scores.miou[1:]))
    return bool(ok)


def final_best(scores) -> bool:
    """Whether the last step's PSNR is the chain's best."""
    return bool(scores.psnr[-1] >= max(scores.psnr) - 1e-9)


def mirror_pair(model, kind: str, lrs: list, hqs: list, labels: list, precision: str) -> dict:
    """The model's default chain on one LR kind, plain and with the mirror option."""
    out = {"lr": kind}
    for key, mirror in (("plain", False), ("mirror", True)):
        start = time.perf_counter()
        s = chain_scores(model, lrs, hqs, labels if model.has_segmentation else None, seed=0,
                         precision=precision, mirror=mirror)
        out[key] = {"psnr": s.psnr, "miou": s.miou, "monotone": monotone(s), "final_best": final_best(s),
                    "seconds": time.perf_counter() - start}
        print(json.dumps({"lr": kind, key: out[key]}), file=sys.stderr, flush=True)
    return out


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--models", nargs="+", default=["segsr-x4", "srdm-only-x4"])
    ap.add_argument("--noise", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    ap.add_argument("--kinds", nargs="+", default=["realworld", "bicubic"])
    ap.add_argument("--steps", nargs="+", type=int, default=[4])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--write-default", action="store_true")
    ap.add_argument("--precision", choices=list(PRECISIONS), default="auto")
    ap.add_argument("--out", default=result_path("chain"))
    ap.add_argument("--merge", action="store_true", help="keep other models' runs already in OUT.json")
    ap.add_argument("--mirror", action="store_true",
                    help="also score the default chain with the mirror option, beside the plain one")
    return ap.parse_args()


def grid(name: str, model, args, lrs: dict, hqs: list, labels: list, report: dict) -> dict:
    """Every (steps, noise) setting on every LR kind; the runs go into the report."""
    settings = {}
    for steps in args.steps:
        for noise in args.noise:
            for kind in args.kinds:
                s = chain_scores(model, lrs[kind], hqs, labels if model.has_segmentation else None, steps=steps,
                                 noise_scale=noise, seed=0, precision=args.precision)
                run = {"model": name, "lr": kind, "steps": steps, "noise_scale": noise, "psnr": s.psnr,
                       "miou": s.miou, "monotone": monotone(s), "final_best": final_best(s)}
                report["runs"].append(run)
                settings.setdefault((steps, noise), []).append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)
    return settings


def write_default(name: str, loaded, settings: dict, args, images: int, report: dict) -> tuple[int, float]:
    """Choose the sampler defaults from the grid and write them to the model's manifest."""
    def score(runs):
        return float(np.mean([r["psnr"][-1] + 10 * (r["miou"][-1] if r["miou"] else 0) for r in runs]))

    # the preview's promise first: every step holds and the last is the best, on every LR kind
    candidates = ({k: v for k, v in settings.items() if all(r["monotone"] and r["final_best"] for r in v)}
                  or {k: v for k, v in settings.items() if all(r["monotone"] for r in v)} or settings)
    steps, noise = max(candidates, key=lambda k: score(candidates[k]))
    best = {r["lr"]: r for r in settings[(steps, noise)]}
    manifest = json.loads(loaded.path.with_suffix(".json").read_text())
    schedule = {**manifest["schedule"], "steps": steps}
    config = {**manifest["config"], "noise_scale": noise, "schedule": {**manifest["config"]["schedule"], "steps": steps}}
    update_manifest(
        loaded.path, noise_scale=noise, steps=steps, schedule=schedule,
        default_chosen_on=(f"CamVid val, {images} images as {' and '.join(args.kinds)} LR, "
                           "benchmarks/quality/chain.py: best mean final PSNR + 10 x mIoU among settings "
                           f"that lose at most {MAX_PSNR_DROP} dB / {100 * MAX_MIOU_DROP} mIoU "
                           "points per step and end on their best step, if any do"),
        chain_val=best, config=config)
    report.setdefault("defaults", {})[name] = {"steps": steps, "noise_scale": noise}
    return steps, noise


def merge_previous(report: dict, args) -> None:
    """With --merge: keep other models' runs from OUT.json; a re-run replaces the same command's."""
    old = Path(args.out + ".json")
    if not (args.merge and old.exists()):
        return
    previous = json.loads(old.read_text())
    report["runs"] = [r for r in previous["runs"] if r["model"] not in args.models] + report["runs"]
    for key in ("defaults", "mirror"):
        report[key] = {**previous.get(key, {}), **report.get(key, {})}
    earlier = [c for c in previous["command"].split(" ; ") if c != report["command"]]
    report["command"] = " ; ".join(earlier + [report["command"]])


def main() -> int:
    args = parse_args()
    val = load_camvid(args.data, "val")
    idx = np.linspace(0, len(val.images) - 1, args.images).astype(int)
    hqs = [val.images[i].astype(np.float32) / 255 for i in idx]
    lrs = {kind: [make_lr(hq, kind, seed=5000 + int(i)) for hq, i in zip(hqs, idx)] for kind in args.kinds}
    labels = [labels_or_ignore(val.labels[i], 11) for i in idx]
    report = {"machine": f"{cpu_label()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%d"), "command": command_line(sys.argv),
              "images": len(idx), "precision": describe(torch.device("cpu"), args.precision), "runs": []}
    for name in args.models:
        loaded = load_model(name)
        settings = grid(name, loaded.model, args, lrs, hqs, labels, report)
        if args.write_default:
            write_default(name, loaded, settings, args, len(idx), report)
        if args.mirror:
            loaded = load_model(name)  # the manifest as written: the defaults in use
            report.setdefault("mirror", {})[name] = [mirror_pair(loaded.model, kind, lrs[kind], hqs, labels,
                                                                 args.precision) for kind in args.kinds]
    merge_previous(report, args)
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# Per-step quality of the chain (CamVid val)", "",
             f"Measured {report['date']} on {report['machine']} ({report.get('precision', 'fp32')}) "
             f"with `{report['command']}`, "
             f"{report['images']} CamVid val images, each as Real-ESRGAN-style degraded LR and as bicubic LR "
             "(seeded).",
             f"PSNR (dB, Y, 4-px shave) and mIoU (%) of `x0_hat` after each step. Goal: no step loses more "
             f"than {MAX_PSNR_DROP} dB or {100 * MAX_MIOU_DROP} points, and the final step is the best.", "",
             "| model | LR | steps | noise | PSNR per step | mIoU per step | holds at every step | final is best |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        lines.append(f"| {r['model']} | {r.get('lr', 'realworld')} | {r['steps']} | {r['noise_scale']} | "
                     + " → ".join(f"{p:.2f}" for p in r["psnr"]) + " | "
                     + (" → ".join(f"{100 * m:.1f}" for m in r["miou"]) if r["miou"] else "n/a") + " | "
                     + ("yes" if r["monotone"] else "**no**") + " | " + ("yes" if r["final_best"] else "**no**") + " |")
    if report.get("mirror"):
        lines += ["", "Mirror option (`segsr upscale --mirror`, the Restore panel's \"Also restore the mirror "
                  "image\"): the default chain, plain and mirrored, on the same images:", "",
                  "| model | LR | | PSNR per step | mIoU per step | holds at every step | final is best | seconds |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, pairs in report["mirror"].items():
            for pair in pairs:
                for key in ("plain", "mirror"):
                    r = pair[key]
                    lines.append(f"| {name} | {pair['lr']} | {key} | " + " → ".join(f"{p:.3f}" for p in r["psnr"])
                                 + " | " + (" → ".join(f"{100 * m:.1f}" for m in r["miou"]) if r["miou"] else "n/a")
                                 + " | " + ("yes" if r["monotone"] else "**no**") + " | "
                                 + ("yes" if r["final_best"] else "**no**") + f" | {r['seconds']:.0f} |")
    if report.get("defaults"):
        lines += ["", "Defaults written to the manifests: " + ", ".join(
            f"{k}: {v['steps']} steps, noise {v['noise_scale']}" for k, v in report["defaults"].items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
