"""Entry point: ``segsr-gui [IMAGE]`` and ``segsr-gui --screenshot OUT.png [IMAGE]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from segsr_gui.ui.theme import apply_theme  # noqa: F401 - the entry point's theme, also for scripts


def sample_photo() -> Path | None:
    """The bundled sample photo, if this install has it."""
    candidates = []
    try:
        from importlib.resources import files
        candidates.append(Path(str(files("segsr_gui.resources"))) / "sample.png")
    except (ModuleNotFoundError, TypeError):
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "resources" / "sample.png")
    return next((p for p in candidates if p.is_file()), None)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="segsr-gui", description="SegSR Studio: restore photos x4.")
    parser.add_argument("image", nargs="?", help="photo to open (default: the bundled sample)")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="run the whole pipeline offscreen, save a screenshot of the window and quit")
    parser.add_argument("--screenshot-step", type=int, default=0, metavar="K",
                        help="with --screenshot: capture mid-run, after step K (1-based)")
    parser.add_argument("--theme", choices=("dark", "light"), help="override the theme for this session")
    parser.add_argument("--model", help="model name or .safetensors path for this session")
    parser.add_argument("--steps", type=int, help="sampling steps for this session")
    parser.add_argument("--seed", type=int, help="seed for this session")
    parser.add_argument("--compare", choices=("split", "side", "difference", "off"), default=None)
    parser.add_argument("--layer", choices=("photo", "overlay", "mask"), default=None)
    parser.add_argument("--size", default="1280x820", help="window size for screenshots, WxH")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.screenshot and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from segsr_gui.ui import settings as settings_mod
    from segsr_gui.ui.error_dialog import install_excepthook, setup_logging
    from segsr_gui.ui.main_window import MainWindow

    setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SegSR Studio")
    if (photo := sample_photo()) is not None: from PySide6.QtGui import QIcon; app.setWindowIcon(QIcon(str(photo.parent / "icons" / "segsr-studio-256.png")))  # noqa: E701,E702
    settings = settings_mod.load()
    if args.theme:
        settings.view.theme = args.theme
    if args.model:
        settings.run.model = args.model
    if args.steps is not None:
        settings.run.steps = args.steps
    if args.seed is not None:
        settings.run.seed, settings.run.seed_mode = args.seed, "fixed"
    apply_theme(app, settings.view.theme)
    window = MainWindow(settings)
    install_excepthook(lambda: window)
    if args.compare:
        window.view_panel.set_value("compare", args.compare)
    if args.layer:
        window.view_panel.set_value("layer", args.layer)
    image = Path(args.image) if args.image else sample_photo()
    if args.screenshot:
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.resize(w, h)
        return _screenshot(app, window, image, Path(args.screenshot), args.screenshot_step)
    window.show()
    if image is not None:
        QTimer.singleShot(0, lambda: window.open_path(image))
    else:
        window.viewer.set_placeholder("Open a photo to begin\n\nFile \u25b8 Open (Ctrl+O), "
                                      "drag a photo here, or paste one (Ctrl+V)")
    return app.exec()


def _screenshot(app, window, image: Path | None, out: Path, at_step: int) -> int:
    """Open, run, capture (after step ``at_step`` or after the run), quit. Exit 1 on failure."""
    from PySide6.QtCore import QEventLoop, QTimer

    status = {"code": 1}
    loop = QEventLoop()  # a local loop: this also works inside an application that is already running
    app.setQuitOnLastWindowClosed(False)
    window.quiet_close = True  # a capture mid-run ends the run without a question

    def grab(*_):
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        status["code"] = 0 if window.grab().save(str(out)) else 1
        print(f"screenshot: {out}" if status["code"] == 0 else f"screenshot: could not write {out}")
        window.close()
        loop.quit()

    def on_step(index: int, total: int):
        if at_step and index + 1 == at_step:
            window.stepShown.disconnect(on_step)
            QTimer.singleShot(50, grab)

    def on_finished(outcome: str):
        if outcome != "done":
            print(f"screenshot: the run ended: {outcome}", file=sys.stderr)
            window.close()
            loop.quit()
        elif not at_step:
            QTimer.singleShot(50, grab)

    def open_failed(message: str):
        print(f"screenshot: {message}", file=sys.stderr)
        window.close()
        loop.quit()

    window.photoLoaded.connect(lambda _: QTimer.singleShot(0, window.start_run))
    window.openFailed.connect(open_failed)
    window.stepShown.connect(on_step)
    window.runFinished.connect(on_finished)
    window.show()
    if image is None:
        QTimer.singleShot(0, grab)
    else:
        QTimer.singleShot(0, lambda: window.open_path(image))
    loop.exec()
    app.setQuitOnLastWindowClosed(True)
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
