"""What the window's batch queue says: the time left of a run, its closing summary, and
what was added. Qt-free; the panel feeds it the batch's events and shows its sentences.

The time left is the pixels still to do at this run's pace (seconds per pixel of the
photos done), not photos times the mean photo: a batch of small photos followed by big
ones would otherwise promise seconds for minutes of work.
"""

from __future__ import annotations

from typing import Optional

from segsr_gui.app.batch import DONE

ESTIMATING = "estimating time left\u2026"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class TimeLeft:
    """Pace and work left of one batch run. ``pixels``: {queue index: pixels} of the photos
    planned (0 where unknown: such a photo counts as the mean of the known ones)."""

    def __init__(self, pixels: dict[int, int]):
        known = [p for p in pixels.values() if p > 0]
        mean = sum(known) / len(known) if known else 1.0
        self.weight = {i: float(p) if p > 0 else mean for i, p in pixels.items()}
        self.left = set(pixels)
        self.done_weight = self.done_seconds = 0.0
        self.current: Optional[int] = None
        self.started_at = 0.0
        self.fraction = 0.0

    def start(self, index: int, now: float) -> None:
        self.current, self.started_at, self.fraction = index, now, 0.0

    def progress(self, fraction: float) -> None:
        self.fraction = max(self.fraction, fraction)  # a retry restarts a photo's steps

    def finish(self, index: int, state: str, seconds: float) -> None:
        """A photo ended; one that was cancelled (queued again) is still to do."""
        if state == DONE:
            self.done_weight += self.weight.get(index, 0.0)
            self.done_seconds += seconds
        if state != "queued":
            self.left.discard(index)
        self.current, self.fraction = None, 0.0

    def seconds(self, now: float) -> Optional[float]:
        """Seconds left, or None while the pace is not known yet."""
        current = self.weight.get(self.current, 0.0) if self.current is not None else 0.0
        if self.done_weight > 0:
            rate = self.done_seconds / self.done_weight
        elif current > 0 and self.fraction > 0.05:
            rate = (now - self.started_at) / (self.fraction * current)
        else:
            return None
        work = sum(self.weight[i] for i in self.left) - self.fraction * current
        return max(0.0, work) * rate

    def text(self, now: float) -> str:
        seconds = self.seconds(now)
        return ESTIMATING if seconds is None else f"about {duration(seconds)} left"


def added(added: int, found: int, problems: list[str]) -> str:
    """The sentence after photos were added: how many, how many were queued already, and
    the first few problems."""
    text = f"Added {added} photo{'s' if added != 1 else ''} to the batch"
    if found > added:
        text += f" ({found - added} already queued)"
    text += "."
    if problems:
        text += " " + " ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    return text


HEADS = {"finished": "Batch finished", "stopped": "Batch stopped", "cancelled": "Batch cancelled",
         "disk full": "Batch stopped: the disk is full; free some space and press Start again",
         "failed": "The batch could not start"}


def summary(outcome: str, counts: dict[str, int], queued: int, failed: int, earlier: int,
            error: str = "") -> str:
    """The sentence after a batch run: this run's counts (``done``, ``skipped``, ``failed``),
    what is still queued, and how to retry the photos that failed (in this run or before)."""
    head = HEADS.get(outcome, "Batch ended")
    if outcome == "failed" and error:
        return f"{head}: {error}."
    text = f"{head}: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed"
    if queued:
        text += f"; {queued} still to do (press Start to go on)"
    if failed:
        text += f"; press Retry failed to try {'it' if failed == 1 else f'the {failed} failed photos'} again"
    if outcome != "failed" and earlier:
        text += f" ({earlier} finished in earlier runs)"
    return text + "."
