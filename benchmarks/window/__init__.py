"""The window: how long its event loop is blocked during a run, and what its live previews cost."""
