"""Assembling a :class:`~dicomai.sr.document.Report` from what a user has: markups, a per-segment
measurement table, the SEG the table is about, classification results, who made them.

Checks made here, before anything is encoded:

- markups outside the source volume: a warning naming the control point (still exported);
- a table row naming a segment the SEG lacks: :class:`~dicomai.errors.MetadataError` naming it;
- a SEG of another study, or not referencing the source series: an error / a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from ..errors import InputError, MetadataError
from ..sopclasses import LABEL_MAP_SEGMENTATION_STORAGE
from ..source import SourceSeries
from . import concepts as C
from .content import (
    Annotation,
    DeviceObserver,
    ImageRef,
    Markup,
    Measurement,
    MeasurementGroup,
    PersonObserver,
    SegmentReference,
)
from .document import Report
from .shapes import groups_from_markup
from .tables import MeasurementTable

__all__ = [
    "DEFAULT_DEVICE",
    "ImageFinding",
    "SegAttachment",
    "build_report",
    "default_procedure",
    "device_uid",
    "tracking_uid",
]

#: The observer written when no model or person is named: this software.
DEFAULT_DEVICE = DeviceObserver(name="DicomAI", manufacturer="DicomAI", model_name="DicomAIExtension")

# LOINC / SNOMED procedure codes (CID 100) by source modality
_PROCEDURES = {
    "CT": ("25045-6", "LN", "CT unspecified body region"),
    "MR": ("25056-3", "LN", "MRI unspecified body region"),
    "PT": ("44139-4", "LN", "PET whole body"),
}
_GENERIC_PROCEDURE = ("363679005", "SCT", "Imaging procedure")

# a control point counts as inside the volume up to this far (in voxels) beyond the outer voxel centres
_INSIDE_MARGIN = 0.5 + 1e-6


@dataclass
class ImageFinding:
    """A classification / detection result that is not tied to a markup or a segment.

    Written as a TID 1501 group on the listed images (or the whole series when ``image_uids`` is
    empty), or attached to the group(s) of a markup (``markup``, optionally one ``point`` of a
    point list by label) or of a segment (``segment`` label).
    """

    annotation: Annotation
    image_uids: list = field(default_factory=list)
    markup: Optional[str] = None
    point: Optional[str] = None
    segment: Optional[str] = None


@dataclass
class SegAttachment:
    """The SEG a report refers to: its header and segment descriptions."""

    dataset: object
    segments: list
    path: Optional[Path] = None

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.SOPInstanceUID)

    @property
    def sop_class_uid(self) -> str:
        return str(self.dataset.SOPClassUID)

    @classmethod
    def read(cls, path) -> SegAttachment:
        from ..seg.decode import read_seg_header, segments_from_dataset

        ds = read_seg_header(path)
        segments = [s for s in segments_from_dataset(ds) if s.number != 0]
        return cls(ds, segments, Path(path))


def device_uid(device: DeviceObserver) -> str:
    """A UID that is the same every time for the same manufacturer, name, model and version."""
    from pydicom.uid import generate_uid

    parts = ["dicomai-device", device.manufacturer or "", device.name or "", device.model_name or ""]
    parts.append(device.version or "")
    return generate_uid(entropy_srcs=parts)


def tracking_uid(study_uid: str, observer_uid: str, tracking_id: str) -> str:
    """The tracking UID of a group: the same for the same study, observer and tracking identifier."""
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["dicomai-tracking", study_uid or "", observer_uid or "", tracking_id])


def default_procedure(modality: str):
    from ..coding import Code

    v = _PROCEDURES.get((modality or "").upper(), _GENERIC_PROCEDURE)
    return Code(*v)


def _outside(markup: Markup, source: SourceSeries) -> list:
    """Labels of the control points (or corners) of ``markup`` outside the source volume."""
    if not source.has_plane_geometry:
        return []
    grid = source.grid
    if markup.kind == "roi":
        pts, names = markup.corners(), [f"corner {i + 1}" for i in range(8)]
    elif markup.kind == "plane":
        pts, names = markup.center.reshape(1, 3), ["centre"]
    else:
        pts = markup.points
        names = [markup.labels[i] or f"point {i + 1}" for i in range(len(pts))]
    if not len(pts):
        return []
    idx = grid.world_to_index(pts)
    hi = np.asarray(grid.shape, float) - 1
    bad = np.any((idx < -_INSIDE_MARGIN) | (idx > hi + _INSIDE_MARGIN), axis=1)
    return [names[i] for i in np.flatnonzero(bad)]


def _match_segment(label: str, segments: list):
    for s in segments:
        if s.label == label:
            return s
    low = label.strip().lower()
    for s in segments:
        if (s.label or "").strip().lower() == low or (s.tracking_id or "").strip().lower() == low:
            return s
    if label.strip().isdigit():
        n = int(label.strip())
        for s in segments:
            if s.number == n:
                return s
    return None


def _check_seg(seg: SegAttachment, source: SourceSeries, warnings: list) -> None:
    ds = seg.dataset
    name = seg.path.name if seg.path else "the SEG"
    if str(ds.get("StudyInstanceUID", "")) != source.study_instance_uid:
        raise InputError(
            f"{name} belongs to study {ds.get('StudyInstanceUID', '?')}, the source series to study "
            f"{source.study_instance_uid}: a report references objects of one study; give the SEG made "
            "on this source series"
        )
    refs = [str(item.get("SeriesInstanceUID", "")) for item in ds.get("ReferencedSeriesSequence", [])]
    if refs and source.series_instance_uid not in refs:
        warnings.append(
            f"{name} references series {', '.join(refs)}, not the source series {source.series_instance_uid}"
        )
    for_uid = str(ds.get("FrameOfReferenceUID", "")) or None
    if for_uid and source.frame_of_reference_uid and for_uid != source.frame_of_reference_uid:
        warnings.append(
            f"{name} has frame of reference {for_uid}, the source series {source.frame_of_reference_uid}"
        )


def _segment_reference(seg: SegAttachment, s, source: SourceSeries) -> SegmentReference:
    return SegmentReference(
        sop_instance_uid=seg.sop_instance_uid,
        segment_number=s.number,
        sop_class_uid=seg.sop_class_uid,
        source_series_uid=source.series_instance_uid,
        label=s.label,
    )


def _segment_group(seg: SegAttachment, s, source: SourceSeries, measurements: list) -> MeasurementGroup:
    return MeasurementGroup(
        template="1411",
        tracking_id=s.tracking_id or s.label,
        tracking_uid=s.tracking_uid,
        finding=s.type,
        finding_category=s.category,
        finding_sites=[s.anatomic_region] if s.anatomic_region is not None else [],
        segment=_segment_reference(seg, s, source),
        measurements=list(measurements),
    )


def _seg_volume_groups(seg: SegAttachment, source: SourceSeries, warnings: list) -> list:
    """One volumetric group per segment with its volume (sum of segmented voxel volumes)."""
    from ..seg.decode import read_seg

    if seg.path is None:
        return []
    content = read_seg(seg.path, source)
    warnings.extend(w for w in content.warnings if w not in warnings)
    counts = content.voxel_counts()
    voxel = float(np.prod(source.grid.spacing))
    groups = []
    anchors = segment_anchors(content)
    for s in seg.segments:
        n = counts.get(s.number, 0)
        m = Measurement(
            quantity=C.VOLUME,
            value=float(n * voxel),
            unit=C.CUBIC_MILLIMETER,
            method=C.SUM_OF_SEGMENTED_VOXELS,
            label="Volume (mm3)",
        )
        g = _segment_group(seg, s, source, [m])
        g.anchor = anchors.get(s.number)
        groups.append(g)
    return groups


def segment_anchors(content) -> dict:
    """{segment number: LPS centre of the segment's voxel nearest to its centroid}: a point inside
    each segment, on a slice, for viewers that need a coordinate in every group (OHIF)."""
    out = {}
    grid = content.grid
    for s in content.segments:
        idx = np.argwhere(content.mask(s.number))
        if not len(idx):
            continue
        nearest = idx[np.argmin(((idx - idx.mean(axis=0)) ** 2).sum(axis=1))]
        out[s.number] = grid.index_to_world(nearest[None, :].astype(float))[0]
    return out


def build_report(
    source: SourceSeries,
    markups: Sequence[Markup] = (),
    table: Optional[MeasurementTable] = None,
    seg: Optional[SegAttachment] = None,
    findings: Sequence[ImageFinding] = (),
    device: Optional[DeviceObserver] = None,
    person: Optional[PersonObserver] = None,
    procedure_reported=None,
    series_description: Optional[str] = None,
    series_number: Optional[int] = None,
    seg_volumes: bool = True,
) -> Report:
    """Build the report of ``markups``, ``table`` and ``findings`` about ``source``.

    Parameters
    ----------
    source:
        The image series everything refers to (headers suffice).
    markups:
        Markups in LPS; each becomes one group (a point list one per control point).
    table:
        Per-segment measurements; each row becomes a volumetric group referencing the segment of
        ``seg`` with that label (or, without ``seg``, a group without a region).
    seg:
        The SEG the table's rows are segments of. Without a table and with ``seg_volumes``, each
        segment gets a volumetric group with its volume computed from the SEG.
    findings:
        Classification / detection results (see :class:`ImageFinding`).
    device, person:
        Observers. Without either, the observer is this software (:data:`DEFAULT_DEVICE`). A
        device's name and version are also written per group as its Algorithm Identification.
    procedure_reported:
        A code or codes; default from the source modality (CT: LOINC 25045-6 ...).

    Returns
    -------
    Report
        With ``warnings`` filled (markups outside the volume, unknown table columns...).

    Raises
    ------
    MetadataError
        A table row names a segment the SEG lacks; a finding names a markup or segment that is
        not in the report.
    InputError
        Nothing to report; the SEG belongs to another study.
    """
    warnings: list = list(source.warnings)
    if seg is not None and seg.sop_class_uid == LABEL_MAP_SEGMENTATION_STORAGE:
        warnings.append(
            "the SEG is a Label Map Segmentation: the SR names its segments by Referenced Segment "
            "Number, which dicom3tools' dciodvfy accepts only for (BINARY/FRACTIONAL) Segmentation "
            "Storage; write the SEG as BINARY when other validators must accept the pair"
        )
    device_given = device is not None
    if device is None and person is None:
        device = DeviceObserver(**DEFAULT_DEVICE.__dict__)
    if device is not None:
        device = DeviceObserver(**device.__dict__)
        if not device.uid:
            device.uid = device_uid(device)
    if procedure_reported is None:
        procedure_reported = [default_procedure(source.modality)]
    elif hasattr(procedure_reported, "scheme_designator"):  # one code (Code is itself a tuple)
        procedure_reported = [procedure_reported]
    else:
        procedure_reported = list(procedure_reported)

    groups: List[MeasurementGroup] = []
    names = [m.name for m in markups]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise MetadataError(
            f"markup name(s) {', '.join(repr(d) for d in dup)} used more than once: markups are "
            "told apart by name; rename them"
        )
    for m in markups:
        outside = _outside(m, source)
        if outside:
            shown = ", ".join(repr(o) for o in outside[:5]) + (" ..." if len(outside) > 5 else "")
            warnings.append(
                f"{m.kind.replace('_', ' ')} {m.name!r}: {len(outside)} control point(s) lie outside the "
                f"source volume ({shown}); exported anyway"
            )
        gs, ws = groups_from_markup(m, source.frame_of_reference_uid)
        groups.extend(gs)
        warnings.extend(ws)

    if seg is not None:
        _check_seg(seg, source, warnings)
    if table is not None:
        warnings.extend(table.warnings)
        if seg is None:
            warnings.append(
                f"measurement table {table.path.name if table.path else ''} given without its SEG: "
                "its rows are written as measurement groups without a region "
                "(give --seg to reference the segments)"
            )
        for i, (label, _) in enumerate(table.rows):
            measurements = table.measurements(i)
            if not measurements:
                warnings.append(f"measurement table row {label!r} has no values; left out")
                continue
            if seg is None:
                groups.append(MeasurementGroup(template="1501", tracking_id=label, measurements=measurements))
                continue
            s = _match_segment(label, seg.segments)
            if s is None:
                known = ", ".join(repr(x.label) for x in seg.segments[:20])
                raise MetadataError(
                    f"measurement table row {label!r} names no segment of the SEG "
                    f"{seg.path.name if seg.path else seg.sop_instance_uid} (its segments: {known}); "
                    "rename the row or give the SEG it belongs to"
                )
            groups.append(_segment_group(seg, s, source, measurements))
    elif seg is not None and seg_volumes:
        groups.extend(_seg_volume_groups(seg, source, warnings))

    for f in findings:
        _attach(f, groups, source, seg, warnings)

    if not groups:
        raise InputError("nothing to report: give markups, a measurement table, a SEG or findings")
    if seg is not None and seg.path is not None:
        unanchored = [g for g in groups if g.segment is not None and g.anchor is None]
        if unanchored:
            from ..seg.decode import read_seg

            anchors = segment_anchors(read_seg(seg.path, source))
            for g in unanchored:
                g.anchor = anchors.get(g.segment.segment_number)

    # tracking identifiers: unique, with stable UIDs
    observer_uid = device.uid if device is not None else (person.name if person else "")
    seen: dict = {}
    for n, g in enumerate(groups, start=1):
        g.number = n
        base = g.tracking_id or f"Group {n}"
        tid, k = base, 2
        while tid in seen:
            tid = f"{base} ({k})"
            k += 1
        seen[tid] = g
        g.tracking_id = tid
        if not g.tracking_uid:
            g.tracking_uid = tracking_uid(source.study_instance_uid, observer_uid, tid)
        if device_given and device is not None and device.name and device.version:
            g.algorithm_name = g.algorithm_name or device.name
            g.algorithm_version = g.algorithm_version or device.version

    report = Report(
        groups=groups,
        device=device,
        person=person,
        procedure_reported=list(procedure_reported),
        series_description=series_description,
        series_number=series_number,
    )
    report.warnings = warnings
    return report


def _attach(f: ImageFinding, groups: list, source: SourceSeries, seg, warnings: list) -> None:
    a = f.annotation
    if f.markup is not None or f.segment is not None:
        if f.markup is not None:
            targets = [g for g in groups if g.markup_name == f.markup]
            if f.point is not None:
                targets = [g for g in targets if g.point_label == f.point]
            what = f"markup {f.markup!r}" + (f" point {f.point!r}" if f.point is not None else "")
        else:
            targets = [g for g in groups if g.segment is not None and (g.segment.label or "") == f.segment]
            if not targets and seg is not None:
                s = _match_segment(f.segment, seg.segments)
                if s is not None:
                    g = _segment_group(seg, s, source, [])
                    groups.append(g)
                    targets = [g]
            what = f"segment {f.segment!r}"
        if not targets:
            raise MetadataError(f"a finding is attached to {what}, which is not in the report")
        for g in targets:
            g.apply(a)
        return
    images = []
    for uid in f.image_uids:
        k = source.index_of(uid)
        if k < 0:
            raise MetadataError(f"a finding names image {uid}, which is not in the source series")
        images.append(ImageRef(str(source.datasets[k].SOPClassUID), uid))
    g = MeasurementGroup(template="1501", tracking_id=a.tracking_id or "", source_images=images)
    g.apply(a)
    if not g.tracking_id:
        g.tracking_id = str(a.finding.meaning) if a.finding is not None else "Image finding"
    if not g.measurements and not g.evaluations and g.finding is None:
        warnings.append("an image finding without a finding, evaluation or measurement was left out")
        return
    groups.append(g)
