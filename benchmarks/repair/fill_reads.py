"""What the fill should read: the damaged pixels, or the photo with them hidden (the Telea
start ``y``, as ``fill.iter_fill`` does). PSNR-Y inside the true damage against the undamaged
print, the true mask given, for the shipped fill both ways and for OpenCV's Telea:

- **recipe val**: the repair recipe's damage on 24 CamVid val frames (half-transparent
  scratches and cracks, fading along their length);
- **aged val**: 48 CamVid val frames aged as the sample was (``straight_scratches.aged_val``:
  opaque dust specks and thin straight scratches);
- **the sample**: its exact damage (``make_sample.aged``).

    python -m benchmarks.repair.fill_reads [--weights runs/repair/repair.safetensors]

Writes ``benchmarks/results/fill_reads.{json,md}``.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, ROOT, header, header_line, result_path, write_report
from benchmarks.repair.real_marks import load_repair
from benchmarks.repair.straight_scratches import aged_val
from segsr_gui.engine.repair.fill import damage_box, fill
from segsr_gui.engine.repair.repair import RepairModel
from segsr_gui.training.repair_eval import damaged_set, mask_tensor, psnr_y_inside, to_numpy, to_tensor
from segsr_gui.training.repair_validate import VAL_SEED, _frames, telea


class ReadingDamage(torch.nn.Module):
    """The fill net given the damaged pixels as its photo input, where the engine gives ``y``."""

    def __init__(self, net, damaged: torch.Tensor):
        super().__init__()
        self.net, self.kappa, self.damaged = net, net.kappa, damaged * 2 - 1

    def forward(self, x_t, y, photo, region, eta):
        return self.net(x_t, y, self.damaged, region, eta)


def scores(model: RepairModel, examples) -> dict:
    out = {"hides the damage (shipped)": [], "reads the damage": [], "Telea": []}
    for damaged, mask, clean in examples:
        photo, m = to_tensor(damaged), mask_tensor(mask)
        t0, t1, l0, l1 = damage_box(m)
        schedule = model.config.schedule()
        hidden = fill(model.fill, photo, m, schedule)
        reading = fill(ReadingDamage(model.fill, photo[..., t0:t1, l0:l1]), photo, m, schedule)
        out["hides the damage (shipped)"].append(psnr_y_inside(to_numpy(hidden), clean, mask))
        out["reads the damage"].append(psnr_y_inside(to_numpy(reading), clean, mask))
        out["Telea"].append(psnr_y_inside(telea(damaged, mask), clean, mask))
    return {k: float(np.mean(v)) for k, v in out.items()}


def sample_example():
    """The bundled sample, its exact damage and its print before the damage (``make_sample``)."""
    from skimage import data

    from segsr_gui.training import degrade
    from segsr_gui.training.scratches import MASK_LEVEL

    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "packaging" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    painted = []
    lq, _ = degrade.old_photo(data.astronaut().astype(np.float32) / 255, np.random.default_rng(make_sample.SEED),
                              scale=make_sample.SCALE, painted=painted)
    damage = np.abs(painted[1] - painted[0]).max(2) > MASK_LEVEL
    return np.round(lq * 255).astype(np.float32) / 255, damage, painted[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--weights", type=Path, help="a trained repair file to measure instead of the model's")
    ap.add_argument("--out", default=result_path("fill_reads"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = load_repair(args.model, args.weights)
    recipe = [(e.damaged, e.mask, e.clean) for e in damaged_set(*_frames(DATA, 24), VAL_SEED) if e.mask.any()]
    aged = [example for example in aged_val() if example[1].any()]
    sets = {"recipe val": scores(model, recipe), "aged val": scores(model, aged),
            "the sample": scores(model, [sample_example()])}
    write_report(args.out, {**header(__import__("sys").argv), "sets": sets}, render)
    return 0


def render(report: dict) -> str:
    sets = report["sets"]
    ways = list(next(iter(sets.values())))
    out = ["# What the fill reads", "", header_line(report), "",
           "PSNR-Y (dB) inside the true damage against the undamaged print, the true mask given.", "",
           "| fill | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    out += [f"| {w} | " + " | ".join(f"{sets[s][w]:.2f}" for s in sets) + " |" for w in ways]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
