"""bf16 against fp32 for the two experts on real photos: how far the outputs differ, and the time.

    python -m benchmarks.quality.expert_precision [--data ../shared/data] [--size 192]

For each photo of ``real_world/`` a centred LR crop of ``--size`` pixels goes through SPAN x4 and
Real-ESRGAN x4plus in fp32 and under bf16 autocast (what the app uses on a CPU with native bf16).
Reports PSNR-Y between the two outputs, the largest pixel difference (/255), the time of each, and
saves, per expert, the crop where the two differ most, fp32 | bf16 | difference x8, under
``benchmarks/results/expert_precision_*.png`` for looking.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import DATA, ROOT, header, header_line, result_path, to_uint8, write_report


def experts() -> dict:
    from safetensors.torch import load_file

    from segsr_gui.engine.nets.rrdbnet import RRDBNet
    from segsr_gui.engine.nets.span import load_span

    x4plus = RRDBNet()
    x4plus.load_state_dict(load_file(str(ROOT / "pretrained" / "realesrgan_x4plus.safetensors")))
    return {"SPAN x4": load_span(ROOT / "pretrained" / "span_x4_ch48.safetensors").eval(),
            "Real-ESRGAN x4plus": x4plus.eval()}


def run(net, lr: np.ndarray, bf16: bool) -> tuple[np.ndarray, float]:
    x = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]
    start = time.perf_counter()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = net(x).float().clamp(0, 1)
    return out[0].permute(1, 2, 0).numpy(), time.perf_counter() - start


def render(report: dict) -> str:
    lines = ["# The experts in bf16 against fp32", "", header_line(report), "",
             f"Centred {report['size']}x{report['size']} LR crops of the photos in `real_world/`; PSNR-Y "
             "between the fp32 and the bf16 output (higher: closer), the largest difference of any pixel, "
             "and the time of each.", "",
             "| expert | photo | PSNR-Y bf16 vs fp32 (dB) | max diff (/255) | fp32 s | bf16 s |", "|---|---|---|---|---|---|"]
    for expert, rows in report["experts"].items():
        for photo, r in rows.items():
            lines.append(f"| {expert} | {photo} | {r['psnr']:.1f} | {r['max_diff']:.0f} | {r['fp32_s']:.2f} | "
                         f"{r['bf16_s']:.2f} |")
    lines.append("")
    for expert, s in report["summary"].items():
        lines.append(f"- {expert}: mean PSNR-Y {s['mean_psnr']:.1f} dB, lowest {s['min_psnr']:.1f} dB; bf16 takes "
                     f"{s['time_ratio']:.2f}x the fp32 time.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from segsr_gui.io.read import load_image
    from segsr_gui.training.metrics import psnr_y

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--out", default=result_path("expert_precision"))
    args = ap.parse_args(argv)
    files = sorted(p for p in (Path(args.data) / "real_world").iterdir() if p.suffix.lower() in (".png", ".jpg"))
    report = {**header(sys.argv), "size": args.size, "experts": {}, "summary": {}}
    for name, net in experts().items():
        rows, worst = {}, None
        for path in files:
            rgb = load_image(path).rgb
            h, w = rgb.shape[:2]
            s = min(args.size, h, w)
            lr = np.ascontiguousarray(rgb[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s])
            full, t32 = run(net, lr, False)
            half, t16 = run(net, lr, True)
            diff = np.abs(full - half).max() * 255
            rows[path.stem] = {"psnr": psnr_y(half, full, shave=0), "max_diff": float(diff), "fp32_s": t32, "bf16_s": t16}
            if worst is None or diff > worst[0]:
                worst = (diff, full, half)
        report["experts"][name] = rows
        psnrs = [r["psnr"] for r in rows.values()]
        report["summary"][name] = {"mean_psnr": float(np.mean(psnrs)), "min_psnr": float(np.min(psnrs)),
                                   "time_ratio": sum(r["bf16_s"] for r in rows.values()) /
                                   sum(r["fp32_s"] for r in rows.values())}
        _, full, half = worst
        d = np.abs(full - half).mean(axis=2)
        y, x = np.unravel_index(np.argmax(d), d.shape)
        t, left = max(0, min(y - 64, d.shape[0] - 128)), max(0, min(x - 64, d.shape[1] - 128))
        panel = [full[t:t + 128, left:left + 128], half[t:t + 128, left:left + 128],
                 np.clip(np.abs(full - half)[t:t + 128, left:left + 128] * 8, 0, 1)]
        Image.fromarray(to_uint8(np.concatenate(panel, axis=1))).resize((768, 256), Image.NEAREST).save(
            f"{args.out}_{name.split()[0].lower().replace('-', '')}.png")
    write_report(args.out, report, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
