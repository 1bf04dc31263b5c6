"""A model in words, for the model picker: what it is for and how long a run takes.
Qt-free; read from the model's manifest, never from its name."""

from __future__ import annotations

import json
from pathlib import Path


def _config(weights: str | Path) -> dict:
    try:
        manifest = json.loads(Path(weights).with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    config = manifest.get("config") if isinstance(manifest, dict) else None
    return config if isinstance(config, dict) else {}


def refines_image(weights: str | Path) -> bool:
    """Whether the model's diffusion changes the image (so the colour fix means something);
    the shipped models keep the experts' image and refine only the classes."""
    return bool(_config(weights).get("refine_image", True))


def has_strength(weights: str | Path) -> bool:
    """Whether the model has two experts to blend (the restoration strength)."""
    return bool(_config(weights).get("clean_expert"))


def describe(weights: str | Path) -> str:
    """One line: the manifest's ``description`` when it has one, else what its fields say
    (whether it finds classes, its steps); empty when there is no readable manifest."""
    try:
        manifest = json.loads(Path(weights).with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(manifest, dict):
        return ""
    text = manifest.get("description")
    if isinstance(text, str) and text.strip():
        return text.strip()
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    classes = manifest.get("bridge", config.get("bridge", False))
    what = ("Restores the photo and finds what is in it (sky, road, buildings\u2026)" if classes else
            "Restores the photo only; finds no classes")
    steps = manifest.get("steps")
    if isinstance(steps, int) and steps > 0:
        what += f"; {steps} steps a run"
    return what
