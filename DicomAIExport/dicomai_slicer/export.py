"""Export a segmentation or labelmap node as a DICOM SEG on the grid of its reference series.

MRML -> core content (segmentation.py) -> the core's :func:`dicomai.seg.encode.write_seg`. All
DICOM encoding stays in the core; this module finds the reference series and its files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from dicomai.seg.options import SegOptions  # standard library only: safe before pydicom is installed

__all__ = ["SegExport", "SegExportOptions", "export_segmentation"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(eq=False)
class WrittenFile(os.PathLike):
    """A file an export wrote, usable as its path (``os.fspath``, ``str``, ``==`` a path), with
    the warnings worth knowing. :class:`SegExport` and ``report.ReportExport`` add details."""

    path: Path
    warnings: list = field(default_factory=list)

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __eq__(self, other) -> bool:
        if isinstance(other, WrittenFile):
            return Path(self.path) == Path(other.path)
        if isinstance(other, (str, os.PathLike)):
            return Path(self.path) == Path(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(Path(self.path))


@dataclass(eq=False)
class SegExport(WrittenFile):
    """What :func:`export_segmentation` wrote.

    Attributes
    ----------
    path:
        The SEG file.
    warnings:
        Everything worth knowing (resampling, codes looked up from names, skipped segments...).
    segments:
        The :class:`~dicomai.seg.content.SegmentInfo` written, numbered as in the file.
    segment_ids:
        Segment IDs (segmentation node) or label values (labelmap node) of those segments.
    """

    segments: list = field(default_factory=list)
    segment_ids: list = field(default_factory=list)
    sop_instance_uid: str = ""
    series_instance_uid: str = ""
    number_of_frames: int = 0
    segmentation_type: str = "BINARY"


@dataclass
class SegExportOptions(SegOptions):
    """:class:`dicomai.seg.options.SegOptions` plus what the adapter needs to find.

    Attributes
    ----------
    segment_ids:
        Segment IDs to export (segmentation node) or label values (labelmap node); default all.
    skip_empty:
        Leave out segments without voxels (with a warning) instead of failing (default).
    source_folder, source_files:
        Where the reference series' files are (headless). Inside Slicer they come from
        ``slicer.dicomDatabase``; headless, a series loaded with ``load_dicom_series`` in the
        same process is found again too.
    """

    segment_ids: Optional[Sequence] = None
    skip_empty: bool = True
    source_folder: Optional[PathLike] = None
    source_files: Optional[Sequence[PathLike]] = None

    @classmethod
    def of(cls, options) -> SegExportOptions:
        """``options`` as SegExportOptions (a plain SegOptions keeps its values; None: defaults)."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        return cls(**{f: getattr(options, f) for f in SegOptions.__dataclass_fields__})


def _transform_between(node, reference_node):
    """RAS-to-RAS matrix from ``node``'s world to ``reference_node``'s, or None when identity."""
    from ._images import linear_transform_between

    return linear_transform_between(
        node.GetParentTransformNode(),
        reference_node.GetParentTransformNode(),
        f"{node.GetName()!r} and reference volume {reference_node.GetName()!r} are related by a "
        "non-linear transform: harden it first",
    )


def _reference_of(node, reference_volume_node):
    from dicomai.errors import InputError

    reference = reference_volume_node
    if reference is None and node.IsA("vtkMRMLSegmentationNode"):
        reference = node.GetNodeReference(node.GetReferenceImageGeometryReferenceRole())
        if reference is None:
            raise InputError(
                f"segmentation {node.GetName()!r} has no reference volume: pass reference_volume_node "
                "(the CT/MR it was made on), or set it with "
                "segmentationNode.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)"
            )
    if reference is None:
        raise InputError(
            f"labelmap {node.GetName()!r} has no reference volume: pass reference_volume_node (the "
            "CT/MR it was made on)"
        )
    if not reference.IsA("vtkMRMLScalarVolumeNode") or reference.IsA("vtkMRMLLabelMapVolumeNode"):
        raise InputError(
            f"reference {reference.GetName()!r} of {node.GetName()!r} is a {reference.GetClassName()}; "
            "give the CT/MR/PT scalar volume the segmentation was made on"
        )
    return reference


def export_segmentation(
    node,
    reference_volume_node=None,
    output: Optional[PathLike] = None,
    options=None,
    *,
    progress: Optional[Callable[[float, str], None]] = None,
    scene=None,
) -> SegExport:
    """Write a segmentation node or labelmap volume node as a DICOM SEG.

    Parameters
    ----------
    node:
        vtkMRMLSegmentationNode (binary labelmap or closed surface segments) or
        vtkMRMLLabelMapVolumeNode (its colour table gives names, colours and terminology).
    reference_volume_node:
        The CT/MR/PT volume the segmentation was made on; it must trace back to its DICOM series
        (subject hierarchy UIDs). Default: the segmentation's reference geometry volume.
    output:
        The SEG file to write (a path), or a destination (:mod:`dicomai.destinations`,
        :class:`dicomai_slicer.destinations.SlicerDatabaseDestination`).
    options:
        :class:`SegExportOptions` (a :class:`dicomai.seg.options.SegOptions` with the segments to
        export and where the source files are). Defaults: BINARY; series description: the node's
        name; series number: the reference series number + 100 (as Slicer); algorithm: with a
        name, segments are AUTOMATIC unless ``algorithm_type`` says otherwise, else each segment's
        DICOM tags, else MANUAL. ``segmentation_type="auto"``: LABELMAP when no voxel belongs to
        two segments, else BINARY (:func:`dicomai.seg.options.choose_segmentation_type`).
    progress:
        Optional ``callback(fraction, message)``.

    Returns
    -------
    SegExport
        The output path (usable as a path) with the warnings and the segments written.

    Raises
    ------
    dicomai.errors.InputError
        Not a segmentation/labelmap, no reference, reference not from DICOM, source files not
        found, nothing to write... Messages name the node.
    """
    from dicomai.errors import InputError
    from dicomai.seg.encode import write_seg

    from .scene import current_scene
    from .segmentation import (
        content_from_labelmap_node,
        content_from_segmentation_node,
        segment_voxel_counts,
    )
    from .series import find_source_series

    report = progress or (lambda fraction, message: None)
    options = SegExportOptions.of(options)
    segment_ids = options.segment_ids
    if node is None:
        raise InputError("no node given: pass a segmentation or labelmap volume node")
    if output is None:
        raise InputError(f"no output file given for {node.GetName()!r}")
    is_segmentation = node.IsA("vtkMRMLSegmentationNode")
    if not is_segmentation and not node.IsA("vtkMRMLLabelMapVolumeNode"):
        raise InputError(
            f"{node.GetName()!r} is a {node.GetClassName()}: export_segmentation takes a segmentation "
            "node or a labelmap volume node"
        )
    scene = current_scene(scene)
    reference = _reference_of(node, reference_volume_node)
    report(0.0, "finding the reference series")
    source, _ = find_source_series(reference, options.source_folder, options.source_files, scene)
    grid = source.grid
    source_to_target = _transform_between(node, reference)
    warnings: list = []
    report(0.1, "reading segments")
    if is_segmentation:
        content = content_from_segmentation_node(
            node,
            grid,
            segment_ids=segment_ids,
            source_to_target=source_to_target,
            warnings=warnings,
            options=options,
        )
        ids = (
            list(segment_ids)
            if segment_ids is not None
            else [
                node.GetSegmentation().GetNthSegmentID(n)
                for n in range(node.GetSegmentation().GetNumberOfSegments())
            ]
        )
    else:
        content = content_from_labelmap_node(
            node,
            grid,
            source_to_target=source_to_target,
            warnings=warnings,
            label_values=segment_ids,
            options=options,
        )
        ids = [s.label_value for s in content.segments]
    id_of = {s.number: i for s, i in zip(content.segments, ids)}
    if options.skip_empty:
        counts = segment_voxel_counts(content)
        empty = [s for s in content.segments if counts.get(s.number, 0) == 0]
        if empty and len(empty) < len(content.segments):
            names = ", ".join(repr(s.label) for s in empty[:10]) + (" ..." if len(empty) > 10 else "")
            content.warnings.append(f"{len(empty)} empty segment(s) left out: {names}")
            content.segments = [s for s in content.segments if counts.get(s.number, 0) > 0]
        elif empty:
            raise InputError(f"every segment of {node.GetName()!r} is empty: nothing to export")
    content.warnings = list(dict.fromkeys(content.warnings))

    def core_progress(fraction, message):
        report(0.3 + 0.7 * float(fraction), message)

    if options.series_description is None:
        options = replace(options, series_description=node.GetName())
    result = write_seg(content, source, output, options, progress=core_progress)
    for w in result.warnings:
        logging.warning(w)
    return SegExport(
        path=Path(result.path),
        warnings=list(result.warnings),
        segments=list(result.segments),
        segment_ids=[id_of.get(s.number) for s in result.segments],
        sop_instance_uid=result.sop_instance_uid,
        series_instance_uid=result.series_instance_uid,
        number_of_frames=result.number_of_frames,
        segmentation_type=result.segmentation_type,
    )
