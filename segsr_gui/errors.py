"""The project's own error types: each carries one message a user can act on."""


class SegSRError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence."""


class ImageLoadError(SegSRError):
    """An input could not be read as an image."""


class ImageSaveError(SegSRError):
    """An output could not be written (nothing partial is left behind)."""


class WeightsError(SegSRError):
    """Model weights are missing, damaged or do not fit the architecture."""


class OutOfMemoryError(SegSRError):
    """A run ran out of memory even with the smallest tiles."""


class PretrainedImportError(SegSRError):
    """A pretrained package could not be fetched, verified or converted."""
