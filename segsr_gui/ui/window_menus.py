"""The window's menu commands that only present or ask: theme, log folder, About, and Quit with
its questions (a run or batch in progress, a result never exported)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from segsr_gui.ui.about import open_log_folder, show_about
from segsr_gui.ui.confirm import ask_quit_unexported, ask_stop_and_quit
from segsr_gui.ui.theme import apply_theme


class WindowMenus:
    """Mixed into ``MainWindow`` (which has ``settings``, ``runs``, ``running``, ``batch_panel``)."""

    quiet_close = False  # True: close mid-run or unexported without asking (the screenshot mode)
    _unexported_asked = False

    def set_light_theme(self, on: bool) -> None:
        self.settings.view.theme = "light" if on else "dark"
        apply_theme(QApplication.instance(), self.settings.view.theme)

    def open_log_folder(self) -> None:
        open_log_folder()

    def about(self) -> None:
        show_about(self)

    def quit(self) -> None:
        """File > Quit: a result never exported is lost, so the user is asked first."""
        if self.quiet_close or ask_quit_unexported(self, self.runs):
            self._unexported_asked = True
            self.close()

    def may_close(self, event) -> bool:
        """Whether a close goes ahead: a run or a batch in progress asks; so does a result never
        exported, when the user closes the window (Quit has asked already; a close from code,
        as in tests and the screenshot mode, does not ask)."""
        asked = self.quiet_close or self._unexported_asked or not event.spontaneous()
        self._unexported_asked = False
        if not self.quiet_close and not ask_stop_and_quit(self, self.running, self.batch_panel.running):
            return False
        return asked or ask_quit_unexported(self, self.runs)
