"""Running ``iter_upscale`` so that running out of memory is not the end: the run
starts again with smaller tiles, down to ``MIN_TILE`` LR pixels, before it gives up
with an ``OutOfMemoryError`` that says what to do.

    iter_upscale_retrying(rgb, model, tile=None, on_retry=cb)
        -> try iter_upscale(tile)          yields Progress ...
           out of memory?  free caches -> cb(new_tile, exc) -> iter_upscale(new_tile) ...
        <- UpscaleResult  (StopIteration.value, as iter_upscale)

Progress starts again from the first tile after a retry; callers that show a
bar keep the furthest fraction seen so their bar never goes back.
"""

from __future__ import annotations

import gc
from typing import Callable, Generator, Optional

import numpy as np

from segsr_gui.errors import OutOfMemoryError
from segsr_gui.engine.inference.pipeline import (
    MIN_TILE, Progress, UpscaleResult, auto_tile_size, iter_upscale,
)


def is_out_of_memory(exc: BaseException) -> bool:
    """A ``MemoryError`` or a torch/allocator ``RuntimeError`` that says it ran out of memory."""
    if isinstance(exc, MemoryError):
        return True
    if not isinstance(exc, RuntimeError):
        return False
    text = str(exc).lower()
    return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory",
                                   "not enough memory", "failed to allocate"))


def smaller_tile(current: int, height: int, width: int, stride: int) -> Optional[int]:
    """The next LR tile side to try: half of the current one (0 meaning the whole image),
    a multiple of ``stride`` and at least ``MIN_TILE``; None when nothing smaller is left."""
    side = max(height, width) if current == 0 else current
    if side <= MIN_TILE:
        return None
    return max((side // 2) // stride * stride, MIN_TILE)


def _free_memory() -> None:
    gc.collect()
    try:
        import torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - freeing caches is best effort
        pass


def iter_upscale_retrying(rgb: np.ndarray, model, *, tile: int | None = None,
                          on_retry: Callable[[int, BaseException], None] | None = None,
                          **kwargs) -> Generator[Progress, None, UpscaleResult]:
    """``iter_upscale`` with out-of-memory retries at halved tile sizes.

    Args:
        tile: first LR tile side (None = chosen from free memory, 0 = one tile).
        on_retry: called as ``on_retry(new_tile, exc)`` before each retry.
        kwargs: passed to ``iter_upscale`` (steps, seed, device, ...).
    Raises:
        OutOfMemoryError: still out of memory at ``MIN_TILE``.
    """
    h, w = rgb.shape[:2]
    stride = getattr(model, "stride", 8)
    current = auto_tile_size(h, w, stride) if tile is None else tile
    while True:
        try:
            return (yield from iter_upscale(rgb, model, tile=current, **kwargs))
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            _free_memory()
            nxt = smaller_tile(current, h, w, stride)
            if nxt is None:
                size = f"with {current}-pixel tiles" if current else "for this photo"
                raise OutOfMemoryError(
                    f"Ran out of memory even {size}; close other programs, "
                    "use a smaller photo or --device cpu, and try again.") from None
            if on_retry is not None:
                on_retry(nxt, exc)
            current = nxt
