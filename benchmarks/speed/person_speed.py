"""What the person prior costs: whole-process ``segsr upscale`` time of a default run (Auto
strength, the model's steps) with the prior and without it, alternating, in one run.

    python -m benchmarks.speed.person_speed [--repeats 3]

"without" is a copy of the model whose manifest has no person prior (the same weights, less the
scene gate's), so both runs load the same nets but the selfie net. Photos: the bundled sample
(170x170, a damaged portrait) and Set5's woman (228x344). Goal: at most 15 % longer. Writes benchmarks/results/person_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import DATA, ROOT, header, header_line, result_path, write_report

PHOTOS = [ROOT / "resources" / "sample.png", DATA / "sr_bench" / "Set5" / "woman.png"]


def without_prior(model: Path, folder: Path) -> Path:
    """The same model without the person prior: its class chain has no person section, and the
    file lacks only the scene gate's tensors (which belong to the prior)."""
    from safetensors.torch import load_file, save_file

    from segsr_gui.engine.nets.weights import sha256_of

    manifest = json.loads(model.with_suffix(".json").read_text())
    manifest["config"]["classes"]["person"] = None
    copy = folder / "no-prior.safetensors"
    save_file({k: v for k, v in load_file(str(model)).items() if not k.startswith("classes.scene.")}, str(copy))
    manifest["sha256"] = sha256_of(copy)
    copy.with_suffix(".json").write_text(json.dumps(manifest))
    return copy


def seconds(model: Path, photo: Path, out: Path) -> float:
    cmd = [str(Path(sys.executable).parent / "segsr"), "upscale", str(photo), "-o", str(out),
           "--model", str(model), "--overwrite", "-q"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "segsr-x4.safetensors"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=result_path("person_speed"))
    args = ap.parse_args(argv)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        models = {"with": Path(args.model), "without": without_prior(Path(args.model), Path(tmp))}
        for photo in (p for p in PHOTOS if p.is_file()):
            times = {k: [] for k in models}
            for _ in range(args.repeats):
                for key, model in models.items():
                    times[key].append(seconds(model, photo, Path(tmp) / key))
            rows[photo.name] = {k: float(np.median(v)) for k, v in times.items()}
            rows[photo.name]["ratio"] = rows[photo.name]["with"] / rows[photo.name]["without"]
            print(photo.name, rows[photo.name], file=sys.stderr, flush=True)
    write_report(args.out, {**header(sys.argv), "repeats": args.repeats, "photos": rows}, render)
    return 0


def render(report: dict) -> str:
    lines = ["# What the person prior costs", "", header_line(report), "",
             f"Whole `segsr upscale` process, default settings, median of {report['repeats']} "
             "alternating runs each.", "", "| photo | without (s) | with (s) | ratio (goal <= 1.15) |",
             "|---|---|---|---|"]
    for name, r in report["photos"].items():
        lines.append(f"| {name} | {r['without']:.1f} | {r['with']:.1f} | {r['ratio']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
