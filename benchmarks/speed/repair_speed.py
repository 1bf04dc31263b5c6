"""What the repair costs: whole-process ``segsr upscale`` time of a default run (Auto strength,
the model's steps) with ``--repair off``, ``auto`` (the default: detection, and the fill where
the photo shows scratches) and ``on`` (detection and fill always), alternating, in one run.

    python -m benchmarks.speed.repair_speed [--repeats 3]

Photos: square centre crops of the cracked scan ``old_scratch_a`` (496x496, many marks to fill)
and of ``old_c`` (512x512, few), plus the bundled sample (170x170). Goal (issue 37): the repair adds at most
15 % to a default run of a 512x512 photo. Writes benchmarks/results/repair_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import DATA, ROOT, header, header_line, result_path, write_report


def crop_512(src: Path, folder: Path) -> Path:
    with Image.open(src) as im:
        im = im.convert("RGB")
        w, h = im.size
        side = min(512, w, h)
        left, top = (w - side) // 2, (h - side) // 2
        out = folder / f"{src.stem}_512.png"
        im.crop((left, top, left + side, top + side)).save(out)
    return out


def seconds(model: Path, photo: Path, out: Path, repair: str) -> float:
    cmd = [str(Path(sys.executable).parent / "segsr"), "upscale", str(photo), "-o", str(out),
           "--model", str(model), "--repair", repair, "--overwrite", "-q"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "segsr-x4.safetensors"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=result_path("repair_speed"))
    args = ap.parse_args(argv)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = [crop_512(DATA / "real_world" / f"{n}.png", tmp) for n in ("old_scratch_a", "old_c")
                  if (DATA / "real_world" / f"{n}.png").is_file()] + [ROOT / "resources" / "sample.png"]
        for photo in photos:
            times = {"off": [], "auto": [], "on": []}
            for _ in range(args.repeats):
                for key in times:
                    times[key].append(seconds(Path(args.model), photo, tmp / key, key))
            with Image.open(photo) as im:
                size = f"{im.size[0]}x{im.size[1]}"
            rows[photo.name] = {"size": size, **{k: float(np.median(v)) for k, v in times.items()}}
            rows[photo.name]["ratio_auto"] = rows[photo.name]["auto"] / rows[photo.name]["off"]
            rows[photo.name]["ratio"] = rows[photo.name]["on"] / rows[photo.name]["off"]
            print(photo.name, rows[photo.name], file=sys.stderr, flush=True)
    write_report(args.out, {**header(sys.argv), "repeats": args.repeats, "photos": rows}, render)
    return 0


def render(report: dict) -> str:
    lines = ["# What the repair costs", "", header_line(report), "",
             f"Whole `segsr upscale` process, default settings, median of {report['repeats']} "
             "alternating runs each. Goal: at most 1.15x.", "",
             "| photo | size | repair off (s) | auto (s) | on (s) | auto / off | on / off |", "|---|---|---|---|---|---|---|"]
    for name, r in report["photos"].items():
        lines.append(f"| {name} | {r['size']} | {r['off']:.1f} | {r['auto']:.1f} | {r['on']:.1f} | "
                     f"{r['ratio_auto']:.3f} | {r['ratio']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
