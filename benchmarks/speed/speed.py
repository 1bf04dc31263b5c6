"""Speed and memory of SegSR, as ratios measured in one run.

    python -m benchmarks.speed.speed [--quick] [--model segsr-x4] [--repeats 2] [--big 1024]

The goals' figures (all that ``--quick`` measures), each a whole process as a user starts it:

- ``segsr upscale`` of a 256x256 photo (Python start, model load, sampling, PNG written) vs
  Real-ESRGAN x4plus on the same photo (ncnn on the CPU, same thread count, in a process of its
  own that reads and writes the PNGs; files from ``benchmarks/fetch.py``): the ratio, goal <= 0.5x;
- ``segsr upscale`` of the real 496x624 scan ``old_scratch_a`` at the defaults, and the peer on it;
- ``segsr upscale`` of a 1-megapixel photo (1024x1024 LR).

Without ``--quick`` also, in this process: SegSR vs the peer at 64x64 and 256x256 LR, bf16 vs
fp32, time per output megapixel at three sizes, tiled vs untiled output of a 512x512 input and how
far a tile border disturbs the output, and the peak resident memory of a tiled 1024x1024 run (in a
child process). The live-preview overhead needs the window's worker: ``python -m
benchmarks.window.gui_latency --preview-overhead`` measures it.

Writes benchmarks/results/speed.{md,json} with the machine, thread count and torch version.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import DATA, ROOT, RUNS, best_of, header, header_line, result_path, write_report
from segsr_gui.engine.inference.pipeline import (DEFAULT_MARGIN, DEFAULT_OVERLAP, MIN_TILE, min_tile,  # noqa: E402
                                                 tile_overlap, upscale)
from segsr_gui.engine.diffusion.precision import describe  # noqa: E402
from segsr_gui.engine.inference.tiling import plan_tiles  # noqa: E402
from segsr_gui.engine.nets.weights import load_model  # noqa: E402

def test_image(size: int, seed: int = 0, width: int = 0) -> np.ndarray:
    """A photo-like LR input: a real CamVid frame when available, else smooth noise."""
    width = width or size
    files = sorted((DATA / "camvid" / "test").glob("*.png"))
    if files:
        from PIL import Image
        im = Image.open(files[seed % len(files)]).convert("RGB").resize((width, size), Image.BICUBIC)
        return np.asarray(im, dtype=np.float32) / 255
    rng = np.random.default_rng(seed)
    small = rng.random((size // 8 + 1, width // 8 + 1, 3)).astype(np.float32)
    return np.kron(small, np.ones((8, 8, 1), np.float32))[:size, :width]


def segsr_command() -> list[str]:
    exe = Path(sys.executable).with_name("segsr")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "segsr_gui.app.cli"]


# run from ROOT (``cwd``), so that the child imports ``benchmarks.…`` as this process does
PEER_CODE = ("import sys;from PIL import Image;import numpy as np;"
             "from benchmarks.quality.peers import RealESRGAN;"
             "net=RealESRGAN(sys.argv[1],threads=int(sys.argv[2]));"
             "Image.fromarray(net(np.asarray(Image.open(sys.argv[3]).convert('RGB')))).save(sys.argv[4])")


def process_seconds(cmd: list[str], repeats: int) -> float:
    """Best wall time of a whole process (the first run also fills the file cache)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-400:]}")
    return best


def auto_strength(model_spec: str, photo: Path) -> float | None:
    """The strength Auto picks for ``photo`` (what the whole-process Auto run used)."""
    from segsr_gui.engine.inference.pipeline import resolve_strength
    from segsr_gui.io.read import load_image

    model = load_model(model_spec).model
    if not model.has_strength:
        return None
    lr = torch.from_numpy(load_image(photo).rgb.transpose(2, 0, 1).copy())[None] * 2 - 1
    return resolve_strength(model, lr, None).value


def whole_process(args, threads: int) -> dict:
    """``segsr upscale`` vs the Real-ESRGAN process on a 256x256 photo; ``segsr upscale`` of a
    1-megapixel photo."""
    from PIL import Image

    out = {}
    with tempfile.TemporaryDirectory(prefix="segsr-speed-") as tmp:
        tmp = Path(tmp)
        for name, (h, w) in {"photo_256": (256, 256), "photo_1mp": (args.mp_side, args.mp_side)}.items():
            Image.fromarray(np.round(test_image(h, width=w) * 255).astype(np.uint8)).save(tmp / f"{name}.png")
        segsr = segsr_command() + ["upscale", "-o", str(tmp / "out"), "--overwrite", "-q", "--model", args.model]
        ours = process_seconds(segsr + [str(tmp / "photo_256.png")], args.repeats)
        # the slowest strength: between 0 and 1 both experts run
        both = process_seconds(segsr + ["--strength", "0.5", str(tmp / "photo_256.png")], args.repeats)
        ends = {f"segsr_seconds_strength_{s}": process_seconds(segsr + ["--strength", s, str(tmp / "photo_256.png")],
                                                               args.repeats) for s in ("0", "1")}
        out["process_256"] = {"segsr_seconds": ours, "segsr_seconds_both_experts": both, **ends,
                              "auto_strength": auto_strength(args.model, tmp / "photo_256.png")}
        if not args.no_peer:
            peer = [sys.executable, "-c", PEER_CODE, args.assets, str(threads), str(tmp / "photo_256.png"),
                    str(tmp / "peer.png")]
            try:
                theirs = process_seconds(peer, args.repeats)
                out["process_256"].update(peer_seconds=theirs, ratio=ours / theirs,
                                          ratio_both_experts=both / theirs)
            except RuntimeError as exc:
                out["process_256"]["peer_error"] = str(exc)
        print("process 256", out["process_256"], file=sys.stderr, flush=True)
        scan = DATA / "real_world" / "old_scratch_a.png"
        if scan.is_file():  # a real scan users restore: 496x624, 9 tiles at the defaults
            out["process_scan"] = {"photo": scan.name, "segsr_seconds": process_seconds(segsr + [str(scan)], 1)}
            if not args.no_peer:
                peer = [sys.executable, "-c", PEER_CODE, args.assets, str(threads), str(scan), str(tmp / "peer.png")]
                try:
                    theirs = process_seconds(peer, 1)
                    out["process_scan"].update(peer_seconds=theirs, ratio=out["process_scan"]["segsr_seconds"] / theirs)
                except RuntimeError as exc:
                    out["process_scan"]["peer_error"] = str(exc)
            print("process scan", out["process_scan"], file=sys.stderr, flush=True)
        mp = process_seconds(segsr + [str(tmp / "photo_1mp.png")], 1)
        out["process_1mp"] = {"lr": [args.mp_side, args.mp_side], "segsr_seconds": mp}
        print("process 1 MP", out["process_1mp"], file=sys.stderr, flush=True)
    return out



def edge_profile(model, rgb: np.ndarray, width: int = 128) -> dict:
    """How far a tile border disturbs the chain: the max image difference (/255) and the
    class disagreement between a whole run and a run of the left ``width`` LR columns,
    by LR distance from that crop's right edge."""
    whole = upscale(rgb, model, tile=0)
    part = upscale(np.ascontiguousarray(rgb[:, :width]), model, tile=0)
    hr = 4 * width
    img = np.abs(whole.image[:, :hr] - part.image).max(axis=(0, 2)) * 255
    cls = (whole.class_map[:, :hr] != part.class_map).mean(axis=0) if whole.class_map is not None else None
    out = {}
    for d in (0, 1, 2, 4, 8, 12, 16, 24, 32):
        cols = slice(hr - 4 * (d + 1), hr - 4 * d)
        out[d] = {"max_diff_255": float(img[cols].max()),
                  "class_disagreement": None if cls is None else float(cls[cols].mean())}
    return out


def diff_by_seam_distance(diff: np.ndarray, boxes, scale: int) -> dict:
    """Max of an HR difference map (/255) by LR distance to the nearest inner tile edge:
    says whether tiled-vs-untiled differences sit at the seams or deep inside tiles."""
    h, w = diff.shape[0] // scale, diff.shape[1] // scale

    def distance(size: int, starts_ends: set) -> np.ndarray:
        pos = np.arange(size)[:, None] + 0.5
        edges = np.array(sorted(starts_ends) or [10**9])[None]
        return np.abs(pos - edges).min(axis=1)

    rows = distance(h, {b.top for b in boxes if b.top > 0} | {b.top + b.height for b in boxes if b.top + b.height < h})
    cols = distance(w, {b.left for b in boxes if b.left > 0} | {b.left + b.width for b in boxes if b.left + b.width < w})
    dist = np.minimum(rows[:, None], cols[None, :]).repeat(scale, 0).repeat(scale, 1)
    out = {}
    for lo, hi in ((0, 12), (12, 28), (28, 64), (64, 10**9)):
        band = (dist >= lo) & (dist < hi)
        out[f"{lo}-{hi if hi < 10**9 else ''}"] = float(diff[band].max()) if band.any() else None
    return out


def child_peak_memory(model: str, size: int, mirror: bool = False) -> dict:
    """Run a tiled upscale (with the mirror option if asked) in a fresh process and read its peak RSS.

    The peak is VmHWM (the process image's own high-water mark), not ``ru_maxrss``: Linux
    carries ``ru_maxrss`` across fork and exec, so a child of this (large) benchmark process
    would report the parent's size (it read 5.8 GiB where the run itself peaked at 1.6)."""
    code = (
        "import time;from benchmarks.speed.speed import test_image;"
        "from segsr_gui.engine.inference.pipeline import upscale;"
        "from segsr_gui.engine.nets.weights import load_model;m=load_model(%r).model;"
        "rgb=test_image(%d);t=time.perf_counter();r=upscale(rgb,m,mirror=%r);"
        "hwm=[l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0];"
        "print(time.perf_counter()-t, r.image.shape[0], hwm)"
    ) % (model, size, mirror)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    seconds, side, rss_kb = out.stdout.split()
    return {"seconds": float(seconds), "output_side": int(side), "peak_rss_gib": int(rss_kb) / 2**20}


def in_process_vs_peer(model, peer, args) -> dict:
    """SegSR sampling vs the peer's network at 64x64 and 256x256 LR, in this process. SegSR's runs
    come first, then the peer's, not interleaved: a SegSR run right after a peer run at 256x256
    took up to 1.7x as long here (its output-size tensors page-fault their memory in again after
    the peer's has gone back to the system), so interleaving billed SegSR for the peer's aftermath."""
    out = {}
    for size in (64, 256):
        rgb = test_image(size)
        repeats = args.repeats if size > 128 else args.small_repeats
        upscale(rgb, model, tile=0)  # warm-up: oneDNN builds its kernels for this size once
        entry = {"segsr_seconds": best_of(lambda: upscale(rgb, model, tile=0), repeats)}
        if peer is not None:
            peer(rgb)  # and ncnn its own
            theirs = best_of(lambda: peer(rgb), repeats if size <= 128 else 1)
            entry.update(peer_seconds=theirs, ratio=entry["segsr_seconds"] / theirs)
        out[f"vs_peer_{size}"] = entry
        print(size, entry, file=sys.stderr, flush=True)
    return out


def precision_check(model, repeats: int) -> dict:
    """What the reduced precision buys and changes (same input, interleaved)."""
    rgb = test_image(256, seed=4)
    a, b = upscale(rgb, model, tile=0, precision="fp32"), upscale(rgb, model, tile=0)  # also the warm-ups
    full = reduced = float("inf")
    for _ in range(repeats):
        full = min(full, best_of(lambda: upscale(rgb, model, tile=0, precision="fp32"), 1))
        reduced = min(reduced, best_of(lambda: upscale(rgb, model, tile=0), 1))
    return {"fp32_seconds": full, "reduced_seconds": reduced, "speedup": full / reduced,
            "max_abs_diff_255": float(np.abs(a.image - b.image).max() * 255),
            "mean_abs_diff_255": float(np.abs(a.image - b.image).mean() * 255),
            "class_agreement": None if a.class_map is None else float((a.class_map == b.class_map).mean())}


def tiling_check(model, margins: list[int]) -> dict:
    """Tiled vs untiled output of a 512x512 input: max and mean difference, class agreement, where
    the differences sit, and the same by tile context margin."""
    rgb = test_image(512, seed=2)
    whole = upscale(rgb, model, tile=0)
    tiled = upscale(rgb, model, tile=MIN_TILE)
    diff = np.abs(whole.image - tiled.image)
    out = {"max_abs_diff_255": float(diff.max() * 255), "mean_abs_diff_255": float(diff.mean() * 255)}
    if whole.class_map is not None:
        out["class_agreement"] = float((whole.class_map == tiled.class_map).mean())
    boxes = plan_tiles(512, 512, MIN_TILE, DEFAULT_OVERLAP, align=model.stride)
    out["by_seam_distance"] = diff_by_seam_distance(diff.max(axis=2) * 255, boxes, model.config.scale)
    out["by_margin"] = {DEFAULT_MARGIN: out["max_abs_diff_255"]}
    for margin in sorted(set(margins) - {DEFAULT_MARGIN}):
        overlap = tile_overlap(margin)
        other = upscale(rgb, model, tile=max(MIN_TILE, min_tile(overlap)), margin=margin, overlap=overlap)
        out["by_margin"][margin] = float(np.abs(whole.image - other.image).max() * 255)
    return out


def in_process(report: dict, args, threads: int) -> None:
    """Everything but the goals' whole-process figures (skipped by ``--quick``)."""
    model = load_model(args.model).model
    peer = None
    if not args.no_peer:
        try:
            from benchmarks.quality import peers
            peer = peers.RealESRGAN(args.assets, threads=threads)
        except Exception as exc:
            report["peer_error"] = str(exc)
    report.update(in_process_vs_peer(model, peer, args))
    if report["precision"] != "fp32":
        report["precision_check"] = precision_check(model, args.repeats)
    report["per_megapixel"] = {}
    for size in (64, 128, 256):
        rgb = test_image(size, seed=1)
        report["per_megapixel"][size] = best_of(lambda: upscale(rgb, model, tile=0), 1) / ((4 * size) ** 2 / 1e6)
    report["tile_edge_profile"] = edge_profile(model, np.ascontiguousarray(test_image(192, seed=3)[:96]))
    report["tiling_512"] = tiling_check(model, args.margins)
    report["big_tiled"] = child_peak_memory(args.model, args.big)


def goals(report: dict, big: int) -> dict:
    g = {}
    p = report["process_256"]
    if "ratio" in p:
        g["`segsr upscale` vs Real-ESRGAN x4plus, 256x256 photo, whole process (<= 0.5x)"] = (
            f"{p['ratio']:.2f}x ({p['segsr_seconds']:.1f} s vs {p['peer_seconds']:.1f} s)", p["ratio"] <= 0.5)
    if "ratio_both_experts" in p:
        g["the same at strength 0.5 (both experts run: the slowest strength) (<= 0.5x)"] = (
            f"{p['ratio_both_experts']:.2f}x ({p['segsr_seconds_both_experts']:.1f} s)", p["ratio_both_experts"] <= 0.5)
    if "segsr_seconds_strength_0" in p and "peer_seconds" in p:
        auto = p.get("auto_strength")
        g["the same at strength 0, Auto" + (f" ({100 * auto:.0f} %)" if auto is not None else "") + " and 100 %"] = (
            " / ".join(f"{p[k] / p['peer_seconds']:.2f}x ({p[k]:.1f} s)" for k in
                       ("segsr_seconds_strength_0", "segsr_seconds", "segsr_seconds_strength_1")), None)
    if "process_scan" in report:
        sc = report["process_scan"]
        peer = f" vs {sc['peer_seconds']:.1f} s for Real-ESRGAN x4plus ({sc['ratio']:.2f}x)" if "ratio" in sc else ""
        g[f"`segsr upscale` of the 496x624 scan {sc['photo']} at the defaults, whole process"] = (
            f"{sc['segsr_seconds']:.1f} s{peer}", None)
    mp = report["process_1mp"]
    g[f"`segsr upscale`, {mp['lr'][0]}x{mp['lr'][1]} photo ({mp['lr'][0] * mp['lr'][1] / 1e6:.2g} MP), whole process"] = (
        f"{mp['segsr_seconds']:.1f} s", None)
    if "big_tiled" in report and "peak_rss_gib" in report["big_tiled"]:
        rss = report["big_tiled"]["peak_rss_gib"]
        g[f"peak RSS, {big}x{big} LR tiled (<= 2 GiB)"] = (f"{rss:.2f} GiB", rss <= 2)
    if "tiling_512" in report:
        d = report["tiling_512"]["max_abs_diff_255"]
        g["tiled vs untiled 512x512, max diff (<= 1/255)"] = (f"{d:.2f}/255", d <= 1)
    return g


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the two whole-process figures")
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--small-repeats", type=int, default=120,
                    help="repeats of the sub-second 64x64 runs, where noise dominates")
    ap.add_argument("--mp-side", type=int, default=1024, help="LR side of the 1-megapixel photo")
    ap.add_argument("--big", type=int, default=1024, help="LR side of the memory test")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"), help="what benchmarks/fetch.py downloaded")
    ap.add_argument("--margins", nargs="*", type=int, default=[56, 72],
                    help="tile context margins (LR px) to compare with the default in the tiling test")
    ap.add_argument("--out", default=result_path("speed"))
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    loaded = load_model(args.model)
    report = {**header(sys.argv), "model": loaded.name, "model_sha256": loaded.manifest.get("sha256"),
              "classes": loaded.model.has_segmentation,
              "steps": loaded.model.config.schedule.steps, "precision": describe(torch.device("cpu")),
              "quick": args.quick}
    report.update(whole_process(args, threads))
    if not args.quick:
        in_process(report, args, threads)
    report["goals"] = goals(report, args.big)
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# Speed and memory", "", header_line(report) + f" Model `{report['model']}` "
             f"({report['steps']} steps, {'with' if report['classes'] else 'without'} classes), nets in "
             f"{report['precision']}. Times are the best of the repeats; this machine is shared, so compare "
             "ratios from one run.", "", "| goal | measured | met |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {'–' if ok is None else 'yes' if ok else '**no**'} |"
              for k, (v, ok) in report["goals"].items()]
    if report["quick"]:
        return "\n".join(lines + ["", "(`--quick`: the whole-process figures only.)"]) + "\n"
    lines += ["", "## Details (in this process)", ""]
    for size in (64, 256):
        e = report[f"vs_peer_{size}"]
        peer = f", peer {e['peer_seconds']:.2f} s ({e['ratio']:.2f}x)" if "peer_seconds" in e else ""
        lines.append(f"- {size}x{size} LR, sampling only: SegSR {e['segsr_seconds']:.2f} s{peer}")
    if "precision_check" in report:
        c = report["precision_check"]
        lines.append(f"- {report['precision']} vs fp32, 256x256 LR: {c['reduced_seconds']:.2f} s vs "
                     f"{c['fp32_seconds']:.2f} s ({c['speedup']:.2f}x faster); output differs by max "
                     f"{c['max_abs_diff_255']:.2f}/255, mean {c['mean_abs_diff_255']:.3f}/255" +
                     (f", class maps agree on {100 * c['class_agreement']:.2f}%" if c["class_agreement"] is not None else ""))
    lines.append("- seconds per output megapixel: " + ", ".join(
        f"{4 * int(s)}x{4 * int(s)}: {v:.1f}" for s, v in report["per_megapixel"].items()))
    t = report["tiling_512"]
    lines.append(f"- tiled ({MIN_TILE} px tiles) vs untiled, 512x512 LR: max {t['max_abs_diff_255']:.2f}/255, "
                 f"mean {t['mean_abs_diff_255']:.3f}/255" +
                 (f", class maps agree on {100 * t['class_agreement']:.2f}% of pixels" if "class_agreement" in t else ""))
    lines.append("- a tile border's reach (whole run vs the left 128 LR columns run alone), by LR distance "
                 "from the border: " + ", ".join(
                     f"{d} px: {v['max_diff_255']:.2f}/255" +
                     (f" ({100 * v['class_disagreement']:.1f}% classes)" if v["class_disagreement"] is not None else "")
                     for d, v in report["tile_edge_profile"].items()))
    lines.append(f"- tiled vs untiled max difference by tile context margin (LR px; default {DEFAULT_MARGIN}): "
                 + ", ".join(f"{m} px: {v:.2f}/255" for m, v in sorted(t["by_margin"].items(), key=lambda kv: int(kv[0]))))
    lines.append("- where those differences are (max /255 by LR distance to the nearest inner tile edge; "
                 f"the outer {DEFAULT_MARGIN} px of a tile only give context): " + ", ".join(
                     f"{band} px: {v:.2f}" for band, v in t["by_seam_distance"].items() if v is not None))
    lines.append(f"- big tiled run: {report['big_tiled']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
