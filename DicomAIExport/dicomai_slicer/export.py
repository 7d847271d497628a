"""Export a segmentation or labelmap node as a DICOM SEG on the grid of its reference series.

MRML -> core content (segmentation.py) -> the core's :func:`dicomai.seg.encode.write_seg`. All
DICOM encoding stays in the core; this module finds the reference series and its files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

__all__ = ["SegExport", "export_segmentation", "resolve_segmentation_type"]

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


def resolve_segmentation_type(segmentation_type: Optional[str], content) -> str:
    """The SEG type to write: "auto" (or None) becomes LABELMAP when no voxel of ``content`` belongs
    to two segments (one small frame per slice, the compact choice), else BINARY (one frame per
    segment and slice). Fractional content stays FRACTIONAL. Other values are returned upper-cased.
    """
    requested = str(segmentation_type or "auto").upper()
    if requested != "AUTO":
        return requested
    if content.fractions:
        return "FRACTIONAL"
    from dicomai.seg.encode import layers_overlap

    return "BINARY" if layers_overlap(content) else "LABELMAP"


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
    output_file: Optional[PathLike] = None,
    *,
    source_folder: Optional[PathLike] = None,
    source_files: Optional[Sequence[PathLike]] = None,
    algorithm_name: Optional[str] = None,
    algorithm_version: Optional[str] = None,
    algorithm_type: Optional[str] = None,
    series_description: Optional[str] = None,
    series_number: Optional[int] = None,
    segment_ids: Optional[Sequence] = None,
    segmentation_type: str = "BINARY",
    compression: Optional[str] = None,
    overwrite: bool = False,
    skip_empty: bool = True,
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
    output_file:
        The SEG file to write.
    source_folder, source_files:
        Where the reference series' files are (headless). Inside Slicer they come from
        ``slicer.dicomDatabase``; headless, a series loaded with :func:`load_dicom_series` in the
        same process is found again too.
    algorithm_name, algorithm_version, algorithm_type:
        Identify the model; with a name, segments are AUTOMATIC unless ``algorithm_type`` says
        otherwise. Default: each segment's DICOM tags, else MANUAL.
    series_description:
        Default: the node's name.
    series_number:
        Default: the reference series number + 100 (as Slicer).
    segment_ids:
        Segment IDs to export (segmentation node) or label values (labelmap node); default all.
    segmentation_type:
        "BINARY" (default), "LABELMAP", "FRACTIONAL" or "auto" (LABELMAP when no voxel belongs
        to two segments, else BINARY; see :func:`resolve_segmentation_type`).
    compression:
        Transfer syntax by name ("none", "rle", "jpeg-ls", ...); default the core's choice for the
        type (see :func:`dicomai.seg.encode.write_seg`).
    overwrite:
        Replace an existing output file.
    skip_empty:
        Leave out segments without voxels (with a warning) instead of failing.
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
    if node is None:
        raise InputError("no node given: pass a segmentation or labelmap volume node")
    if output_file is None:
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
    source, _ = find_source_series(reference, source_folder, source_files, scene)
    grid = source.grid
    source_to_target = _transform_between(node, reference)
    warnings: list = []
    report(0.1, "reading segments")
    kwargs = dict(
        algorithm_name=algorithm_name, algorithm_version=algorithm_version, algorithm_type=algorithm_type
    )
    if is_segmentation:
        content = content_from_segmentation_node(
            node,
            grid,
            segment_ids=segment_ids,
            source_to_target=source_to_target,
            warnings=warnings,
            **kwargs,
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
            **kwargs,
        )
        ids = [s.label_value for s in content.segments]
    id_of = {s.number: i for s, i in zip(content.segments, ids)}
    if skip_empty:
        counts = segment_voxel_counts(content)
        empty = [s for s in content.segments if counts.get(s.number, 0) == 0]
        if empty and len(empty) < len(content.segments):
            names = ", ".join(repr(s.label) for s in empty[:10]) + (" ..." if len(empty) > 10 else "")
            content.warnings.append(f"{len(empty)} empty segment(s) left out: {names}")
            content.segments = [s for s in content.segments if counts.get(s.number, 0) > 0]
        elif empty:
            raise InputError(f"every segment of {node.GetName()!r} is empty: nothing to export")
    content.warnings = list(dict.fromkeys(content.warnings))
    segmentation_type = resolve_segmentation_type(segmentation_type, content)

    def core_progress(fraction, message):
        report(0.3 + 0.7 * float(fraction), message)

    result = write_seg(
        content,
        source,
        output_file,
        segmentation_type=segmentation_type,
        overwrite=overwrite,
        series_description=series_description if series_description is not None else node.GetName(),
        **({"compression": compression} if compression is not None else {}),
        series_number=series_number,
        algorithm_name=algorithm_name,
        algorithm_version=algorithm_version,
        algorithm_type=algorithm_type,
        progress=core_progress,
    )
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
