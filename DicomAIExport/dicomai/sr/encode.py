"""Encoding a :class:`~dicomai.sr.content.Report` as a TID 1500 Comprehensive 3D SR with highdicom.

The document copies patient and study from the source series, starts a new series, lists the
source images in its Image Library (TID 1600) and references the SEG of volumetric groups. Groups
are written as TID 1410 (planar ROI: one region), TID 1411 (volumetric ROI: a referenced segment
or a volume surface) or TID 1501 (no region). Coordinates are SCOORD3D (LPS mm) unless
``coordinates="2d"`` asks for the 2D variant: then a planar group whose points all lie on one
slice of the source is written as SCOORD (column, row) on that image, the way viewers that only
draw 2D annotations expect; the others stay 3D.
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
from .content import MeasurementGroup, Region, Report

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


def _group_item(g: MeasurementGroup, source: SourceSeries, coordinates: str, tol: float, warnings: list):
    """(highdicom group, written in 2D?)"""
    import highdicom as hd

    tracking = hd.sr.TrackingIdentifier(uid=g.tracking_uid, identifier=str(g.tracking_id))
    common = dict(
        tracking_identifier=tracking,
        finding_type=_code(g.finding),
        finding_category=_code(g.finding_category),
        finding_sites=[hd.sr.FindingSite(_code(s)) for s in g.finding_sites] or None,
        method=_code(g.method),
        algorithm_id=_algorithm(g),
        measurements=_measurements(g, warnings) or None,
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
            return item, False
        if not g.regions:
            raise InputError(f"group {g.tracking_id!r}: a volumetric group needs a segment or a surface")
        if not for_uid:
            raise InputError("the source series has no FrameOfReferenceUID: 3D coordinates cannot be written")
        types = {r.graphic_type for r in g.regions}
        if len(types) != 1:
            raise InputError(f"group {g.tracking_id!r}: a volume surface needs one graphic type, got {types}")
        surface = hd.sr.VolumeSurface(
            graphic_type=types.pop(),
            graphic_data=[np.asarray(r.points, float) for r in g.regions],
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
        hit = _on_one_slice(np.asarray(r.points, float), source, tol)
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
        region = hd.sr.ImageRegion3D(
            graphic_type=r.graphic_type,
            graphic_data=np.asarray(r.points, float),
            frame_of_reference_uid=for_uid,
        )
    item = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        referenced_region=region, geometric_purpose=_code(g.geometric_purpose), **common
    )
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
    coordinates: str = "3d",
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
        ``"3d"`` (SCOORD3D, default) or ``"2d"`` (SCOORD on the image for groups on one slice).
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
    if coordinates not in ("2d", "3d"):
        raise InputError(f"coordinates must be '2d' or '3d', got {coordinates!r}")
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
        item, in_2d = _group_item(g, source, coordinates, on_slice_tol_mm, warnings)
        items.append(item)
        n2d += int(in_2d)
    if coordinates == "2d":
        planar = [g for g in report.groups if g.template == "1410"]
        if len(planar) > n2d:
            warnings.append(
                f"{len(planar) - n2d} of {len(planar)} planar group(s) do not lie on one slice: written in 3D"
            )
    content = hd.sr.MeasurementReport(
        observation_context=_observation_context(report),
        procedure_reported=[_code(c) for c in report.procedure_reported],
        imaging_measurements=items,
        title=_code(report.title),
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
