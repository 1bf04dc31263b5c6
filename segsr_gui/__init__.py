"""SegSR Studio: x4 photo restoration with a semantic-segmentation prior.

The engine (everything outside ``segsr_gui.ui``) imports no Qt, so the CLI, the
tests and the GUI drive the same code.
"""

__version__ = "0.1.0"
