"""The studio's persisted settings: one typed model with sections and a schema version.

Layering, like labelme's ``get_config``: defaults -> the user's JSON file -> command-line
overrides. Unknown keys are logged and dropped, enum-like values are validated and
fall back to their default. Reading never writes; ``save`` writes atomically.

The file lives in ``platformdirs.user_config_dir("segsr-studio")``; the environment
variable ``SEGSR_STUDIO_CONFIG_DIR`` points it elsewhere (tests, portable installs).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from segsr_gui.app.appdirs import APP_NAME, config_dir, log_dir, read_json_dict  # noqa: F401 - re-exported for the window
from segsr_gui.io.atomic import write_json_atomic

SCHEMA_VERSION = 2
MAX_RECENT = 10
log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
THEMES = ("dark", "light")
SEED_MODES = ("random", "fixed")
UPSAMPLERS = ("bicubic", "nearest")
REPAIRS = ("auto", "on", "off")  # repair_step.REPAIR_MODES, without importing the engine


@dataclass
class RunSettings:
    """How a run is made.

    Args:
        model: a shipped model's manifest name (``segsr-x4``) or a path to a ``.safetensors`` file.
        steps: sampling steps, 0 = the model's default.
        seed_mode: ``Literal["random", "fixed"]``; ``seed`` is used when fixed.
        tile: LR tile side in pixels, 0 = automatic (from free memory).
        device: ``Literal["auto", "cpu", "cuda"]``.
        preview_every: send a preview every N steps (the last step always).
        mirror: also restore the mirrored photo and average the two (twice the time).
        strength_auto: Auto restoration strength (from the photo's damage); otherwise
            ``strength`` 0 (faithful) .. 1 (clean), also where the slider stands under Auto.
        repair: ``Literal["auto", "on", "off"]``: fill the photo's scratches, cracks and dust
            first, "auto" only in a photo that shows scratches or cracks (a model with a
            repair stage; the others ignore it).
    """

    model: str = "segsr-x4"
    steps: int = 0
    seed_mode: Literal["random", "fixed"] = "fixed"
    seed: int = 0
    tile: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    preview_every: int = 1
    mirror: bool = False
    strength_auto: bool = True
    strength: float = 0.7
    repair: Literal["auto", "on", "off"] = "auto"


@dataclass
class ViewSettings:
    theme: Literal["dark", "light"] = "dark"
    overlay_opacity: float = 0.45
    original_upsampler: Literal["bicubic", "nearest"] = "bicubic"


@dataclass
class FileSettings:
    recent: list = field(default_factory=list)
    last_open_dir: str = ""
    last_export_dir: str = ""
    export_masks: bool = True


@dataclass
class WindowSettings:
    geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    state: str = ""


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    run: RunSettings = field(default_factory=RunSettings)
    view: ViewSettings = field(default_factory=ViewSettings)
    files: FileSettings = field(default_factory=FileSettings)
    window: WindowSettings = field(default_factory=WindowSettings)

    def add_recent(self, path: str | os.PathLike) -> None:
        path = str(Path(path).resolve())
        self.files.recent = [path] + [p for p in self.files.recent if p != path][:MAX_RECENT - 1]


_SECTIONS = {"run": RunSettings, "view": ViewSettings, "files": FileSettings, "window": WindowSettings}
_CHOICES = {("run", "device"): DEVICES, ("run", "seed_mode"): SEED_MODES,
            ("view", "theme"): THEMES, ("run", "repair"): REPAIRS, ("view", "original_upsampler"): UPSAMPLERS}
_RANGES = {("run", "steps"): (0, 50), ("run", "seed"): (0, 2**31 - 1), ("run", "tile"): (0, 4096),
           ("run", "preview_every"): (1, 50), ("run", "strength"): (0.0, 1.0),
           ("view", "overlay_opacity"): (0.0, 1.0)}


def run_params(r: RunSettings):
    """The Restore panel's settings as the engine's ``RunParams`` (for a photo and a batch)."""
    from segsr_gui.app.batch import RunParams
    
    return RunParams(r.steps or None, r.seed, r.tile or None, r.device, mirror=r.mirror,
                     strength=None if r.strength_auto else r.strength, repair=r.repair)


def migrate(data: dict) -> dict:
    """Bring an older file's dict to ``SCHEMA_VERSION`` (version 1 is the first). Version 1
    kept the repair as a switch: on stays on, off (its default) becomes Auto."""
    data = dict(data)
    run = data.get("run")
    if data.get("schema_version", 1) < 2 and isinstance(run, dict) and isinstance(run.get("repair"), bool):
        data["run"] = {**run, "repair": "on" if run["repair"] else "auto"}
    data["schema_version"] = SCHEMA_VERSION
    return data


def _section_from(name: str, raw: object):
    cls = _SECTIONS[name]
    section = cls()
    if not isinstance(raw, dict):
        return section
    known = {f.name: f for f in fields(cls)}
    for key, value in raw.items():
        if key not in known:
            log.warning("settings: unknown key %s.%s ignored", name, key)
            continue
        default = getattr(section, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = type(default)(value) if ok else value
        else:
            ok = isinstance(value, type(default))
        choices, bounds = _CHOICES.get((name, key)), _RANGES.get((name, key))
        if ok and choices is not None:
            ok = value in choices
        if ok and bounds is not None:
            ok = bounds[0] <= value <= bounds[1]
        if ok:
            setattr(section, key, value)
        else:
            log.warning("settings: invalid value %r for %s.%s, using %r", value, name, key, default)
    return section


def from_dict(data: dict) -> Settings:
    if data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        data = migrate(data)
    for key in data:
        if key != "schema_version" and key not in _SECTIONS:
            log.warning("settings: unknown section %s ignored", key)
    return Settings(**{name: _section_from(name, data.get(name)) for name in _SECTIONS})


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load() -> Settings:
    """Defaults overlaid with the user's file; a missing or broken file gives defaults."""
    data = read_json_dict(settings_path(), "settings")
    return Settings() if data is None else from_dict(data)


def save(settings: Settings) -> None:
    write_json_atomic(settings_path(), asdict(settings))
