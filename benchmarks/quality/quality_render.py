"""The Markdown of quality.py's report (every number read from its JSON)."""

from __future__ import annotations

from benchmarks.common import header_line, sequence_note

DASH = "–"  # a cell not run


def render_markdown(report: dict) -> str:
    lines = ["# Quality benchmark", "", header_line(report) + f" Nets in {report['precision']}.", "",
             "Data: " + ", ".join(f"{k} `{v}`" for k, v in report["data"].items()) + ".", ""]
    if report["max_images"]:
        lines += [f"**Subset:** at most {report['max_images']} evenly spaced images per set "
                  "(see `images` in quality.json).", ""]
    lines += reference_tables(report)
    lines += segmentation_tables(report)
    lines += noref_tables(report)
    lines += ["## Time spent per row (seconds, this run; cached peer outputs count 0)", ""]
    lines += [f"- {report['rows'][k]}: {v:.0f} s" for k, v in report["seconds"].items()]
    return "\n".join(lines) + "\n"


def reference_tables(report: dict) -> list[str]:
    lines = ["PSNR (dB) / SSIM on the Y channel, 4-pixel border shaved, x4. `bicubic` LR: Pillow bicubic "
             "downsampling; `realworld` LR: the project's Real-ESRGAN-style second-order degradation "
             "(`make_lr(hq, \"realworld\", seed)`), seeded per image."
             + (f" {DASH}: not run (Real-ESRGAN runs on Set5 and Set14 only unless `--peer-everywhere`)."
                if (report.get("row_sets") or {}).get("realesrgan") else ""), ""]
    results = report["results"]
    keys = [k for k in report["rows"] if not k.startswith("old:")]
    for kind in ("bicubic", "realworld"):
        lines += [f"## {kind} LR", "", "| method | " + " | ".join(
                      f"{s} ({next(iter(r[kind].values()))['images']})" for s, r in results.items()) + " |",
                  "|---|" + "---|" * len(results)]
        for key in keys:
            cells = [f"{e['psnr']:.2f} / {e['ssim']:.4f}" if (e := r[kind].get(key)) else DASH
                     for r in results.values()]
            lines.append(f"| {report['rows'][key]} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def segmentation_tables(report: dict) -> list[str]:
    seg = report.get("segmentation") or {}
    if not seg.get("models"):
        return []
    lines = [f"## mIoU on CamVid test, {seg['images']} frames", "",
             "11 CamVid classes, ignore id 11, class map at SR size: IoU per class, then the mean.", "",
             "| model | LR | " + " | ".join(seg["classes"]) + " | mIoU |",
             "|---|---|" + "---|" * (len(seg["classes"]) + 1)]
    for key, by_kind in seg["models"].items():
        for kind, e in by_kind.items():
            lines.append(f"| {report['rows'][key]} | {kind} | " + " | ".join(f"{100 * v:.1f}" for v in e["iou"])
                         + f" | **{100 * e['miou']:.1f}%** |")
    seqs = seg["sequences"]
    splits = seg.get("split_sequences") or {}
    val = [q for q in splits.get("val", []) if q in splits.get("train", [])]
    about = "; ".join(filter(None, [sequence_note(seg), f"validation ({', '.join(val)}) is a training "
                                    "sequence" if val else ""]))
    lines += ["", "By CamVid sequence (mIoU)" + (f": {about}." if about else "."), "",
              "| model | LR | " + " | ".join(f"{q} ({n} frames)" for q, n in seqs.items()) + " |",
              "|---|---|" + "---|" * len(seqs)]
    for key, by_kind in seg["models"].items():
        for kind, e in by_kind.items():
            lines.append(f"| {report['rows'][key]} | {kind} | " + " | ".join(
                f"{100 * e['miou_by_sequence'][q]:.1f}%" if q in e["miou_by_sequence"] else DASH for q in seqs) + " |")
    steps = [(key, kind, e["miou_by_step"]) for key, by_kind in seg["models"].items()
             for kind, e in by_kind.items() if e.get("miou_by_step")]
    if steps:
        lines += ["", "By sampler step (mIoU of each step's class map, the model's default chain):", "",
                  "| model | LR | " + " | ".join(f"step {i + 1}" for i in range(len(steps[0][2]))) + " |",
                  "|---|---|" + "---|" * len(steps[0][2])]
        lines += [f"| {report['rows'][key]} | {kind} | " + " | ".join(f"{100 * m:.1f}%" for m in by_step) + " |"
                  for key, kind, by_step in steps]
    return lines + [""]


def _mean(values) -> str:
    values = [v for v in values if v is not None]
    return f"{sum(values) / len(values):.2f}" if values else DASH


def noref_tables(report: dict) -> list[str]:
    nr = report.get("noref")
    if not nr:
        return []
    photos = nr["photos"]
    lines = [f"## No-reference quality of the real photos ({len(photos)} in `{nr['folder']}`)", "",
             "No originals exist: each photo (8-bit RGB, alpha dropped) is the LR input, upscaled x4 by each "
             "row. NIQE (basicsr 1.4.2 pristine model, Y channel, no border crop) and BRISQUE (`brisque` 0.2.0"
             + ("" if nr["brisque"] else f"; not installed here, so {DASH}") + "): lower is better. Means over "
             "the photos, then NIQE per photo.", "",
             "| method | NIQE | BRISQUE |", "|---|---|---|"]
    for key, per in nr["scores"].items():
        lines.append(f"| {report['rows'][key]} | {_mean(v['niqe'] for v in per.values())} | "
                     f"{_mean(v['brisque'] for v in per.values())} |")
    lines += ["", "| method | " + " | ".join(f"{n} ({w}x{h})" for n, (h, w) in photos.items()) + " |",
              "|---|" + "---|" * len(photos)]
    for key, per in nr["scores"].items():
        lines.append(f"| {report['rows'][key]} | " + " | ".join(
            f"{per[n]['niqe']:.2f}" if n in per else DASH for n in photos) + " |")
    return lines + ["", "Crops (input enlarged with nearest neighbour, bicubic, Real-ESRGAN, SPAN, ours): "
                        "`quality_crops_*.png` beside this file.", ""]
