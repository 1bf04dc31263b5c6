"""What each finishing step does to the clean expert's output, by eye: a crop sheet.

At strength 100 % the model's image is Real-ESRGAN x4plus (the same weights as the ncnn peer)
followed by the experts' two finishing steps (``stages/experts.py``): the 4-pixel lattice
removal and the tone guard. Any difference a viewer sees between "ours at 100 %" and x4plus
comes from those two; this sheet shows them apart on one photo (issue 38: why ours lost to
x4plus on JPEG-damaged photos). Panels: x4plus, lattice removal only, tone guard only, both
(the model's output).

    python -m benchmarks.quality.finish_parts --photo ../shared/data/real_world/0014.jpg \
        --box 100 75 38

Writes benchmarks/results/finish_parts.png (``--box`` top, left and side in LR pixels).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, RESULTS, load_rgb8, save_crops


def main(argv=None) -> int:
    from segsr_gui.engine.diffusion.low_frequencies import keep_low_frequencies
    from segsr_gui.engine.nets.lattice import remove_lattice
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.engine.stages.experts import bicubic_up

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, default=DATA / "real_world" / "0014.jpg")
    ap.add_argument("--box", type=int, nargs=3, default=(100, 75, 38))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--out", type=Path, default=RESULTS / "finish_parts.png")
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    experts = load_model(args.model).model.experts
    c, scale = experts.config, experts.scale
    rgb = load_rgb8(args.photo)
    rgb = rgb[:rgb.shape[0] // 4 * 4, :rgb.shape[1] // 4 * 4]  # the lattice's cell
    lr = torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / 255)[None] * 2 - 1
    raw = experts.blend(lr, 1.0)
    up = bicubic_up(lr, scale)
    panels = {"x4plus": raw,
              "lattice removal only": remove_lattice(raw, c.lattice_sigma, scale),
              "tone guard only": keep_low_frequencies(raw.clamp(-1, 1), up, c.tone_sigma),
              "both (ours at 100 %)": experts.finish(raw, lr)}
    as_image = lambda t: ((t.clamp(-1, 1) + 1) / 2)[0].permute(1, 2, 0).numpy()  # noqa: E731
    box = tuple(v * scale for v in args.box)
    save_crops(args.out, [(k, as_image(v)) for k, v in panels.items()], box, tile=304)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
