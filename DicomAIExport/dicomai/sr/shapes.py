"""Markups <-> measurement groups, and the geometry both directions need.

Export (:func:`groups_from_markup`), one TID 1500 group per Slicer object:

============  ==========================================================  ====================
markup        region (SCOORD3D unless written on one slice, see encode)   measurements
============  ==========================================================  ====================
point list    one TID 1410 group per control point: POINT                 (from the annotation)
line          TID 1410 POLYLINE, 2 points                                 Length (mm)
curve         TID 1410 POLYLINE, its control points                       Length (mm)
closed curve  TID 1410 POLYGON (first point repeated at the end); a       Area (mm2) and
              non-planar curve: closed POLYLINE                           Perimeter (mm)
angle         TID 1410 POLYLINE of 3 points, the vertex in the middle     Angle (deg)
plane         TID 1410 POLYGON of its rectangle                           Area (mm2)
ROI           TID 1411 Volume Surface: the 6 box faces as POLYGONs,       Volume of bounding
              geometric purpose "Bounded by"                              region (mm3)
============  ==========================================================  ====================

Import (:func:`markups_from_groups`) reverses it and also reads what others write: MULTIPOINT ->
point list, ELLIPSE / CIRCLE -> closed curve through points on it, ELLIPSOID -> ROI (its
bounding box), a volume surface that is not a box -> one closed curve per polygon.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from . import concepts as C
from .content import Markup, Measurement, MeasurementGroup, Region, box_corners, plane_corners

__all__ = [
    "angle_degrees",
    "box_corners",
    "box_faces",
    "box_from_faces",
    "ellipse_points",
    "groups_from_markup",
    "markups_from_groups",
    "plane_corners",
    "planarity",
    "polygon_area",
    "polyline_length",
]

#: Points closer than this (mm) are "the same point" (closed polylines, box corners).
SAME_POINT_MM = 1e-3
#: A polygon whose points stray further than this from their plane is not planar.
PLANAR_TOL_MM = 1e-3
#: Points on an ellipse or circle approximated by a closed curve.
ELLIPSE_POINTS = 32

_UNIT_SCALE = {  # Slicer measurement units -> factor to mm, mm2, mm3
    "mm": 1.0,
    "cm": 10.0,
    "m": 1000.0,
    "um": 1e-3,
    "mm2": 1.0,
    "cm2": 100.0,
    "mm3": 1.0,
    "cm3": 1000.0,
    "ml": 1000.0,
    "deg": 1.0,
    "°": 1.0,
}


# ---------------------------------------------------------------------------------- measures
def polyline_length(points, closed: bool = False) -> float:
    p = np.asarray(points, dtype=float)
    if len(p) < 2:
        return 0.0
    if closed:
        p = np.vstack([p, p[:1]])
    return float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1)))


def _best_plane(points) -> Tuple[np.ndarray, np.ndarray]:
    p = np.asarray(points, dtype=float)
    centre = p.mean(axis=0)
    _, _, vt = np.linalg.svd(p - centre)
    return centre, vt[2]


def planarity(points) -> float:
    """Largest distance (mm) of the points from their least-squares plane."""
    p = np.asarray(points, dtype=float)
    if len(p) < 4:
        return 0.0
    centre, normal = _best_plane(p)
    return float(np.max(np.abs((p - centre) @ normal)))


def polygon_area(points) -> float:
    """Area (mm2) of a planar polygon (vertices in order, not repeated at the end)."""
    p = np.asarray(points, dtype=float)
    if len(p) < 3:
        return 0.0
    q = p - p.mean(axis=0)
    cross = np.cross(q, np.roll(q, -1, axis=0)).sum(axis=0)  # Newell: twice the vector area
    return float(np.linalg.norm(cross) / 2.0)


def angle_degrees(p0, vertex, p2) -> float:
    """Angle (0-180 degrees) at ``vertex`` between the arms to ``p0`` and ``p2``."""
    a = np.asarray(p0, float) - np.asarray(vertex, float)
    b = np.asarray(p2, float) - np.asarray(vertex, float)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(math.degrees(math.atan2(np.linalg.norm(np.cross(a, b)), float(a @ b))))


# ---------------------------------------------------------------------------------- boxes, planes
# (box_corners and plane_corners live in .content, which Markup.corners() needs them in)
# corner indices of each face, in order around it; the first face starts at the minimum corner
# and walks along the first axis, then the second: decoding reads the axes back from it
_FACES = ((0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3))


def box_faces(center, size, axes) -> List[np.ndarray]:
    """The 6 faces of a box as closed polygons (5 points, the first repeated at the end)."""
    corners = box_corners(center, size, axes)
    return [np.vstack([corners[list(f)], corners[f[0]]]) for f in _FACES]


def _distinct(points, tol: float = SAME_POINT_MM) -> np.ndarray:
    out: list = []
    for p in np.asarray(points, float):
        if not any(np.linalg.norm(p - q) <= tol for q in out):
            out.append(p)
    return np.asarray(out)


def box_from_faces(polygons: Sequence[np.ndarray], tol: float = 1e-2):
    """``(center, size, axes)`` when the polygons are the faces of a box, else None."""
    polys = [np.asarray(p, float) for p in polygons]
    if len(polys) != 6:
        return None
    faces = []
    for p in polys:
        if len(p) >= 2 and np.linalg.norm(p[0] - p[-1]) <= SAME_POINT_MM:
            p = p[:-1]
        if len(p) != 4:
            return None
        faces.append(p)
    corners = _distinct(np.vstack(faces), tol)
    if len(corners) != 8:
        return None
    f0 = faces[0]
    e1, e2 = f0[1] - f0[0], f0[3] - f0[0]
    l1, l2 = np.linalg.norm(e1), np.linalg.norm(e2)
    if l1 <= tol or l2 <= tol:
        return None
    x, y = e1 / l1, e2 / l2
    if abs(float(x @ y)) > 1e-3:
        return None
    z = np.cross(x, y)
    proj = (corners - f0[0]) @ z
    if proj.max() < -proj.min():  # the box lies on the -z side of the first face
        x, y = y, x
        z = -z
        l1, l2 = l2, l1
        proj = -proj
    l3 = float(proj.max())
    if l3 <= tol:
        return None
    axes = np.column_stack([x, y, z])
    origin = f0[0]
    center = origin + axes @ (np.array([l1, l2, l3]) / 2.0)
    size = np.array([l1, l2, l3])
    expected = box_corners(center, size, axes)
    for c in corners:
        if np.min(np.linalg.norm(expected - c, axis=1)) > tol:
            return None
    return center, size, axes


def box_from_corners(points, tol: float = 1e-2):
    """``(center, size, axes)`` when 8 points are the corners of a box in :func:`box_corners`
    order (a POINT volume surface we write for viewers), else None."""
    p = np.asarray(points, float)
    if p.shape != (8, 3):
        return None
    edges = [p[1] - p[0], p[2] - p[0], p[4] - p[0]]
    size = np.array([np.linalg.norm(e) for e in edges])
    if np.any(size <= tol):
        return None
    axes = np.column_stack([e / n for e, n in zip(edges, size)])
    center = p.mean(axis=0)
    if np.max(np.linalg.norm(box_corners(center, size, axes) - p, axis=1)) > tol:
        return None
    return center, size, axes


def ellipse_points(axis_points, n: int = ELLIPSE_POINTS) -> np.ndarray:
    """Points on the ellipse given by the end points of two conjugate diameters (any dimension).

    ``axis_points``: 4 points, the ends of the major axis then of the minor axis (DICOM ELLIPSE).
    Conjugate diameters stay conjugate under affine maps, so this also works in pixel space.
    """
    p = np.asarray(axis_points, float)
    if p.ndim != 2 or len(p) != 4:
        raise InputError(f"an ELLIPSE needs 4 points (two axes), not {len(p)}")
    centre = (p[0] + p[1]) / 2.0
    a = (p[1] - p[0]) / 2.0
    b = (p[3] - p[2]) / 2.0
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return centre + np.cos(t)[:, None] * a + np.sin(t)[:, None] * b


def _circle_pixels(pixels, n: int = ELLIPSE_POINTS) -> np.ndarray:
    c, edge = np.asarray(pixels, float)[:2]
    r = np.linalg.norm(edge - c)
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return c + r * np.column_stack([np.cos(t), np.sin(t)])


def _to_lps(affine, pixels) -> np.ndarray:
    px = np.asarray(pixels, float)
    return np.column_stack([px, np.ones(len(px))]) @ np.asarray(affine, float).T


def _orthonormal(axes) -> np.ndarray:
    u, _, vt = np.linalg.svd(np.asarray(axes, float))
    r = u @ vt
    if np.linalg.det(r) < 0:
        r[:, 2] = -r[:, 2]
    return r


# ---------------------------------------------------------------------------------- export
def _slicer_value(markup: Markup, name: str) -> Optional[float]:
    """A measurement Slicer reported, converted to mm / mm2 / mm3 / deg, or None."""
    entry = markup.measurements.get(name)
    if not entry:
        return None
    value, unit = entry
    if value is None:
        return None
    scale = _UNIT_SCALE.get(str(unit or "").strip().lower(), None if unit else 1.0)
    if scale is None:
        return None
    v = float(value)
    return v if scale == 1.0 else v * scale


def _measure(quantity, value: float, unit) -> Measurement:
    return Measurement(quantity=quantity, value=float(value), unit=unit)


def groups_from_markup(markup: Markup, frame_of_reference_uid: Optional[str] = None) -> Tuple[list, list]:
    """The measurement groups describing one markup, and warnings.

    Measurement values are what Slicer reported for the markup when the markup carries them
    (``markup.measurements``), otherwise computed from the control points.
    """
    warnings: list = []
    groups: list = []
    name = markup.name
    kind = markup.kind
    pts = markup.points
    ann = markup.annotation

    def group(template, regions, measurements=(), surface=False, purpose=None, **kw):
        g = MeasurementGroup(
            template=template,
            tracking_id=name,
            regions=list(regions),
            surface=surface,
            geometric_purpose=purpose,
            measurements=list(measurements),
            markup_kind=kind,
            markup_name=name,
            **kw,
        )
        return g

    def region(graphic_type, points):
        return Region(graphic_type, points, frame_of_reference_uid)

    if kind == "points":
        for i, p in enumerate(pts):
            label = markup.labels[i] or str(i + 1)
            g = group("1410", [region("POINT", p.reshape(1, 3))], point_label=label)
            g.tracking_id = f"{name}/{label}"
            point_ann = markup.point_annotations.get(i)
            g.apply(point_ann.merged(ann) if point_ann is not None else ann)
            groups.append(g)
        if not len(pts):
            warnings.append(f"point list {name!r} has no control points: nothing written for it")
        return groups, warnings

    if kind == "line":
        p = pts[:2]
        length = _slicer_value(markup, "length")
        length = polyline_length(p) if length is None else length
        g = group("1410", [region("POLYLINE", p)], [_measure(C.LENGTH, length, C.MILLIMETER)])
        if len(pts) > 2:
            warnings.append(f"line {name!r} has {len(pts)} control points: only the first 2 are written")
    elif kind == "curve":
        length = _slicer_value(markup, "length")
        length = polyline_length(pts) if length is None else length
        g = group("1410", [region("POLYLINE", pts)], [_measure(C.LENGTH, length, C.MILLIMETER)])
    elif kind == "closed_curve":
        perimeter = _slicer_value(markup, "length")
        perimeter = polyline_length(pts, closed=True) if perimeter is None else perimeter
        closed = np.vstack([pts, pts[:1]])
        flatness = planarity(pts)
        if flatness <= PLANAR_TOL_MM:
            area = _slicer_value(markup, "area")
            area = polygon_area(pts) if area is None else area
            g = group(
                "1410",
                [region("POLYGON", closed)],
                [_measure(C.AREA, area, C.SQUARE_MILLIMETER), _measure(C.PERIMETER, perimeter, C.MILLIMETER)],
            )
        else:
            warnings.append(
                f"closed curve {name!r} is not planar (points up to {flatness:.3g} mm off their plane): "
                "written as a closed POLYLINE with its perimeter, without an area"
            )
            g = group("1410", [region("POLYLINE", closed)], [_measure(C.PERIMETER, perimeter, C.MILLIMETER)])
    elif kind == "angle":
        p = pts[:3]
        angle = _slicer_value(markup, "angle")
        angle = angle_degrees(*p) if angle is None else angle
        g = group("1410", [region("POLYLINE", p)], [_measure(C.ANGLE, angle, C.DEGREE)])
    elif kind == "plane":
        w, h = (float(v) for v in markup.size.ravel()[:2])
        if w <= 0 or h <= 0:
            warnings.append(f"plane {name!r} has no size ({w:g} x {h:g} mm): nothing written for it")
            return groups, warnings
        corners = plane_corners(markup.center, markup.size, markup.orientation)
        g = group(
            "1410",
            [region("POLYGON", np.vstack([corners, corners[:1]]))],
            [_measure(C.AREA, w * h, C.SQUARE_MILLIMETER)],
        )
    elif kind == "roi":
        size = markup.size.ravel()[:3]
        if np.any(size <= 0):
            warnings.append(f"ROI {name!r} has an empty size {list(size)}: nothing written for it")
            return groups, warnings
        axes = _orthonormal(markup.orientation)
        faces = box_faces(markup.center, size, axes)
        volume = float(size[0] * size[1] * size[2])
        g = group(
            "1411",
            [region("POLYGON", f) for f in faces],
            [_measure(C.VOLUME_OF_BOUNDING_REGION, volume, C.CUBIC_MILLIMETER)],
            surface=True,
            purpose=C.BOUNDED_BY,
        )
    else:  # pragma: no cover - Markup validates kinds
        raise ValueError(kind)
    g.apply(ann)
    groups.append(g)
    return groups, warnings


# ---------------------------------------------------------------------------------- import
def _closed(points) -> bool:
    return len(points) >= 4 and np.linalg.norm(points[0] - points[-1]) <= SAME_POINT_MM


def _region_points(region: Region) -> np.ndarray:
    return region.points


def _round_shape(region: Region) -> np.ndarray:
    """Points on the ELLIPSE / CIRCLE of a region (LPS), sampled in its own space."""
    if region.is_2d and region.affine is not None and region.pixels is not None:
        px = region.pixels
        sampled = _circle_pixels(px) if region.graphic_type == "CIRCLE" else ellipse_points(px)
        return _to_lps(region.affine, sampled)
    if region.graphic_type == "CIRCLE":  # 2D without geometry: cannot happen after decode
        raise InputError("a CIRCLE (2D) region needs the geometry of its image")
    return ellipse_points(region.points)


def _ellipsoid_box(points):
    p = np.asarray(points, float)
    if p.ndim != 2 or len(p) != 6:
        return None
    centre = (p[0] + p[1]) / 2.0
    axes = np.column_stack([p[1] - p[0], p[3] - p[2], p[5] - p[4]])
    size = np.linalg.norm(axes, axis=0)
    if np.any(size <= 0):
        return None
    return centre, size, _orthonormal(axes / size)


class _Namer:
    def __init__(self):
        self.used: set = set()

    def __call__(self, base: str) -> str:
        base = (base or "Markup").strip() or "Markup"
        name, n = base, 2
        while name in self.used:
            name = f"{base} ({n})"
            n += 1
        self.used.add(name)
        return name


def _group_base_name(g: MeasurementGroup) -> str:
    if g.tracking_id:
        return g.tracking_id
    if g.finding is not None:
        return str(g.finding.meaning)
    return f"Group {g.number}" if g.number else "Group"


def markups_from_groups(groups: Sequence[MeasurementGroup], curve_type: str = "linear") -> Tuple[list, list]:
    """Slicer markups for the coordinates in ``groups``, and warnings.

    Sets ``markup_kind`` / ``markup_name`` / ``point_label`` of each group that yields a markup.
    Points of POINT groups gather into point lists: by the node name our tracking identifiers
    carry (``"<list>/<label>"``), else one list per finding (or "Points").
    """
    warnings: list = []
    namer = _Namer()
    markups: list = []
    point_lists: dict = {}  # node name -> Markup under construction (points, labels)

    def add_point(g, p, node, label):
        key = node or (str(g.finding.meaning) if g.finding is not None else "Points")
        entry = point_lists.get(key)
        if entry is None:
            entry = point_lists[key] = {"points": [], "labels": [], "groups": []}
        entry["points"].append(np.asarray(p, float).reshape(3))
        entry["labels"].append(label)
        entry["groups"].append(g)
        g.markup_kind, g.markup_name, g.point_label = "points", key, label

    def add(g, kind, points, **kw):
        base = g.markup_name if g.markup_name and g.markup_kind == kind else _group_base_name(g)
        m = Markup(kind=kind, name=namer(base), points=points, **kw)
        if kind in ("curve", "closed_curve"):
            m.curve_type = curve_type
        markups.append(m)
        if g.markup_kind is None or g.markup_kind == kind:
            g.markup_kind, g.markup_name = kind, m.name
        return m

    for g in groups:
        box = _inferred_box(g)
        if box is not None:  # a box we wrote as slice outlines for viewers: its exact corners
            centre, size, axes = box
            add(g, "roi", None, center=centre, size=size, orientation=axes)
            continue
        regions = list(g.regions)
        # coordinates measurements were inferred from (TID 300) when the group has none itself;
        # not for a segment's group (a point inside the segment, for viewers: the segment is its region)
        if not regions and g.segment is None:
            for m in g.measurements:
                regions.extend(m.regions)
        regions = _distinct_regions(regions)
        if g.viewer_tool == "ArrowAnnotate" and regions:
            # OHIF's arrow: Slicer has no arrow markup; its tip as a point labelled with its text
            text = next((str(e.value) for e in g.evaluations if C.is_concept(e.concept, C.COMMENT)), "")
            text = text or (str(g.finding.meaning) if g.finding is not None else "") or g.tracking_id
            add_point(g, regions[0].points[0], "Arrows", text)
            warnings.append(f"OHIF arrow {text!r} loaded as a point at its tip, labelled with its text")
            continue
        if g.viewer_tool == "CobbAngle":
            warnings.append(
                f"OHIF Cobb angle {g.tracking_id!r} (between two lines) loaded as an open curve through "
                "the 4 end points; its angle is in the table"
            )
        if not regions:
            continue
        if g.surface:
            _surface_markups(g, regions, add, add_point, warnings)
            continue
        for r in regions:
            _region_markup(g, r, add, add_point, warnings, several=len(regions) > 1)

    for key, entry in point_lists.items():
        m = Markup(kind="points", name=namer(key), points=np.asarray(entry["points"]), labels=entry["labels"])
        for g in entry["groups"]:
            g.markup_name = m.name
        markups.append(m)
    return markups, warnings


def _distinct_regions(regions) -> list:
    """Regions without those repeating another's points (OHIF adds its tools' control points)."""
    out: list = []
    for r in regions:
        pts = np.asarray(r.points, float)
        if len(pts) > 1 and np.linalg.norm(pts[0] - pts[-1]) <= SAME_POINT_MM:
            pts = pts[:-1]
        same = False
        for o in out:
            q = np.asarray(o.points, float)
            if len(q) > 1 and np.linalg.norm(q[0] - q[-1]) <= SAME_POINT_MM:
                q = q[:-1]
            if q.shape == pts.shape and np.allclose(q, pts, atol=SAME_POINT_MM):
                same = True
                break
        if not same:
            out.append(r)
    return out


def _inferred_box(g: MeasurementGroup):
    """The box of a volumetric group whose measurement was inferred from its 8 corners, or None."""
    if g.template != "1411" or g.segment is not None:
        return None
    for m in g.measurements:
        for r in m.regions:
            if not r.is_2d and r.graphic_type == "POLYLINE" and len(r.points) == 8:
                box = box_from_corners(r.points)
                if box is not None:
                    return box
    return None


def _tracking_split(g: MeasurementGroup):
    """``"list/label"`` tracking identifiers (ours) -> (list, label); others -> (None, identifier)."""
    tid = g.tracking_id or ""
    if "/" in tid:
        node, label = tid.split("/", 1)
        if node and label:
            return node, label
    return None, tid or (f"{g.number}" if g.number else "")


def _region_markup(g, r: Region, add, add_point, warnings, several: bool) -> None:
    gt = r.graphic_type
    pts = r.points
    if gt == "POINT":
        node, label = _tracking_split(g)
        add_point(g, pts[0], node, label)
    elif gt == "MULTIPOINT":
        m = add(g, "points", pts, labels=[f"{_group_base_name(g)}-{i + 1}" for i in range(len(pts))])
        g.markup_kind, g.markup_name = "points", m.name
    elif gt in ("POLYLINE", "POLYGON"):
        if gt == "POLYGON" or _closed(pts):
            if len(pts) >= 2 and np.linalg.norm(pts[0] - pts[-1]) <= SAME_POINT_MM:
                pts = pts[:-1]
            if len(pts) < 3:
                warnings.append(f"group {g.tracking_id!r}: {gt} with {len(pts)} distinct point(s) skipped")
                return
            add(g, "closed_curve", pts)
        elif len(pts) == 2:
            add(g, "line", pts)
        elif len(pts) == 3 and g.measurement(*C.ANGLE_CONCEPTS) is not None:
            add(g, "angle", pts)
        elif (
            len(pts) == 4
            and np.linalg.norm(pts[1] - pts[2]) <= SAME_POINT_MM
            and (g.measurement(*C.ANGLE_CONCEPTS) is not None or g.viewer_tool == "Angle")
        ):
            add(g, "angle", pts[[0, 1, 3]])  # OHIF's Angle: two lines sharing the vertex
        elif len(pts) >= 2:
            add(g, "curve", pts)
        else:
            warnings.append(f"group {g.tracking_id!r}: POLYLINE with one point loaded as a point")
            node, label = _tracking_split(g)
            add_point(g, pts[0], node, label)
    elif gt in ("ELLIPSE", "CIRCLE"):
        add(g, "closed_curve", _round_shape(r))
    elif gt == "ELLIPSOID":
        box = _ellipsoid_box(pts)
        if box is None:
            warnings.append(f"group {g.tracking_id!r}: degenerate ELLIPSOID skipped")
            return
        centre, size, axes = box
        add(g, "roi", None, center=centre, size=size, orientation=axes)
    else:
        warnings.append(f"group {g.tracking_id!r}: graphic type {gt!r} is not understood; region skipped")


def _surface_markups(g, regions, add, add_point, warnings) -> None:
    types = {r.graphic_type for r in regions}
    if types == {"POLYGON"}:
        box = box_from_faces([r.points for r in regions])
        if box is not None:
            centre, size, axes = box
            add(g, "roi", None, center=centre, size=size, orientation=axes)
            return
        warnings.append(
            f"group {g.tracking_id!r}: volume surface of {len(regions)} polygon(s) that is not a box: "
            "each polygon loaded as a closed curve"
        )
    for r in regions:
        if r.graphic_type == "ELLIPSOID":
            _region_markup(g, r, add, add_point, warnings, several=False)
        elif r.graphic_type == "POINT":
            _region_markup(g, r, add, add_point, warnings, several=False)
        else:
            _region_markup(g, r, add, add_point, warnings, several=True)
