"""Slicer markups files: what Slicer (slicer-core's vtkMRMLMarkupsJsonStorageNode) writes we read at
the same place, and what we write Slicer reads at the same place, for every markups type."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sr_cases import ras

from dicomai.errors import InputError
from dicomai.sr.content import Markup
from dicomai.sr.markups import read_markups, write_markups

TOL = 1e-9

ROT = np.array(
    [
        [0.8660254037844387, -0.49240387650610395, 0.08682408883346515],
        [0.49999999999999994, 0.8528685319524433, -0.15038373318043535],
        [0.0, 0.17364817766693033, 0.984807753012208],
    ]
)  # RAS axes of a rotated box (columns)


def _ras_markups():
    """(kind, name, RAS control points / box) of every type, as a Slicer user would make them."""
    return [
        ("points", "F", [[1.0, 2.0, 3.0], [-4.5, 5.25, 6.0]]),
        ("line", "L", [[0.0, 0.0, 0.0], [30.0, 40.0, 0.5]]),
        ("curve", "C", [[0.0, 0.0, 0.0], [10.0, 5.0, 0.0], [20.0, 0.0, 3.0]]),
        ("closed_curve", "CC", [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [-10.0, 0.0, 0.0], [0.0, -10.0, 0.0]]),
        ("angle", "A", [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    ]


def test_our_files_round_trip(tmp_path):
    for kind, name, pts in _ras_markups():
        m = Markup(kind, name, ras(np.asarray(pts)), labels=[f"{name}-{i}" for i in range(len(pts))])
        write_markups(m, tmp_path / f"{name}.mrk.json")
        (back,) = read_markups(tmp_path / f"{name}.mrk.json")
        assert back.kind == kind and back.name == name and back.labels == m.labels
        np.testing.assert_allclose(back.points, m.points, atol=TOL)
    roi = Markup(
        "roi", "R", center=[-5.0, -6.0, 7.0], size=[10, 20, 30], orientation=np.diag([-1.0, -1, 1]) @ ROT
    )
    write_markups(roi, tmp_path / "R.mrk.json")
    (back,) = read_markups(tmp_path / "R.mrk.json")
    np.testing.assert_allclose(back.center, roi.center)
    np.testing.assert_allclose(back.orientation, roi.orientation)
    np.testing.assert_allclose(back.size, roi.size)


def test_files_in_ras_and_micrometres_are_converted_to_lps_mm(tmp_path):
    doc = {
        "@schema": "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/"
        "Schema/markups-schema-v1.0.0.json#",
        "markups": [
            {
                "type": "Fiducial",
                "coordinateSystem": "RAS",
                "coordinateUnits": "um",
                "controlPoints": [
                    {"label": "a", "position": [1000.0, 2000.0, 3000.0]},
                    {"label": "gone", "position": [0, 0, 0], "positionStatus": "undefined"},
                ],
            }
        ],
    }
    path = tmp_path / "old.mrk.json"
    path.write_text(json.dumps(doc))
    warnings = []
    (m,) = read_markups(path, warnings)
    assert m.name == "old" and m.labels == ["a"]
    np.testing.assert_allclose(m.points, [[-1.0, -2.0, 3.0]])
    assert warnings and "without a position" in warnings[0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "not JSON"),
        ('{"markups": []}', "holds no markups"),
        ('{"markups": [{"type": "Spline"}]}', "not one of"),
        ('{"markups": [{"type": "Line", "controlPoints": [{"position": [0, 0, 0]}]}]}', "needs 2"),
        ('{"markups": [{"type": "Fiducial", "coordinateSystem": "XYZ"}]}', "neither LPS nor RAS"),
        ('{"markups": [{"type": "Fiducial", "controlPoints": [{"position": [0, "a", 0]}]}]}', "3 numbers"),
    ],
)
def test_bad_markups_files_are_rejected_with_a_reason(tmp_path, text, message):
    path = tmp_path / "bad.mrk.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_markups(path)


# ------------------------------------------------------------------------ against slicer-core
@pytest.fixture(scope="module")
def scene():
    slicer = pytest.importorskip("slicer", reason="slicer-core is not installed")
    s = slicer.vtkMRMLScene()
    logic = slicer.vtkSlicerMarkupsLogic()
    logic.SetMRMLScene(s)
    return slicer, s


_CLASSES = {
    "points": "vtkMRMLMarkupsFiducialNode",
    "line": "vtkMRMLMarkupsLineNode",
    "curve": "vtkMRMLMarkupsCurveNode",
    "closed_curve": "vtkMRMLMarkupsClosedCurveNode",
    "angle": "vtkMRMLMarkupsAngleNode",
}


def _node_points(node):
    return np.array(
        [node.GetNthControlPointPositionVector(i) for i in range(node.GetNumberOfControlPoints())], float
    ).reshape(-1, 3)


def _storage(s, node, path):
    sn = node.CreateDefaultStorageNode()
    s.AddNode(sn)
    sn.SetFileName(str(path))
    return sn


def test_what_slicer_writes_we_read_at_the_same_place(scene, tmp_path):
    slicer, s = scene
    for kind, name, pts in _ras_markups():
        node = s.AddNewNodeByClass(_CLASSES[kind], name)
        for p in pts:
            node.AddControlPoint(p)
        assert _storage(s, node, tmp_path / f"{name}.mrk.json").WriteData(node)
        (m,) = read_markups(tmp_path / f"{name}.mrk.json")
        assert m.kind == kind
        np.testing.assert_allclose(ras(m.points), pts, atol=TOL)
        assert m.labels == [node.GetNthControlPointLabel(i) for i in range(len(pts))]
    line = read_markups(tmp_path / "L.mrk.json")[0]
    assert line.measurements["length"][0] == pytest.approx(
        np.linalg.norm(np.subtract(*_ras_markups()[1][2][::-1]))
    )
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    roi = s.AddNewNodeByClass("vtkMRMLMarkupsROINode", "R")
    mat = vtkMatrix4x4()
    for i in range(3):
        for j in range(3):
            mat.SetElement(i, j, ROT[i, j])
    mat.SetElement(0, 3, 5.0)
    mat.SetElement(1, 3, 6.0)
    mat.SetElement(2, 3, 7.0)
    roi.SetAndObserveObjectToNodeMatrix(mat)
    roi.SetSize(10, 20, 30)
    assert _storage(s, roi, tmp_path / "R.mrk.json").WriteData(roi)
    (m,) = read_markups(tmp_path / "R.mrk.json")
    np.testing.assert_allclose(ras(m.center), [5, 6, 7], atol=1e-9)
    np.testing.assert_allclose(np.diag([-1.0, -1, 1]) @ m.orientation, ROT, atol=1e-9)
    np.testing.assert_allclose(m.size, [10, 20, 30])
    plane = s.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "P")
    plane.SetCenter(1, 2, 3)
    plane.SetNormal(0, 0.6, 0.8)
    plane.SetSize(20, 30)
    assert _storage(s, plane, tmp_path / "P.mrk.json").WriteData(plane)
    (m,) = read_markups(tmp_path / "P.mrk.json")
    np.testing.assert_allclose(ras(m.center), [1, 2, 3], atol=1e-9)
    np.testing.assert_allclose(ras(m.orientation[:, 2]), [0, 0.6, 0.8], atol=1e-9)
    np.testing.assert_allclose(m.size, [20, 30])


def test_what_we_write_slicer_reads_at_the_same_place(scene, tmp_path):
    slicer, s = scene
    for kind, name, pts in _ras_markups():
        m = Markup(kind, name, ras(np.asarray(pts)), labels=[f"p{i}" for i in range(len(pts))])
        path = write_markups(m, tmp_path / f"{name}.mrk.json")
        node = s.AddNewNodeByClass(_CLASSES[kind], f"{name}-read")
        assert _storage(s, node, path).ReadData(node)
        np.testing.assert_allclose(_node_points(node), pts, atol=TOL)
        assert [node.GetNthControlPointLabel(i) for i in range(len(pts))] == m.labels
    roi = Markup(
        "roi", "R", center=ras([5.0, 6, 7]), size=[10, 20, 30], orientation=np.diag([-1.0, -1, 1]) @ ROT
    )
    node = s.AddNewNodeByClass("vtkMRMLMarkupsROINode", "R-read")
    assert _storage(s, node, write_markups(roi, tmp_path / "R.mrk.json")).ReadData(node)
    np.testing.assert_allclose(node.GetCenter(), [5, 6, 7], atol=1e-9)
    np.testing.assert_allclose(node.GetSize(), [10, 20, 30], atol=1e-9)
    m = node.GetObjectToNodeMatrix()
    np.testing.assert_allclose([[m.GetElement(i, j) for j in range(3)] for i in range(3)], ROT, atol=1e-9)
    axes = np.diag([-1.0, -1, 1]) @ np.column_stack([[0.0, 1, 0], [0.0, 0, 1], [1.0, 0, 0]])
    plane = Markup("plane", "P", center=ras([1.0, 2, 3]), size=[20, 30], orientation=axes)
    node = s.AddNewNodeByClass("vtkMRMLMarkupsPlaneNode", "P-read")
    assert _storage(s, node, write_markups(plane, tmp_path / "P.mrk.json")).ReadData(node)
    np.testing.assert_allclose(node.GetCenter(), [1, 2, 3], atol=1e-9)
    normal = [0.0, 0.0, 0.0]
    node.GetNormal(normal)
    np.testing.assert_allclose(normal, [1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(node.GetSize()[:2], [20, 30], atol=1e-9)
