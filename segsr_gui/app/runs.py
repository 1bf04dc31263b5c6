"""The runs of the photo on show, newest first, and the keys the compare pickers use for
them. Qt-free: the window keeps one ``RunHistory`` and asks it; nothing here paints.

A run is any object with the attributes ``RunOutput`` has (``model_name``, ``steps``,
``seed``, ``mirror``, ``frames``); the history gives it its ``id``.
"""

from __future__ import annotations

from typing import Optional

MAX_RUNS = 5  # runs of the current photo kept for comparison
KEEP_STEPS_RUNS = 2  # the newest runs keep every step for the scrubber; older ones their result
ORIGINAL = "original"  # source key of the photo itself
LIVE = "live"  # source key of the run in progress


def run_key(run) -> str:
    return f"run:{run.id}"


def run_label(run) -> str:
    """``Run 2: segsr-x4, Auto (21 %), repaired 0.8 %, 3 steps, seed 0``: what tells this photo's
    runs apart, the restoration strength first (a model with one expert has none to show)."""
    strength = getattr(run, "strength", None)
    used = f", {strength.describe()}" if strength is not None else ""
    return (f"Run {run.id}: {run.model_name}{used}{repair_words(run)}, {run.steps} steps, seed {run.seed}"
            + (", mirrored" if getattr(run, "mirror", False) else ""))


def repair_words(run) -> str:
    """``, repaired 1.2 %`` (the share of the photo filled), ``, your damage mask`` when it
    filled a mask the user painted; empty when the run repaired nothing."""
    damage = getattr(getattr(run, "result", None), "damage", None)
    if damage is None or not damage.any():  # no repair, or Auto found no scratches to fill
        return ""
    if getattr(run, "damage_given", False):
        return f", your damage mask ({100 * damage.mean():.1f} %)"
    return f", repaired {100 * damage.mean():.1f} %"


class RunHistory:
    """Runs of one photo: numbered from 1 for each photo, at most ``MAX_RUNS`` kept, and
    only the newest ``KEEP_STEPS_RUNS`` keep their step frames (memory)."""

    def __init__(self):
        self.runs: list = []  # newest first
        self._next_id = 1

    def clear(self) -> None:
        """A new photo: no runs, and its first run is Run 1 again."""
        self.runs.clear()
        self._next_id = 1

    def add(self, run) -> str:
        """Number ``run``, keep it first and return its source key."""
        run.id = self._next_id
        self._next_id += 1
        self.runs.insert(0, run)
        del self.runs[MAX_RUNS:]
        for older in self.runs[KEEP_STEPS_RUNS:]:
            older.frames = older.frames[-1:]
        return run_key(run)

    def by_key(self, key: Optional[str]):
        for run in self.runs:
            if key == run_key(run):
                return run
        return None

    @property
    def newest(self):
        return self.runs[0] if self.runs else None

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self):
        return iter(self.runs)

    def sources(self, running: bool) -> list[tuple[str, str]]:
        """(label, key) of everything the Left/Right pickers offer, in order."""
        items = [("Original photo", ORIGINAL)] + [(run_label(r), run_key(r)) for r in self.runs]
        if running:
            items.insert(1, ("This run (in progress)", LIVE))
        return items

    def pick(self, items: list[tuple[str, str]], left: Optional[str], right: Optional[str]) -> tuple[str, str]:
        """The Left/Right keys to show: the ones asked for when offered, else the original
        on the left and the first run (or the live one) on the right."""
        keys = [k for _, k in items]
        left = left if left in keys else ORIGINAL
        if right is None and self.runs:
            right = run_key(self.runs[0])
        if right not in keys:
            right = keys[1] if len(keys) > 1 else ORIGINAL
        return left, right
