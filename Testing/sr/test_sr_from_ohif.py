"""SRs made the way the OHIF Viewer saves them, loaded by our reader.

``Testing/peers/ohif_sr.mjs`` runs @cornerstonejs/adapters' ``MeasurementReport.generateReport``
(the code OHIF saves with; pinned by scripts/install_peers.sh) over a Cornerstone3D tool state on
our phantom CT. Every tool comes back as the matching Slicer markup at the tool's points (within
1e-3 mm), with the tool's values; what Slicer has no markup for is kept and reported.
"""

from __future__ import annotations

import numpy as np
import pytest

from dicomai.sr.decode import read_sr
from peers import ohif_made

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def ohif_sr(tmp_path_factory, request):
    """(SR path, {name: (tool, world points, cached stats, extra)}, case)."""
    case = request.getfixturevalue("axial_case")
    folder = tmp_path_factory.mktemp("ohif-sr")
    out = folder / "ohif.sr.dcm"
    tools = ohif_made.make_sr(case.source, 5, folder, out)
    return out, {name: (pts, stats, extra) for name, (_, pts, stats, extra) in tools.items()}, case


def _markups(report):
    return {m.name: m for m in report.markups()}


def test_every_ohif_tool_loads_as_the_matching_markup_at_its_points(ohif_sr):
    path, tools, case = ohif_sr
    report = read_sr(path, source=case.source)
    got = _markups(report)
    tool_of = {g.tracking_id: g.viewer_tool for g in report.groups}
    assert set(tool_of.values()) == {t for t in tools if t != "OpenFreehand"}
    pts = {name: np.asarray(p) for name, (p, _, _) in tools.items()}
    assert got["Length"].kind == "line" and np.allclose(got["Length"].points, pts["Length"], atol=1e-3)
    assert got["Angle"].kind == "angle" and np.allclose(got["Angle"].points, pts["Angle"], atol=1e-3)
    assert got["Points"].kind == "points" and np.allclose(got["Points"].points, pts["Probe"], atol=1e-3)
    rect = got["RectangleROI"]
    assert rect.kind == "closed_curve"
    assert np.allclose(sorted(map(tuple, rect.points)), sorted(map(tuple, pts["RectangleROI"])), atol=1e-3)
    closed = [m for m in got.values() if m.kind == "closed_curve" and len(m.points) == 4 and m is not rect]
    assert len(closed) == 1 and np.allclose(closed[0].points, pts["PlanarFreehandROI"], atol=1e-3)
    opened = [m for m in got.values() if m.kind == "curve" and len(m.points) == 3]
    assert len(opened) == 1 and np.allclose(opened[0].points, pts["OpenFreehand"], atol=1e-3)
    # the bidirectional: its two axes as two lines
    lines = [m.points for m in got.values() if m.kind == "line" and m.name.startswith("Bidirectional")]
    want = [pts["Bidirectional"][:2], pts["Bidirectional"][2:]]
    assert len(lines) == 2 and all(any(np.allclose(a, w, atol=1e-3) for a in lines) for w in want)
    # ellipse and circle: closed curves on them (32 points), through the tool's end points
    for name, centre, radii in (("EllipticalROI", (8, 25), (3, 3)), ("CircleROI", (20, 30), (3, 3))):
        m = got[name]
        assert m.kind == "closed_curve" and len(m.points) == 32
        c = np.asarray(case.at(5, *centre))
        d = np.linalg.norm(m.points - c, axis=1)
        assert np.allclose(d, radii[0] * 0.8, atol=1e-3), name  # 3 pixels of 0.8 mm
    # kept and reported, never dropped: the arrow as a point with its text, the Cobb angle as a curve
    arrows = got["Arrows"]
    assert arrows.labels == ["Look here"] and np.allclose(
        arrows.points[0], pts["ArrowAnnotate"][0], atol=1e-3
    )
    assert any("arrow 'Look here'" in w for w in report.warnings)
    assert got["CobbAngle"].kind == "curve" and np.allclose(
        got["CobbAngle"].points, pts["CobbAngle"], atol=1e-3
    )
    assert any("Cobb angle" in w for w in report.warnings)


def test_the_tools_values_and_units_come_back(ohif_sr):
    path, tools, case = ohif_sr
    report = read_sr(path, source=case.source)
    values = {}
    for g in report.groups:
        for m in g.measurements:
            values.setdefault(g.viewer_tool, {})[str(m.quantity.meaning)] = (
                None if m.value is None else float(m.value),
                m.unit.value if m.unit is not None else None,
            )
    # OHIF 3.13 / cornerstone writes a circle's perimeter as the DS text "NaN": kept as a
    # measurement without a value, and said so
    assert values["CircleROI"]["Perimeter"] == (None, "mm")
    assert any("CircleROI" in w and "'Perimeter' has no readable value" in w for w in report.warnings)
    assert values["Length"]["Length"] == (9.125, "mm")
    assert values["Angle"]["Cobb angle"] == (90.0, "deg")
    assert values["CobbAngle"]["Cobb angle"] == (30.5, "deg")
    assert values["RectangleROI"]["Area"] == (10.25, "mm2")
    assert values["EllipticalROI"]["Area"] == (30.5, "mm2")
    assert values["CircleROI"]["Area"] == (18.5, "mm2")
    assert values["Bidirectional"]["Long Axis"][0] == 8.0 and values["Bidirectional"]["Short Axis"][0] == 4.8
