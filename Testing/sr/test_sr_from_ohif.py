"""SRs made the way the OHIF Viewer saves them, loaded by our reader.

``Testing/peers/ohif_sr.mjs`` runs @cornerstonejs/adapters' ``MeasurementReport.generateReport``
(the code OHIF saves with; pinned by scripts/install_peers.sh) over a Cornerstone3D tool state on
our phantom CT. Every tool comes back as the matching Slicer markup at the tool's points (within
1e-3 mm), with the tool's values; what Slicer has no markup for is kept and reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import peers
from dicomai.sr.decode import read_sr

pytestmark = pytest.mark.interop

SCRIPT = Path(__file__).resolve().parents[1] / "peers" / "ohif_sr.mjs"


def _image(ds) -> dict:
    keys = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")
    keys += ("PatientID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "Modality")
    out = {k: str(ds.get(k, "") or "") for k in keys}
    out.update(
        imageId=f"wadors:{ds.SOPInstanceUID}",
        PatientName=str(ds.PatientName),
        ImagePositionPatient=[float(v) for v in ds.ImagePositionPatient],
        ImageOrientationPatient=[float(v) for v in ds.ImageOrientationPatient],
        PixelSpacing=[float(v) for v in ds.PixelSpacing],
        Rows=int(ds.Rows),
        Columns=int(ds.Columns),
    )
    return out


@pytest.fixture(scope="module")
def ohif_sr(tmp_path_factory, request):
    """(SR path, {tool name: (world points, cached stats, extra)}, case)."""
    peers.require("dcmjs")
    case = request.getfixturevalue("axial_case")
    k = 5
    ds = case.source.datasets[k]

    def at(r, c):
        return [float(v) for v in case.at(k, r, c)]

    tools = {
        "Length": ([at(10, 10), at(14, 20)], {"length": 9.125, "unit": "mm"}, {}),
        "Probe": ([at(20, 20)], {"value": 42}, {}),
        "Angle": ([at(5, 5), at(10, 10), at(5, 15)], {"angle": 90.0}, {}),
        "ArrowAnnotate": ([at(28, 9), at(25, 5)], {}, {"text": "Look here", "label": "Look here"}),
        "Bidirectional": (
            [at(30, 10), at(30, 20), at(27, 15), at(33, 15)],
            {"length": 8.0, "width": 4.8},
            {},
        ),
        "RectangleROI": (
            [at(15, 2), at(15, 6), at(19, 2), at(19, 6)],
            {"area": 10.25, "areaUnit": "mm\u00b2"},
            {},
        ),
        "EllipticalROI": (
            [at(5, 25), at(11, 25), at(8, 22), at(8, 28)],
            {"area": 30.5, "mean": 40, "areaUnit": "mm\u00b2"},
            {},
        ),
        "CircleROI": ([at(20, 30), at(20, 33)], {"area": 18.5, "areaUnit": "mm\u00b2"}, {}),
        "PlanarFreehandROI": (
            [at(30, 25), at(32, 28), at(35, 26), at(33, 23)],
            {"area": 9.5, "areaUnit": "mm\u00b2"},
            {"closed": True},
        ),
        "OpenFreehand": ([at(2, 30), at(4, 32), at(6, 31)], {"length": 5.5}, {"closed": False}),
        "CobbAngle": ([at(36, 2), at(36, 10), at(30, 3), at(38, 9)], {"angle": 30.5}, {}),
    }
    annotations = []
    for name, (points, stats, extra) in tools.items():
        tool = "PlanarFreehandROI" if name == "OpenFreehand" else name
        annotations.append(
            {
                "toolName": tool,
                "imageId": f"wadors:{ds.SOPInstanceUID}",
                "points": points,
                "cachedStats": stats,
            }
            | extra
        )
    folder = tmp_path_factory.mktemp("ohif-sr")
    spec = folder / "toolstate.json"
    spec.write_text(
        json.dumps({"images": [_image(d) for d in case.source.datasets], "annotations": annotations})
    )
    out = folder / "ohif.sr.dcm"
    env = dict(os.environ, DICOMAI_PEERS_HOME=str(peers.peers_home()))
    proc = subprocess.run(
        [shutil.which("node"), str(SCRIPT), str(spec), str(out)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, tools, case


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
                float(m.value),
                m.unit.value if m.unit is not None else None,
            )
    assert values["Length"]["Length"] == (9.125, "mm")
    assert values["Angle"]["Cobb angle"] == (90.0, "deg")
    assert values["CobbAngle"]["Cobb angle"] == (30.5, "deg")
    assert values["RectangleROI"]["Area"] == (10.25, "mm2")
    assert values["EllipticalROI"]["Area"] == (30.5, "mm2")
    assert values["CircleROI"]["Area"] == (18.5, "mm2")
    assert values["Bidirectional"]["Long Axis"][0] == 8.0 and values["Bidirectional"]["Short Axis"][0] == 4.8
