"""Load DICOM objects (image series, and every family with a registered loader) into the scene.

:func:`load_dicom_objects` reads the headers of every file once, loads the image series first,
then hands each other object to the loader of its family, as registered in
:mod:`dicomai_slicer.families` (SEG: :func:`load_seg` here; SR: :func:`.report.load_sr`)::

    def load_xx(context, path):          # -> list of nodes
        header = context.headers[path]   # the dataset, read once (no pixel data)
        volume, source = context.referenced_series(series_uid, near=path)
        ...

A loader gets the one :class:`LoadContext` of this load: the headers read, the scene, the
warnings, the series an object references (already in the scene, among the given files, next to
the object, or in ``slicer.dicomDatabase``), :meth:`LoadContext.load_more` for objects it
references (an SR's SEG), and the scene's record of files (:mod:`.scene_files`). Nothing is
kept between loads except that per-scene record, whose entries live only as long as their nodes
(closing the scene empties it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

__all__ = [
    "LoadContext",
    "fraction_volumes",
    "load_dicom_objects",
    "load_seg",
    "register_loader",
    "registered_loaders",
]

PathLike = Union[str, "os.PathLike[str]"]
Loader = Callable[["LoadContext", str], list]


def register_loader(modality: str, loader: Loader) -> None:
    """Make ``loader(context, path) -> [nodes]`` load the objects of a family or modality ("SEG",
    "SR", "KO"...): sets the ``load`` of its :class:`~dicomai_slicer.families.FamilyAdapters`.

    A later registration for the same name replaces the earlier one.
    """
    from dataclasses import replace

    from .families import FamilyAdapters, adapters_for, register_adapters

    if not modality or not callable(loader):
        raise ValueError("register_loader needs a modality string and a callable")
    name = str(modality).upper()
    register_adapters(replace(adapters_for(name) or FamilyAdapters(name), load=loader))


def registered_loaders() -> dict:
    """Family (or modality) name -> loader, a copy."""
    from .families import adapters

    return {a.family: a.loader() for a in adapters() if a.load is not None}


class LoadContext:
    """What a loader may use: the headers read, the scene, and the referenced series."""

    def __init__(self, headers: dict, scene, warnings: list):
        from .scene_files import scene_files

        self.headers = headers  # path -> pydicom Dataset (no pixel data; all of an SR)
        self.scene = scene
        self.warnings = warnings
        self.loaded: List = []  # nodes loaded so far (returned by load_dicom_objects)
        self.files = scene_files(scene)  # the scene's record of series and instance files

    def load_more(self, paths) -> list:
        """Load objects this one references (e.g. an SR's SEG) into the same scene: their nodes."""
        return load_dicom_objects(paths, scene=self.scene)

    def files_of_series(self, series_instance_uid: str) -> list:
        """Given files that belong to a series."""
        return [
            p for p, ds in self.headers.items() if str(ds.get("SeriesInstanceUID", "")) == series_instance_uid
        ]

    def referenced_series(self, series_instance_uid: Optional[str], near: Optional[PathLike] = None):
        """``(volume node or None, SourceSeries or None)`` for a referenced series.

        In order: a volume of that series already in the scene (its files from this process or
        the DICOM database), files among those given, files in the folder of ``near``
        (recursively), ``slicer.dicomDatabase``. The series is loaded when found on disk and not
        yet in the scene.
        """
        from dicomai.errors import DicomAIError

        from .series import _database_files, load_dicom_series, series_files_in
        from .subject_hierarchy import DicomReference, find_series_nodes

        if not series_instance_uid:
            return None, None
        uid = str(series_instance_uid)
        volumes = find_series_nodes(uid, self.scene, "vtkMRMLScalarVolumeNode")
        volumes = [v for v in volumes if not v.IsA("vtkMRMLLabelMapVolumeNode")]
        source = self.files.source(uid)
        if source is not None and not all(Path(f).is_file() for f in source.files):
            source = None
        if volumes:
            if source is None:
                files = _database_files(DicomReference(uid))
                if files:
                    from dicomai.source import read_source_series

                    try:
                        source = read_source_series(files, allow_nonuniform=True)
                    except DicomAIError as e:
                        self.warnings.append(f"series {uid}: {e}")
            return volumes[-1], source
        files = self.files_of_series(uid)
        if not files and near is not None:
            files = series_files_in(Path(near).resolve().parent, uid)
        if not files:
            files = _database_files(DicomReference(uid))
        if not files:
            return None, None
        volume = load_dicom_series(files, scene=self.scene)
        self.loaded.append(volume)
        return volume, self.files.source(uid)


def _read_headers(paths) -> dict:
    import pydicom
    from pydicom.errors import InvalidDicomError

    from dicomai.source import list_dicom_files

    headers = {}
    for f in list_dicom_files(paths):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except (InvalidDicomError, OSError, EOFError, ValueError):
            continue
        if "SOPInstanceUID" in ds:
            headers[f] = ds
    return headers


def _kind(ds, loaders: dict) -> str:
    """The family whose loader takes the object (:mod:`dicomai.families` by SOP class, then
    modality), "IMAGE" for an image series, else the modality."""
    from dicomai.families import family_for
    from dicomai.source import NON_IMAGE_MODALITIES

    modality = str(ds.get("Modality", "")).upper()
    family = family_for(str(ds.get("SOPClassUID", "")), modality)
    if family is not None and family.name in loaders:
        return family.name
    if modality in loaders:
        return modality
    if modality not in NON_IMAGE_MODALITIES and "Rows" in ds:
        return "IMAGE"
    return modality or "?"


def load_dicom_objects(paths: Union[PathLike, Sequence[PathLike]], scene=None) -> list:
    """Load DICOM files and folders into the scene; returns the nodes, image volumes first.

    - Image series (CT, MR, PT...) become scalar volumes (:func:`load_dicom_series`); a series
      already in the scene is not loaded twice (its node is returned).
    - A SEG becomes a segmentation node on the grid of its referenced series, which is loaded
      too when its files are among ``paths``, next to the SEG or in the DICOM database.
    - Other objects go to the loader registered for their modality (:func:`register_loader`);
      objects nobody loads are reported in a warning.

    Raises
    ------
    dicomai.errors.InputError
        No DICOM file in ``paths``, or nothing that can be loaded.
    """
    from dicomai.errors import InputError

    from .scene import current_scene
    from .series import load_dicom_series
    from .subject_hierarchy import find_series_nodes

    scene = current_scene(scene)
    loaders = registered_loaders()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    headers = _read_headers(paths)
    if not headers:
        raise InputError(f"no DICOM file in {', '.join(str(p) for p in paths)}")
    warnings: list = []
    context = LoadContext(headers, scene, warnings)

    series: Dict[str, list] = {}
    objects: List[tuple] = []
    skipped: Dict[str, int] = {}
    for path, ds in headers.items():
        kind = _kind(ds, loaders)
        if kind == "IMAGE":
            series.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append(path)
        elif kind in loaders:
            objects.append((kind, path))
        else:
            skipped[kind] = skipped.get(kind, 0) + 1
    for uid, files in series.items():
        existing = [
            v
            for v in find_series_nodes(uid, scene, "vtkMRMLScalarVolumeNode")
            if not v.IsA("vtkMRMLLabelMapVolumeNode")
        ]
        if existing:
            context.loaded.append(existing[-1])
            continue
        context.loaded.append(load_dicom_series(files, scene=scene))
    for kind, path in objects:
        present = _node_of_instance(str(headers[path].get("SOPInstanceUID", "")), scene)
        if present is not None:  # already loaded (e.g. a SEG an SR referenced): not twice
            context.loaded.append(present)
            continue
        context.loaded.extend(loaders[kind](context, path))
    if skipped:
        warnings.append(
            "no loader for "
            + ", ".join(f"{n} {k} object(s)" for k, n in sorted(skipped.items()))
            + f" (loaders: {', '.join(sorted(loaders))})"
        )
    if not context.loaded:
        raise InputError(
            f"nothing to load in {', '.join(str(p) for p in paths)}: " + ("; ".join(warnings) or "no object")
        )
    for w in warnings:
        logging.warning(w)
    # a node may have been found twice (series given and referenced): keep the first
    out, seen = [], set()
    for node in context.loaded:
        if node.GetID() not in seen:
            seen.add(node.GetID())
            out.append(node)
    return out


def _node_of_instance(sop_instance_uid: str, scene):
    """The data node whose subject hierarchy item carries this SOP instance UID, or None."""
    from .subject_hierarchy import subject_hierarchy_node

    if not sop_instance_uid:
        return None
    shn = subject_hierarchy_node(scene)
    item = shn.GetItemByUIDList("DICOMInstanceUID", sop_instance_uid)
    return shn.GetItemDataNode(item) if item else None


# ----------------------------------------------------------------------------------------- SEG
def _seg_name(ds) -> str:
    description = str(ds.get("SeriesDescription", "") or "") or "Segmentation"
    number = ds.get("SeriesNumber", "")
    return f"{number}: {description}" if number not in (None, "") else description


def load_seg(context: LoadContext, path: str) -> list:
    """Load one DICOM SEG as a segmentation node over its referenced series."""
    from dicomai.seg.decode import read_seg

    from .segmentation import segmentation_node_from_content
    from .subject_hierarchy import add_series_in_subject_hierarchy

    header = context.headers[path]
    ref_item = header.get("ReferencedSeriesSequence")
    ref_uid = str(ref_item[0].get("SeriesInstanceUID", "")) if ref_item else ""
    volume, source = context.referenced_series(ref_uid, near=path)
    content = read_seg(path, source)
    if source is None:
        context.warnings.append(
            f"{path}: the referenced series {ref_uid or '(none named)'} was not found"
            + (" on disk" if volume is not None else "")
            + ": the segmentation lies on the SEG's own plane positions"
        )
    node = segmentation_node_from_content(
        content, _seg_name(header), reference_volume=volume, scene=context.scene
    )
    node.SetAttribute("DICOM.instanceUIDs", str(header.SOPInstanceUID))
    series_item = add_series_in_subject_hierarchy(
        node, header, [str(header.SOPInstanceUID)], content.referenced_instance_uids, scene=context.scene
    )
    context.files.remember_file(header.SOPInstanceUID, path)  # an SR's export or load finds it again
    context.warnings.extend(content.warnings)
    maps = fraction_volumes(content, node.GetName(), context.scene, series_item)
    if maps:
        context.warnings.append(
            f"{path}: FRACTIONAL ({content.fractional_type or 'PROBABILITY'}) segmentation: the segments "
            f"hold the voxels >= 0.5; the fractions are in {len(maps)} volume(s) named '... fraction'"
        )
    return [node, *maps]


def fraction_volumes(content, name: str, scene, parent_item: int = 0) -> list:
    """One float volume (values 0..1) per segment of FRACTIONAL content, under ``parent_item``.

    A segmentation node is binary; these volumes keep what a FRACTIONAL SEG holds beyond the
    thresholded segments (probabilities or occupancy), on the same grid.
    """
    import slicer

    from ._images import vtk_matrix
    from .subject_hierarchy import subject_hierarchy_node

    if not content.fractions:
        return []
    shn = subject_hierarchy_node(scene)
    out = []
    for info in content.segments:
        fractions = content.fractions.get(info.number)
        if fractions is None:
            continue
        volume = scene.AddNewNodeByClass(
            "vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(f"{name}: {info.label} fraction")
        )
        slicer.util.updateVolumeFromArray(volume, np.ascontiguousarray(fractions, dtype=np.float32))
        volume.SetIJKToRASMatrix(vtk_matrix(content.grid.ijk_to_ras()))
        volume.CreateDefaultDisplayNodes()
        display = volume.GetDisplayNode()
        if display is not None:
            display.SetAutoWindowLevel(False)
            display.SetWindowLevelMinMax(0.0, 1.0)
        volume.SetAttribute("DICOM.fractionalType", str(content.fractional_type or "PROBABILITY"))
        if parent_item:
            shn.CreateItem(parent_item, volume)
        out.append(volume)
    return out
