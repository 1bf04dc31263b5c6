"""Network architectures, one per file; ``model.py`` composes the stages (``engine/stages``)."""
