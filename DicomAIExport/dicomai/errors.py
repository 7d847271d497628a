"""The core's exception hierarchy.

Every error the core raises on purpose is a :class:`DicomAIError`. Messages say what was wrong,
with which input, and what to do about it; the CLI prints them as one line.
"""

from __future__ import annotations

__all__ = [
    "DicomAIError",
    "GeometryMismatchError",
    "InputError",
    "MetadataError",
    "OutputError",
    "OutputExistsError",
    "SetupError",
    "SourceSeriesError",
    "UnsupportedObjectError",
]


class DicomAIError(Exception):
    """Base class of every error raised on purpose by :mod:`dicomai`."""


class InputError(DicomAIError, ValueError):
    """An input file or argument is unusable (empty labelmap, wrong type, unreadable file...)."""


class SourceSeriesError(InputError):
    """The source image series cannot be used (no images, several series, mixed frames...)."""


class GeometryMismatchError(InputError):
    """Two grids that must be identical are not (labelmap vs. source series, ...)."""


class MetadataError(InputError):
    """Segment or report metadata is malformed or inconsistent with the image content."""


class UnsupportedObjectError(InputError):
    """A DICOM object is of a kind (SOP class, template, encoding) the core cannot handle."""


class OutputExistsError(DicomAIError, FileExistsError):
    """The output file exists and overwriting was not asked for."""


class OutputError(DicomAIError, OSError):
    """An output cannot be written (disk full, no permission, name too long...)."""


class SetupError(DicomAIError, RuntimeError):
    """The environment is not ready for the call: a package is missing or too old, there is no
    MRML scene yet, or the call is for the other kind of environment (application or headless)."""
