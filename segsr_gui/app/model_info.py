"""A model in words, for the model picker: what it is for and how long a run takes.
Qt-free; read from the model's manifest, never from its name."""

from __future__ import annotations

import json
from pathlib import Path


from segsr_gui.engine.nets.manifest_upgrade import MANIFEST_VERSION, OutdatedModel, upgrade_manifest


def _config(weights: str | Path) -> dict:
    """The manifest's config in today's layout ({} when unreadable or outdated)."""
    try:
        manifest = json.loads(Path(weights).with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    config = manifest.get("config") if isinstance(manifest, dict) else None
    if not isinstance(config, dict):
        return {}
    if manifest.get("manifest_version", 1) < MANIFEST_VERSION:
        try:
            return upgrade_manifest(manifest)["config"]
        except (OutdatedModel, KeyError, TypeError, ValueError):
            return {}
    return config


def has_strength(weights: str | Path) -> bool:
    """Whether the model has two experts to blend (the restoration strength)."""
    experts = _config(weights).get("experts")
    return isinstance(experts, dict) and bool(experts.get("clean"))


def has_repair(weights: str | Path) -> bool:
    """Whether the model has a repair stage (finds and fills scratches, cracks and dust)."""
    return _config(weights).get("repair") is not None


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
    classes = bool(_config(weights).get("classes"))
    what = ("Restores the photo and finds what is in it (sky, road, buildings\u2026)" if classes else
            "Restores the photo only; finds no classes")
    steps = manifest.get("steps")
    if isinstance(steps, int) and steps > 0:
        what += f"; {steps} steps a run"
    return what
