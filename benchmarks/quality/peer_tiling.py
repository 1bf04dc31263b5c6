"""Where ours at 100 % and the x4plus peer part: the same weights, run whole or in tiles.

At strength 100 % our image is Real-ESRGAN x4plus (the PyTorch port of the ncnn weights) run
on the whole photo, or on pieces with a wide context ring; the peer row of the blind sheets
is the ncnn net run as upstream runs it, in 128-pixel LR tiles with 10 pixels of padding. On
a crop no larger than one tile the two agree to rounding. This grows the crop past the tile
and reads how far the outputs part (mean and largest |difference|, grey levels) and the fine
detail each carries (energy of Y minus its Gaussian blur at 1 px; ratio ours / peer).

    python -m benchmarks.quality.peer_tiling [--photo ../shared/data/real_world/wolf_gray.jpg]

Writes benchmarks/results/peer_tiling.{json,md}. Needs ``python -m benchmarks.fetch``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from benchmarks.common import DATA, RUNS, header, header_line, result_path, to_uint8, write_report


def fine_detail(rgb: np.ndarray) -> float:
    y = rgb @ np.array([0.299, 0.587, 0.114])
    return float(((y - gaussian_filter(y, 1.0)) ** 2).mean())


def main(argv=None) -> int:
    from benchmarks.quality.peers import RealESRGAN
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.io.read import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, default=DATA / "real_world" / "wolf_gray.jpg")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 100, 140, 236])
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--out", default=result_path("peer_tiling"))
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    clean = load_model(args.model).model.experts.clean
    peer = RealESRGAN(args.assets, threads=2)
    photo = load_image(args.photo).rgb
    rows = []
    for size in args.sizes:
        lr = photo[:size, :size]
        theirs = peer(to_uint8(lr)).astype(np.float32) / 255
        ours = clean(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
        diff = np.abs(ours - theirs) * 255
        rows.append({"size": [int(lr.shape[1]), int(lr.shape[0])], "mean_diff": round(float(diff.mean()), 3),
                     "max_diff": round(float(diff.max()), 2),
                     "detail_ratio": round(fine_detail(ours) / fine_detail(theirs), 3)})
        print(rows[-1], flush=True)
    report = {**header(sys.argv), "photo": str(args.photo), "peer_tile": peer.tile, "peer_pad": peer.pad, "rows": rows}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# x4plus run whole (ours at 100 %) and in tiles (the peer)", "", header_line(report), "",
             f"Top-left crops of `{Path(report['photo']).name}`; the peer tiles at {report['peer_tile']} LR px with "
             f"{report['peer_pad']} px of padding. Differences in grey levels; detail = energy of Y minus its "
             "1-px Gaussian blur, ours / the peer's.", "",
             "| crop (LR px) | mean diff | largest diff | detail, ours / peer |", "|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['size'][0]}x{r['size'][1]} | {r['mean_diff']:.2f} | {r['max_diff']:.1f} | "
                     f"{r['detail_ratio']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
