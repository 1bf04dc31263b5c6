"""How much context the clean expert needs around a piece to match a whole run.

The pipeline computes the experts in pieces with a ring of ``_ExpertCanvas.CONTEXT`` LR
pixels around each (photos above about 300 px are cut into pieces of about 160). This runs
Real-ESRGAN x4plus on a crop whole, then on its top part with ``c`` rows of context below
the cut, and compares the part above the cut: mean and largest |difference| (grey levels),
over the part and over the 8 LR rows (32 output rows) next to the cut, where a seam shows.
It also counts what each ring costs: the LR pixels the experts run on, pieces and rings, for
photos of several sizes as the pipeline cuts them, over the photo's own pixels.

    python -m benchmarks.quality.expert_context [--photo ../shared/data/real_world/old_c.png]

Writes benchmarks/results/expert_context.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, header, header_line, result_path, write_report


def main(argv=None) -> int:
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.io.read import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, default=DATA / "real_world" / "old_c.png")
    ap.add_argument("--box", type=int, nargs=3, default=(300, 300, 160), help="top, left, side (LR px)")
    ap.add_argument("--cut", type=int, default=80, help="LR rows above the cut")
    ap.add_argument("--contexts", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--out", default=result_path("expert_context"))
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    clean = load_model(args.model).model.experts.clean
    top, left, side = args.box
    lr = load_image(args.photo).rgb[top:top + side, left:left + side]
    x = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]
    run = lambda t: clean(t).clamp(0, 1)[0].numpy() * 255  # noqa: E731
    rows_out = args.cut * 4
    whole = run(x)[:, :rows_out]
    rows = []
    for c in args.contexts:
        diff = np.abs(run(x[..., :args.cut + c, :])[:, :rows_out] - whole)
        rows.append({"context": c, "mean": round(float(diff.mean()), 3), "max": round(float(diff.max()), 1),
                     "mean_near_cut": round(float(diff[:, -32:].mean()), 3),
                     "max_near_cut": round(float(diff[:, -32:].max()), 1)})
        print(rows[-1], flush=True)
    report = {**header(sys.argv), "photo": str(args.photo), "box": list(args.box), "cut": args.cut, "rows": rows,
              "cost": ring_cost(args.contexts)}
    write_report(args.out, report, render)
    return 0


def ring_cost(contexts: list[int], sizes=((512, 512), (496, 624), (644, 900), (736, 952), (1600, 1200))) -> dict:
    """{"WxH": [cost / pixels per context]}: the pipeline's pieces for that photo size."""
    from segsr_gui.engine.inference.pipeline import DEFAULT_OVERLAP, _ExpertCanvas, auto_tile_size, plan_tiles

    class _Scale:
        class config:
            scale = 4

    out = {}
    for w, h in sizes:
        tile = auto_tile_size(h, w, 8) or max(h, w)
        canvas = _ExpertCanvas(_Scale, torch.zeros(1, 3, h, w), 1.0, "fp32")
        pieces = canvas.plan(plan_tiles(h, w, tile, DEFAULT_OVERLAP, align=8))
        ratios = []
        for c in contexts:
            canvas.context = c
            ratios.append(round(sum(canvas.cost(p) for p in pieces) / (h * w), 2))
        out[f"{w}x{h}"] = ratios
    return out


def render(report: dict) -> str:
    t, l, s = report["box"]
    lines = ["# Context the clean expert needs around a piece", "", header_line(report), "",
             f"Real-ESRGAN x4plus on the {s}x{s} LR crop of `{Path(report['photo']).name}` at ({t}, {l}): the "
             f"top {report['cut']} rows run with c rows of context below them, against the whole crop run at "
             "once. |difference| in grey levels, over those rows and over the 32 output rows next to the cut.",
             "", "| context (LR px) | mean | largest | mean next to the cut | largest next to the cut |",
             "|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['context']} | {r['mean']:.2f} | {r['max']:.1f} | {r['mean_near_cut']:.2f} | "
                     f"{r['max_near_cut']:.1f} |")
    contexts = [r["context"] for r in report["rows"]]
    lines += ["", "What a ring costs: LR pixels the experts run on (pieces and rings) over the photo's pixels, "
                  "the pipeline's automatic tiles.", "",
              "| photo (LR px) | " + " | ".join(f"ring {c}" for c in contexts) + " |",
              "|---|" + "---|" * len(contexts)]
    for size, ratios in report["cost"].items():
        lines.append(f"| {size} | " + " | ".join(f"{r:.2f}x" for r in ratios) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
