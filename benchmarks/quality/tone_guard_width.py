"""How wide the tone guard's band should be: the clean expert's output finished with the
guard at several widths, scored by the old-photo checks.

At strength 100 % the model's image is Real-ESRGAN x4plus, the lattice removed, then the
tone guard (``keep_low_frequencies``: the band below ``sigma`` HR pixels from the bicubic
photo). A blind viewer saw a faint tint in the blacks and greyish whites where ours lost to
x4plus on a web JPEG (``blind_midway.md``); a wider band hands back less of the JPEG's
blocks and off-white, but also lets through more of x4plus's lift to pure white. This reads
that trade on the validation photos of ``real_world``, from the saved x4plus outputs of
``old_photos.py`` (the same weights as the model's clean expert), without running a net.

    python -m benchmarks.quality.old_photos          # first: the x4plus outputs
    python -m benchmarks.quality.tone_guard_width [--sigmas 16 32 64 0]

Writes benchmarks/results/tone_guard_width.{json,md}; 0 = no guard.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, RUNS, header, header_line, result_path, write_report
from benchmarks.quality.old_photos import OUTPUTS, photos

CHECKS = ("niqe", "lr_consistency", "tone_shift", "newly_clipped")


def dark_chroma(rgb: np.ndarray) -> float:
    """Mean |Cb| + |Cr| (BT.601, grey levels) where Y < 40: a tint in the blacks."""
    r, g, b = (rgb[..., i] * 255 for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    chroma = np.abs(-0.1687 * r - 0.3313 * g + 0.5 * b) + np.abs(0.5 * r - 0.4187 * g - 0.0813 * b)
    dark = y < 40
    return float(chroma[dark].mean()) if dark.any() else 0.0


def main(argv=None) -> int:
    from benchmarks.quality.noref import niqe, set_default_niqe_params
    from segsr_gui.engine.diffusion.low_frequencies import keep_low_frequencies
    from segsr_gui.engine.nets.lattice import remove_lattice
    from segsr_gui.engine.stages.experts import bicubic_up
    from segsr_gui.io.read import load_image
    from segsr_gui.training.photo_checks import photo_checks

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"))
    ap.add_argument("--sigmas", type=float, nargs="+", default=[16, 32, 64, 0])
    ap.add_argument("--out", default=result_path("tone_guard_width"))
    args = ap.parse_args(argv)
    set_default_niqe_params(Path(args.assets) / "niqe_pris_params.npz")
    torch.set_grad_enabled(False)
    per_photo: dict = {f"{s:g}": {} for s in args.sigmas}
    files = photos(Path(args.data) / "real_world", 0)
    for path in files:
        lr = load_image(path).rgb
        h, w = lr.shape[:2]
        saved = OUTPUTS / "Real-ESRGAN_x4plus_(ncnn)" / f"{path.stem}.png"
        if not saved.is_file():
            raise SystemExit(f"{saved} missing: run python -m benchmarks.quality.old_photos")
        x4 = np.asarray(Image.open(saved).convert("RGB"), np.float32)[:4 * h, :4 * w] / 255
        as_tensor = lambda a: torch.from_numpy(a.transpose(2, 0, 1).copy())[None] * 2 - 1  # noqa: E731
        y = remove_lattice(as_tensor(x4), 4.0, 4).clamp(-1, 1)
        up = bicubic_up(as_tensor(lr), 4)
        for sigma in args.sigmas:
            out = keep_low_frequencies(y, up, sigma) if sigma else y
            rgb = ((out + 1) / 2)[0].permute(1, 2, 0).numpy()
            checks = photo_checks(rgb, lr)
            row = {k: float(checks[k]) for k in CHECKS if k in checks}
            row.update(niqe=float(niqe(rgb)), dark_chroma=dark_chroma(rgb))
            per_photo[f"{sigma:g}"][path.stem] = {k: round(v, 4) for k, v in row.items()}
            print(path.stem, f"{sigma:g}", per_photo[f"{sigma:g}"][path.stem], flush=True)
    means = {s: {k: round(float(np.mean([p[k] for p in rows.values()])), 4) for k in (*CHECKS, "dark_chroma")}
             for s, rows in per_photo.items()}
    report = {**header(sys.argv), "photos": [p.stem for p in files], "per_photo": per_photo, "mean": means}
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# How wide the tone guard's band should be", "", header_line(report), "",
             f"Real-ESRGAN x4plus's outputs of `old_photos.py` on {len(report['photos'])} photos of `real_world`, "
             "the lattice removed, then the band below sigma HR px taken from the bicubic photo (0 = no guard). "
             "Means over the photos; newly clipped = new pixels at Y >= 234; dark chroma = mean |Cb| + |Cr| "
             "where Y < 40 (a tint in the blacks); in brackets `0014.jpg`, the web JPEG.", "",
             "| sigma (HR px) | NIQE | LR consistency (dB) | tone shift | newly clipped | dark chroma |",
             "|---|---|---|---|---|---|"]
    for sigma, m in report["mean"].items():
        j = report["per_photo"][sigma].get("0014", {})
        lines.append(f"| {sigma} | {m['niqe']:.2f} ({j.get('niqe', 0):.2f}) | {m['lr_consistency']:.1f} | "
                     f"{m['tone_shift']:.2f} ({j.get('tone_shift', 0):.2f}) | {100 * m['newly_clipped']:.2f} % "
                     f"({100 * j.get('newly_clipped', 0):.1f} %) | {m['dark_chroma']:.2f} "
                     f"({j.get('dark_chroma', 0):.2f}) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
