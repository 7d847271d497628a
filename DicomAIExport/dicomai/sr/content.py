"""The content model of a measurement report, independent of how it is encoded.

Two layers:

- :class:`Markup`: a Slicer markups object (point list, line, curve, closed curve, angle, plane,
  ROI) with the semantics a report gives it (:class:`Annotation`). What ``.mrk.json`` files and
  markups nodes hold.
- :class:`MeasurementGroup` objects: what a TID 1500 Measurement Report holds (planar ROI groups,
  volumetric ROI groups, groups without a region), with their regions, measurements and
  qualitative evaluations; :class:`dicomai.sr.document.Report` gathers them (what the SR file
  holds).

:mod:`dicomai.sr.shapes` converts between the two. Every coordinate here is in the DICOM patient
coordinate system (LPS, millimetres); :data:`LPS_RAS` converts at the boundaries that need RAS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import MetadataError
from ..sopclasses import SEGMENTATION_STORAGE

__all__ = [
    "Annotation",
    "DeviceObserver",
    "Evaluation",
    "GROUP_TEMPLATES",
    "ImageRef",
    "LPS_RAS",
    "MARKUP_KINDS",
    "Markup",
    "Measurement",
    "MeasurementGroup",
    "PersonObserver",
    "Region",
    "SEG_SOP_CLASS",
    "SegmentReference",
    "box_corners",
    "lps_to_ras",
    "plane_corners",
    "ras_to_lps",
]

#: Per-axis sign flip between LPS and RAS (its own inverse).
LPS_RAS = np.array([-1.0, -1.0, 1.0])

#: Slicer markups types, in the names used here (Slicer's class / .mrk.json "type" in brackets):
#: points (Fiducial), line (Line), curve (Curve), closed_curve (ClosedCurve), angle (Angle),
#: plane (Plane), roi (ROI).
MARKUP_KINDS = ("points", "line", "curve", "closed_curve", "angle", "plane", "roi")

#: Measurement group templates: TID 1410 planar ROI, TID 1411 volumetric ROI, TID 1501 no ROI.
GROUP_TEMPLATES = ("1410", "1411", "1501")

SEG_SOP_CLASS = SEGMENTATION_STORAGE


def lps_to_ras(points) -> np.ndarray:
    """``(..., 3)`` LPS points -> RAS (and back: the map is its own inverse)."""
    return np.asarray(points, dtype=float) * LPS_RAS


ras_to_lps = lps_to_ras


def _points(value, what: str) -> np.ndarray:
    arr = np.asarray(value if value is not None else np.zeros((0, 3)), dtype=float)
    if arr.ndim == 1 and arr.size == 3:
        arr = arr.reshape(1, 3)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise MetadataError(f"{what}: points must be an (n, 3) array of coordinates, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise MetadataError(f"{what}: points must be finite numbers")
    return arr


# ---------------------------------------------------------------------------------- semantics
@dataclass
class Measurement:
    """One numeric measurement (TID 300): a quantity, its value and UCUM unit.

    ``value`` is None when the file gives only a qualifier (e.g. "value unknown"). ``label`` is
    the text the measurement came from (a table column) or should be shown as; ``regions`` are
    coordinates a measurement was inferred from (read from files only).
    """

    quantity: object
    value: Optional[float]
    unit: object
    derivation: object = None
    method: object = None
    finding_sites: list = field(default_factory=list)
    qualifier: object = None
    label: Optional[str] = None
    tracking_uid: Optional[str] = None
    algorithm_name: Optional[str] = None
    algorithm_version: Optional[str] = None
    regions: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.quantity is None:
            raise MetadataError("a measurement needs a quantity (the concept it measures)")
        if self.value is not None:
            try:
                self.value = float(self.value) if not isinstance(self.value, int) else self.value
            except (TypeError, ValueError):
                raise MetadataError(
                    f"measurement {self.quantity.meaning!r}: value {self.value!r} is not a number"
                ) from None
        if self.unit is None:
            raise MetadataError(f"measurement {self.quantity.meaning!r} needs a unit (UCUM code)")

    @property
    def name(self) -> str:
        """The quantity's meaning, with the derivation: ``Mean Attenuation Coefficient``."""
        if self.derivation is not None:
            return f"{self.derivation.meaning} {self.quantity.meaning}"
        return str(self.quantity.meaning)


@dataclass
class Evaluation:
    """A qualitative evaluation: a coded question and its coded (or, from files, text) answer."""

    concept: object
    value: object

    @property
    def value_text(self) -> str:
        return str(self.value.meaning) if hasattr(self.value, "meaning") else str(self.value)


@dataclass
class Annotation:
    """What a report says about a markup (or one control point of a point list)."""

    finding: object = None
    finding_category: object = None
    finding_sites: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    measurements: list = field(default_factory=list)
    method: object = None
    geometric_purpose: object = None
    tracking_id: Optional[str] = None
    tracking_uid: Optional[str] = None

    def merged(self, other: Optional[Annotation]) -> Annotation:
        """This annotation completed (not overridden) by ``other``'s fields."""
        if other is None:
            return self
        return Annotation(
            finding=self.finding if self.finding is not None else other.finding,
            finding_category=(
                self.finding_category if self.finding_category is not None else other.finding_category
            ),
            finding_sites=list(self.finding_sites or other.finding_sites),
            evaluations=list(self.evaluations) + [e for e in other.evaluations if e not in self.evaluations],
            measurements=list(self.measurements) + list(other.measurements),
            method=self.method if self.method is not None else other.method,
            geometric_purpose=(
                self.geometric_purpose if self.geometric_purpose is not None else other.geometric_purpose
            ),
            tracking_id=self.tracking_id,
            tracking_uid=self.tracking_uid,
        )


# ---------------------------------------------------------------------------------- markups
@dataclass
class Markup:
    """A Slicer markups object in LPS millimetres.

    Attributes
    ----------
    kind:
        One of :data:`MARKUP_KINDS`.
    name:
        Node name (Slicer takes it from the file name of a ``.mrk.json``).
    points:
        ``(n, 3)`` control points, LPS. For ``roi`` and ``plane``: the centre (one point).
    labels, descriptions:
        Per control point.
    center, size, orientation:
        ``roi``: box centre, full edge lengths along its axes, and the 3x3 matrix whose columns
        are the axes (LPS). ``plane``: centre, ``(width, height)`` and the axes (third = normal).
    measurements:
        What Slicer reported: ``{"length": (value, "mm"), "area": (3.1, "cm2"), ...}``.
    curve_type:
        Slicer's interpolation of curves (``"linear"``, ``"spline"``...), when known.
    annotation:
        Semantics of the whole markup; ``point_annotations`` of single control points (by index).
    """

    kind: str
    name: str
    points: np.ndarray = None
    labels: list = field(default_factory=list)
    descriptions: list = field(default_factory=list)
    center: Optional[np.ndarray] = None
    size: Optional[np.ndarray] = None
    orientation: Optional[np.ndarray] = None
    measurements: dict = field(default_factory=dict)
    curve_type: Optional[str] = None
    description: str = ""
    annotation: Annotation = field(default_factory=Annotation)
    point_annotations: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in MARKUP_KINDS:
            raise MetadataError(
                f"markup {self.name!r}: kind {self.kind!r} is not one of {', '.join(MARKUP_KINDS)}"
            )
        self.points = _points(self.points, f"markup {self.name!r}")
        n = len(self.points)
        self.labels = [str(v) for v in (self.labels or [])] + [""] * max(0, n - len(self.labels or []))
        self.labels = self.labels[:n]
        self.descriptions = [str(v) for v in (self.descriptions or [])]
        self.descriptions = (self.descriptions + [""] * n)[:n]
        if self.kind in ("roi", "plane"):
            if self.center is None and n:
                self.center = self.points[0].copy()
            if self.center is None or self.size is None:
                raise MetadataError(f"{self.kind} {self.name!r} needs a centre and a size")
            self.center = np.asarray(self.center, dtype=float).reshape(3)
            self.size = np.asarray(self.size, dtype=float).ravel()
            axes = np.eye(3) if self.orientation is None else np.asarray(self.orientation, dtype=float)
            if axes.shape != (3, 3):
                raise MetadataError(f"{self.kind} {self.name!r}: orientation must be a 3x3 matrix")
            self.orientation = axes
            if n == 0:
                self.points = self.center.reshape(1, 3).copy()
                self.labels, self.descriptions = [""], [""]
        minimum = {"points": 0, "line": 2, "curve": 2, "closed_curve": 3, "angle": 3}.get(self.kind, 0)
        if n < minimum:
            raise MetadataError(
                f"{self.kind.replace('_', ' ')} {self.name!r} has {n} control point(s); it needs {minimum}"
            )

    @property
    def points_ras(self) -> np.ndarray:
        return lps_to_ras(self.points)

    def corners(self) -> np.ndarray:
        """ROI: the 8 box corners; plane: the 4 rectangle corners (LPS)."""
        if self.kind == "roi":
            return box_corners(self.center, self.size, self.orientation)
        if self.kind == "plane":
            return plane_corners(self.center, self.size, self.orientation)
        raise ValueError(f"a {self.kind} has no corners")


# ---------------------------------------------------------------------------------- SR groups
@dataclass
class ImageRef:
    """A referenced image (instance, and frames of a multi-frame image)."""

    sop_class_uid: str
    sop_instance_uid: str
    frame_numbers: list = field(default_factory=list)


@dataclass
class Region:
    """Spatial coordinates of a group or measurement.

    ``points`` are always 3D LPS millimetres. 2D coordinates (SCOORD) keep what the file holds in
    ``pixels`` (``(n, 2)`` column, row; 0,0 is the top-left corner of the top-left pixel), the
    image they lie on in ``image`` and, when its geometry is known, ``affine``: the 3x3 matrix
    mapping ``(column, row, 1)`` to LPS.
    """

    graphic_type: str
    points: np.ndarray
    frame_of_reference_uid: Optional[str] = None
    image: Optional[ImageRef] = None
    pixels: Optional[np.ndarray] = None
    affine: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.graphic_type = str(self.graphic_type).upper()
        self.points = _points(self.points, f"{self.graphic_type} region")

    @property
    def is_2d(self) -> bool:
        return self.image is not None


@dataclass
class SegmentReference:
    """A segment of a DICOM SEG, as referenced by a volumetric group."""

    sop_instance_uid: str
    segment_number: int
    sop_class_uid: str = SEG_SOP_CLASS
    source_series_uid: Optional[str] = None
    label: Optional[str] = None
    frame_numbers: list = field(default_factory=list)


@dataclass
class MeasurementGroup:
    """One measurement group of a TID 1500 report.

    ``template`` is ``"1410"`` (planar ROI: one image region), ``"1411"`` (volumetric ROI: a
    referenced segment, several planar regions, or a volume surface when ``surface`` is true) or
    ``"1501"`` (no region: measurements and evaluations of images or of the whole study).
    ``markup_kind`` / ``markup_name`` / ``point_label`` say which Slicer object the group came from
    (export) or loads as (import).
    """

    template: str = "1410"
    tracking_id: str = ""
    tracking_uid: Optional[str] = None
    finding: object = None
    finding_category: object = None
    finding_sites: list = field(default_factory=list)
    finding_site_modifiers: list = field(default_factory=list)
    method: object = None
    geometric_purpose: object = None
    measurements: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    surface: bool = False
    segment: Optional[SegmentReference] = None
    source_images: list = field(default_factory=list)
    algorithm_name: Optional[str] = None
    algorithm_version: Optional[str] = None
    session: Optional[str] = None
    time_point: Optional[str] = None
    markup_kind: Optional[str] = None
    markup_name: Optional[str] = None
    point_label: Optional[str] = None
    number: int = 0
    #: a point (LPS) inside the group's segment: viewers that need a coordinate per group get it
    anchor: Optional[object] = None
    #: the Cornerstone3D (OHIF) tool the tracking identifier named, when it did
    viewer_tool: Optional[str] = None

    def __post_init__(self) -> None:
        self.template = str(self.template)
        if self.template not in GROUP_TEMPLATES:
            raise MetadataError(
                f"group {self.tracking_id!r}: template {self.template!r} is not one of "
                f"{', '.join(GROUP_TEMPLATES)}"
            )

    def apply(self, annotation: Optional[Annotation]) -> MeasurementGroup:
        """Copy an annotation's semantics into this group (in place; returns self)."""
        if annotation is None:
            return self
        a = annotation
        self.finding = a.finding if a.finding is not None else self.finding
        self.finding_category = (
            a.finding_category if a.finding_category is not None else self.finding_category
        )
        if a.finding_sites:
            self.finding_sites = list(a.finding_sites)
        self.evaluations = list(self.evaluations) + list(a.evaluations)
        self.measurements = list(self.measurements) + list(a.measurements)
        self.method = a.method if a.method is not None else self.method
        if a.geometric_purpose is not None:
            self.geometric_purpose = a.geometric_purpose
        if a.tracking_id:
            self.tracking_id = a.tracking_id
        if a.tracking_uid:
            self.tracking_uid = a.tracking_uid
        return self

    def measurement(self, *quantities) -> Optional[Measurement]:
        """The first measurement of one of ``quantities`` (no derivation), or None."""
        from .concepts import is_concept

        for m in self.measurements:
            if m.derivation is None and is_concept(m.quantity, *quantities):
                return m
        return None


@dataclass
class DeviceObserver:
    """The device (AI model, algorithm) that made the observations (TID 1004).

    ``version`` has no row in TID 1004: it is written with ``name`` as the Algorithm
    Identification (TID 4019) of every group.
    """

    name: Optional[str] = None
    uid: Optional[str] = None
    manufacturer: Optional[str] = None
    model_name: Optional[str] = None
    serial_number: Optional[str] = None
    physical_location: Optional[str] = None
    version: Optional[str] = None


@dataclass
class PersonObserver:
    """A person observer (TID 1003)."""

    name: str
    organization: Optional[str] = None
    role: object = None


# ------------------------------------------------------------------------- shape geometry
def box_corners(center, size, axes) -> np.ndarray:
    """The 8 corners of a box; corner ``i + 2j + 4k`` is at ``-1/2`` or ``+1/2`` of each edge."""
    c = np.asarray(center, float)
    s = np.asarray(size, float)
    a = np.asarray(axes, float)
    out = np.empty((8, 3))
    for n in range(8):
        f = np.array([(n & 1) - 0.5, ((n >> 1) & 1) - 0.5, ((n >> 2) & 1) - 0.5])
        out[n] = c + a @ (f * s)
    return out


def plane_corners(center, size, axes) -> np.ndarray:
    """The 4 corners of a plane's rectangle, in order around it."""
    c = np.asarray(center, float)
    a = np.asarray(axes, float)
    w, h = float(np.asarray(size).ravel()[0]), float(np.asarray(size).ravel()[1])
    return np.array(
        [
            c + a[:, 0] * (-w / 2) + a[:, 1] * (-h / 2),
            c + a[:, 0] * (w / 2) + a[:, 1] * (-h / 2),
            c + a[:, 0] * (w / 2) + a[:, 1] * (h / 2),
            c + a[:, 0] * (-w / 2) + a[:, 1] * (h / 2),
        ]
    )
