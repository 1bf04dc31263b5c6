"""Where the app keeps its files. Qt-free, so the engine (the batch queue) and the
window (settings, logs) find the same folders.

``platformdirs`` picks the platform's folders; ``SEGSR_STUDIO_CONFIG_DIR`` and
``SEGSR_STUDIO_LOG_DIR`` point them elsewhere (tests, portable installs).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import platformdirs

APP_NAME = "segsr-studio"
log = logging.getLogger(__name__)


def config_dir() -> Path:
    env = os.environ.get("SEGSR_STUDIO_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    env = os.environ.get("SEGSR_STUDIO_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_export_dir() -> Path:
    """Where exports go until the user picks a folder: a ``restored`` folder in the user's
    Pictures (never next to the originals). Not created here."""
    return Path(platformdirs.user_pictures_dir()) / "restored"


def read_json_dict(path: Path, what: str) -> dict | None:
    """A JSON object saved by the app, or None when the file is missing, unreadable or not
    an object (logged: a damaged settings or queue file must never stop the app)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s %s unreadable (%s); starting from defaults", what, path, exc)
        return None
    return data if isinstance(data, dict) else None
