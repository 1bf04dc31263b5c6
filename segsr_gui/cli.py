"""The ``segsr`` command: upscale photos, describe a model, train one.

    segsr upscale INPUT... -o OUTDIR [--model FILE] [--steps N] [--seed S]
                  [--tile PX] [--device auto|cpu|cuda] [--masks]
                  [--format png|jpg|webp|tiff] [--overwrite]
    segsr info [MODEL]
    segsr train CONFIG --data DIR --out DIR [--minutes N] [--resume] [--ship MODEL]

Every failure is one line on stderr; the exit status is 0 only when every
input succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__
from .errors import SegSRError

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2


def collect_inputs(inputs: list[str]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, folder relative to OUTDIR) pairs; folders are searched recursively and
    mirrored. Returns the pairs and one message per input that is neither."""
    from .imageio import IMAGE_SUFFIXES

    found, problems = [], []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not p.name.startswith("."))
            if not files:
                problems.append(f"{spec}: folder holds no image files")
            found += [(f, f.parent.relative_to(path)) for f in files]
        elif path.exists():
            found.append((path, Path(".")))
        else:
            problems.append(f"{spec}: no such file or folder")
    return found, problems


def _fail(message: str) -> None:
    print(f"segsr: {message}", file=sys.stderr)


def cmd_upscale(args) -> int:
    from tqdm import tqdm

    from .export import ExportOptions, existing_outputs, export_result, output_paths
    from .imageio import load_image
    from .pipeline import iter_upscale, resolve_device
    from .weights import load_model

    try:
        device = resolve_device(args.device)
        loaded = load_model(args.model, device=device)
    except SegSRError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    steps = args.steps or loaded.model.config.schedule.steps
    if not 1 <= steps <= 50:
        _fail(f"--steps must be between 1 and 50, got {steps}")
        return EXIT_USAGE
    options = ExportOptions(args.format, args.masks, args.overwrite, args.quality)
    inputs, problems = collect_inputs(args.inputs)
    for p in problems:
        _fail(p)
    outdir = Path(args.output)
    done = skipped = 0
    failed = len(problems)
    timings: list[float] = []
    bar = tqdm(total=len(inputs) * steps, unit="step", disable=args.quiet or None, file=sys.stderr)
    for path, rel in inputs:
        target = outdir / rel
        stem = path.stem
        present = existing_outputs(stem, target, options)
        if present and not args.overwrite:
            if len(present) == len(output_paths(stem, target, options)):
                skipped += 1
                tqdm.write(f"segsr: {path}: skipped, outputs already exist in {target} "
                           "(use --overwrite to redo)", file=sys.stderr)
            else:
                failed += 1
                _fail(f"{path}: {present[0]} already exists (use --overwrite to replace it)")
            bar.update(steps)
            continue
        try:
            image = load_image(path)
            for note in image.notes:
                tqdm.write(f"segsr: note: {note}", file=sys.stderr)
            gen = iter_upscale(image.rgb, loaded.model, steps=steps, seed=args.seed, tile=args.tile,
                               device=str(device))
            last = time.perf_counter()
            while True:
                try:
                    progress = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                now = time.perf_counter()
                timings.append(now - last)
                if args.benchmark:
                    tqdm.write(f"{path.name}: tile {progress.tile_index + 1}/{progress.tiles} "
                               f"step {progress.step.index + 1}/{progress.step.total}: "
                               f"{(now - last) * 1000:.0f} ms", file=sys.stderr)
                last = now
                if progress.tiles == 1 or progress.step.index + 1 == progress.step.total:
                    bar.update(1 if progress.tiles == 1 else 0)
            export_result(image, result, target, stem, options, loaded.name, loaded.classes,
                          loaded.palette, loaded.manifest.get("sha256"))
            if result.class_map is None and args.masks:
                tqdm.write(f"segsr: note: model {loaded.name} has no segmentation; no masks written",
                           file=sys.stderr)
            done += 1
        except (SegSRError, FileExistsError, OSError, ValueError, MemoryError) as exc:
            failed += 1
            tqdm.write(f"segsr: {path}: {exc}", file=sys.stderr)
        bar.n = (done + skipped + failed - len(problems)) * steps
        bar.refresh()
    bar.close()
    if args.benchmark and timings:
        print(f"segsr: {len(timings)} steps, mean {1000 * sum(timings) / len(timings):.0f} ms/step",
              file=sys.stderr)
    print(f"segsr: {done} done, {skipped} skipped, {failed} failed", file=sys.stderr)
    return 0 if failed == 0 else EXIT_FAILED_INPUTS


def cmd_info(args) -> int:
    from .weights import load_model

    try:
        loaded = load_model(args.model)
    except SegSRError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    print(json.dumps(loaded.manifest, indent=2))
    return 0


def cmd_train(args) -> int:
    from .train import run_training

    if not (Path(args.data) / "camvid").is_dir():
        _fail(f"{args.data}: no camvid/ folder here (pass --data ../shared/data)")
        return EXIT_USAGE
    meta = run_training(args.config, args.data, args.out, args.minutes, args.resume, args.ship)
    print(json.dumps({k: v for k, v in meta.items() if k != "param_groups"}, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segsr", description="x4 photo restoration with a "
                                     "semantic-segmentation prior (SegSR).")
    parser.add_argument("--version", action="version", version=f"segsr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upscale", help="upscale photos x4 (files or folders)")
    up.add_argument("inputs", nargs="+", metavar="INPUT")
    up.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    up.add_argument("--model", default=None, help="model name or .safetensors file (default segsr-x4)")
    up.add_argument("--steps", type=int, default=None)
    up.add_argument("--seed", type=int, default=0)
    up.add_argument("--tile", type=int, default=None, metavar="PX",
                    help="LR tile side in pixels (default: chosen from free memory; 0 = no tiling)")
    up.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    up.add_argument("--masks", action="store_true", help="also write class map, overlay and legend")
    up.add_argument("--format", choices=["png", "jpg", "webp", "tiff"], default="png")
    up.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default 95)")
    up.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    up.add_argument("--benchmark", action="store_true", help="print the time of every step")
    up.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    up.set_defaults(func=cmd_upscale)
    info = sub.add_parser("info", help="print a model's manifest")
    info.add_argument("model", nargs="?", default=None)
    info.set_defaults(func=cmd_info)
    tr = sub.add_parser("train", help="train a model on CamVid")
    tr.add_argument("config")
    tr.add_argument("--data", required=True)
    tr.add_argument("--out", required=True)
    tr.add_argument("--minutes", type=float, default=0)
    tr.add_argument("--resume", action="store_true")
    tr.add_argument("--ship", default=None, help="also write the best weights to this model path")
    tr.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        _fail(f"unexpected error: {type(exc).__name__}: {exc}")
        return EXIT_FAILED_INPUTS


if __name__ == "__main__":
    sys.exit(main())
