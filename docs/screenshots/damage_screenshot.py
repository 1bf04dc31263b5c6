"""Screenshot of the Damage view with a brush edit (README, docs): the run's damage map in red
over the photo ("Repair damage" on), and the sample's vertical scratch painted in with the brush.

    xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python docs/screenshots/damage_screenshot.py \
        models/segsr-x4.safetensors [PHOTO]   (default PHOTO: the bundled sample)

MODEL must have a repair stage (the shipped segsr-x4 has one). The strokes are the sample's vertical scratch, in its own
pixels; they are painted with real mouse events on the canvas, as a user paints. Writes
docs/screenshots/damage-view.png; the settings go to a temporary config folder.
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
SAMPLE = ROOT / "resources" / "sample.png"
STROKES = [[(79.5, 60.0), (79.5, 88.5), (80.5, 89.5), (80.5, 117.0)]]  # the sample's vertical scratch
BRUSH = 3  # photo pixels: the scratch is 1-2 wide


def main() -> int:
    from PySide6.QtCore import QPointF, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from segsr_gui.app.model_info import has_repair
    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.app import apply_theme
    from segsr_gui.ui.main_window import MainWindow

    if len(sys.argv) < 2 or not Path(sys.argv[1]).is_file() or not has_repair(sys.argv[1]):
        print("damage_screenshot: give a model file with a repair stage (segsr add-repair makes one)",
              file=sys.stderr)
        return 1
    photo = Path(sys.argv[2]) if len(sys.argv) > 2 else SAMPLE
    if not photo.is_file():
        print(f"damage_screenshot: not found: {photo}", file=sys.stderr)
        return 1
    app = QApplication(sys.argv[:1])
    apply_theme(app, "dark")
    settings = settings_mod.load()
    settings.run.model, settings.run.seed, settings.run.repair = sys.argv[1], 1, "auto"
    window = MainWindow(settings, models=[])
    window.resize(1280, 940)
    window.show()
    status = {"code": 1}

    def paint() -> None:
        tools = window.damage
        tools.dock.raise_()
        tools.panel.show_box.setChecked(True)
        tools.panel.set_tool("brush")
        tools.panel.size.setValue(BRUSH)
        app.processEvents()
        overlay = tools.overlays[0]
        for stroke in (STROKES if photo == SAMPLE else []):
            points = [overlay.canvas.to_view(QPointF(4 * x, 4 * y)).toPoint() for x, y in stroke]
            QTest.mousePress(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            for a, b in zip(points, points[1:]):  # in short moves, as a hand drags
                for i in range(1, 9):
                    QTest.mouseMove(overlay, a + (b - a) * i / 8)
            QTest.mouseRelease(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        QTest.mouseMove(overlay, overlay.canvas.to_view(QPointF(4 * 120, 4 * 40)).toPoint())  # the brush outline
        app.processEvents()
        out = ROOT / "docs" / "screenshots" / "damage-view.png"
        ok = window.grab().save(str(out))
        print(f"screenshot: {out}" if ok else f"screenshot: could not write {out}")
        status["code"] = 0 if ok else 1
        app.quit()

    def finished(outcome: str) -> None:
        if outcome != "done":
            print(f"damage_screenshot: the run ended {outcome}", file=sys.stderr)
            app.quit()
            return
        QTimer.singleShot(300, paint)

    window.runFinished.connect(finished)
    window.photoLoaded.connect(lambda _: window.start_run())
    window.open_path(photo)
    app.exec()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
