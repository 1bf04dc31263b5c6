"""Entry point of the frozen app: one executable, two commands.

``segsr-gui`` (the executable) starts the window; ``segsr`` (a symlink to it that
build.sh puts beside it) is the command line tool. The name the program was called by
picks which, so both share one copy of torch, Qt and the weights.
"""

import sys
from pathlib import Path


def _main() -> int:
    if Path(sys.argv[0]).name.startswith("segsr-gui"):
        from segsr_gui.ui.app import main
    else:
        from segsr_gui.app.cli import main
    return main()


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(_main())
