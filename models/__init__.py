"""Shipped model weights (``NAME.safetensors`` + ``NAME.json``), package data of ``segsr_gui.models``.

A regular package (not a namespace one) so that ``importlib.resources.files()`` gives a real
folder when installed with ``pip install .`` and inside the frozen app.
"""
