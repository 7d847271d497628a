"""Markups and table nodes -> SR -> markups and table nodes, on slicer-core (dicomai_slicer.report)."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
import slicer
from mrml_helpers import segmentation_node
from pydicom.sr.coding import Code

import dicomai_slicer.report
import peers
from dicomai.sr import concepts as C
from dicomai.sr.build import ImageFinding
from dicomai.sr.content import Annotation, Evaluation, Measurement
from dicomai.sr.decode import read_sr
from dicomai_slicer import export_segmentation, load_dicom_objects, load_dicom_series
from dicomai_slicer.loader import registered_loaders
from dicomai_slicer.report import ReportExportOptions, ReportNodes, export_report
from shared_data import REALDATA

TOL = 1e-4


def _ras(volume, k, r, c):
    from dicomai_slicer._images import grid_of_volume

    lps = grid_of_volume(volume).index_to_world([[k, r, c]])[0]
    return [float(-lps[0]), float(-lps[1]), float(lps[2])]


def _markups(scene, volume):
    """One node of every type, inside the volume, in RAS."""
    at = lambda *kji: _ras(volume, *kji)  # noqa: E731
    nodes = {}
    f = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Lesions")
    for label, p in (("L-1", at(3.3, 10.2, 11.7)), ("second", at(5.5, 20.25, 8.1))):
        f.AddControlPoint(p, label)
    nodes["points"] = f
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Diameter")
    line.AddControlPoint(at(4.2, 12.0, 10.0))
    line.AddControlPoint(at(4.9, 18.5, 17.25))
    nodes["line"] = line
    curve = scene.AddNewNodeByClass("vtkMRMLMarkupsCurveNode", "Vessel")
    for p in (at(2, 5, 5), at(3.5, 9, 10.5), at(5.25, 12, 18)):
        curve.AddControlPoint(p)
    nodes["curve"] = curve
    closed = scene.AddNewNodeByClass("vtkMRMLMarkupsClosedCurveNode", "Outline")
    for t in np.linspace(0, 2 * np.pi, 6, endpoint=False):
        closed.AddControlPoint(at(6, 20 + 6 * np.sin(t), 18 + 7 * np.cos(t)))
    nodes["closed_curve"] = closed
    angle = scene.AddNewNodeByClass("vtkMRMLMarkupsAngleNode", "Angle")
    for p in (at(2.5, 8, 30), at(3, 16, 24), at(4, 8, 20.5)):
        angle.AddControlPoint(p)
    nodes["angle"] = angle
    roi = scene.AddNewNodeByClass("vtkMRMLMarkupsROINode", "Box")
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    m = vtkMatrix4x4()
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    rot = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    center = at(6.2, 21, 17.5)
    for i in range(3):
        for j in range(3):
            m.SetElement(i, j, rot[i][j])
        m.SetElement(i, 3, center[i])
    roi.SetAndObserveObjectToNodeMatrix(m)
    roi.SetSize(12.5, 7.25, 6.0)
    nodes["roi"] = roi
    return nodes


def _points(node):
    out = []
    for i in range(node.GetNumberOfControlPoints()):
        p = [0.0, 0.0, 0.0]
        node.GetNthControlPointPositionWorld(i, p)
        out.append(p)
    return np.asarray(out)


def _roi_pose(node):
    center, axes = [0.0] * 3, []
    node.GetCenterWorld(center)
    for a in "XYZ":
        v = [0.0] * 3
        getattr(node, f"Get{a}AxisWorld")(v)
        axes.append(v)
    return np.asarray(center), np.asarray(axes), np.asarray(node.GetSize())


def test_the_sr_loader_is_registered():
    assert registered_loaders()["SR"] is dicomai_slicer.report.load_sr


@pytest.mark.parametrize("kind", ["axial", "oblique"])
def test_markups_nodes_round_trip_through_an_sr(scene, series_dir, tmp_path, kind):
    case = series_dir(kind)
    volume = load_dicom_series(case.folder)
    sent = _markups(scene, volume)
    findings = [
        ImageFinding(
            Annotation(
                finding=Code("108369006", "SCT", "Neoplasm"),
                evaluations=[
                    Evaluation(
                        Code("395557000", "SCT", "Tumor finding"), Code("21594007", "SCT", "Malignant")
                    )
                ],
                measurements=[Measurement(C.CERTAINTY_OF_FINDING, 0.93, C.NO_UNITS)],
            ),
            markup="Lesions",
            point="L-1",
        )
    ]
    out = export_report(
        volume,
        tmp_path / "sr.dcm",
        ReportNodes(markups=list(sent.values()), findings=findings),
        ReportExportOptions(model_name="LesionNet", model_version="2.1"),
    )
    assert out == tmp_path / "sr.dcm" and not out.warnings
    expected = {n.GetName(): (n.GetClassName(), _points(n)) for k, n in sent.items() if k != "roi"}
    roi_expected = _roi_pose(sent["roi"])
    line_length = sent["line"].GetLineLengthWorld()
    angle_degrees = sent["angle"].GetAngleDegrees()

    scene.Clear(0)
    nodes = load_dicom_objects([case.folder, out])
    by_name = {n.GetName(): n for n in nodes}
    assert nodes[0].IsA("vtkMRMLScalarVolumeNode")
    for name, (cls, pts) in expected.items():
        node = by_name[name]
        assert node.GetClassName() == cls
        np.testing.assert_allclose(_points(node), pts, atol=TOL, err_msg=name)
    assert [by_name["Lesions"].GetNthControlPointLabel(i) for i in range(2)] == ["L-1", "second"]
    center, axes, size = _roi_pose(by_name["Box"])
    np.testing.assert_allclose(center, roi_expected[0], atol=TOL)
    np.testing.assert_allclose(axes, roi_expected[1], atol=1e-5)
    np.testing.assert_allclose(size, roi_expected[2], atol=TOL)
    assert by_name["Diameter"].GetLineLengthWorld() == pytest.approx(line_length, abs=1e-4)
    assert by_name["Angle"].GetAngleDegrees() == pytest.approx(angle_degrees, abs=1e-4)

    (table,) = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    columns = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    assert columns[:9] == [
        "group",
        "finding",
        "finding site",
        "quantity",
        "value",
        "unit",
        "derivation",
        "referenced segment",
        "tracking id",
    ]
    rows = [
        {columns[c]: table.GetCellText(r, c) for c in range(len(columns))}
        for r in range(table.GetNumberOfRows())
    ]
    lengths = [r for r in rows if r["tracking id"] == "Diameter"]
    assert [(r["quantity"], r["unit"]) for r in lengths] == [("Length", "mm")]
    assert float(lengths[0]["value"]) == line_length  # Slicer's value, exactly
    lesion = {r["quantity"]: r for r in rows if r["tracking id"] == "Lesions/L-1"}
    assert (
        lesion["Tumor finding"]["value"] == "Malignant" and lesion["Certainty of Finding"]["value"] == "0.93"
    )
    assert lesion["Tumor finding"]["finding"] == "Neoplasm"

    shn = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    table_item = shn.GetItemByDataNode(table)
    assert shn.GetItemParent(shn.GetItemByDataNode(by_name["Box"])) == table_item
    assert shn.GetItemUID(table_item, "DICOM") == read_sr(out).series_instance_uid


def test_table_node_and_seg_make_volumetric_groups_and_load_back_with_the_seg(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg_node, _ = segmentation_node(scene, case.labels, volume)
    study = tmp_path / "study"
    shutil.copytree(case.folder, study / "ct")
    seg_path = export_segmentation(seg_node, volume, study / "seg.dcm")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Segment statistics")
    from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkStringArray

    for name, array in (
        ("Segment", vtkStringArray()),
        ("Volume [mm3]", vtkDoubleArray()),
        ("Mean [hnsf'U]", vtkDoubleArray()),
    ):
        array.SetName(name)
        table.AddColumn(array)
    table.SetColumnProperty(
        "Mean [hnsf'U]",
        "DICOM.DerivationCode",
        "CodeValue:373098007|CodingSchemeDesignator:SCT|CodeMeaning:Mean",
    )
    for label, vol, mean in (("Liver", 1500.5, 60.25), ("Spleen", 220.25, 47.5)):
        r = table.AddEmptyRow()
        table.SetCellText(r, 0, label)
        table.SetCellText(r, 1, str(vol))
        table.SetCellText(r, 2, str(mean))
    out = export_report(volume, study / "sr.dcm", ReportNodes(table=table, segmentation=seg_path))
    report = out.report
    assert [g.segment.label for g in report.groups] == ["Liver", "Spleen"]
    if peers.have("dciodvfy"):
        assert peers.dciodvfy(out).errors == []

    scene.Clear(0)
    nodes = load_dicom_objects([out])  # finds the CT and the SEG next to it
    kinds = sorted(n.GetClassName() for n in nodes)
    assert kinds == ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode", "vtkMRMLTableNode"]
    (table_back,) = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    cols = [table_back.GetColumnName(c) for c in range(table_back.GetNumberOfColumns())]
    rows = [
        {cols[c]: table_back.GetCellText(r, c) for c in range(len(cols))}
        for r in range(table_back.GetNumberOfRows())
    ]
    got = {(r["tracking id"], r["quantity"], r["derivation"], r["value"], r["unit"]) for r in rows}
    assert got == {
        ("Liver", "Volume", "", "1500.5", "mm3"),
        ("Liver", "Attenuation Coefficient", "Mean", "60.25", "[hnsf'U]"),
        ("Spleen", "Volume", "", "220.25", "mm3"),
        ("Spleen", "Attenuation Coefficient", "Mean", "47.5", "[hnsf'U]"),
    }
    assert {r["referenced segment"].split(" (#")[0] for r in rows} == {"Liver", "Spleen"}

    # CT, SEG and SR given together: the SEG loads once
    scene.Clear(0)
    nodes = load_dicom_objects([study])
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 1
    assert scene.GetNumberOfNodesByClass("vtkMRMLTableNode") == 1


def test_markups_under_a_transform_are_written_where_they_are_shown(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Shifted")
    line.AddControlPoint(_ras(volume, 4, 10, 10))
    line.AddControlPoint(_ras(volume, 4, 20, 20))
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", "shift")
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    m = vtkMatrix4x4()
    m.SetElement(0, 3, 3.5)
    transform.SetMatrixTransformToParent(m)
    line.SetAndObserveTransformNodeID(transform.GetID())
    world = _points(line)
    out = export_report(volume, tmp_path / "sr.dcm", ReportNodes(markups=[line]))
    (markup,) = read_sr(out).markups()
    np.testing.assert_allclose(markup.points_ras, world, atol=TOL)


def test_two_d_export_from_nodes(scene, series_dir, tmp_path):
    case = series_dir("oblique")
    volume = load_dicom_series(case.folder)
    f = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Seeds")
    f.AddControlPoint(_ras(volume, 5, 10.25, 11.5), "s1")
    out = export_report(
        volume, tmp_path / "sr.dcm", ReportNodes(markups=[f]), ReportExportOptions(coordinates="2d")
    )
    assert out.groups_2d == 1
    (g,) = read_sr(out).groups
    assert g.regions[0].is_2d


def test_real_highdicom_sr_loads_over_its_ct(scene, tmp_path):
    if not REALDATA.is_dir():
        pytest.skip(f"no real data folder at {REALDATA}")
    folder = tmp_path / "hd"
    folder.mkdir()
    shutil.copy(REALDATA / "pydicom" / "CT_small.dcm", folder)
    shutil.copy(REALDATA / "highdicom" / "sr_document_with_multiple_groups.dcm", folder)
    nodes = load_dicom_objects([folder])
    kinds = sorted((n.GetName(), n.GetClassName()) for n in nodes if n.IsA("vtkMRMLMarkupsNode"))
    assert kinds == [
        ("Aorta0001", "vtkMRMLMarkupsCurveNode"),
        ("LungNodule0001", "vtkMRMLMarkupsClosedCurveNode"),
        ("Vertebra", "vtkMRMLMarkupsFiducialNode"),
    ]
    (table,) = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    assert table.GetNumberOfRows() == 6


def test_sr_whose_references_are_missing_loads_with_a_warning(scene, tmp_path, caplog):
    if not REALDATA.is_dir():
        pytest.skip(f"no real data folder at {REALDATA}")
    shutil.copy(REALDATA / "dcmqi" / "sr-example" / "sr.dcm", tmp_path / "sr.dcm")
    with caplog.at_level(logging.WARNING):
        nodes = load_dicom_objects([tmp_path / "sr.dcm"])
    (table,) = nodes
    assert table.IsA("vtkMRMLTableNode") and table.GetNumberOfRows() == 22
    assert "was not found" in caplog.text and "was not given" in caplog.text
