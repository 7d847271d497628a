"""dicomai_slicer: Slicer (MRML) nodes <-> the dicomai core, shared by both modules.

Public API (the names are a contract; the Slicer console, the module logics, the demo and the
tests use them)::

    create_scene()                                   # headless only: a scene with Slicer's logics
    load_dicom_series(folder_or_files)               # -> vtkMRMLScalarVolumeNode
    export_segmentation(node, reference_volume_node, output_file, **options)   # -> SegExport (a path)
    load_dicom_objects(paths)                        # -> [nodes]: volumes, segmentations, ...
    register_loader(modality, fn)                    # add a loader (e.g. "SR")
    render_view(png_path, view="Red", ...)           # offscreen slice view -> PNG

Nothing here imports ``slicer`` until a function is called (Slicer start-up time); the modules
are imported on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = [
    "SegExport",
    "create_scene",
    "export_segmentation",
    "export_report",
    "load_dicom_objects",
    "load_dicom_series",
    "register_loader",
    "render_view",
]

_WHERE = {
    "SegExport": "export",
    "create_scene": "scene",
    "export_segmentation": "export",
    "export_report": "report",
    "load_dicom_objects": "loader",
    "load_dicom_series": "series",
    "register_loader": "loader",
    "render_view": "render",
}

if TYPE_CHECKING:  # every lazily provided name, for readers, editors and type checkers
    from .export import SegExport, export_segmentation
    from .loader import load_dicom_objects, register_loader
    from .render import render_view
    from .report import export_report
    from .scene import create_scene
    from .series import load_dicom_series


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dicomai_slicer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
