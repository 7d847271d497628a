"""Capture a slice view (volume + segmentation overlay) as a DICOM Secondary Capture.

The view is rendered offscreen (:func:`dicomai_slicer.render.render_view`), so it works in the
Slicer application and on slicer-core alike; the SC goes into a new series of the study of the
volume shown (:mod:`dicomai.sc`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional, Sequence

__all__ = ["capture_view_as_sc"]

VIEW_NAMES = {"Red": "axial", "Yellow": "sagittal", "Green": "coronal"}


def capture_view_as_sc(
    volume_node,
    out_folder,
    segmentation_node=None,
    view: str = "Red",
    size: Sequence[int] = (512, 512),
    series_description: Optional[str] = None,
):
    """Render ``view`` with the volume and the segmentation and write it as one SC; returns its path.

    ``out_folder``: a folder, or a destination (:mod:`dicomai.destinations`,
    :class:`dicomai_slicer.destinations.SlicerDatabaseDestination`).

    Raises :class:`dicomai.errors.InputError` when the volume was not loaded from DICOM (an SC
    needs the patient and study it belongs to).
    """
    import numpy as np

    from dicomai.destinations import FolderDestination
    from dicomai.sc.encode import Picture, ScOptions, sc_datasets

    from .render import ViewOptions, render_view
    from .series import find_source_series

    source, _ = find_source_series(volume_node)
    with tempfile.TemporaryDirectory(prefix="dicomai-capture-") as tmp:
        _, pixels = render_view(
            Path(tmp) / "view.png",
            view,
            volume_node,
            segmentation_node,
            options=ViewOptions(size=size, return_array=True),
        )
    shown = f" with {segmentation_node.GetName()}" if segmentation_node is not None else ""
    picture = Picture(
        pixels=np.ascontiguousarray(pixels, dtype=np.uint8),
        name=f"{view} slice view",
        description=f"Slicer {VIEW_NAMES.get(view, view)} slice view of series "
        f"{source.series_instance_uid}{shown} burned in",
    )
    options = ScOptions(series_description=series_description or "Slice view capture")
    (dataset,) = sc_datasets(source, [picture], options)
    name = f"SC_{VIEW_NAMES.get(view, view)}_{str(dataset.SOPInstanceUID)[-8:]}.dcm"
    destination = out_folder if hasattr(out_folder, "writing") else FolderDestination(out_folder)
    (path,) = destination.write([dataset], destination.name_for(name))
    return path
