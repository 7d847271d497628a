"""Encoding :class:`SegmentationContent` as a DICOM Segmentation with highdicom.

The SEG references every source instance, copies patient and study from the source series and
starts a new series. Empty frames are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ..errors import GeometryMismatchError, InputError
from ..fileio import atomic_output, check_writable
from ..source import SourceSeries
from .content import SegmentationContent, SegmentInfo, relabel

__all__ = ["SEG_TYPES", "SegWriteResult", "write_seg", "MANUFACTURER", "MODEL_NAME"]

SEG_TYPES = ("BINARY", "LABELMAP", "FRACTIONAL")
MANUFACTURER = "DicomAI"
MODEL_NAME = "DicomAIExtension"

_CS_BAD = re.compile(r"[^A-Z0-9 _]")


@dataclass
class SegWriteResult:
    """What :func:`write_seg` wrote."""

    path: Path
    segmentation_type: str
    number_of_frames: int
    segments: list
    sop_instance_uid: str
    series_instance_uid: str
    warnings: list = field(default_factory=list)


def _content_label(text: str) -> str:
    """A valid CS value (upper case, letters/digits/space/underscore, 16 chars)."""
    label = _CS_BAD.sub("_", (text or "SEGMENTATION").upper()).strip()[:16]
    return label or "SEGMENTATION"


def _algorithm_family(seg: SegmentInfo):
    from pydicom.sr.codedict import codes

    return seg.algorithm_family if seg.algorithm_family is not None else codes.DCM.ArtificialIntelligence


def segment_description(seg: SegmentInfo, number: int):
    """highdicom SegmentDescription for one segment (numbered ``number`` in the file)."""
    import highdicom as hd

    from ..coding import code_to_dataset, generic_category, generic_type

    algorithm_identification = None
    if seg.algorithm_type != "MANUAL":
        algorithm_identification = hd.AlgorithmIdentificationSequence(
            name=seg.algorithm_name or "unknown",
            family=_algorithm_family(seg),
            version=seg.algorithm_version or "unknown",
        )
    category = seg.category if seg.category is not None else generic_category()
    typ = seg.type if seg.type is not None else generic_type()
    desc = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=(seg.label or f"Segment {number}")[:64],
        segmented_property_category=code_to_dataset(category),
        segmented_property_type=code_to_dataset(typ),
        algorithm_type=seg.algorithm_type,
        algorithm_identification=algorithm_identification,
        tracking_uid=seg.tracking_uid,
        tracking_id=seg.tracking_id,
        anatomic_regions=[code_to_dataset(seg.anatomic_region)] if seg.anatomic_region is not None else None,
        display_color=(hd.color.CIELabColor.from_rgb(*seg.color) if seg.color is not None else None),
    )
    if seg.type_modifiers:
        # nested in the type item, as the standard (and dcmqi) have it
        desc.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [
            code_to_dataset(c) for c in seg.type_modifiers
        ]
    if seg.anatomic_region is not None and seg.anatomic_region_modifiers:
        desc.AnatomicRegionSequence[0].AnatomicRegionModifierSequence = [
            code_to_dataset(c) for c in seg.anatomic_region_modifiers
        ]
    if seg.description:
        desc.SegmentDescription = seg.description[:64]
    return desc


def _check_grid(content: SegmentationContent, source: SourceSeries) -> None:
    diffs = content.grid.differences(source.grid)
    if diffs:
        raise GeometryMismatchError(
            f"the segmentation grid differs from the source series in {', '.join(diffs)}:\n"
            f"  segmentation: {content.grid.describe()}\n"
            f"  source:       {source.grid.describe()}\n"
            "resample the segmentation onto the source grid first (nearest neighbour); it is "
            "never resampled silently"
        )


def write_seg(
    content: SegmentationContent,
    source: SourceSeries,
    output,
    *,
    segmentation_type: str = "BINARY",
    overwrite: bool = False,
    series_description: Optional[str] = None,
    series_number: Optional[int] = None,
    instance_number: Optional[int] = None,
    algorithm_name: Optional[str] = None,
    algorithm_version: Optional[str] = None,
    algorithm_type: Optional[str] = None,
    fractional_type: str = "PROBABILITY",
    max_fractional_value: int = 255,
    transfer_syntax_uid: Optional[str] = None,
    manufacturer: str = MANUFACTURER,
    progress: Optional[Callable[[float, str], None]] = None,
) -> SegWriteResult:
    """Write a DICOM SEG for ``content`` on the grid of ``source``.

    Parameters
    ----------
    content:
        Segments and voxels; its grid must equal the source grid.
    source:
        The series the segmentation was made on (headers suffice).
    output:
        Path of the file to write; written under a temporary name and renamed when complete.
    segmentation_type:
        ``"BINARY"`` (default), ``"LABELMAP"`` or ``"FRACTIONAL"``.
    algorithm_name, algorithm_version, algorithm_type:
        When given, applied to every automatic/semi-automatic segment (they override the
        metadata); otherwise each segment keeps its own.

    Raises
    ------
    GeometryMismatchError
        The content grid is not the source grid.
    InputError
        No segment has any voxel; overlapping segments asked to be written as LABELMAP.
    OutputExistsError
        ``output`` exists and ``overwrite`` is false.
    """
    import highdicom as hd
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from .. import __version__

    output = Path(output)
    check_writable([output], overwrite)
    seg_type = str(segmentation_type).upper()
    if seg_type not in SEG_TYPES:
        raise InputError(f"segmentation type {segmentation_type!r} is not one of {', '.join(SEG_TYPES)}")
    _check_grid(content, source)
    warnings = list(content.warnings) + list(source.warnings)
    report = progress or (lambda fraction, message: None)

    segments = [s for s in content.segments if s.number != 0 or seg_type != "LABELMAP"]
    if not segments:
        raise InputError("the segmentation has no segments: nothing to write")
    if algorithm_type:
        for s in segments:
            s.algorithm_type = str(algorithm_type).upper()
    for s in segments:
        if s.algorithm_type == "MANUAL":
            continue
        # an algorithm named by the caller overrides what the metadata says
        s.algorithm_name = algorithm_name or s.algorithm_name
        s.algorithm_version = algorithm_version or s.algorithm_version
    unnamed = [s.label for s in segments if s.algorithm_type != "MANUAL" and not s.algorithm_name]
    if unnamed:
        warnings.append(
            f"{len(unnamed)} automatic segment(s) have no algorithm name: 'unknown' written; "
            "pass --algorithm-name/--algorithm-version to identify the model"
        )

    report(0.05, "preparing pixel data")
    pixel_array, kept = _pixel_array(content, segments, seg_type)
    if not kept:
        raise InputError("every segment is empty (no voxel set): nothing to write")
    dropped = [s for s in segments if s not in kept]
    if dropped:
        names = ", ".join(repr(s.label) for s in dropped[:10])
        raise InputError(
            f"{len(dropped)} segment(s) have no voxels ({names}); remove them or check the labelmap"
        )
    descriptions = [segment_description(s, i) for i, s in enumerate(kept, start=1)]

    attrs = dict(content.attributes)
    if series_description is None:
        series_description = attrs.get("SeriesDescription") or _default_description(kept)
    if series_number is None:
        series_number = int(attrs.get("SeriesNumber") or 0) or _default_series_number(source)
    if instance_number is None:
        instance_number = int(attrs.get("InstanceNumber") or 1)

    report(0.2, f"encoding {len(kept)} segment(s)")
    kwargs = {}
    if seg_type == "FRACTIONAL":
        kwargs.update(fractional_type=fractional_type, max_fractional_value=int(max_fractional_value))
    seg = hd.seg.Segmentation(
        source_images=source.datasets,
        pixel_array=pixel_array,
        segmentation_type=seg_type,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=int(series_number),
        sop_instance_uid=generate_uid(),
        instance_number=int(instance_number),
        manufacturer=manufacturer,
        manufacturer_model_name=MODEL_NAME,
        software_versions=f"dicomai {__version__}",
        device_serial_number="0",
        content_label=_content_label(attrs.get("ContentLabel") or "SEGMENTATION"),
        content_description=(attrs.get("ContentDescription") or None),
        content_creator_name=attrs.get("ContentCreatorName") or None,
        transfer_syntax_uid=transfer_syntax_uid or ExplicitVRLittleEndian,
        omit_empty_frames=True,
        **kwargs,
    )
    seg.SeriesDescription = str(series_description)[:64]
    for kw in ("ClinicalTrialSeriesID", "ClinicalTrialTimePointID", "ClinicalTrialCoordinatingCenterName"):
        if attrs.get(kw):
            setattr(seg, kw, str(attrs[kw]))
    body_part = attrs.get("BodyPartExamined") or source.first.get("BodyPartExamined")
    if body_part:
        seg.BodyPartExamined = str(body_part)
    report(0.8, "writing file")
    with atomic_output(output, overwrite) as tmp:
        seg.save_as(tmp, enforce_file_format=True)
    report(1.0, "done")
    return SegWriteResult(
        path=output,
        segmentation_type=seg_type,
        number_of_frames=int(seg.NumberOfFrames),
        segments=kept,
        sop_instance_uid=str(seg.SOPInstanceUID),
        series_instance_uid=str(seg.SeriesInstanceUID),
        warnings=warnings,
    )


def _default_description(segments: Sequence[SegmentInfo]) -> str:
    names = {s.algorithm_name for s in segments if s.algorithm_name}
    if len(names) == 1:
        return f"{names.pop()} segmentation"
    return "Segmentation"


def _default_series_number(source: SourceSeries) -> int:
    try:
        return int(source.first.get("SeriesNumber") or 0) + 100
    except (TypeError, ValueError):
        return 100


def _pixel_array(content: SegmentationContent, segments: list, seg_type: str):
    """Array for highdicom and the segments that have voxels (in output order)."""
    if seg_type == "FRACTIONAL":
        if content.fractions:
            kept = [s for s in segments if np.any(content.fractions.get(s.number, 0) > 0)]
            stack = np.stack([content.fractions[s.number] for s in kept], axis=-1) if kept else None
            return (stack.astype(np.float32) if stack is not None else None), kept
        # binary content written as FRACTIONAL: 0 / 1 values
    layers = content.layers
    counts = {}
    for li, layer in enumerate(layers):
        c = np.bincount(layer.ravel())
        for s in segments:
            if s.layer == li:
                counts[s.number] = int(c[s.label_value]) if s.label_value < len(c) else 0
    kept = [s for s in segments if counts.get(s.number, 0) > 0]
    if not kept:
        return None, kept
    used_layers = sorted({s.layer for s in kept})
    if len(used_layers) == 1 and seg_type != "FRACTIONAL":
        layer = layers[used_layers[0]]
        mapping = {s.label_value: i for i, s in enumerate(kept, start=1)}
        if all(k == v for k, v in mapping.items()) and layer.max() <= len(kept):
            array = layer
        else:
            array = relabel(layer, mapping)
        if seg_type == "LABELMAP" or array.dtype != np.uint8 and len(kept) < 256:
            array = array.astype(np.uint8 if len(kept) < 256 else np.uint16, copy=False)
        return array, kept
    if seg_type == "LABELMAP":
        raise InputError(
            f"segments overlap ({len(used_layers)} layers): a LABELMAP SEG gives each voxel one "
            "segment; write BINARY (or --type auto) instead"
        )
    stack = np.zeros((*content.grid.shape, len(kept)), dtype=np.uint8)
    for i, s in enumerate(kept):
        stack[..., i] = layers[s.layer] == s.label_value
    return stack, kept
