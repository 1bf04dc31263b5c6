"""Running a progress generator to its end: the one place that unpacks a generator's
return value (``StopIteration.value``), so callers deal only in callbacks."""

from __future__ import annotations

from typing import Callable, Generator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def drain(gen: Generator[Item, None, Result], on_item: Callable[[Item], None] | None = None) -> Result:
    """Iterate ``gen`` to the end, calling ``on_item`` with each yielded item, and return
    what the generator returns. An exception from ``on_item`` (a cancel, say) closes the
    generator first, so its ``finally`` blocks run before the exception travels on."""
    try:
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            if on_item is not None:
                on_item(item)
    finally:
        gen.close()
