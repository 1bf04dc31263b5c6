"""Batches of photos, shared by the ``segsr upscale`` command and the window's queue.

    collect_inputs(["shoebox/"])          -> (photo, sub-folder) pairs, folders mirrored
    decide(photo, target, options, ...)   -> process | skip | fail (with the reason)
    upscale_one(photo, target, ...)       -> load, upscale, export one photo (atomic)
    BatchQueue                            -> the window's queue, saved as JSON in the
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from segsr_gui.app.appdirs import config_dir

from segsr_gui.app.appdirs import read_json_dict

from segsr_gui.io.atomic import write_json_atomic
from segsr_gui.errors import ImageSaveError, SegSRError


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
    """How each photo is upscaled (``steps``, ``colour_sigma`` None: the model's default;
    ``mirror``: average with a chain on the mirrored photo, twice the time)."""

    steps: Optional[int] = None
    seed: int = 0
    tile: Optional[int] = None
    device: str = "cpu"
    colour_sigma: Optional[float] = None
    precision: str = "auto"
    mirror: bool = False


def upscale_one(path: Path, target: Path, loaded, options, params: RunParams, *,
                on_note: Callable[[str], None] = lambda text: None,
                on_progress: Callable[[object], None] = lambda progress: None,
                cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Load, upscale (retrying with smaller tiles when out of memory) and export one
    photo; returns the written files. ``on_progress`` gets each ``Progress``;
    ``cancelled`` is asked after every step and raises ``Cancelled`` (nothing written)."""
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
                                tile=params.tile, device=params.device, colour_sigma=params.colour_sigma,
                                precision=params.precision, mirror=params.mirror,
                                on_retry=retry)

    def on_step(progress) -> None:
        on_progress(progress)
        if cancelled():
            raise Cancelled

    result = drain(gen, on_step)
    if cancelled():  # asked after the last step: still nothing written
        raise Cancelled
    return export.export_result(image, result, target, path.stem, options, loaded.name, loaded.classes,
                                loaded.palette, loaded.manifest.get("sha256"))


def step_label(progress) -> str:
    """``tile i/n step j/k`` of a pipeline ``Progress``."""
    return (f"tile {progress.tile_index + 1}/{progress.tiles} "
            f"step {progress.step.index + 1}/{progress.step.total}")


def fraction_of(progress) -> float:
    """How far one photo is, from a pipeline ``Progress`` (tiles times steps)."""
    per_tile = progress.step.total
    return (progress.tile_index * per_tile + progress.step.index + 1) / (progress.tiles * per_tile)


# ---- the window's queue -------------------------------------------------------------
def find_photos(paths: list[str | os.PathLike], output_folder: str = "") -> tuple[list[tuple[str, str]], list[str]]:
    """Photos under ``paths`` (folders recursive, image types only, nothing inside the
    output folder) as (absolute path, output sub-folder) pairs, and one sentence per
    problem. Touches the disk only: the window calls it off its GUI thread."""
    from segsr_gui.io.read import IMAGE_SUFFIXES

    found, problems = collect_inputs([str(p) for p in paths], exclude=Path(output_folder) if output_folder else None)
    photos = []
    for path, rel in found:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            problems.append(f"{path}: not a photo this app reads (PNG, JPEG, WebP, TIFF, BMP, GIF).")
        else:
            photos.append((str(path.resolve()), rel.as_posix()))
    return photos, problems


@dataclass
class QueueItem:
    source: str  # the photo, absolute
    subfolder: str = "."  # output sub-folder, relative to the output folder (mirrors the input)
    state: str = QUEUED
    reason: str = ""  # why it failed or was skipped

    @property
    def path(self) -> Path:
        return Path(self.source)


def queue_path() -> Path:
    return config_dir() / "batch_queue.json"


@dataclass
class BatchQueue:
    """The photos to restore, where to, and how; saved after every change."""

    items: list[QueueItem] = field(default_factory=list)
    output_folder: str = ""
    format: str = "png"
    masks: bool = False
    overwrite: bool = False
    quality: int = 95

    # -- contents --
    def add(self, paths: list[str | os.PathLike]) -> tuple[int, list[str]]:
        """Add photos and folders; returns how many were added and one sentence per problem."""
        found, problems = find_photos(paths, self.output_folder)
        return self.add_found(found), problems

    def add_found(self, found: list[tuple[str, str]]) -> int:
        """Add ``find_photos`` results that are not queued yet; returns how many."""
        known = {item.source for item in self.items}
        added = 0
        for source, sub in found:
            if source not in known:
                known.add(source)
                self.items.append(QueueItem(source, sub))
                added += 1
        return added

    def clear_finished(self) -> int:
        """Drop done and skipped photos (failed ones stay, to be retried); returns how many."""
        before = len(self.items)
        self.items = [item for item in self.items if item.state not in (DONE, SKIPPED)]
        return before - len(self.items)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for item in self.items:
            counts[item.state] += 1
        return counts

    def export_options(self):
        from segsr_gui.app.export import ExportOptions

        return ExportOptions(self.format, self.masks, self.overwrite, self.quality)

    def target_of(self, item: QueueItem) -> Path:
        return Path(self.output_folder) / item.subfolder

    def output_folder_problem(self) -> Optional[str]:
        """Why the batch cannot start with this output folder, or None."""
        from segsr_gui.io.atomic import check_writable_folder

        if not self.output_folder:
            return "Choose an output folder first."
        out = Path(self.output_folder)
        for item in self.items:
            root = item.path.parent
            for _ in Path(item.subfolder).parts:
                root = root.parent
            if root.resolve() == out.resolve():
                return (f"The output folder {out} is also a folder of the queued photos; choose another "
                        "output folder so results do not mix with the originals.")
        return check_writable_folder(out)

    def plan(self, retry_failed: bool = True) -> list[PlannedItem]:
        """The photos a Start runs, in order: queued ones (and failed ones, retried).
        Done photos are never redone; name clashes count every photo in the queue."""
        if retry_failed:
            for item in self.items:
                if item.state == FAILED:
                    item.state, item.reason = QUEUED, ""
        clashes = name_clashes([(item.path, Path(item.subfolder)) for item in self.items])
        inputs = {item.path.resolve() for item in self.items}
        return [PlannedItem(i, item.path, self.target_of(item), clashes.get(item.path), inputs)
                for i, item in enumerate(self.items) if item.state == QUEUED]

    def apply(self, event: BatchEvent) -> None:
        """Record what the batch reported about one photo."""
        if event.index < 0 or event.index >= len(self.items):
            return
        item = self.items[event.index]
        if event.kind == "started":
            item.state, item.reason = RUNNING, ""
        elif event.kind == "finished":
            item.state, item.reason = event.state, event.reason

    # -- persistence --
    def to_dict(self) -> dict:
        data = asdict(self)
        data["version"] = QUEUE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict) -> BatchQueue:
        """Tolerant: bad entries are dropped, bad options fall back to defaults. A photo
        left running (the app quit mid-photo) is queued again; nothing of it was written."""
        from segsr_gui.io.read import FORMATS

        queue = cls()
        for raw in data.get("items", []) if isinstance(data.get("items"), list) else []:
            if not isinstance(raw, dict) or not isinstance(raw.get("source"), str):
                continue
            state = raw.get("state") if raw.get("state") in STATES else QUEUED
            if state == RUNNING:
                state = QUEUED
            sub = raw.get("subfolder") if isinstance(raw.get("subfolder"), str) else "."
            if Path(sub).is_absolute() or ".." in Path(sub).parts:  # outputs stay inside the output folder
                sub = "."
            reason = raw.get("reason") if isinstance(raw.get("reason"), str) and state != QUEUED else ""
            queue.items.append(QueueItem(raw["source"], sub, state, reason))
        if isinstance(data.get("output_folder"), str):
            queue.output_folder = data["output_folder"]
        if data.get("format") in FORMATS:
            queue.format = data["format"]
        if isinstance(data.get("masks"), bool):
            queue.masks = data["masks"]
        # "overwrite" is not restored: replacing files is asked afresh in every session, so a
        # tick from an old batch cannot replace the outputs of a new one.
        if isinstance(data.get("quality"), int) and 1 <= data["quality"] <= 100:
            queue.quality = data["quality"]
        return queue

    def save(self, path: Path | None = None) -> None:
        """Atomically: a temporary file in the same folder, renamed over the old one."""
        write_json_atomic(path or queue_path(), self.to_dict(), indent=1)

    @classmethod
    def load(cls, path: Path | None = None) -> BatchQueue:
        """The saved queue; a missing or unreadable file gives an empty one."""
        data = read_json_dict(path or queue_path(), "batch queue")
        return cls() if data is None else cls.from_dict(data)



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
              cancel_now: Callable[[], bool] = lambda: False, hints: Hints = GUI_HINTS) -> str:
    """Run the planned photos one by one, reporting each through ``emit``; returns the
    outcome (``finished``, ``stopped``, ``cancelled`` or ``disk full``), also emitted as
    an ``end`` event. A cancelled photo is queued again (nothing of it was written);
    a stop leaves the rest queued."""
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
        index = item.index
        try:
            upscale_one(item.source, item.target, loaded, options, params,
                        on_note=lambda text: emit(BatchEvent("note", index, reason=text)),
                        on_progress=lambda p: emit(BatchEvent("progress", index, fraction_of(p), reason=step_label(p))),
                        cancelled=cancel_now)
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
