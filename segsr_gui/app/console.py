"""What every ``segsr`` command shares: one line per failure on stderr, and the exit codes."""

from __future__ import annotations

import sys

from segsr_gui.app.batch import _sentence

EXIT_FAILED_INPUTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def fail(message: str) -> None:
    print(f"segsr: {_sentence(message)}", file=sys.stderr)
