"""Reading any TID 1500 Measurement Report into a :class:`~dicomai.sr.document.Report`.

Written for what others write too: highdicom, dcmqi's tid1500writer, Iowa2DICOM, and SRs with
retired SNOMED-RT codes. The content tree is walked with pydicom, tolerantly: every item is either
understood (groups, regions, measurements, qualitative evaluations, segment references, observer
and time point context...) or listed in ``Report.warnings``; nothing in a document's content makes
reading fail. Documents that are not TID 1500 are read generically (containers with
measurements or coordinates become groups), with a warning.

2D coordinates (SCOORD) are converted to LPS through the geometry of the image they are on,
found in the given source series or else in the document's Image Library descriptors (TID 1602),
for any slice orientation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np

from ..coding import code_from_dataset
from ..errors import UnsupportedObjectError
from ..sopclasses import SEG_SOP_CLASSES, SR_SOP_CLASSES, SURFACE_SEGMENTATION_STORAGE
from . import concepts as C
from .content import (
    DeviceObserver,
    Evaluation,
    ImageRef,
    Measurement,
    MeasurementGroup,
    PersonObserver,
    Region,
    SegmentReference,
)
from .document import ReadStatus, Report
from .viewers import split_tracking_id

__all__ = ["SR_SOP_CLASSES", "read_sr", "read_sr_dataset"]

PathLike = Union[str, "os.PathLike[str]"]


_code = C.code
# referenced objects that are not images: SEG, Label Map SEG, RWVM, Surface SEG
_NON_IMAGE_CLASSES = (*SEG_SOP_CLASSES, "1.2.840.10008.5.1.4.1.1.67", SURFACE_SEGMENTATION_STORAGE)
_IMAGE_LIBRARY_ENTRY = _code("111027", "DCM", "Image Library Entry")
_DERIVED_MEASUREMENTS = _code("126011", "DCM", "Derived Imaging Measurements")
_SUBJECT_CONTEXT = (
    _code("121024", "DCM", "Subject Class"),
    _code("121025", "DCM", "Subject Class Specification"),
    _code("121030", "DCM", "Subject ID"),
    _code("121029", "DCM", "Subject Name"),
)
_PERSON_MORE = (
    _code("128774", "DCM", "Person Observer's Login Name"),
    _code("113874", "DCM", "Person Role in Organization"),
    _code("113875", "DCM", "Person Role in Procedure"),
    C.PERSON_OBSERVER_ORGANIZATION,
    C.PERSON_OBSERVER_ROLE,
)
_DEVICE_MORE = (
    _code("121017", "DCM", "Device Observer Physical Location During Observation"),
    _code("113876", "DCM", "Device Role in Procedure"),
    _code("121018", "DCM", "Device Observer Station AE Title"),
)
_TIME_POINT_CONTEXT = (
    C.TIME_POINT,
    _code("126072", "DCM", "Time Point Type"),
    _code("126073", "DCM", "Time Point Order"),
    _code("126070", "DCM", "Subject Time Point Identifier"),
    _code("126071", "DCM", "Protocol Time Point Identifier"),
    _code("128740", "DCM", "Longitudinal Temporal Offset from Event"),
    _code("126074", "DCM", "Temporal Offset from Baseline"),
)
_SOURCE_IMAGE_CONCEPTS = (
    C.SOURCE,
    C.SOURCE_OF_MEASUREMENT,
    C.SOURCE_IMAGE_FOR_SEGMENTATION,
    _code("121112", "DCM", "Source of Measurement"),
)
_COUNTRY_OF_LANGUAGE = _code("121046", "DCM", "Country of Language")

# TID 1602 Image Library Entry Descriptors used to place 2D coordinates
_D = {
    "ipp": (_code("110901", "DCM", "x"), _code("110902", "DCM", "y"), _code("110903", "DCM", "z")),
    "row_dir": (_code("110904", "DCM", "x"), _code("110905", "DCM", "y"), _code("110906", "DCM", "z")),
    "col_dir": (_code("110907", "DCM", "x"), _code("110908", "DCM", "y"), _code("110909", "DCM", "z")),
    "hspacing": _code("111026", "DCM", "Horizontal Pixel Spacing"),
    "vspacing": _code("111066", "DCM", "Vertical Pixel Spacing"),
    "for": _code("112227", "DCM", "Frame of Reference UID"),
}


# --------------------------------------------------------------------------------- small helpers
_MAX_GRAPHIC_VALUES = 200_000  # coordinates of one SCOORD/SCOORD3D item (100,000 2D points)
_MAX_DEPTH = 64  # content items nested deeper than this are left out (with a warning)
# concepts of a measurement's children that _Reader.measurement reads (a wrong ValueType is warned)
_TID300_CONCEPTS = (
    C.DERIVATION,
    C.MEASUREMENT_METHOD,
    C.FINDING_SITE,
    C.TRACKING_UID,
    C.TRACKING_IDENTIFIER,
    C.ALGORITHM_NAME,
    C.ALGORITHM_VERSION,
    C.ALGORITHM_PARAMETERS,
)


def _seq(ds, keyword):
    try:
        return ds.get(keyword) or []
    except RecursionError:  # nested beyond what pydicom can parse: the reader says so
        raise
    except Exception:  # a malformed element: treat as absent
        return []


def _concept(item):
    seq = _seq(item, "ConceptNameCodeSequence")
    return code_from_dataset(seq[0]) if seq else None


def _meaning(item) -> str:
    c = _concept(item)
    return str(c.meaning) if c is not None else "(no concept name)"


def _vt(item) -> str:
    return str(item.get("ValueType", "") or "")


def _rel(item) -> str:
    return str(item.get("RelationshipType", "") or "")


def _children(item) -> list:
    return list(_seq(item, "ContentSequence"))


def _coded_value(item):
    seq = _seq(item, "ConceptCodeSequence")
    return code_from_dataset(seq[0]) if seq else None


def _text(item) -> str:
    vt = _vt(item)
    if vt == "TEXT":
        return str(item.get("TextValue", "") or "")
    if vt == "UIDREF":
        return str(item.get("UID", "") or "")
    if vt == "PNAME":
        return str(item.get("PersonName", "") or "")
    if vt == "DATE":
        return str(item.get("Date", "") or "")
    if vt == "TIME":
        return str(item.get("Time", "") or "")
    if vt == "DATETIME":
        return str(item.get("DateTime", "") or "")
    return ""


def _number(item):
    """(value, unit, qualifier) of a NUM item; value is int, float or None."""
    mv = _seq(item, "MeasuredValueSequence")
    qualifier_seq = _seq(item, "NumericValueQualifierCodeSequence")
    qualifier = code_from_dataset(qualifier_seq[0]) if qualifier_seq else None
    if not mv:
        return None, None, qualifier
    m = mv[0]
    units = _seq(m, "MeasurementUnitsCodeSequence")
    unit = code_from_dataset(units[0]) if units else None
    value = None
    fp = m.get("FloatingPointValue")
    if fp is not None:
        try:
            value = float(fp)
        except (TypeError, ValueError):
            value = None
    if value is None:
        raw = m.get("NumericValue")
        if raw is not None:
            text = str(getattr(raw, "original_string", None) or raw).strip()
            try:
                value = int(text) if text.lstrip("+-").isdigit() else float(raw)
            except (TypeError, ValueError):
                value = None
    if value is not None and not np.isfinite(value):
        value = None
    return value, unit, qualifier


def _image_ref(item) -> Optional[ImageRef]:
    seq = _seq(item, "ReferencedSOPSequence")
    if not seq:
        return None
    r = seq[0]
    return ImageRef(
        str(r.get("ReferencedSOPClassUID", "")),
        str(r.get("ReferencedSOPInstanceUID", "")),
        _ints(r.get("ReferencedFrameNumber")),
    )


def _ints(value) -> list:
    if value is None or value == "":
        return []
    values = value if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        return []


def _segment_numbers(item) -> list:
    seq = _seq(item, "ReferencedSOPSequence")
    return _ints(seq[0].get("ReferencedSegmentNumber")) if seq else []


def _graphic(item, dims: int):
    """``(n, dims)`` coordinates of GraphicData; None when absent, malformed, non-finite or
    beyond :data:`_MAX_GRAPHIC_VALUES` (the caller warns)."""
    try:
        data = item.get("GraphicData")
        if data is None:
            return None
        if not hasattr(data, "__len__"):
            data = [data]
        if len(data) > _MAX_GRAPHIC_VALUES:
            return None
        arr = np.asarray([float(v) for v in data], dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.size == 0 or arr.size % dims or not np.all(np.isfinite(arr)):
        return None
    return arr.reshape(-1, dims)


class _Geometry:
    """Where images are: SOP Instance UID -> 3x3 (column, row, 1) -> LPS matrix."""

    def __init__(self):
        self.affines: Dict[str, np.ndarray] = {}

    def add(self, uid: str, ipp, iop, spacing) -> None:
        ipp = np.asarray(ipp, float)
        iop = np.asarray(iop, float)
        row_spacing, col_spacing = (float(v) for v in spacing)
        col_dir, row_dir = iop[:3], iop[3:]
        # (column, row) with 0,0 at the top-left corner of the top-left pixel: centre at 0.5, 0.5
        a = np.column_stack([col_dir * col_spacing, row_dir * row_spacing, ipp])
        a[:, 2] -= 0.5 * (a[:, 0] + a[:, 1])
        self.affines.setdefault(str(uid), a)

    def add_dataset(self, ds) -> None:
        try:
            if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds and "PixelSpacing" in ds:
                if not _usable_geometry(ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing):
                    return
                self.add(
                    str(ds.SOPInstanceUID),
                    ds.ImagePositionPatient,
                    ds.ImageOrientationPatient,
                    ds.PixelSpacing,
                )
        except (TypeError, ValueError, AttributeError):
            pass


def _usable_geometry(ipp, iop, spacing) -> bool:
    """Position, orientation and spacing that place pixels: finite, 3 + 6 + 2 values, two unit
    orthogonal directions, positive spacing."""
    try:
        ipp, iop, spacing = (np.asarray([float(v) for v in x], float) for x in (ipp, iop, spacing))
    except (TypeError, ValueError):
        return False
    if ipp.shape != (3,) or iop.shape != (6,) or spacing.shape != (2,):
        return False
    if not (np.all(np.isfinite(ipp)) and np.all(np.isfinite(iop)) and np.all(np.isfinite(spacing))):
        return False
    a, b = iop[:3], iop[3:]
    return (
        abs(np.linalg.norm(a) - 1) < 0.01
        and abs(np.linalg.norm(b) - 1) < 0.01
        and abs(a @ b) < 0.01
        and bool(np.all(spacing > 0))
    )


def _descriptors(items, inherited: dict) -> dict:
    """TID 1602 descriptors among ``items`` (HAS ACQ CONTEXT), on top of ``inherited``."""
    out = dict(inherited)
    for it in items:
        if _rel(it) != "HAS ACQ CONTEXT":
            continue
        c = _concept(it)
        if c is None:
            continue
        vt = _vt(it)
        if vt == "NUM":
            value = _number(it)[0]
            for key in ("ipp", "row_dir", "col_dir"):
                for axis, cc in enumerate(_D[key]):
                    if c.value == cc.value and c.scheme_designator == "DCM":
                        out[(key, axis)] = value
            if C.is_concept(c, _D["hspacing"]):
                out["hspacing"] = value
            if C.is_concept(c, _D["vspacing"]):
                out["vspacing"] = value
        elif vt == "UIDREF" and C.is_concept(c, _D["for"]):
            out["for"] = _text(it)
    return out


def _library_geometry(container, geometry: _Geometry, inherited=None) -> int:
    """Image Library (group) entries with position, orientation and spacing -> geometry."""
    n = 0
    inherited = _descriptors(_children(container), inherited or {})
    for it in _children(container):
        vt = _vt(it)
        if vt == "CONTAINER":
            n += _library_geometry(it, geometry, inherited)
        elif vt == "IMAGE":
            ref = _image_ref(it)
            d = _descriptors(_children(it), inherited)
            try:
                ipp = [d[("ipp", i)] for i in range(3)]
                iop = [d[("row_dir", i)] for i in range(3)] + [d[("col_dir", i)] for i in range(3)]
                spacing = [d["vspacing"], d["hspacing"]]
            except KeyError:
                continue
            if ref is not None and None not in ipp + iop + spacing and _usable_geometry(ipp, iop, spacing):
                geometry.add(ref.sop_instance_uid, ipp, iop, spacing)
                n += 1
    return n


# points each graphic type needs (PS3.3 C.18.6.1.2 / C.18.9.1.2): exactly, or at least
_POINTS = {"POINT": (1, 1), "CIRCLE": (2, 2), "ELLIPSE": (4, 4), "ELLIPSOID": (6, 6)}


_TYPES = {
    2: ("POINT", "MULTIPOINT", "POLYLINE", "CIRCLE", "ELLIPSE"),
    3: ("POINT", "MULTIPOINT", "POLYLINE", "POLYGON", "ELLIPSE", "ELLIPSOID"),
}


def _enough_points(graphic_type: str, n: int, dims: int) -> bool:
    """Whether ``n`` points make a valid ``graphic_type`` region in ``dims`` dimensions."""
    if graphic_type not in _TYPES[2] + _TYPES[3]:
        return True  # not understood: markups_from_groups says so
    if graphic_type not in _TYPES[dims]:
        return False
    lo, hi = _POINTS.get(graphic_type, (1, None))
    if graphic_type in ("POLYLINE", "POLYGON"):
        lo = 2
    return n >= lo and (hi is None or n == hi)


# --------------------------------------------------------------------------------- the reader
class _Reader:
    def __init__(self, ds, geometry: _Geometry, name: str):
        self.ds = ds
        self.geometry = geometry
        self.name = name
        self.warnings: list = []
        self.unknown: Dict[str, int] = {}
        self.missing_images: Dict[str, int] = {}
        self.frames_of_reference: list = []

    # -- warnings
    def not_understood(self, where: str, item) -> None:
        key = f"{where}: {_vt(item) or 'by-reference item'} {_meaning(item)!r}"
        self.unknown[key] = self.unknown.get(key, 0) + 1

    # -- regions
    def region(self, item, where: str) -> Optional[Region]:
        vt = _vt(item)
        gt = str(item.get("GraphicType", "") or "").upper()
        if vt == "SCOORD3D":
            pts = _graphic(item, 3)
            if pts is None:
                self.warnings.append(f"{where}: SCOORD3D {gt} without valid coordinates skipped")
                return None
            if not _enough_points(gt, len(pts), 3):
                self.warnings.append(f"{where}: SCOORD3D {gt} with {len(pts)} point(s) is malformed; skipped")
                return None
            for_uid = str(item.get("ReferencedFrameOfReferenceUID", "") or "") or None
            if for_uid and for_uid not in self.frames_of_reference:
                self.frames_of_reference.append(for_uid)
            return Region(gt, pts, for_uid)
        pixels = _graphic(item, 2)
        if pixels is None:
            self.warnings.append(f"{where}: SCOORD {gt} without valid coordinates skipped")
            return None
        if not _enough_points(gt, len(pixels), 2):
            self.warnings.append(f"{where}: SCOORD {gt} with {len(pixels)} point(s) is malformed; skipped")
            return None
        image = None
        for child in _children(item):
            if _vt(child) == "IMAGE":
                image = _image_ref(child)
                break
        if image is None:
            self.warnings.append(
                f"{where}: 2D coordinates ({gt}) name no image (no SELECTED FROM IMAGE item); skipped"
            )
            return None
        affine = self.geometry.affines.get(image.sop_instance_uid)
        if affine is None:
            self.missing_images[image.sop_instance_uid] = (
                self.missing_images.get(image.sop_instance_uid, 0) + 1
            )
            return None
        pts = np.column_stack([pixels, np.ones(len(pixels))]) @ affine.T
        return Region(gt, pts, None, image=image, pixels=pixels, affine=affine)

    # -- one measurement (TID 300)
    def measurement(self, item, where: str) -> Optional[Measurement]:
        quantity = _concept(item)
        value, unit, qualifier = _number(item)
        if quantity is None:
            self.warnings.append(f"{where}: NUM without a concept name skipped")
            return None
        if value is None and qualifier is None:
            self.warnings.append(
                f"{where}: measurement {quantity.meaning!r} has no readable value (read as none)"
            )
        if unit is None:
            unit = C.NO_UNITS
            if value is not None:
                self.warnings.append(f"{where}: measurement {quantity.meaning!r} has no unit; '1' assumed")
        m = Measurement(quantity=quantity, value=value, unit=unit, qualifier=qualifier)
        inner = f"{where}, {quantity.meaning}"
        for child in _children(item):
            c = _concept(child)
            vt = _vt(child)
            if vt == "CODE" and C.is_concept(c, C.DERIVATION):
                m.derivation = _coded_value(child)
            elif vt == "CODE" and C.is_concept(c, C.MEASUREMENT_METHOD):
                m.method = _coded_value(child)
            elif vt == "CODE" and C.is_concept(c, C.FINDING_SITE):
                if _coded_value(child) is not None:
                    m.finding_sites.append(_coded_value(child))
            elif vt == "UIDREF" and C.is_concept(c, C.TRACKING_UID):
                m.tracking_uid = _text(child)
            elif vt == "TEXT" and C.is_concept(c, C.TRACKING_IDENTIFIER):
                pass
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_NAME):
                m.algorithm_name = _text(child)
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_VERSION):
                m.algorithm_version = _text(child)
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_PARAMETERS):
                pass
            elif vt in ("SCOORD", "SCOORD3D"):
                r = self.region(child, inner)
                if r is not None:
                    m.regions.append(r)
            elif vt == "IMAGE":
                pass  # source image of the measurement
            elif C.is_concept(c, *_TID300_CONCEPTS):  # known concept, ValueType that does not fit it
                self.warnings.append(
                    f"{inner}: {_meaning(child)!r} has ValueType {vt or '(none)'!r}, which does not fit "
                    "that concept in TID 300: left out"
                )
            elif vt == "CONTAINER":  # TID 300 has no container under a measurement
                self.warnings.append(
                    f"{inner}: a CONTAINER nested under the measurement (not allowed by TID 300/1500) was "
                    "left out with everything in it"
                )
            elif (
                _rel(child) == "HAS PROPERTIES"
                or vt in ("CODE", "NUM", "TEXT")
                and _rel(child)
                in (
                    "HAS CONCEPT MOD",
                    "HAS PROPERTIES",
                )
            ):
                pass  # TID 310 measurement properties, modifiers: kept in the file, not shown
            else:
                self.not_understood(inner, child)
        return m

    # -- one group (TID 1410 / 1411 / 1501)
    def group(self, container, number: int) -> MeasurementGroup:
        templates = _seq(container, "ContentTemplateSequence")
        template = str(templates[0].get("TemplateIdentifier", "")) if templates else ""
        g = MeasurementGroup(template="1501", number=number)
        where = f"group {number}"
        surfaces, regions = [], []
        seg_uid = seg_numbers = seg_class = seg_frames = None
        seg_series = None
        for it in _children(container):
            vt, c = _vt(it), _concept(it)
            if vt == "TEXT" and C.is_concept(c, C.TRACKING_IDENTIFIER):
                g.tracking_id, g.viewer_tool = split_tracking_id(_text(it))
                where = f"group {number} ({g.tracking_id})"
            elif vt == "UIDREF" and C.is_concept(c, C.TRACKING_UID):
                g.tracking_uid = _text(it)
            elif vt == "TEXT" and C.is_concept(c, C.ACTIVITY_SESSION):
                g.session = _text(it)
            elif C.is_concept(c, _TIME_POINT_CONTEXT):
                if C.is_concept(c, C.TIME_POINT):
                    g.time_point = _text(it)
            elif vt == "CODE" and C.is_concept(c, C.FINDING):
                g.finding = _coded_value(it)
            elif vt == "CODE" and C.is_concept(c, C.FINDING_CATEGORY):
                g.finding_category = _coded_value(it)
            elif vt == "CODE" and C.is_concept(c, C.FINDING_SITE):
                # a CODE without its value is counted by _malformed_codes (one warning)
                if _coded_value(it) is not None:
                    g.finding_sites.append(_coded_value(it))
                for mod in _children(it):
                    if _vt(mod) == "CODE" and _coded_value(mod) is not None:
                        g.finding_site_modifiers.append(_coded_value(mod))
                    elif _vt(mod) != "CODE":  # a CODE without its value: counted by _malformed_codes
                        self.warnings.append(
                            f"{where}: the finding site modifier {_meaning(mod)!r} has ValueType "
                            f"{_vt(mod) or '(none)'!r}, not CODE: left out"
                        )
            elif vt == "CODE" and C.is_concept(c, C.MEASUREMENT_METHOD):
                g.method = _coded_value(it)
            elif vt == "CODE" and C.is_concept(c, C.GEOMETRIC_PURPOSE):
                g.geometric_purpose = _coded_value(it)
            elif vt == "CODE" and C.is_concept(c, C.OBSERVER_TYPE):
                pass  # observer context of the group
            elif vt == "CODE":
                value = _coded_value(it)
                if c is not None and value is not None:
                    g.evaluations.append(Evaluation(c, value))
                else:
                    self.not_understood(where, it)
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_NAME):
                g.algorithm_name = _text(it)
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_VERSION):
                g.algorithm_version = _text(it)
            elif vt == "TEXT" and C.is_concept(c, C.ALGORITHM_PARAMETERS):
                pass
            elif vt in ("TEXT", "UIDREF", "PNAME") and _rel(it) == "HAS OBS CONTEXT":
                pass  # person / device observer of the group
            elif vt == "TEXT" and c is not None:
                g.evaluations.append(Evaluation(c, _text(it)))
            elif vt == "NUM":
                m = self.measurement(it, where)
                if m is not None:
                    g.measurements.append(m)
            elif vt in ("SCOORD", "SCOORD3D"):
                r = self.region(it, where)
                if r is not None:
                    (surfaces if C.is_concept(c, C.VOLUME_SURFACE) else regions).append(r)
            elif vt == "IMAGE" and C.is_concept(c, C.REFERENCED_SEGMENT, C.REFERENCED_SEGMENTATION_FRAME):
                ref = _image_ref(it)
                numbers = _segment_numbers(it)
                if ref is not None and numbers:
                    seg_uid, seg_class, seg_numbers, seg_frames = (
                        ref.sop_instance_uid,
                        ref.sop_class_uid,
                        numbers,
                        ref.frame_numbers,
                    )
                else:
                    self.warnings.append(f"{where}: a segment reference without a segment number skipped")
            elif vt == "IMAGE":
                ref = _image_ref(it)
                if ref is not None:
                    g.source_images.append(ref)
            elif vt == "UIDREF" and C.is_concept(c, C.SOURCE_SERIES_FOR_SEGMENTATION):
                seg_series = _text(it)
            elif vt == "COMPOSITE" and C.is_concept(c, C.REAL_WORLD_VALUE_MAP):
                pass  # the RWVM that turned pixel values into the measured quantity
            else:
                self.not_understood(where, it)
        if seg_uid is not None:
            g.segment = SegmentReference(
                sop_instance_uid=seg_uid,
                segment_number=seg_numbers[0],
                sop_class_uid=seg_class or "",
                source_series_uid=seg_series,
                frame_numbers=list(seg_frames or []),
            )
            if len(seg_numbers) > 1:
                self.warnings.append(f"{where}: references {len(seg_numbers)} segments; the first is used")
        if surfaces:
            g.regions, g.surface = surfaces + regions, True
        else:
            g.regions = regions
        if template in ("1410", "1411", "1501"):
            g.template = template
        elif surfaces or g.segment is not None or len(regions) > 1:
            g.template = "1411"
        elif regions:
            g.template = "1410"
        return g


def _observers(reader: _Reader, items, report: Report) -> None:
    """TID 1002 observer context items (a flat list: each Observer Type starts an observer)."""
    current = None
    for it in items:
        if _rel(it) != "HAS OBS CONTEXT":
            continue
        vt, c = _vt(it), _concept(it)
        if vt == "CODE" and C.is_concept(c, C.OBSERVER_TYPE):
            kind = _coded_value(it)
            current = {"type": "Device" if C.is_concept(kind, C.DEVICE) else "Person"}
            report.observers.append(current)
            continue
        if current is None:  # observer details without an Observer Type: a person (TID 1002 default)
            current = {"type": "Person"}
            report.observers.append(current)
        if C.is_concept(c, C.PERSON_OBSERVER_NAME):
            current["name"] = _text(it)
        elif C.is_concept(c, C.DEVICE_OBSERVER_UID):
            current["uid"] = _text(it)
        elif C.is_concept(c, C.DEVICE_OBSERVER_NAME):
            current["name"] = _text(it)
        elif C.is_concept(c, C.DEVICE_OBSERVER_MANUFACTURER):
            current["manufacturer"] = _text(it)
        elif C.is_concept(c, C.DEVICE_OBSERVER_MODEL_NAME):
            current["model_name"] = _text(it)
        elif C.is_concept(c, C.DEVICE_OBSERVER_SERIAL_NUMBER):
            current["serial_number"] = _text(it)
        elif C.is_concept(c, C.PERSON_OBSERVER_ORGANIZATION):
            current["organization"] = _text(it)
        elif C.is_concept(c, _PERSON_MORE + _DEVICE_MORE + _SUBJECT_CONTEXT):
            pass
        else:
            reader.not_understood("observation context", it)
    for o in report.observers:
        if o["type"] == "Device" and report.device is None:
            report.device = DeviceObserver(
                name=o.get("name"),
                uid=o.get("uid"),
                manufacturer=o.get("manufacturer"),
                model_name=o.get("model_name"),
                serial_number=o.get("serial_number"),
            )
        elif o["type"] == "Person" and report.person is None and o.get("name"):
            report.person = PersonObserver(name=o["name"], organization=o.get("organization"))


def _evidence(ds, report: Report) -> None:
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in _seq(ds, keyword):
            for series in _seq(study, "ReferencedSeriesSequence"):
                series_uid = str(series.get("SeriesInstanceUID", ""))
                if series_uid and series_uid not in report.referenced_series_uids:
                    report.referenced_series_uids.append(series_uid)
                for sop in _seq(series, "ReferencedSOPSequence"):
                    uid = str(sop.get("ReferencedSOPInstanceUID", ""))
                    if uid:
                        report.referenced_instances[uid] = (
                            str(sop.get("ReferencedSOPClassUID", "")),
                            series_uid,
                        )


def _segs_by_uid(segs) -> dict:
    """SOP Instance UID -> {segment number: label} for SEG paths, datasets or attachments."""
    from ..seg.decode import read_seg_header, segments_from_dataset

    out = {}
    for s in segs or ():
        if hasattr(s, "segments") and hasattr(s, "dataset"):
            ds, segments = s.dataset, s.segments
        else:
            ds = s if hasattr(s, "SOPInstanceUID") else read_seg_header(s)
            segments = segments_from_dataset(ds)
        out[str(ds.SOPInstanceUID)] = {x.number: x.label for x in segments}
    return out


def read_sr_dataset(ds, source=None, segs=(), name: str = "the SR") -> Report:
    """:func:`read_sr` on a dataset already in memory.

    ``segs`` may also be a callable ``(referenced SEG SOP Instance UIDs) -> SEGs``, called once
    the groups are read (and only when they reference a SEG): a caller that must look for the
    SEGs decodes the SR once.
    """
    sop = str(ds.get("SOPClassUID", ""))
    if str(ds.get("Modality", "")) != "SR" and sop not in SR_SOP_CLASSES:
        raise UnsupportedObjectError(
            f"{name} is not a DICOM Structured Report (modality {ds.get('Modality', '?')}, SOP class "
            f"{sop or 'missing'}); give an SR file"
        )
    sources = [] if source is None else (list(source) if isinstance(source, (list, tuple)) else [source])
    geometry = _Geometry()
    for s in sources:
        for d in s.datasets:
            geometry.add_dataset(d)
    reader = _Reader(ds, geometry, name)
    report = Report(groups=[])
    templates = _seq(ds, "ContentTemplateSequence")
    report.template_id = str(templates[0].get("TemplateIdentifier", "")) if templates else None
    report.title = _concept(ds)
    report.sop_instance_uid = str(ds.get("SOPInstanceUID", "")) or None
    report.sop_class_uid = sop or None
    report.series_instance_uid = str(ds.get("SeriesInstanceUID", "")) or None
    report.study_instance_uid = str(ds.get("StudyInstanceUID", "")) or None
    report.patient_id = str(ds.get("PatientID", "")) or None
    report.manufacturer = str(ds.get("Manufacturer", "")) or None
    report.series_description = str(ds.get("SeriesDescription", "")) or None
    try:
        report.series_number = (
            int(ds.get("SeriesNumber")) if ds.get("SeriesNumber") not in (None, "") else None
        )
    except (TypeError, ValueError):
        report.series_number = None
    report.complete = str(ds.get("CompletionFlag", "")) == "COMPLETE"
    report.verified = str(ds.get("VerificationFlag", "")) == "VERIFIED"
    report.content_datetime = (str(ds.get("ContentDate", "")) + str(ds.get("ContentTime", ""))) or None
    _evidence(ds, report)

    root_items = _children(ds)
    if not root_items:
        reader.warnings.append(f"{name} has no content (ContentSequence is missing or empty): no measurement")
    is_tid1500 = report.template_id == "1500" or C.is_concept(report.title, C.IMAGING_MEASUREMENT_REPORT)
    # image geometry from the Image Library first: groups need it for their 2D coordinates
    for it in root_items:
        if _vt(it) == "CONTAINER" and C.is_concept(_concept(it), C.IMAGE_LIBRARY):
            _library_geometry(it, geometry)
    _observers(reader, root_items, report)

    groups: list = []
    if is_tid1500:
        _read_tid1500(reader, root_items, report, groups)
    else:
        title = report.title.meaning if report.title is not None else "no title"
        reader.warnings.append(
            f"{name} is not a TID 1500 Imaging Measurement Report ({title!r}, template "
            f"{report.template_id or 'not given'}): its measurements and coordinates were read generically"
        )
        _read_generic(reader, ds, groups)
    report.groups = groups
    empty = [
        g.number
        for g in groups
        if not (g.measurements or g.regions or g.evaluations or g.segment is not None or g.source_images)
    ]
    if empty:
        reader.warnings.append(
            f"{len(empty)} measurement group(s) ({', '.join(map(str, empty[:10]))}) hold no measurement, "
            "region, evaluation or reference"
        )
    bad_codes = _malformed_codes(ds)
    if bad_codes:
        reader.warnings.append(
            f"{name}: {bad_codes} coded concept(s) are missing or lack CodeValue, CodingSchemeDesignator or "
            "CodeMeaning (read as they are)"
        )
    report.frame_of_reference_uids = reader.frames_of_reference
    # which Slicer object each group loads as (sets markup_kind / markup_name / point_label)
    from .shapes import markups_from_groups

    reader.warnings.extend(markups_from_groups(groups)[1])
    segs_not_given = _resolve_segments(report, segs, reader)
    _check_references(report, sources, reader)
    warnings = list(reader.warnings)
    not_understood = [key + (f" (x{n})" if n > 1 else "") for key, n in reader.unknown.items()]
    warnings.extend(f"not understood, left out: {item}" for item in not_understood)
    report.warnings = warnings
    report.status = ReadStatus(
        tid1500=bool(is_tid1500),
        not_understood=not_understood,
        images_without_geometry=list(reader.missing_images),
        segs_not_given=segs_not_given,
    )
    return report


_NAMED_TYPES = ("NUM", "CODE", "TEXT", "UIDREF", "DATE", "TIME", "DATETIME", "PNAME")  # need a concept name
_CODE_SEQUENCES = ("ConceptNameCodeSequence", "ConceptCodeSequence", "MeasurementUnitsCodeSequence")


def _malformed_codes(ds, depth: int = 0) -> int:
    """Code items of the content tree without a value, scheme or meaning."""
    n = 0
    for item in _children(ds) if depth <= _MAX_DEPTH else []:
        if _vt(item) == "CODE" and not _seq(item, "ConceptCodeSequence"):
            n += 1
        if _vt(item) in _NAMED_TYPES and not _seq(item, "ConceptNameCodeSequence"):
            n += 1
        for kw in _CODE_SEQUENCES:
            for code in _seq(item, kw):
                value = code.get("CodeValue") or code.get("LongCodeValue") or code.get("URNCodeValue")
                if not (value and code.get("CodingSchemeDesignator") and code.get("CodeMeaning")):
                    n += 1
        for mv in _seq(item, "MeasuredValueSequence"):
            for code in _seq(mv, "MeasurementUnitsCodeSequence"):
                if not (code.get("CodeValue") and code.get("CodingSchemeDesignator")):
                    n += 1
        n += _malformed_codes(item, depth + 1)
    return n


def _read_tid1500(reader: _Reader, root_items, report: Report, groups: list) -> None:
    doc_group = None
    for it in root_items:
        vt, c = _vt(it), _concept(it)
        rel = _rel(it)
        if rel == "HAS OBS CONTEXT":
            continue
        if vt == "CODE" and C.is_concept(c, C.LANGUAGE):
            continue
        if vt == "CODE" and C.is_concept(c, C.PROCEDURE_REPORTED):
            v = _coded_value(it)
            if v is not None:
                report.procedure_reported.append(v)
            continue
        if vt == "CONTAINER" and C.is_concept(c, C.IMAGE_LIBRARY):
            continue
        if vt == "CONTAINER" and C.is_concept(c, C.IMAGING_MEASUREMENTS, _DERIVED_MEASUREMENTS):
            if not _children(it):
                reader.warnings.append(f"{reader.name}: the {_meaning(it)!r} container is empty")
            loose = []
            for g in _children(it):
                if _vt(g) == "CONTAINER" and C.is_concept(_concept(g), C.MEASUREMENT_GROUP):
                    groups.append(reader.group(g, len(groups) + 1))
                elif _vt(g) == "NUM":
                    loose.append(g)
                else:
                    reader.not_understood(_meaning(it), g)
            if loose:
                holder = MeasurementGroup(template="1501", tracking_id=_meaning(it), number=len(groups) + 1)
                for n in loose:
                    m = reader.measurement(n, _meaning(it))
                    if m is not None:
                        holder.measurements.append(m)
                groups.append(holder)
            continue
        if vt == "CONTAINER" and C.is_concept(c, C.QUALITATIVE_EVALUATIONS):
            doc_group = doc_group or MeasurementGroup(template="1501", tracking_id="Qualitative Evaluations")
            for e in _children(it):
                ev_c, ev_vt = _concept(e), _vt(e)
                if ev_vt == "CODE" and ev_c is not None and _coded_value(e) is not None:
                    doc_group.evaluations.append(Evaluation(ev_c, _coded_value(e)))
                elif ev_vt == "TEXT" and ev_c is not None:
                    doc_group.evaluations.append(Evaluation(ev_c, _text(e)))
                else:
                    reader.not_understood("Qualitative Evaluations", e)
            continue
        reader.not_understood("report", it)
    if doc_group is not None:
        doc_group.number = len(groups) + 1
        groups.append(doc_group)


def _read_generic(reader: _Reader, ds, groups: list) -> None:
    """Containers holding NUM or coordinate items become groups (non-TID 1500 documents)."""

    def visit(container, path: str, depth: int = 0):
        if depth > _MAX_DEPTH:
            reader.warnings.append(
                f"content nested more than {_MAX_DEPTH} levels deep under {path!r} was left out"
            )
            return
        direct = _children(container)
        if any(_vt(i) in ("NUM", "SCOORD", "SCOORD3D") for i in direct):
            g = reader.group(container, len(groups) + 1)
            if not g.tracking_id:
                g.tracking_id = path
            groups.append(g)
        for i in direct:
            if _vt(i) == "CONTAINER":
                visit(i, _meaning(i), depth + 1)

    visit(ds, _meaning(ds))


def _resolve_segments(report: Report, segs, reader: _Reader) -> list:
    """Name the groups' segments from the SEGs given; the referenced SEGs not given."""
    referenced = report.referenced_seg_uids
    if not referenced:
        return []
    if callable(segs):
        segs = segs(list(referenced))
    labels = _segs_by_uid(segs)
    for g in report.groups:
        s = g.segment
        if s is not None and s.sop_instance_uid in labels:
            s.label = labels[s.sop_instance_uid].get(s.segment_number)
            if s.label is None:
                reader.warnings.append(
                    f"group {g.number} ({g.tracking_id}) references segment {s.segment_number}, which SEG "
                    f"{s.sop_instance_uid} does not have"
                )
    missing = [u for u in referenced if u not in labels]
    if missing:
        reader.warnings.append(
            f"the SR references SEG {', '.join(missing)}, which was not given: its segments are shown "
            "by number"
        )
    return missing


def _check_references(report: Report, sources: list, reader: _Reader) -> None:
    if reader.missing_images:
        n = sum(reader.missing_images.values())
        reader.warnings.append(
            f"{n} region(s) with 2D coordinates are on {len(reader.missing_images)} image(s) whose geometry "
            "is neither in the given source nor in the SR's Image Library: those regions were not loaded "
            "(give the referenced series as source)"
        )
    images = {uid: v for uid, v in report.referenced_instances.items() if v[0] not in _NON_IMAGE_CLASSES}
    if not sources:
        return
    have = {str(d.SOPInstanceUID) for s in sources for d in s.datasets}
    absent = [uid for uid in images if uid not in have]
    if absent:
        series = sorted({images[u][1] for u in absent})
        reader.warnings.append(
            f"{len(absent)} of the {len(images)} instance(s) the SR references are not in the given source "
            f"(series {', '.join(series)})"
        )
    fors = {s.frame_of_reference_uid for s in sources if s.frame_of_reference_uid}
    other = [f for f in report.frame_of_reference_uids if f not in fors]
    if fors and other:
        reader.warnings.append(
            f"3D coordinates are in frame of reference {', '.join(other)}, "
            f"the source in {', '.join(sorted(fors))}"
        )


def read_sr(path: PathLike, source=None, segs: Sequence = ()) -> Report:
    """Read a TID 1500 Measurement Report.

    Parameters
    ----------
    path:
        The SR file.
    source:
        :class:`~dicomai.source.SourceSeries` (or a list of them) the SR refers to: places 2D
        coordinates on images that the SR's Image Library does not describe, and is checked
        against the SR's references.
    segs:
        The SEG(s) volumetric groups reference (paths or datasets): their segment labels name the
        groups' segments.

    Returns
    -------
    Report
        Groups with their regions (LPS), measurements and evaluations; ``warnings`` lists what was
        not understood or not found. ``report.markups()`` and ``report.rows()`` give the Slicer
        objects and the measurement table.

    Raises
    ------
    InputError
        The file cannot be read as DICOM.
    UnsupportedObjectError
        The file is not a Structured Report.
    """
    from ..fileio import read_dicom, reading

    path = Path(path)
    ds = read_dicom(path, what="SR")
    with reading(path, "Structured Report"):
        return read_sr_dataset(ds, source=source, segs=segs, name=repr(str(path)))
