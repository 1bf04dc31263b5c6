"""Screenshots of the batch queue (README): mid-batch and finished, with the shipped model.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/batch_screenshots.py \
        [PHOTO ...]   (default: three old photos from ../shared/data/real_world)

Writes docs/screenshots/batch.png (after the first photo is done) and batch_done.png.
Outputs go to a temporary folder; the settings to a temporary config folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
os.environ["SEGSR_STUDIO_CONFIG_DIR"] = tempfile.mkdtemp()
DEFAULT = [ROOT.parent / "shared" / "data" / "real_world" / n for n in ("old_a.png", "old_b.png", "old_scratch_a.png")]


def main() -> int:
    from PySide6.QtCore import QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.app import apply_theme
    from segsr_gui.ui.main_window import MainWindow

    photos = [Path(p) for p in sys.argv[1:]] or DEFAULT
    missing = [str(p) for p in photos if not p.is_file()]
    if missing:
        print(f"batch_screenshots: not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    app = QApplication(sys.argv[:1])
    settings = settings_mod.load()
    apply_theme(app, "dark")
    window = MainWindow(settings)
    window.resize(1280, 820)
    window.show()
    window.show_batch(True)
    panel = window.batch_panel
    out = Path(tempfile.mkdtemp())
    shots = ROOT / "docs" / "screenshots"
    status = {"code": 0, "shots": 0}

    def grab(name: str) -> None:
        app.processEvents()
        ok = window.grab().save(str(shots / name))
        print(f"screenshot: {shots / name}" if ok else f"screenshot: could not write {name}")
        status["shots"] += 1
        status["code"] |= 0 if ok else 1  # one failed shot fails the script

    class Relay(QObject):
        """Lives on the GUI thread, so the worker's signal reaches it queued (a plain function
        would run on the worker thread, where no timer or widget may be touched)."""

        @Slot(int, str, str, float)
        def item_finished(self, index: int, state: str, reason: str, seconds: float) -> None:
            if index == 0:
                grab("batch.png")  # the second photo is running now

    relay = Relay()

    def on_end(outcome: str) -> None:
        def last():
            grab("batch_done.png")
            window.close()
            app.quit()
        QTimer.singleShot(300, last)

    def begin() -> None:
        panel.set_output_folder(out)
        panel.add_paths([str(p) for p in photos])
        QTimer.singleShot(1500, start)  # adding is asynchronous (folders are searched off the GUI thread)

    def start() -> None:
        panel.start()
        worker = getattr(panel, "_worker", None)
        if worker is not None:
            worker.itemFinished.connect(relay.item_finished)

    panel.batchFinished.connect(on_end)
    QTimer.singleShot(200, begin)
    app.exec()
    return status["code"] or int(status["shots"] < 2)


if __name__ == "__main__":
    sys.exit(main())
