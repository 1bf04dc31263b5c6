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
    slot: str  # name of the window method it calls
    shortcuts: tuple = ()
    tip: str = ""
    checkable: bool = False


ACTIONS = (
    ActionSpec("open", "&File", "&Open photo\u2026", "open_dialog", ("Ctrl+O",), "Open a photo to restore"),
    ActionSpec("paste", "&File", "&Paste photo", "paste", ("Ctrl+V",), "Open the image on the clipboard"),
    ActionSpec("export", "&File", "&Export result\u2026", "export_dialog", ("Ctrl+S",),
               "Save the restored photo (and class masks)"),
    ActionSpec("export_masks", "&File", "Export class &masks too", "set_export_masks", (),
               "Also write the class map, overlay and legend", checkable=True),
    ActionSpec("batch", "&File", "&Batch queue\u2026", "show_batch", ("Ctrl+B",),
               "Restore many photos and folders in one go; the queue survives a restart", checkable=True),
    ActionSpec("quit", "&File", "&Quit", "close", ("Ctrl+Q",)),
    ActionSpec("run", "&Run", "&Restore photo", "start_run", ("F5",), "Start restoring the photo"),
    ActionSpec("cancel", "&Run", "&Cancel", "cancel_run", ("Esc",), "Stop the run at the next step"),
    ActionSpec("fit", "&View", "&Fit to window", "fit", ("F", "Ctrl+0")),
    ActionSpec("actual", "&View", "&100 %", "actual_size", ("1",)),
    ActionSpec("zoom_in", "&View", "Zoom &in", "zoom_in", ("+", "=", "Ctrl++")),
    ActionSpec("zoom_out", "&View", "Zoom &out", "zoom_out", ("-", "Ctrl+-")),
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
        action = new_action(window, spec.text, getattr(window, spec.slot), spec.shortcuts, spec.tip,
                            spec.checkable)
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
