"""What Auto reads: the damage estimate and the strength it gives, per photo, for the shipped
model's damage estimator and for trained candidates (``--damage runs/X/damage.safetensors``,
their thresholds from the ``damage.json`` beside them, by ``training.damage.thresholds``). The
strength is the one the damage gives; a toned print gets 1 whatever it reads (``toned_prints.py``).

Photos: the real photos of ``../shared/data/real_world`` and the bundled sample as they are,
and Set5 and Set14 from bicubic LR (sharp photos shrunk cleanly: Auto should leave them to the
faithful expert, issue 38; they are test images, read here to report, never to choose).

    python -m benchmarks.quality.auto_reads [--damage runs/damage-soft/damage.safetensors ...]

Writes benchmarks/results/auto_reads.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, header, header_line, load_rgb8, result_path, write_report

ROOT = Path(__file__).resolve().parents[2]


def estimators(model: str, candidates: list[str]) -> dict:
    """name -> (damage function of an LR (1, 3, H, W) in [-1, 1], (low, high))."""
    from safetensors.torch import load_file

    from segsr_gui.engine.nets.damage import DamageEstimator
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.damage import thresholds

    shipped = load_model(model).model.experts
    out = {f"{model} (shipped)": (shipped.damage_of, tuple(shipped.config.auto_strength))}
    for path in candidates:
        net = DamageEstimator()
        net.load_state_dict(load_file(path))
        net.eval()
        record = json.loads(Path(path).with_suffix(".json").read_text())
        t = thresholds(record["validation"])

        def damage_of(lr, net=net):
            with torch.no_grad():
                return float(net.damage((lr + 1) / 2)[0])

        out[Path(path).parent.name] = (damage_of, (t["low"], t["high"]))
    return out


def photos() -> dict:
    from segsr_gui.training.degrade import bicubic

    out = {str(p.relative_to(DATA)): load_rgb8(p).astype(np.float32) / 255 for p in sorted((DATA / "real_world").glob("*"))}
    out["resources/sample.png"] = load_rgb8(ROOT / "resources" / "sample.png").astype(np.float32) / 255
    for s in ("Set5", "Set14"):
        for p in sorted((DATA / "sr_bench" / s).glob("*.png")):
            out[f"{s}/{p.name} (bicubic LR)"] = bicubic(load_rgb8(p).astype(np.float32) / 255)
    return out


def main(argv=None) -> int:
    from segsr_gui.engine.nets.damage import strength_from_damage

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--damage", nargs="*", default=[], help="candidate damage estimators (safetensors)")
    ap.add_argument("--out", default=result_path("auto_reads"))
    args = ap.parse_args(argv)
    nets = estimators(args.model, args.damage)
    rows = {}
    for name, rgb in photos().items():
        lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None] * 2 - 1
        rows[name] = {}
        for net, (damage_of, (low, high)) in nets.items():
            d = damage_of(lr)
            rows[name][net] = {"damage": d, "strength": strength_from_damage(d, low, high)}
    report = {**header(sys.argv), "estimators": {k: list(v[1]) for k, v in nets.items()}, "photos": rows}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    nets = list(report["estimators"])
    lines = ["# What Auto reads", "", header_line(report), "",
             "Damage estimate -> strength (0 faithful, 1 clean) per photo. Thresholds (low, high): " +
             "; ".join(f"{k} {v[0]:.3f} / {v[1]:.3f}" for k, v in report["estimators"].items()) + ".", "",
             "| photo | " + " | ".join(nets) + " |", "|---|" + "---|" * len(nets)]
    for name, r in report["photos"].items():
        lines.append(f"| {name} | " + " | ".join(f"{r[n]['damage']:.2f} -> {r[n]['strength']:.2f}" for n in nets) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
