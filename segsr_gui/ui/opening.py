"""Getting a photo into the window: the Open dialog, Open recent, the clipboard (pasted
images are written to a temporary folder first, removed when the window goes) and the
decoding, off the GUI thread."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from segsr_gui.ui.convert import preview_size, resize_rgb, rgb_to_qimage, to_uint8
from segsr_gui.ui.file_dialogs import ask_open, start_folder
from segsr_gui.ui.worker import TaskWorker

SCALE = 4
OPEN_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"


def transparency_cover(alpha) -> Optional[QImage]:
    """An Alpha8 QImage, 255 where the photo is transparent; None for an opaque photo."""
    if alpha is None or alpha.min() >= 1.0:
        return None
    h, w = alpha.shape
    cover = QImage(w, h, QImage.Format.Format_Alpha8)
    rows = np.frombuffer(cover.bits(), np.uint8).reshape(h, cover.bytesPerLine())
    rows[:, :w] = np.rint(255 * (1 - np.clip(alpha, 0, 1))).astype(np.uint8)
    return cover


def open_photo(path: Path):
    """Worker side: (path, LoadedImage, the photo as a QImage, its bicubic x4 preview, its
    transparency cover or None)."""
    from PIL import Image

    from segsr_gui.io.read import load_image

    loaded = load_image(path)
    lr8 = to_uint8(loaded.rgb)
    w, h = loaded.size
    bicubic = resize_rgb(lr8, preview_size(w * SCALE, h * SCALE), Image.BICUBIC)
    return path, loaded, rgb_to_qimage(lr8), rgb_to_qimage(bicubic), transparency_cover(loaded.alpha)


class PastedImages:
    """Pasted images as numbered PNG files in one temporary folder."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="segsr-paste-")
        self._count = 0

    def save(self, image: QImage) -> Path:
        self._count += 1
        path = Path(self._dir.name) / f"pasted-{self._count}.png"
        image.save(str(path), "PNG")
        return path

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is one of these (not a photo to remember in Open recent)."""
        return str(path).startswith(self._dir.name)


class PhotoOpener(QObject):
    """Opens photos off the GUI thread from a path, the Open dialog or the clipboard;
    ``opened`` carries what ``open_photo`` returns."""

    opened = Signal(object)
    failed = Signal(str, str)  # message, details
    message = Signal(str, int)  # for the status bar, with its timeout (ms)

    def __init__(self, parent: QWidget, jobs, settings):
        super().__init__(parent)
        self.window, self.jobs, self.settings = parent, jobs, settings
        self.pasted = PastedImages()

    def open(self, path) -> None:
        path = Path(path)
        self.message.emit(f"Opening {path.name}\u2026", 0)
        worker = TaskWorker(lambda: open_photo(path))
        worker.returned.connect(self.opened)  # bound signals: delivered on the GUI thread
        worker.errored.connect(self.failed)
        self.jobs.start(worker)

    def ask_path(self) -> Optional[str]:
        paths = ask_open(self.window, "Open a photo", start_folder(self.settings.files.last_open_dir), OPEN_FILTER)
        return paths[0] if paths else None

    def clipboard_path(self) -> Optional[Path]:
        """A file on the clipboard, or its image saved as a PNG; None (and a message) if neither."""
        clipboard = QApplication.clipboard()
        local = local_files(clipboard.mimeData())
        if local:
            return Path(local[0])
        image = clipboard.image()
        if image.isNull():
            self.message.emit("The clipboard holds no image.", 4000)
            return None
        return self.pasted.save(image)

    def remember(self, path: Path) -> bool:
        """Note an opened photo in Open recent (not a pasted one, nor the bundled sample: the
        dialogs would start among the app's files); whether it was noted."""
        from segsr_gui.ui.app import sample_photo

        sample = sample_photo()
        if self.pasted.holds(path) or (sample is not None and Path(path).resolve() == sample.resolve()):
            return False
        self.settings.add_recent(path)
        self.settings.files.last_open_dir = str(path.parent)
        return True

    def fill_recent_menu(self, menu: QMenu, open_path: Callable[[str], None]) -> None:
        menu.clear()
        for p in self.settings.files.recent:
            menu.addAction(Path(p).name, lambda p=p: open_path(p)).setToolTip(p)
        menu.setEnabled(bool(self.settings.files.recent))


def local_files(mime) -> list[str]:
    """The local files among dragged or pasted URLs."""
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
