"""How far a photo's run is and how long it has left, from its own measured work (Qt-free: the
window's progress bar and the batch queue both use it).

A run has two phases whose paces differ by far: the experts, piece by piece (LR pixels), then
the chain's steps (tile pixels times steps). Each phase's pace is measured on this run, from
the events the pipeline yields; the steps' pace is not known before their first step, so until
then only the experts' time left is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class PaceReport:
    """What a progress display shows after one event."""

    phase: str  # "experts" | "steps"
    label: str  # "Experts: 2/9 tiles done" | "Step 3/4  (tile 1/2)"
    fraction: float  # of this phase's work, 0..1
    seconds_left: Optional[float]  # of the whole run; None while not known
    experts_left: Optional[float] = None  # during the experts: their own time left, once measured
    photo_fraction: float = 0.0  # of the whole run's time (0 while the steps' pace is unknown)


class RunPace:
    """Feed it every pipeline event (``update``); it measures each phase's seconds per unit of
    work, from the phase's first event on when it has two (the first one also holds the
    phase's start-up: the strength, the person prior, the first tile's set-up)."""

    def __init__(self, now: float):
        self.started = now
        self.phase = ""
        self._phase_start = self._last = now
        self._first = (now, 0)  # (time, work done) of the phase's first event

    def update(self, event, now: float) -> PaceReport:
        experts = not hasattr(event, "step")  # a pipeline.ExpertsProgress (no torch import here)
        phase = "experts" if experts else "steps"
        if phase != self.phase:
            self._phase_start = self._last if self.phase else self.started
            self.phase, self._first = phase, (now, event.work_done)
        self._last = now
        done, total = event.work_done, max(1, event.work_total)
        t0, done0 = self._first
        if done > done0:
            rate = (now - t0) / (done - done0)
        else:
            rate = (now - self._phase_start) / max(1, done)
        left = max(0, total - done) * rate
        if experts:
            label = f"Experts: {event.index + 1}/{event.pieces} tiles done"
            return PaceReport(phase, label, done / total, None, left)
        label = f"Step {event.step.index + 1}/{event.step.total}"
        if event.tiles > 1:
            label += f"  (tile {event.tile_index + 1}/{event.tiles})"
        elapsed = now - self.started
        return PaceReport(phase, label, done / total, left, None, elapsed / max(1e-9, elapsed + left))
