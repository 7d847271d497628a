"""dicomai: turn AI and analysis results into standard DICOM objects and back.

The embedded core of the DicomAIExtension for 3D Slicer. It depends on numpy, pydicom, highdicom
and SimpleITK only and never imports slicer, vtk or qt, so it runs inside Slicer's Python, in
pipelines and on the command line (``dicomai --help``).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    DicomAIError,
    GeometryMismatchError,
    InputError,
    MetadataError,
    OutputExistsError,
    SourceSeriesError,
    UnsupportedObjectError,
)

__all__ = [
    "DicomAIError",
    "GeometryMismatchError",
    "InputError",
    "MetadataError",
    "OutputExistsError",
    "SourceSeriesError",
    "UnsupportedObjectError",
    "__version__",
]
