"""Per-step quality of the sampler chain on CamVid val, and the choice of the
default sampler settings (noise scale, steps) made on it.

    python benchmarks/chain.py --data ../shared/data [--models segsr-x4 srdm-only-x4]
        [--noise 0 0.5 1] [--steps 4] [--images 24] [--write-default]

For every model, noise scale and step count: PSNR (Y, 4-px shave) and mIoU of
``x0_hat`` at each step, on Real-ESRGAN-degraded LR of evenly spaced CamVid val
images (seeded). Writes benchmarks/chain.md and chain.json. With
``--write-default`` the best setting that never loses more than 0.05 dB or 0.5
mIoU points between steps is written into each model's manifest (weights are
untouched, so the sha256 stays valid).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segsr_gui.data import labels_or_ignore, load_camvid, make_lr  # noqa: E402
from segsr_gui.evaluate import chain_scores  # noqa: E402
from segsr_gui.weights import load_model, update_manifest  # noqa: E402

MAX_PSNR_DROP = 0.05
MAX_MIOU_DROP = 0.005


def monotone(scores) -> bool:
    ok = all(b >= a - MAX_PSNR_DROP for a, b in zip(scores.psnr, scores.psnr[1:]))
    ok &= all(b >= a - MAX_MIOU_DROP for a, b in zip(scores.miou, scores.miou[1:]))
    return bool(ok)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--models", nargs="+", default=["segsr-x4", "srdm-only-x4"])
    ap.add_argument("--noise", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    ap.add_argument("--steps", nargs="+", type=int, default=[4])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--write-default", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "chain"))
    ap.add_argument("--merge", action="store_true", help="keep other models' runs already in OUT.json")
    args = ap.parse_args()
    val = load_camvid(args.data, "val")
    idx = np.linspace(0, len(val.images) - 1, args.images).astype(int)
    hqs = [val.images[i].astype(np.float32) / 255 for i in idx]
    lrs = [make_lr(hq, "realworld", seed=5000 + int(i)) for hq, i in zip(hqs, idx)]
    labels = [labels_or_ignore(val.labels[i], 11) for i in idx]
    report = {"machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python"] + sys.argv),
              "images": len(idx), "runs": []}
    for name in args.models:
        loaded = load_model(name)
        for steps in args.steps:
            for noise in args.noise:
                s = chain_scores(loaded.model, lrs, hqs, labels, steps=steps, noise_scale=noise, seed=0)
                run = {"model": name, "steps": steps, "noise_scale": noise, "psnr": s.psnr, "miou": s.miou,
                       "monotone": monotone(s), "final_best": bool(s.psnr[-1] >= max(s.psnr) - 1e-9)}
                report["runs"].append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)
        if args.write_default:
            candidates = [r for r in report["runs"] if r["model"] == name and r["monotone"]] or \
                         [r for r in report["runs"] if r["model"] == name]
            best = max(candidates, key=lambda r: r["psnr"][-1] + 10 * (r["miou"][-1] if r["miou"] else 0))
            manifest = json.loads(loaded.path.with_suffix(".json").read_text())
            schedule = {**manifest["schedule"], "steps": best["steps"]}
            config = {**manifest["config"], "noise_scale": best["noise_scale"],
                      "schedule": {**manifest["config"]["schedule"], "steps": best["steps"]}}
            update_manifest(
                loaded.path, noise_scale=best["noise_scale"], steps=best["steps"], schedule=schedule,
                default_chosen_on=(f"CamVid val, {len(idx)} Real-ESRGAN-degraded images, "
                                   "benchmarks/chain.py: best final PSNR + 10 x mIoU among settings "
                                   f"that lose at most {MAX_PSNR_DROP} dB / {100 * MAX_MIOU_DROP} mIoU "
                                   "points per step"),
                chain_val=best, config=config)
            report.setdefault("defaults", {})[name] = {"steps": best["steps"], "noise_scale": best["noise_scale"]}
    old = Path(args.out + ".json")
    if args.merge and old.exists():
        previous = json.loads(old.read_text())
        report["runs"] = [r for r in previous["runs"] if r["model"] not in args.models] + report["runs"]
        report["defaults"] = {**previous.get("defaults", {}), **report.get("defaults", {})}
        report["command"] = previous["command"] + " ; " + report["command"]
    Path(args.out + ".json").write_text(json.dumps(report, indent=1))
    Path(args.out + ".md").write_text(render(report))
    print(render(report))
    return 0


def render(report: dict) -> str:
    lines = ["# Per-step quality of the chain (CamVid val)", "",
             f"Measured {report['date']} on {report['machine']} with `{report['command']}`, "
             f"{report['images']} CamVid val images, Real-ESRGAN-style degraded LR (seeded).",
             f"PSNR (dB, Y, 4-px shave) and mIoU (%) of `x0_hat` after each step. Goal: no step loses more "
             f"than {MAX_PSNR_DROP} dB or {100 * MAX_MIOU_DROP} points, and the final step is the best.", "",
             "| model | steps | noise | PSNR per step | mIoU per step | holds at every step | final is best |",
             "|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        lines.append(f"| {r['model']} | {r['steps']} | {r['noise_scale']} | "
                     + " → ".join(f"{p:.2f}" for p in r["psnr"]) + " | "
                     + (" → ".join(f"{100 * m:.1f}" for m in r["miou"]) if r["miou"] else "n/a") + " | "
                     + ("yes" if r["monotone"] else "**no**") + " | " + ("yes" if r["final_best"] else "**no**") + " |")
    if report.get("defaults"):
        lines += ["", "Defaults written to the manifests: " + ", ".join(
            f"{k}: {v['steps']} steps, noise {v['noise_scale']}" for k, v in report["defaults"].items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
