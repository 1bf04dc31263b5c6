"""The dark and light themes (qdarkstyle) with the app's few additions."""

from __future__ import annotations

EXTRA = ("QPushButton#runButton { font-weight: bold; }"
         "QPushButton#runButton:enabled { background-color: #2f7d4f; color: white; }")


def apply_theme(app, theme: str) -> None:
    """``theme``: ``Literal["dark", "light"]``."""
    import qdarkstyle
    from qdarkstyle.dark.palette import DarkPalette
    from qdarkstyle.light.palette import LightPalette

    palette = LightPalette if theme == "light" else DarkPalette
    app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6", palette=palette) + EXTRA)
