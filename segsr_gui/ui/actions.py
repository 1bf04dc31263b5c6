"""Menu actions declared as data (like napari's ``qactions``), built by one helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from PySide6.QtGui import QAction, QKeySequence


@dataclass(frozen=True)
class ActionSpec:
    key: str  # attribute / lookup name
    menu: str
    text: str
    slot: str  # the window method it calls, or a path from the window ("viewer.fit")
    shortcuts: tuple = ()
    tip: str = ""
    checkable: bool = False


ACTIONS = (
    ActionSpec("open", "&File", "&Open photo\u2026", "open_dialog", ("Ctrl+O",), "Open a photo to restore"),
    ActionSpec("paste", "&File", "&Paste photo", "paste", ("Ctrl+V",), "Open the image on the clipboard"),
    ActionSpec("export", "&File", "&Export result\u2026", "export_dialog", ("Ctrl+S",),
               "Save the restored photo (and class masks)"),
    ActionSpec("export_masks", "&File", "Export class &masks too", "set_export_masks", (),
               "Also write the class map, overlay, legend and a black-and-white mask per class found",
               checkable=True),
    ActionSpec("batch", "&File", "&Batch queue\u2026", "show_batch", ("Ctrl+B",),
               "Restore many photos and folders in one go; the queue survives a restart", checkable=True),
    ActionSpec("quit", "&File", "&Quit", "quit", ("Ctrl+Q",)),
    ActionSpec("run", "&Run", "&Restore photo", "start_run", ("F5",), "Start restoring the photo"),
    ActionSpec("cancel", "&Run", "&Cancel", "cancel_run", ("Esc",), "Stop the run at the next step"),
    ActionSpec("fit", "&View", "&Fit to window", "viewer.fit", ("F", "Ctrl+0")),
    ActionSpec("actual", "&View", "&100 %", "viewer.actual_size", ("1",)),
    ActionSpec("zoom_in", "&View", "Zoom &in", "viewer.zoom_in", ("+", "=", "Ctrl++")),
    ActionSpec("zoom_out", "&View", "Zoom &out", "viewer.zoom_out", ("-", "Ctrl+-")),
    ActionSpec("light", "&View", "&Light theme", "set_light_theme", (), "Switch between dark and light",
               checkable=True),
    ActionSpec("log", "&Help", "Open &log folder", "open_log_folder", ()),
    ActionSpec("about", "&Help", "&About SegSR Studio", "about", ()),
)


def build_actions(window, specs=ACTIONS) -> dict[str, QAction]:
    """Create each action, connect it to ``window.<slot>`` and add it to its menu."""
    menus: dict = {}
    actions: dict[str, QAction] = {}
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = window.menuBar().addMenu(spec.menu)
        target = window
        for name in spec.slot.split("."):
            target = getattr(target, name)
        action = new_action(window, spec.text, target, spec.shortcuts, spec.tip, spec.checkable)
        menu.addAction(action)
        actions[spec.key] = action
    window.menus = menus
    return actions


def new_action(parent, text: str, slot: Optional[Callable], shortcuts=(), tip: str = "",
               checkable: bool = False) -> QAction:
    action = QAction(text, parent)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot if checkable else (lambda checked=False: slot()))
    return action


# The toolbar: (action key, short text, standard icon name or None); None is a separator.
TOOLBAR = (("open", "Open", "SP_DialogOpenButton"), ("run", "Restore (F5)", "SP_MediaPlay"),
           ("cancel", "Cancel", "SP_MediaStop"), ("export", "Export", "SP_DialogSaveButton"), None,
           ("fit", "Fit", None), ("actual", "100%", None), ("zoom_out", "\u2212", None), ("zoom_in", "+", None))


def build_toolbar(window, actions: dict[str, QAction], items=TOOLBAR):
    """The main toolbar of ``actions``, text beside the icons, fixed at the top."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyle, QToolBar

    bar = QToolBar("Main", window)
    bar.setObjectName("mainToolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for item in items:
        if item is None:
            bar.addSeparator()
            continue
        key, text, icon = item
        action = actions[key]
        if icon is not None:
            action.setIcon(window.style().standardIcon(getattr(QStyle.StandardPixmap, icon)))
        action.setIconText(text)
        bar.addAction(action)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar
