"""What web viewers need from an SR to show its measurements and make them editable again.

The OHIF Viewer (3.x) reads TID 1500 with ``@cornerstonejs/adapters`` (``MeasurementReport``):

- a group is *rehydratable* (offered as editable measurements) when its Tracking Identifier
  starts with ``Cornerstone3DTools@^0.1.0:<Tool>``; we append ``:<our name>`` so that the
  markup name survives (``Cornerstone3DTools@^0.1.0:Length:Diameter``);
- the adapter takes the points from the SCOORD/SCOORD3D that the group's first NUM was
  ``INFERRED FROM`` (TID 300 row, as dcmjs writes it), not from the group's own region, so each
  numeric measurement also carries a copy of the region;
- its Angle tool reads 4 points (two lines sharing the vertex: p0, vertex, vertex, p2);
- OHIF 3.13 dereferences the first coordinate of every group and crashes (error boundary) on a
  group without any, e.g. a volumetric group that references a segment: such groups get a point
  inside the segment that their measurements are inferred from;
- it looks for coordinates only when the document title is (126000, DCM, "Imaging Measurement
  Report") and shows any other title in its SR text view (every group and value listed): a
  report with groups that have no image region at all (a table without a SEG, findings on whole
  images) is titled (18748-4, LN, "Diagnostic imaging report").
"""

from __future__ import annotations

from typing import Optional, Tuple

__all__ = ["CORNERSTONE_TAG", "cornerstone_tool", "cornerstone_tracking_id", "split_tracking_id"]

CORNERSTONE_TAG = "Cornerstone3DTools@^0.1.0"

#: Cornerstone3D tools of OHIF and the markup they load as in Slicer.
TOOLS = {
    "Length": "line",
    "Probe": "points",
    "Angle": "angle",
    "CobbAngle": "angle",
    "PlanarFreehandROI": "closed_curve",
    "RectangleROI": "closed_curve",
    "EllipticalROI": "closed_curve",
    "CircleROI": "closed_curve",
    "Bidirectional": "line",
    "ArrowAnnotate": "points",
    "SplineROI": "closed_curve",
    "LivewireContour": "closed_curve",
}


def cornerstone_tool(kind: str, graphic_type: str, n_points: int, closed: bool) -> Optional[str]:
    """The Cornerstone3D tool a markup of ``kind`` is edited with in OHIF, or None."""
    if kind == "points" and graphic_type == "POINT":
        return "Probe"
    if kind == "line" and n_points == 2:
        return "Length"
    if kind == "angle" and n_points in (3, 4):
        return "Angle"
    if kind in ("curve", "closed_curve", "plane") and graphic_type in ("POLYLINE", "POLYGON"):
        return "PlanarFreehandROI"
    return None


def cornerstone_tracking_id(tool: str, name: str) -> str:
    return f"{CORNERSTONE_TAG}:{tool}:{name}" if name else f"{CORNERSTONE_TAG}:{tool}"


def split_tracking_id(text: str) -> Tuple[str, Optional[str]]:
    """``(our name, Cornerstone tool or None)`` of a Tracking Identifier.

    ``Cornerstone3DTools@^0.1.0:Length:Diameter`` -> ``("Diameter", "Length")``; OHIF's own
    ``Cornerstone3DTools@^0.1.0:Length`` -> ``("Length", "Length")``; anything else unchanged.
    """
    text = text or ""
    prefix = CORNERSTONE_TAG + ":"
    if not text.startswith(prefix):
        return text, None
    rest = text[len(prefix) :]
    tool, _, name = rest.partition(":")
    return (name or tool), (tool or None)
