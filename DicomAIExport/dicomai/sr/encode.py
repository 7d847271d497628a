"""Encoding a :class:`~dicomai.sr.document.Report` as a TID 1500 Comprehensive 3D SR with highdicom.

The document copies patient and study from the source series, starts a new series, lists the
source images in its Image Library (TID 1600) and references the SEG of volumetric groups. Groups
are written as TID 1410 (planar ROI: one region), TID 1411 (volumetric ROI: a referenced segment
or a volume surface) or TID 1501 (no region). A planar group whose points all lie on one slice of
the source is written as SCOORD (column, row) on that image, the way viewers that draw annotations on images
expect (OHIF); the others as SCOORD3D (LPS mm); ``coordinates="3d"`` writes every group in 3D.
``ohif=True`` (default) adds what the OHIF Viewer needs to list, draw and edit them
(:mod:`dicomai.sr.viewers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import InputError
from ..fileio import atomic_output, check_writable
from ..source import SourceSeries
from . import concepts as C
from .content import MeasurementGroup, Region
from .document import Report
from .shapes import box_corners, box_from_faces
from .viewers import cornerstone_tool, cornerstone_tracking_id

__all__ = ["MANUFACTURER", "SRWriteResult", "write_sr", "ON_SLICE_TOL_MM"]

MANUFACTURER = "DicomAI"
MODEL_NAME = "DicomAIExtension"

#: A point lies on a slice when it is at most this far (mm) from the slice plane.
ON_SLICE_TOL_MM = 1e-3

_2D_TYPES = {"POINT": "POINT", "POLYLINE": "POLYLINE", "POLYGON": "POLYLINE"}  # 2D has no POLYGON


@dataclass
class SRWriteResult:
    """What :func:`write_sr` wrote."""

    path: Path
    sop_instance_uid: str
    series_instance_uid: str
    groups: int
    groups_2d: int = 0
    warnings: list = field(default_factory=list)


def _code(c):
    from highdicom.sr import CodedConcept

    if c is None:
        return None
    return CodedConcept(str(c.value), str(c.scheme_designator), str(c.meaning)[:64])


def _on_one_slice(points: np.ndarray, source: SourceSeries, tol: float):
    """``(k, pixels)`` when every point lies on slice ``k`` of the source, else None."""
    if not source.has_plane_geometry or not source.uniform:
        return None
    grid = source.grid
    idx = grid.world_to_index(points)
    k = int(round(float(np.mean(idx[:, 0]))))
    if k < 0 or k >= grid.shape[0]:
        return None
    plane_pos = grid.slice_position(k)
    dist = np.abs((points - plane_pos) @ grid.slice_direction)
    if float(np.max(dist)) > tol:
        return None
    # SCOORD: (column, row) with 0,0 at the top left corner of the top left pixel
    pixels = np.column_stack([idx[:, 2] + 0.5, idx[:, 1] + 0.5])
    return k, pixels


def _algorithm(g: MeasurementGroup):
    import highdicom as hd

    if g.algorithm_name and g.algorithm_version:
        return hd.sr.AlgorithmIdentification(name=g.algorithm_name[:64], version=g.algorithm_version[:64])
    return None


def _measurements(g: MeasurementGroup, warnings: list) -> list:
    import highdicom as hd

    out = []
    for m in g.measurements:
        if m.value is None:
            warnings.append(f"group {g.tracking_id!r}: measurement {m.name!r} without a value left out")
            continue
        value = m.value
        if isinstance(value, (np.integer,)):
            value = int(value)
        elif isinstance(value, (np.floating,)):
            value = float(value)
        if isinstance(value, float) and not np.isfinite(value):
            warnings.append(f"group {g.tracking_id!r}: measurement {m.name!r} is {value}; left out")
            continue
        item = hd.sr.Measurement(
            name=_code(m.quantity),
            value=value,
            unit=_code(m.unit),
            derivation=_code(m.derivation),
            method=_code(m.method),
            finding_sites=[hd.sr.FindingSite(_code(s)) for s in m.finding_sites] or None,
        )
        if isinstance(value, int) and abs(value) < 10**15:
            # an integer stays an integer ("4", not highdicom's "4.0"), so it reads back as written
            item[0].MeasuredValueSequence[0].NumericValue = str(value)
        out.append(item)
    return out


def _evaluations(g: MeasurementGroup, warnings: list) -> list:
    import highdicom as hd

    out = []
    for e in g.evaluations:
        if not hasattr(e.value, "scheme_designator"):
            warnings.append(
                f"group {g.tracking_id!r}: evaluation {e.concept.meaning!r} has a text answer "
                f"({e.value!r}); only coded answers are written"
            )
            continue
        out.append(hd.sr.QualitativeEvaluation(_code(e.concept), _code(e.value)))
    return out


def _inferred_from(measurement_items: list, scoord) -> None:
    """Give every numeric measurement an ``INFERRED FROM`` copy of the group's region (TID 300):
    OHIF's adapters take a measurement's points from there."""
    import copy

    for item in measurement_items:
        num = item[0]
        ref = copy.deepcopy(scoord)
        ref.RelationshipType = "INFERRED FROM"
        num.ContentSequence = [*num.get("ContentSequence", []), ref]


def _box_sections(box, source: SourceSeries) -> list:
    """The outline of a box on every slice of the source it crosses, as closed 2D POLYLINEs."""
    import highdicom as hd

    if not source.has_plane_geometry or not source.uniform:
        return []
    corners = box_corners(*box)
    edges = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
    grid = source.grid
    normal = np.asarray(grid.slice_direction, float)
    out = []
    for k in range(grid.shape[0]):
        d = (corners - grid.slice_position(k)) @ normal
        pts = []
        for a, b in edges:
            if d[a] == 0:
                pts.append(corners[a])
            if d[a] * d[b] < 0:
                pts.append(corners[a] + (corners[b] - corners[a]) * d[a] / (d[a] - d[b]))
        if d[7] == 0:
            pts.append(corners[7])
        if len(pts) < 3:
            continue
        idx = grid.world_to_index(np.asarray(pts))[:, 1:]  # (row, column) on slice k
        idx = np.unique(np.round(idx, 6), axis=0)
        if len(idx) < 3:
            continue
        centre = idx.mean(axis=0)
        idx = idx[np.argsort(np.arctan2(idx[:, 0] - centre[0], idx[:, 1] - centre[1]))]
        pixels = np.column_stack([idx[:, 1] + 0.5, idx[:, 0] + 0.5])
        ds = source.datasets[k]
        out.append(
            hd.sr.ImageRegion(
                graphic_type="POLYLINE",
                graphic_data=np.vstack([pixels, pixels[:1]]),
                source_image=hd.sr.SourceImageForRegion(str(ds.SOPClassUID), str(ds.SOPInstanceUID)),
            )
        )
    return out


def _anchor_region(g: MeasurementGroup, source: SourceSeries, tol: float):
    """A 2D POINT at the group's anchor (a voxel of its segment), on its slice, or None."""
    import highdicom as hd

    if g.anchor is None:
        return None
    hit = _on_one_slice(np.asarray(g.anchor, float).reshape(1, 3), source, tol)
    if hit is None:
        return None
    k, pixels = hit
    ds = source.datasets[k]
    return hd.sr.ImageRegion(
        graphic_type="POINT",
        graphic_data=pixels,
        source_image=hd.sr.SourceImageForRegion(str(ds.SOPClassUID), str(ds.SOPInstanceUID)),
    )


def _group_item(
    g: MeasurementGroup,
    source: SourceSeries,
    coordinates: str,
    tol: float,
    warnings: list,
    viewers: bool = True,
):
    """(highdicom group, written in 2D?)"""
    import highdicom as hd

    identifier = str(g.tracking_id)
    points = None
    if g.template == "1410" and len(g.regions) == 1:
        r0 = g.regions[0]
        points = np.asarray(r0.points, float)
        tool = cornerstone_tool(g.markup_kind or "", r0.graphic_type, len(points), False) if viewers else None
        if tool is not None:
            identifier = cornerstone_tracking_id(tool, identifier)
            if tool == "Angle" and len(points) == 3:  # OHIF's Angle: two lines sharing the vertex
                points = points[[0, 1, 1, 2]]
    tracking = hd.sr.TrackingIdentifier(uid=g.tracking_uid, identifier=identifier)
    measurements = _measurements(g, warnings)
    common = dict(
        tracking_identifier=tracking,
        finding_type=_code(g.finding),
        finding_category=_code(g.finding_category),
        finding_sites=[hd.sr.FindingSite(_code(s)) for s in g.finding_sites] or None,
        method=_code(g.method),
        algorithm_id=_algorithm(g),
        measurements=measurements or None,
        qualitative_evaluations=_evaluations(g, warnings) or None,
        session=g.session,
    )
    for_uid = source.frame_of_reference_uid
    if g.template == "1501":
        images = [
            hd.sr.SourceImageForMeasurementGroup(i.sop_class_uid, i.sop_instance_uid) for i in g.source_images
        ]
        return hd.sr.MeasurementsAndQualitativeEvaluations(source_images=images or None, **common), False
    if g.template == "1411":
        series = hd.sr.SourceSeriesForSegmentation(source.series_instance_uid)
        if g.segment is not None:
            s = g.segment
            ref = hd.sr.ReferencedSegment(
                sop_class_uid=s.sop_class_uid,
                sop_instance_uid=s.sop_instance_uid,
                segment_number=int(s.segment_number),
                source_series=hd.sr.SourceSeriesForSegmentation(
                    s.source_series_uid or source.series_instance_uid
                ),
            )
            item = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                referenced_segment=ref, geometric_purpose=_code(g.geometric_purpose), **common
            )
            anchor = _anchor_region(g, source, tol) if viewers and measurements else None
            if anchor is not None:
                _inferred_from(measurements, anchor)
            return item, False
        if not g.regions:
            raise InputError(f"group {g.tracking_id!r}: a volumetric group needs a segment or a surface")
        if not for_uid:
            raise InputError("the source series has no FrameOfReferenceUID: 3D coordinates cannot be written")
        types = {r.graphic_type for r in g.regions}
        if len(types) != 1:
            raise InputError(f"group {g.tracking_id!r}: a volume surface needs one graphic type, got {types}")
        graphic_type = types.pop()
        faces = [np.asarray(r.points, float) for r in g.regions]
        box = box_from_faces(faces) if viewers and graphic_type == "POLYGON" else None
        sections = _box_sections(box, source) if box is not None else []
        if sections:
            # OHIF 3.13 cannot draw a 3D POLYGON (its error boundary trips): the box as its
            # outline on every slice it crosses (TID 1411 referenced regions), and its exact 8
            # corners as what the volume measurement was inferred from
            item = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                referenced_regions=sections, geometric_purpose=_code(g.geometric_purpose), **common
            )
            corners = hd.sr.ImageRegion3D(
                graphic_type="POLYLINE", graphic_data=box_corners(*box), frame_of_reference_uid=for_uid
            )
            _inferred_from(measurements, corners)
            return item, False
        surface = hd.sr.VolumeSurface(
            graphic_type=graphic_type,
            graphic_data=faces,
            frame_of_reference_uid=for_uid,
            source_series=series,
        )
        item = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            referenced_volume_surface=surface, geometric_purpose=_code(g.geometric_purpose), **common
        )
        return item, False
    # TID 1410: one region
    if len(g.regions) != 1:
        raise InputError(f"group {g.tracking_id!r}: a planar ROI group needs exactly one region")
    r: Region = g.regions[0]
    region = None
    in_2d = False
    if coordinates == "2d" and r.graphic_type in _2D_TYPES:
        hit = _on_one_slice(points, source, tol)
        if hit is not None:
            k, pixels = hit
            ds = source.datasets[k]
            region = hd.sr.ImageRegion(
                graphic_type=_2D_TYPES[r.graphic_type],
                graphic_data=pixels,
                source_image=hd.sr.SourceImageForRegion(str(ds.SOPClassUID), str(ds.SOPInstanceUID)),
            )
            in_2d = True
    if region is None:
        if not for_uid:
            raise InputError("the source series has no FrameOfReferenceUID: 3D coordinates cannot be written")
        graphic_type = r.graphic_type
        if viewers and graphic_type == "POLYGON":
            # OHIF 3.13 cannot draw a 3D POLYGON (its error boundary trips): the same closed
            # outline as a POLYLINE that ends where it starts
            graphic_type = "POLYLINE"
        region = hd.sr.ImageRegion3D(
            graphic_type=graphic_type,
            graphic_data=points,
            frame_of_reference_uid=for_uid,
        )
    item = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        referenced_region=region, geometric_purpose=_code(g.geometric_purpose), **common
    )
    if viewers and measurements:
        _inferred_from(measurements, region)
    return item, in_2d


@lru_cache(maxsize=64)
def _modality_code(modality: str):
    """The CID 29 (Acquisition Modality) code of a Modality value, or None."""
    from pydicom.sr import _cid_dict
    from pydicom.sr.codedict import codes

    for keyword in _cid_dict.cid_concepts.get(29, {}).get("DCM", []):
        c = getattr(codes.DCM, keyword)
        if c.value == modality:
            return c
    return None


def _image_library(source: SourceSeries):
    """TID 1600 Image Library of the source series: one group whose descriptors (TID 1602) hold
    what all its images share (modality, frame of reference, size, spacing, orientation), and one
    entry per image with its position. Compact, and enough to place 2D coordinates."""
    import highdicom as hd
    from highdicom.sr import (
        CodeContentItem,
        ContainerContentItem,
        ImageContentItem,
        NumContentItem,
        RelationshipTypeValues,
        UIDRefContentItem,
    )

    acq = RelationshipTypeValues.HAS_ACQ_CONTEXT
    contains = RelationshipTypeValues.CONTAINS
    mm = hd.sr.CodedConcept("mm", "UCUM", "mm")
    pixels = hd.sr.CodedConcept("{pixels}", "UCUM", "pixels")
    cosine = hd.sr.CodedConcept("{-1:1}", "UCUM", "{-1:1}")

    def num(value, meaning, quantity, unit):
        return NumContentItem(
            hd.sr.CodedConcept(value, "DCM", meaning), float(quantity), unit, relationship_type=acq
        )

    first = source.first
    shared = []
    modality = _modality_code(source.modality)
    if modality is not None:
        shared.append(CodeContentItem(hd.sr.CodedConcept("121139", "DCM", "Modality"), modality, acq))
    if source.frame_of_reference_uid:
        shared.append(
            UIDRefContentItem(
                hd.sr.CodedConcept("112227", "DCM", "Frame of Reference UID"),
                source.frame_of_reference_uid,
                acq,
            )
        )
    shared.append(num("110910", "Pixel Data Rows", int(first.Rows), pixels))
    shared.append(num("110911", "Pixel Data Columns", int(first.Columns), pixels))
    geometry = source.has_plane_geometry
    if geometry:
        row_spacing, col_spacing = (float(v) for v in first.PixelSpacing)
        shared.append(num("111026", "Horizontal Pixel Spacing", col_spacing, mm))
        shared.append(num("111066", "Vertical Pixel Spacing", row_spacing, mm))
        iop = [float(v) for v in first.ImageOrientationPatient]
        names = ("Row X", "Row Y", "Row Z", "Column X", "Column Y", "Column Z")
        for i, (value, name) in enumerate(zip(iop, names)):
            shared.append(num(str(110904 + i), f"Image Orientation (Patient) {name}", value, cosine))
    entries = []
    for ds in source.datasets:
        item = ImageContentItem(
            name=hd.sr.CodedConcept("260753009", "SCT", "Source"),
            referenced_sop_class_uid=str(ds.SOPClassUID),
            referenced_sop_instance_uid=str(ds.SOPInstanceUID),
            relationship_type=contains,
        )
        if geometry:
            ipp = [float(v) for v in ds.ImagePositionPatient]
            item.ContentSequence = [
                num(str(110901 + i), f"Image Position (Patient) {axis}", ipp[i], mm)
                for i, axis in enumerate("XYZ")
            ]
        entries.append(item)
    group = ContainerContentItem(
        hd.sr.CodedConcept("126200", "DCM", "Image Library Group"), relationship_type=contains
    )
    group.ContentSequence = shared + entries
    library = ContainerContentItem(
        hd.sr.CodedConcept("111028", "DCM", "Image Library"), relationship_type=contains
    )
    library.ContentSequence = [group]
    return library


def _observation_context(report: Report):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    person_ctx = device_ctx = None
    if report.person is not None:
        p = report.person
        person_ctx = hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=p.name,
                organization_name=p.organization or None,
                role_in_organization=_code(p.role) if hasattr(p.role, "scheme_designator") else None,
            ),
        )
    if report.device is not None:
        d = report.device
        device_ctx = hd.sr.ObserverContext(
            observer_type=codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=d.uid,
                name=(d.name or None) and d.name[:64],
                manufacturer_name=(d.manufacturer or None) and d.manufacturer[:64],
                model_name=(d.model_name or None) and d.model_name[:64],
                serial_number=(d.serial_number or None) and d.serial_number[:64],
                physical_location=(d.physical_location or None) and d.physical_location[:64],
            ),
        )
    return hd.sr.ObservationContext(observer_person_context=person_ctx, observer_device_context=device_ctx)


def write_sr(
    report: Report,
    source: SourceSeries,
    output,
    *,
    segs: Sequence = (),
    coordinates: str = "auto",
    ohif: bool = True,
    on_slice_tol_mm: float = ON_SLICE_TOL_MM,
    image_library: bool = True,
    overwrite: bool = False,
    series_description: Optional[str] = None,
    series_number: Optional[int] = None,
    instance_number: int = 1,
    manufacturer: str = MANUFACTURER,
) -> SRWriteResult:
    """Write ``report`` as a Comprehensive 3D SR about ``source``.

    Parameters
    ----------
    segs:
        Headers (pydicom datasets) of the SEG(s) the volumetric groups reference; required for
        each referenced SEG (they go into the evidence, with the source images).
    coordinates:
        ``"auto"`` (default: SCOORD on the image for planar groups whose points lie on one
        slice, SCOORD3D for the others), ``"2d"`` (the same, and a warning names how many stay
        3D) or ``"3d"`` (SCOORD3D for every group: nothing is drawn by
        viewers that place annotations on images only, such as OHIF 3.13).
    ohif:
        Follow the OHIF Viewer's conventions (default; see :mod:`dicomai.sr.viewers`): Cornerstone
        tracking identifiers for markups, each measurement ``INFERRED FROM`` its region, the angle
        as two lines, a point inside the segment for segment measurements, and the title
        "Diagnostic imaging report" instead of "Imaging Measurement Report" when a group has no
        image region at all (OHIF then lists the report as text instead of failing). ``False``
        writes the plain TID 1500 form.
    image_library:
        List the source images in the Image Library (TID 1600), with their geometry, so that the
        document says which images it is about even when it has no 2D coordinates.

    Raises
    ------
    InputError
        A referenced SEG was not given; a group that cannot be encoded.
    OutputExistsError
        ``output`` exists and ``overwrite`` is false.
    """
    import highdicom as hd
    from pydicom.uid import generate_uid

    from .. import __version__

    output = Path(output)
    check_writable([output], overwrite)
    coordinates = str(coordinates).lower()
    if coordinates not in ("auto", "2d", "3d"):
        raise InputError(f"coordinates must be 'auto', '2d' or '3d', got {coordinates!r}")
    warnings: list = []
    seg_by_uid = {str(ds.SOPInstanceUID): ds for ds in segs}
    missing = [uid for uid in report.referenced_seg_uids if uid not in seg_by_uid]
    if missing:
        raise InputError(
            f"the report references SEG {', '.join(missing)}: "
            "pass its file so that it is recorded as evidence"
        )
    items = []
    n2d = 0
    for g in report.groups:
        item, in_2d = _group_item(
            g, source, "3d" if coordinates == "3d" else "2d", on_slice_tol_mm, warnings, ohif
        )
        items.append(item)
        n2d += int(in_2d)
    if coordinates == "2d":
        planar = [g for g in report.groups if g.template == "1410"]
        if len(planar) > n2d:
            warnings.append(
                f"{len(planar) - n2d} of {len(planar)} planar group(s) do not lie on one slice: written in 3D"
            )
    bare = [g for g in report.groups if g.template == "1501"]
    title = report.title
    if ohif and bare and C.is_concept(title, C.IMAGING_MEASUREMENT_REPORT):
        # OHIF 3.13 stops with an error on a group without any image region in an "Imaging
        # Measurement Report"; a report titled otherwise it shows as text (every group and value
        # listed), drawing nothing (see viewers.py)
        title = C.DIAGNOSTIC_IMAGING_REPORT
        if len(bare) < len(report.groups):
            warnings.append(
                f"{len(bare)} group(s) have no image region "
                f"({', '.join(repr(g.tracking_id) for g in bare[:5])}): the OHIF Viewer 3.13 lists "
                "this report as text and draws none of its regions; attach them to a markup or a "
                "segment (--seg), or write them in a report of their own"
            )
    content = hd.sr.MeasurementReport(
        observation_context=_observation_context(report),
        procedure_reported=[_code(c) for c in report.procedure_reported],
        imaging_measurements=items,
        title=_code(title),
    )
    if image_library:  # TID 1500 row 6, before the Imaging Measurements container
        root = content[0].ContentSequence
        root.insert(len(root) - 1, _image_library(source))
    evidence = list(source.datasets) + [seg_by_uid[u] for u in report.referenced_seg_uids]
    description = series_description or report.series_description or _default_description(report)
    number = series_number or report.series_number or _default_series_number(source)
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=content,
        series_instance_uid=generate_uid(),
        series_number=int(number),
        sop_instance_uid=generate_uid(),
        instance_number=int(instance_number),
        manufacturer=manufacturer,
        is_complete=bool(report.complete),
        is_verified=False,
    )
    sr.SeriesDescription = str(description)[:64]
    sr.ManufacturerModelName = MODEL_NAME
    sr.SoftwareVersions = f"dicomai {__version__}"
    with atomic_output(output, overwrite) as tmp:
        sr.save_as(tmp, enforce_file_format=True)
        from ..validate import check_before_writing  # the cheap checks of `dicomai validate`

        check_before_writing(tmp, output, "SR")
    return SRWriteResult(
        path=output,
        sop_instance_uid=str(sr.SOPInstanceUID),
        series_instance_uid=str(sr.SeriesInstanceUID),
        groups=len(items),
        groups_2d=n2d,
        warnings=warnings,
    )


def _default_description(report: Report) -> str:
    if report.device is not None and report.device.name and report.device.name != "DicomAI":
        return f"{report.device.name} measurements"
    return "Measurement report"


def _default_series_number(source: SourceSeries) -> int:
    try:
        return int(source.first.get("SeriesNumber") or 0) + 200
    except (TypeError, ValueError):
        return 200
