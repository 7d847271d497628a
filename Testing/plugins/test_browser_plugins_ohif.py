"""OHIF's own SR and SEG (made by its adapters in Node, Testing/peers/ohif_made.py) through the DICOM
browser plugins on slicer-core + the stand-in: offered on examine, loaded as markups and a
segmentation over the CT."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import slicer
from test_browser_plugins import SEG_KEY, SR_KEY, _examine, _file_lists_by_series, _import

from peers import ohif_made

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def ohif_study(study, tmp_path_factory):
    """The plugin study's CT with an SR and a LABELMAP SEG saved the way OHIF saves them."""
    folder = tmp_path_factory.mktemp("ohif-study")
    shutil.copytree(study.ct, folder / "ct")
    work = tmp_path_factory.mktemp("ohif-work")
    sr = folder / "ohif.sr.dcm"
    ohif_made.make_sr(study.source, 5, work, sr)
    seg = folder / "ohif.seg.dcm"
    lab = np.where(np.isin(study.labels, (1, 2, 3)), study.labels, 0).astype(np.uint8)
    ohif_made.make_seg(study.source, lab, "LABELMAP", work, seg)
    return folder, sr, seg, lab


def test_the_browser_offers_and_loads_ohifs_sr_and_seg(standin, ohif_study):
    folder, sr, seg, lab = ohif_study
    _import(folder)
    segs = _examine(SEG_KEY, _file_lists_by_series())
    srs = _examine(SR_KEY, _file_lists_by_series())
    assert [lo.files for lo in segs] == [[str(seg)]] and "LABELMAP, 3 segment(s)" in segs[0].tooltip
    assert [lo.files for lo in srs] == [[str(sr)]]
    assert slicer.modules.dicomPlugins[SEG_KEY]().load(segs[0])
    assert slicer.modules.dicomPlugins[SR_KEY]().load(srs[0])
    scene = slicer.mrmlScene
    (node,) = scene.GetNodesByClass("vtkMRMLSegmentationNode")
    segmentation = node.GetSegmentation()
    names = [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())]
    assert names == ["Liver", "Spleen", "Kidney"]
    markups = {n.GetName(): n.GetClassName() for n in scene.GetNodesByClass("vtkMRMLMarkupsNode")}
    assert markups["Length"] == "vtkMRMLMarkupsLineNode"
    assert markups["Angle"] == "vtkMRMLMarkupsAngleNode"
    assert markups["Points"] == markups["Arrows"] == "vtkMRMLMarkupsFiducialNode"
    assert markups["PlanarFreehandROI"] == "vtkMRMLMarkupsClosedCurveNode"
    assert markups["CobbAngle"] == "vtkMRMLMarkupsCurveNode"
