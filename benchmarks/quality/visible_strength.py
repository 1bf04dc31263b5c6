"""The smallest restoration strength a viewer could see: how far strength s moves the faithful
expert's output towards the clean one.

At strength s every pixel moves by s x |clean - faithful| (both finished as the model finishes
them). Per photo this reports the 99th and 99.9th percentiles of that difference (Y, grey
levels) and the strength at which the 99.9th percentile reaches 2 grey levels; the median of
that over the photos is Auto's smallest visible strength (``stages/experts.py``,
``SMALLEST_VISIBLE``), below which Auto runs at 0 and the clean expert is not paid for.

Photos (validation only): the centre 192x192 of every ``real_world`` photo and 4 CamVid val
frames shrunk to 240x180.

    python -m benchmarks.quality.visible_strength

Writes benchmarks/results/visible_strength.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, header, header_line, load_rgb8, result_path, write_report

LEVELS = 2.0  # grey levels: a change this small, on one pixel in a thousand, nobody sees


def photos(data) -> list[tuple[str, np.ndarray]]:
    from segsr_gui.training.data import load_camvid

    out = []
    for path in sorted((data / "real_world").iterdir()):
        a = load_rgb8(path)
        h, w = a.shape[:2]
        out.append((path.name, a[max(0, h // 2 - 96):h // 2 + 96, max(0, w // 2 - 96):w // 2 + 96]))
    cam = load_camvid(data, "val")
    for i in range(0, 100, 25):
        out.append((cam.names[i], np.asarray(Image.fromarray(cam.images[i]).resize((240, 180), Image.BICUBIC))))
    return out


def main(argv=None) -> int:
    from segsr_gui.engine.nets.weights import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--out", default=result_path("visible_strength"))
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    experts = load_model(args.model).model.experts
    rows = {}
    for name, a in photos(Path(args.data)):
        a = a[:a.shape[0] // 4 * 4, :a.shape[1] // 4 * 4]
        lr = torch.from_numpy(a.transpose(2, 0, 1).astype(np.float32) / 255)[None] * 2 - 1
        ends = [experts.finish(experts.blend(lr, s, "auto"), lr) for s in (0.0, 1.0)]
        d = (ends[1] - ends[0]).abs()[0] * 127.5
        y = (0.299 * d[0] + 0.587 * d[1] + 0.114 * d[2]).flatten().float().numpy()
        p99, p999 = (float(v) for v in np.quantile(y, [0.99, 0.999]))
        rows[name] = {"p99": p99, "p999": p999, "visible_from": LEVELS / p999}
        print(name, rows[name], file=sys.stderr, flush=True)
    median = float(np.median([r["visible_from"] for r in rows.values()]))
    write_report(args.out, {**header(sys.argv), "model": args.model, "levels": LEVELS, "photos": rows,
                            "smallest_visible_median": median}, render)
    return 0


def render(report: dict) -> str:
    lines = ["# The smallest visible restoration strength", "", header_line(report), "",
             f"|clean - faithful| on Y (grey levels), both finished as {report['model']} finishes them; "
             f"'visible from' = the strength at which the 99.9th percentile moves {report['levels']:g} grey levels.", "",
             "| photo | p99 | p99.9 | visible from |", "|---|---|---|---|"]
    lines += [f"| {k} | {r['p99']:.1f} | {r['p999']:.1f} | {100 * r['visible_from']:.1f} % |"
              for k, r in report["photos"].items()]
    lines += ["", f"Median: {100 * report['smallest_visible_median']:.1f} %. At 12 % the 99.9th percentile moves "
              f"{0.12 * np.median([r['p999'] for r in report['photos'].values()]):.1f} grey levels (median photo).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
