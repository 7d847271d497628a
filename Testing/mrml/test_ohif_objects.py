"""OHIF's own SR and SEG (made by its adapters in Node, Testing/peers/ohif_made.py) loaded into a
real MRML scene (slicer-core) by the same loader the DICOM browser plugins use."""

from __future__ import annotations

import numpy as np
import pytest
from mrml_helpers import node_voxel_counts

from dicomai.source import read_source_series
from dicomai_slicer import load_dicom_objects
from peers import ohif_made

pytestmark = pytest.mark.interop


def _points(node) -> np.ndarray:
    """Control points in LPS (MRML holds RAS)."""
    pts = np.array([node.GetNthControlPointPositionWorld(i) for i in range(node.GetNumberOfControlPoints())])
    return pts * [-1, -1, 1]


def test_ohifs_sr_loads_as_markups_nodes_at_the_tools_points(scene, series_dir, tmp_path):
    case = series_dir("axial")
    source = read_source_series(case.folder)
    out = tmp_path / "ohif.sr.dcm"
    tools = ohif_made.make_sr(source, 5, tmp_path, out)
    nodes = load_dicom_objects([case.folder, out])
    by_name = {n.GetName(): n for n in nodes}
    assert by_name["Length"].IsA("vtkMRMLMarkupsLineNode")
    np.testing.assert_allclose(_points(by_name["Length"]), tools["Length"][1], atol=1e-3)
    assert by_name["Angle"].IsA("vtkMRMLMarkupsAngleNode")
    np.testing.assert_allclose(_points(by_name["Angle"]), tools["Angle"][1], atol=1e-3)
    assert by_name["Angle"].GetAngleDegrees() == pytest.approx(90.0, abs=1e-3)
    assert by_name["Points"].IsA("vtkMRMLMarkupsFiducialNode")
    np.testing.assert_allclose(_points(by_name["Points"]), tools["Probe"][1], atol=1e-3)
    assert by_name["PlanarFreehandROI"].IsA("vtkMRMLMarkupsClosedCurveNode")
    np.testing.assert_allclose(
        _points(by_name["PlanarFreehandROI"]), tools["PlanarFreehandROI"][1], atol=1e-3
    )
    arrows = by_name["Arrows"]
    assert arrows.IsA("vtkMRMLMarkupsFiducialNode") and arrows.GetNthControlPointLabel(0) == "Look here"
    (table,) = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    cols = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    rows = [
        {cols[c]: table.GetCellText(r, c) for c in range(len(cols))} for r in range(table.GetNumberOfRows())
    ]
    assert any(r["quantity"] == "Length" and float(r["value"]) == 9.125 and r["unit"] == "mm" for r in rows)


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_ohifs_seg_loads_as_a_segmentation_with_its_names_and_colours(scene, series_dir, tmp_path, seg_type):
    case = series_dir("axial")
    source = read_source_series(case.folder)
    lab = np.where(np.isin(case.labels, (1, 2, 3)), case.labels, 0).astype(np.uint8)
    out = tmp_path / f"ohif-{seg_type}.seg.dcm"
    ohif_made.make_seg(source, lab, seg_type, tmp_path, out)
    nodes = load_dicom_objects([case.folder, out])
    (seg,) = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")]
    segmentation = seg.GetSegmentation()
    names = [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())]
    assert names == ["Liver", "Spleen", "Kidney"]
    for i in range(3):
        got = np.array(segmentation.GetNthSegment(i).GetColor()) * 255
        from dicomai.seg.decode import read_seg

        want = next(s.color for s in read_seg(out).segments if s.label == names[i])
        assert np.max(np.abs(got - np.array(want))) <= 1.0
    counts = node_voxel_counts(seg)
    assert counts == {name: int((lab == i).sum()) for i, name in enumerate(names, start=1)}
