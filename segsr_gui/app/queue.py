"""The window's batch queue: the photos to restore, where to and how, saved as JSON in
the config folder after every change so it survives a restart (``batch.run_batch`` runs it)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from segsr_gui.app.appdirs import config_dir, read_json_dict
from segsr_gui.app.batch import (
    DONE, FAILED, QUEUE_VERSION, QUEUED, RUNNING, SKIPPED, STATES, BatchEvent, PlannedItem, find_photos,
    name_clashes,
)
from segsr_gui.io.atomic import write_json_atomic


@dataclass
class QueueItem:
    source: str  # the photo, absolute
    subfolder: str = "."  # output sub-folder, relative to the output folder (mirrors the input)
    state: str = QUEUED
    reason: str = ""  # why it failed or was skipped
    pixels: int = 0  # width x height, for the time left (0: not known)

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

    def add_found(self, found: list[tuple]) -> int:
        """Add ``find_photos`` results that are not queued yet; returns how many."""
        known = {item.source for item in self.items}
        added = 0
        for source, sub, *pixels in found:
            if source not in known:
                known.add(source)
                self.items.append(QueueItem(source, sub, pixels=pixels[0] if pixels else 0))
                added += 1
        return added

    def retry_failed(self) -> int:
        """Queue the failed photos again (the user asked to); returns how many."""
        failed = [item for item in self.items if item.state == FAILED]
        for item in failed:
            item.state, item.reason = QUEUED, ""
        return len(failed)

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
        from segsr_gui.app.export import studio_options

        return studio_options(self.format, self.masks, self.overwrite, self.quality)

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
            self.retry_failed()
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
            pixels = raw.get("pixels") if isinstance(raw.get("pixels"), int) and raw["pixels"] > 0 else 0
            queue.items.append(QueueItem(raw["source"], sub, state, reason, pixels))
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
