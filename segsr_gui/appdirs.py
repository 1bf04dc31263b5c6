"""Where the app keeps its files. Qt-free, so the engine (the batch queue) and the
window (settings, logs) find the same folders.

``platformdirs`` picks the platform's folders; ``SEGSR_STUDIO_CONFIG_DIR`` and
``SEGSR_STUDIO_LOG_DIR`` point them elsewhere (tests, portable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "segsr-studio"


def config_dir() -> Path:
    env = os.environ.get("SEGSR_STUDIO_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    env = os.environ.get("SEGSR_STUDIO_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
