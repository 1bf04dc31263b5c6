"""Bundled resources: the sample photo and the app icons (``icons/``), package data of
``segsr_gui.resources``.

A regular package (not a namespace one) so that ``importlib.resources.files()`` gives a real
folder when installed with ``pip install .`` and inside the frozen app.
"""
