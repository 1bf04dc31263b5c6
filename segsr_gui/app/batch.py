"""Batches of photos, shared by the ``segsr upscale`` command and the window's queue.

    collect_inputs(["shoebox/"])          -> (photo, sub-folder) pairs, folders mirrored
    decide(photo, target, options, ...)   -> process | skip | fail (with the reason)
    upscale_one(photo, target, ...)       -> load, upscale, export one photo (atomic)
    queue.BatchQueue                      -> the window's queue, saved as JSON in the
                                             config folder so it survives a restart
    run_batch(queue plan, model, emit)    -> BatchEvents as each photo starts, moves,
                                             ends; the window applies them to its queue

A photo's outputs appear all together or not at all (``export.export_result``), so
a batch stopped anywhere can simply be started again: finished photos are skipped.
Qt-free: the window runs ``run_batch`` on a worker thread.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from segsr_gui.app.pace import RunPace
from segsr_gui.classes import full_palette
from segsr_gui.errors import ImageSaveError, SegSRError

if TYPE_CHECKING:
    import numpy as np


QUEUED, RUNNING, DONE, FAILED, SKIPPED = "queued", "running", "done", "failed", "skipped"
STATES = (QUEUED, RUNNING, DONE, FAILED, SKIPPED)
QUEUE_VERSION = 1


# ---- finding photos -----------------------------------------------------------------
def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def collect_inputs(inputs: list[str], exclude: Path | None = None) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, folder relative to OUTDIR) pairs; folders are searched recursively and
    mirrored, skipping hidden files and anything inside ``exclude`` (the output folder,
    so a second run does not upscale its own outputs). Returns the pairs and one
    message per input that is neither a file nor a folder of images."""
    from segsr_gui.io.read import IMAGE_SUFFIXES

    found, problems = [], []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not p.name.startswith(".") and not _inside(p, exclude))
            if not files:
                problems.append(f"{spec}: the folder holds no image files.")
            found += [(f, f.parent.relative_to(path)) for f in files]
        elif path.exists():
            found.append((path, Path(".")))
        else:
            problems.append(f"{spec}: no such file or folder.")
    return found, problems


def name_clashes(inputs: list[tuple[Path, Path]]) -> dict[Path, Path]:
    """Inputs whose outputs would take the names of an earlier input's (``a.jpg`` and
    ``a.png`` in one folder): {later input: the earlier one}."""
    first: dict[tuple[Path, str], Path] = {}
    clashes = {}
    for path, rel in inputs:
        key = (rel, path.stem)
        if key in first:
            clashes[path] = first[key]
        else:
            first[key] = path
    return clashes


# ---- what to do with one photo ------------------------------------------------------
@dataclass(frozen=True)
class Hints:
    """How the user fixes a refusal, in the words of the front end that shows it."""

    other_folder: str
    overwrite: str


CLI_HINTS = Hints("choose another output folder (-o)", "use --overwrite")
GUI_HINTS = Hints("choose another output folder", "tick \u201cOverwrite existing\u201d")

PROCESS, SKIP, FAIL = "process", "skip", "fail"


@dataclass(frozen=True)
class Decision:
    action: str  # PROCESS | SKIP | FAIL
    reason: str = ""  # a sentence for the user (empty for PROCESS)


def decide(path: Path, target: Path, options, input_files: set[Path], clash_with: Optional[Path] = None,
           hints: Hints = CLI_HINTS) -> Decision:
    """Whether ``path`` is upscaled into ``target``. In this order: an output that would
    replace an input photo fails; a name clash with an earlier photo fails; a photo whose
    outputs all exist is skipped; any other existing output fails (nothing is replaced
    unless ``options.overwrite``). ``input_files`` holds every input, resolved."""
    from segsr_gui.app.export import existing_outputs, is_done, output_paths

    stem = path.stem
    replaced = [p for p in output_paths(stem, target, options).values() if p.resolve() in input_files]
    if replaced:
        return Decision(FAIL, f"its output {replaced[0].name} would replace one of the input photos; "
                              f"{hints.other_folder}.")
    if clash_with is not None:
        return Decision(FAIL, f"its outputs would have the same names as those of {clash_with} "
                              f"({stem}_x4.{options.format}); rename one of them.")
    if options.overwrite:
        return Decision(PROCESS)
    if is_done(stem, target, options):
        return Decision(SKIP, f"skipped, outputs already exist in {target} ({hints.overwrite} to redo)")
    existing = existing_outputs(stem, target, options)
    if existing:
        return Decision(FAIL, f"{existing[0]} already exists; it was left untouched "
                              f"({hints.overwrite} to replace it).")
    return Decision(PROCESS)


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "!", "?", ")")) else message + "."


def failure_reason(path: Path, exc: BaseException) -> str:
    """Why a photo failed, as a sentence that does not repeat its name."""
    if isinstance(exc, MemoryError):
        return "not enough memory to finish this photo; nothing was written for it. " \
               "Close other programs and try again."
    if not isinstance(exc, (SegSRError, FileExistsError, OSError, ValueError)):
        return f"unexpected error ({type(exc).__name__}: {exc}); nothing was written for this photo."
    message = str(exc)
    if message.startswith(f"{path.name}: "):  # engine messages start with the file name
        message = message[len(path.name) + 2:]
    return _sentence(message)


def is_disk_full(exc: BaseException) -> bool:
    """A full disk ends a batch: every later photo would fail the same way."""
    return isinstance(exc, ImageSaveError) and getattr(exc, "errno", None) == errno.ENOSPC


class Cancelled(Exception):
    """Raised inside ``upscale_one`` when the user cancels the photo mid-run."""


@dataclass
class RunParams:
    """How each photo is upscaled (``steps`` None: the model's default; ``mirror``: average
    the classes with a chain on the mirrored photo, twice the time)."""

    steps: Optional[int] = None
    seed: int = 0
    tile: Optional[int] = None
    device: str = "cpu"
    precision: str = "auto"
    mirror: bool = False
    strength: Optional[float] = None  # restoration strength 0..1; None = Auto
    repair: str = "auto"  # fill the photo's damage first: "auto", "on" or "off" (repair_step.py)
    repair_mask: Optional[np.ndarray] = None  # bool (H, W): the damage to fill instead (one photo)


def upscale_one(path: Path, target: Path, loaded, options, params: RunParams, *,
                on_note: Callable[[str], None] = lambda text: None,
                on_progress: Callable[[object], None] = lambda progress: None,
                cancelled: Callable[[], bool] = lambda: False, expert_progress: bool = False) -> dict:
    """Load, upscale (retrying with smaller tiles when out of memory) and export one
    photo; returns the written files. ``on_progress`` gets each ``Progress`` (and, with
    ``expert_progress``, each ``ExpertsProgress`` before them); ``cancelled`` is asked after
    every one and raises ``Cancelled`` (nothing written)."""
    from segsr_gui.app import export
    from segsr_gui.io.read import load_image
    from segsr_gui.engine.inference.drain import drain
    from segsr_gui.engine.inference.runner import iter_upscale_retrying

    image = load_image(path)
    for note in image.notes + export.export_notes(image, options):
        on_note(note)

    def retry(tile: int, exc: BaseException) -> None:
        on_note(f"{path.name}: ran out of memory; trying again with {tile}-pixel tiles.")

    gen = iter_upscale_retrying(image.rgb, loaded.model, steps=params.steps, seed=params.seed,
                                tile=params.tile, device=params.device,
                                precision=params.precision, mirror=params.mirror,
                                strength=params.strength, repair=params.repair, repair_mask=params.repair_mask,
                                alpha=image.alpha, on_retry=retry, expert_progress=expert_progress)

    def on_step(progress) -> None:
        on_progress(progress)
        if cancelled():
            raise Cancelled

    result = drain(gen, on_step)
    if cancelled():  # asked after the last step: still nothing written
        raise Cancelled
    if result.strength is not None and result.strength.auto and loaded.model.has_strength:
        on_note(f"{path.name}: restoration strength {result.strength.describe()}")
    return export.export_result(image, result, target, path.stem, options, loaded.name, loaded.classes,
                                full_palette(loaded.classes, loaded.palette), loaded.manifest.get("sha256"))


def step_label(progress) -> str:
    """``tile i/n step j/k`` of a pipeline ``Progress``; ``experts i/n`` of an ``ExpertsProgress``."""
    if not hasattr(progress, "step"):
        return f"experts {progress.index + 1}/{progress.pieces}"
    return (f"tile {progress.tile_index + 1}/{progress.tiles} "
            f"step {progress.step.index + 1}/{progress.step.total}")


# ---- the window's queue -------------------------------------------------------------
def photo_pixels(path: str | os.PathLike) -> int:
    """Width times height from the file's header (nothing decoded); 0 when unreadable."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return im.size[0] * im.size[1]
    except Exception:  # noqa: BLE001 - a photo that cannot be read fails later, with its reason
        return 0


def find_photos(paths: list[str | os.PathLike], output_folder: str = "") -> tuple[list[tuple[str, str, int]], list[str]]:
    """Photos under ``paths`` (folders recursive, image types only, nothing inside the
    output folder) as (absolute path, output sub-folder, pixels) triples, and one sentence
    per problem. Touches the disk only: the window calls it off its GUI thread."""
    from segsr_gui.io.read import IMAGE_SUFFIXES

    found, problems = collect_inputs([str(p) for p in paths], exclude=Path(output_folder) if output_folder else None)
    photos = []
    for path, rel in found:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            problems.append(f"{path}: not a photo this app reads (PNG, JPEG, WebP, TIFF, BMP, GIF).")
        else:
            photos.append((str(path.resolve()), rel.as_posix(), photo_pixels(path)))
    return photos, problems


# ---- running a queue ----------------------------------------------------------------
@dataclass
class PlannedItem:
    index: int  # in the queue's items
    source: Path
    target: Path  # output folder for this photo
    clash_with: Optional[Path]
    inputs: set  # every queued photo, resolved (no output may replace one)


@dataclass
class BatchEvent:
    """``started`` / ``progress`` (fraction; reason holds ``tile i/n step j/k``) /
    ``finished`` (state, reason, seconds) /
    ``note`` (reason holds the text) / ``end`` (reason holds the outcome:
    ``finished``, ``stopped``, ``cancelled`` or ``disk full``)."""

    kind: str
    index: int = -1
    fraction: float = 0.0
    state: str = ""
    reason: str = ""
    seconds: float = 0.0


def run_batch(plan: list[PlannedItem], loaded, options, params: RunParams, emit: Callable[[BatchEvent], None],
              *, stop_after_current: Callable[[], bool] = lambda: False,
              cancel_now: Callable[[], bool] = lambda: False, hints: Hints = GUI_HINTS,
              expert_progress: bool = False) -> str:
    """Run the planned photos one by one, reporting each through ``emit``; returns the
    outcome (``finished``, ``stopped``, ``cancelled`` or ``disk full``), also emitted as
    an ``end`` event. A cancelled photo is queued again (nothing of it was written);
    a stop leaves the rest queued. ``progress`` events carry the photo's share of its run time
    (``pace.RunPace``; 0 until its steps' pace is known) and, with ``expert_progress``, come
    from the experts' pieces too."""
    outcome = "finished"
    for item in plan:
        if cancel_now() or stop_after_current():
            outcome = "cancelled" if cancel_now() else "stopped"
            break
        t0 = time.perf_counter()
        emit(BatchEvent("started", item.index))
        decision = decide(item.source, item.target, options, item.inputs, item.clash_with, hints)
        if decision.action != PROCESS:
            state = SKIPPED if decision.action == SKIP else FAILED
            emit(BatchEvent("finished", item.index, 1.0, state, decision.reason, time.perf_counter() - t0))
            continue
        index, pace = item.index, RunPace(t0)

        def on_progress(p) -> None:  # the photo's share of its run time, from its measured work
            report = pace.update(p, time.perf_counter())
            emit(BatchEvent("progress", index, report.photo_fraction, reason=step_label(p)))

        try:
            upscale_one(item.source, item.target, loaded, options, params,
                        on_note=lambda text: emit(BatchEvent("note", index, reason=text)),
                        on_progress=on_progress, cancelled=cancel_now, expert_progress=expert_progress)
        except Cancelled:
            emit(BatchEvent("finished", index, 0.0, QUEUED, "cancelled; it runs again on Start",
                            time.perf_counter() - t0))
            outcome = "cancelled"
            break
        except Exception as exc:  # noqa: BLE001 - one bad photo must not end the batch
            emit(BatchEvent("finished", index, 0.0, FAILED, failure_reason(item.source, exc),
                            time.perf_counter() - t0))
            if is_disk_full(exc):
                outcome = "disk full"
                break
            continue
        emit(BatchEvent("finished", index, 1.0, DONE, "", time.perf_counter() - t0))
    emit(BatchEvent("end", reason=outcome))
    return outcome
