"""Loading a CT/MR/PT series into a scalar volume node, and finding a volume's DICOM files again.

:func:`load_dicom_series` leaves the volume the way Slicer's DICOMScalarVolumePlugin does
(Modules/Scripted/DICOMPlugins/DICOMScalarVolumePlugin.py): RAS geometry from the slice
positions sorted along the normal (never by file name or InstanceNumber), the node attributes
"DICOM.instanceUIDs" / "DICOM.instanceNumbers" in slice order, window/level presets from the
files, CT/MR quantity and units, and a subject hierarchy series item under its patient and study.

The volume is built from pydicom pixel data and the core's :class:`~dicomai.geometry.Grid`, not
with ``AddArchetypeVolume`` on one file (which groups and orders files by name).

Voxel type (Slicer's ITK/GDCM reader chooses the same way): stored values are rescaled with each
slice's RescaleSlope/RescaleIntercept. When every slope and intercept is a whole number the
volume stays integer, in the smallest signed type holding the rescaled range that BitsStored and
PixelRepresentation allow: int16 for the usual CT (16-bit signed, or 12-bit unsigned with
intercept -1024), int32 beyond. A fractional slope or intercept (PET, some MR) gives float32.
Series without rescale (MR) keep their stored type (uint8/int8, uint16/int16, uint32/int32).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

__all__ = [
    "find_source_series",
    "load_dicom_series",
    "remember_source",
    "remembered_source",
    "series_files_in",
    "voxel_type",
]

PathLike = Union[str, "os.PathLike[str]"]

# CT and MR quantity / units codes Slicer sets (DICOMPlugin.mapSOPClassUIDToDICOMQuantityAndUnits)
_QUANTITY_UNITS = {
    "CT": (("112031", "DCM", "Attenuation Coefficient"), ("[hnsf'U]", "UCUM", "Hounsfield unit")),
    "MR": (("110852", "DCM", "MR signal intensity"), ("1", "UCUM", "no units")),
}


def remember_source(source, scene=None) -> None:
    """Keep a loaded series' files with its scene, so that an export can find them again (headless;
    see :mod:`.scene_files`: forgotten when the scene closes)."""
    from .scene_files import scene_files

    scene_files(scene).remember_source(source)


def remembered_source(series_instance_uid: str, scene=None):
    """The SourceSeries loaded into the scene for a series UID, or None."""
    from .scene_files import scene_files

    return scene_files(scene).source(series_instance_uid)


def _is_whole(v: float) -> bool:
    return abs(v - round(v)) < 1e-6


def _stored_range(ds) -> tuple:
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def voxel_type(datasets: Sequence) -> tuple:
    """``(numpy dtype, slopes, intercepts)`` for a series (see the module docstring)."""
    ds0 = datasets[0]
    has_rescale = any("RescaleSlope" in ds or "RescaleIntercept" in ds for ds in datasets)
    slopes = [float(ds.get("RescaleSlope", 1) or 1) for ds in datasets]
    intercepts = [float(ds.get("RescaleIntercept", 0) or 0) for ds in datasets]
    bits_allocated = int(ds0.get("BitsAllocated", 16) or 16)
    signed = int(ds0.get("PixelRepresentation", 0) or 0) == 1
    if not has_rescale or (all(s == 1 for s in slopes) and all(i == 0 for i in intercepts)):
        if bits_allocated <= 8:
            dtype = np.int8 if signed else np.uint8
        elif bits_allocated <= 16:
            dtype = np.int16 if signed else np.uint16
        else:
            dtype = np.int32 if signed else np.uint32
        return np.dtype(dtype), None, None
    if not all(_is_whole(s) for s in slopes) or not all(_is_whole(i) for i in intercepts):
        return np.dtype(np.float32), slopes, intercepts
    lo, hi = _stored_range(ds0)
    ends = [v * s + i for s, i in zip(slopes, intercepts) for v in (lo, hi)]
    if min(ends) >= -32768 and max(ends) <= 32767:
        return np.dtype(np.int16), slopes, intercepts
    if min(ends) >= -(2**31) and max(ends) <= 2**31 - 1:
        return np.dtype(np.int32), slopes, intercepts
    return np.dtype(np.float32), slopes, intercepts


def _slice_pixels(path: str, ds_header):
    import pydicom

    from dicomai.errors import SourceSeriesError

    try:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
    except Exception as e:  # decoders raise many kinds of errors
        ts = getattr(getattr(ds_header, "file_meta", None), "TransferSyntaxUID", "?")
        raise SourceSeriesError(
            f"cannot read the pixel data of {path!r} (transfer syntax {ts}): {e}; for compressed "
            "images install the codecs (pip install 'dicomai[codecs]')"
        ) from e
    if arr.ndim != 2:
        raise SourceSeriesError(
            f"{path!r} holds {'colour' if arr.ndim == 3 else f'{arr.ndim}D'} pixel data (shape "
            f"{arr.shape}): only single-frame grayscale series load as a scalar volume"
        )
    return arr


def _fill_volume(image, source, dtype, slopes, intercepts, progress=None) -> None:
    from ._images import array_view

    view = array_view(image)
    n = len(source.files)
    for k, (path, header) in enumerate(zip(source.files, source.datasets)):
        arr = _slice_pixels(path, header)
        if slopes is None:
            view[k] = arr
        elif dtype.kind == "f":
            view[k] = arr.astype(np.float32) * np.float32(slopes[k]) + np.float32(intercepts[k])
        else:
            view[k] = arr.astype(dtype) * int(round(slopes[k])) + int(round(intercepts[k]))
        if progress is not None and (k % 16 == 0 or k == n - 1):
            progress((k + 1) / n, f"reading slice {k + 1} of {n}")


def _series_name(ds) -> str:
    """Slicer's default series node name: "<SeriesNumber>: <SeriesDescription>"."""
    description = str(ds.get("SeriesDescription", "") or "") or "Unnamed Series"
    number = ds.get("SeriesNumber", "")
    return f"{number}: {description}" if number not in (None, "") else description


def load_dicom_series(
    folder_or_files,
    name: Optional[str] = None,
    scene=None,
    progress=None,
    allow_nonuniform: bool = True,
):
    """Load a single-frame CT/MR/PT series into a vtkMRMLScalarVolumeNode.

    Parameters
    ----------
    folder_or_files:
        A folder (searched recursively; non-image objects such as SEG/SR are ignored) or a list
        of files. It must hold exactly one image series.
    name:
        Node name (default: "<SeriesNumber>: <SeriesDescription>", as Slicer names it).
    scene:
        Default ``slicer.mrmlScene``.
    progress:
        Optional ``callback(fraction, message)``.
    allow_nonuniform:
        Load series whose slices are not evenly spaced (a missing slice, variable spacing) the
        way Slicer does by default: slices by index on a grid with the mean spacing, and a
        warning. False makes that an error.

    Returns
    -------
    vtkMRMLScalarVolumeNode
        With IJK-to-RAS from the slice positions, "DICOM.instanceUIDs" in slice order and a
        subject hierarchy item (UID "DICOM" = SeriesInstanceUID) under patient and study.

    Raises
    ------
    dicomai.errors.SourceSeriesError
        No image, several series, non-uniform spacing, unreadable pixel data...
    """
    from vtkmodules.util.numpy_support import get_vtk_array_type
    from vtkmodules.vtkCommonDataModel import vtkImageData

    from dicomai.source import read_source_series

    from ._images import vtk_matrix
    from .scene import current_scene
    from .subject_hierarchy import add_series_in_subject_hierarchy

    scene = current_scene(scene)
    source = read_source_series(folder_or_files, allow_nonuniform=allow_nonuniform)
    ds0 = source.first
    dtype, slopes, intercepts = voxel_type(source.datasets)
    k, j, i = source.grid.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.AllocateScalars(get_vtk_array_type(dtype), 1)
    _fill_volume(image, source, dtype, slopes, intercepts, progress)

    node = scene.AddNewNodeByClass(
        "vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(name or _series_name(ds0))
    )
    node.SetAndObserveImageData(image)
    node.SetIJKToRASMatrix(vtk_matrix(source.grid.ijk_to_ras()))
    node.CreateDefaultDisplayNodes()
    node.SetAttribute("DICOM.instanceUIDs", " ".join(source.sop_instance_uids))
    node.SetAttribute(
        "DICOM.instanceNumbers", " ".join(str(ds.get("InstanceNumber", "") or "?") for ds in source.datasets)
    )
    _window_level(node, source.datasets[len(source.datasets) // 2])
    _quantity_units(node, source.modality)
    add_series_in_subject_hierarchy(node, ds0, source.sop_instance_uids, scene=scene)
    for w in source.warnings:
        import logging

        logging.warning(w)
    remember_source(source, scene)
    _select(node)
    return node


def _window_level(node, ds) -> None:
    display = node.GetScalarVolumeDisplayNode()
    if display is None:
        return
    centers, widths = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centers is None or widths is None:
        return
    from pydicom.multival import MultiValue

    centers = list(centers) if isinstance(centers, (list, tuple, MultiValue)) else [centers]
    widths = list(widths) if isinstance(widths, (list, tuple, MultiValue)) else [widths]
    if len(centers) != len(widths) or not centers:
        return
    try:
        for c, w in zip(centers, widths):
            display.AddWindowLevelPreset(float(w), float(c))
        display.SetWindowLevelFromPreset(0)
    except (TypeError, ValueError):
        return


def _quantity_units(node, modality: str) -> None:
    import slicer

    codes = _QUANTITY_UNITS.get(modality)
    if codes is None or not hasattr(node, "SetVoxelValueQuantity"):
        return
    quantity, units = slicer.vtkCodedEntry(), slicer.vtkCodedEntry()
    quantity.SetValueSchemeMeaning(*codes[0])
    units.SetValueSchemeMeaning(*codes[1])
    node.SetVoxelValueQuantity(quantity)
    node.SetVoxelValueUnits(units)


def _select(node) -> None:
    """Make the volume the active one (and show it, inside Slicer), as the DICOM plugin does."""
    from .scene import application_logic, in_slicer_application

    try:
        app = application_logic()
    except RuntimeError:
        return
    selection = app.GetSelectionNode()
    if selection is not None:
        selection.SetActiveVolumeID(node.GetID())
        if in_slicer_application():
            app.PropagateVolumeSelection()


# ----------------------------------------------------------------------------- finding files again
def series_files_in(paths, series_instance_uid: str) -> list:
    """Files under ``paths`` (folders searched recursively) that belong to one series.

    Only the SeriesInstanceUID of each file is read.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from dicomai.source import list_dicom_files

    out = []
    for f in list_dicom_files(paths):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
        except (InvalidDicomError, OSError, EOFError, ValueError):
            continue
        if str(ds.get("SeriesInstanceUID", "")) == series_instance_uid:
            out.append(f)
    return out


def _database_files(reference) -> list:
    import slicer

    db = getattr(slicer, "dicomDatabase", None)
    if db is None:
        return []
    try:
        if reference.instance_uids:
            files = [db.fileForInstance(uid) for uid in reference.instance_uids]
            return files if all(files) else []
        if reference.series_instance_uid:
            return list(db.filesForSeries(reference.series_instance_uid))
    except Exception:  # a closed or foreign database object
        return []
    return []


def find_source_series(
    volume_node,
    source_folder: Optional[PathLike] = None,
    source_files: Optional[Sequence[PathLike]] = None,
    scene=None,
):
    """The DICOM series a volume node was loaded from: ``(SourceSeries, DicomReference)``.

    The volume must carry its DICOM UIDs (subject hierarchy item UID "DICOM" and/or the
    "DICOM.instanceUIDs" attribute). Its files come from ``source_files`` / ``source_folder``
    (only files of the volume's series are used), else ``slicer.dicomDatabase``, else the files
    this process loaded it from.

    Raises
    ------
    dicomai.errors.InputError
        The volume is not from DICOM, or no file of its series can be found.
    dicomai.errors.GeometryMismatchError
        The files describe another grid than the volume's.
    """
    from dicomai.errors import GeometryMismatchError, SourceSeriesError
    from dicomai.source import read_source_series

    from ._images import grid_of_volume
    from .subject_hierarchy import dicom_reference

    name = volume_node.GetName()
    ref = dicom_reference(volume_node, scene)
    if not ref.from_dicom:
        raise SourceSeriesError(
            f"reference volume {name!r} is not from DICOM: its subject hierarchy item has no DICOM "
            "series UID and it has no 'DICOM.instanceUIDs' attribute. A SEG must reference the "
            "DICOM images it was made on: load the series with load_dicom_series() (or Slicer's "
            "DICOM module) and make the segmentation on that volume"
        )
    uid = ref.series_instance_uid
    source = None
    where = ""
    if source_files or source_folder:
        given = list(source_files or []) + ([source_folder] if source_folder else [])
        where = ", ".join(str(p) for p in given)
        files = series_files_in(given, uid) if uid else None
        if files == []:
            raise SourceSeriesError(
                f"no file of series {uid} (the series of reference volume {name!r}) in {where}: "
                "give the folder or files of the series the volume was loaded from"
            )
        source = read_source_series(files if files is not None else given, allow_nonuniform=True)
    else:
        files = _database_files(ref)
        if files:
            where = "the DICOM database"
            source = read_source_series(files, allow_nonuniform=True)
        elif uid and remembered_source(uid, scene) is not None:
            where = "the files it was loaded from"
            source = remembered_source(uid, scene)
            missing = [f for f in source.files if not Path(f).is_file()]
            if missing:
                raise SourceSeriesError(
                    f"{len(missing)} file(s) reference volume {name!r} was loaded from are gone "
                    f"(e.g. {missing[0]}): pass source_folder= or source_files="
                )
    if source is None:
        raise SourceSeriesError(
            f"cannot find the DICOM files of reference volume {name!r} (series {uid or '?'}): "
            "pass source_folder= or source_files= (outside Slicer there is no DICOM database)"
        )
    if uid and source.series_instance_uid != uid:
        raise SourceSeriesError(
            f"the source files in {where} are series {source.series_instance_uid}, but reference "
            f"volume {name!r} is series {uid}"
        )
    if ref.instance_uids and set(ref.instance_uids) != set(source.sop_instance_uids):
        raise SourceSeriesError(
            f"reference volume {name!r} was loaded from {len(ref.instance_uids)} instance(s) of "
            f"series {uid}, but {where} holds {len(source.sop_instance_uids)} other or different "
            "ones: give the same files"
        )
    volume_grid = grid_of_volume(volume_node)
    diffs = volume_grid.differences(source.grid)
    if diffs:
        raise GeometryMismatchError(
            f"reference volume {name!r} does not lie on the grid of its DICOM files ({', '.join(diffs)} "
            f"differ):\n  volume: {volume_grid.describe()}\n  files:  {source.grid.describe()}\n"
            "the volume was resampled, cropped or re-oriented after loading; use the volume as "
            "loaded from DICOM"
        )
    return source, ref
