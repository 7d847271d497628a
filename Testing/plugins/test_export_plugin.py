"""The export-dialog plugin (DicomAIExport/DICOMAIExportPlugin.py) as Slicer's "Export to DICOM..."
dialog drives it (slicer_standin.exportDialog: examine an item, fill tags, set directory, export)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import slicer

import peers
from dicomai.seg.decode import read_seg
from dicomai.sr.decode import read_sr
from slicer_standin import exportDialog

KEY = "DICOMAIExportPlugin"


@pytest.fixture
def loaded(standin, study):
    """The study's CT loaded from DICOM, a segmentation made on it, and a line under the study."""
    from DICOMLib import DICOMUtils

    from dicomai_slicer import load_dicom_series
    from dicomai_slicer.subject_hierarchy import subject_hierarchy_node

    DICOMUtils.importDicom(str(study.ct))
    scene = slicer.mrmlScene
    ct = load_dicom_series(study.ct)
    shn = subject_hierarchy_node()
    study_item = shn.GetItemParent(shn.GetItemByDataNode(ct))
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "AI labels")
    slicer.util.updateVolumeFromArray(labelmap, np.where(study.labels <= 4, study.labels, 0).astype(np.uint8))
    labelmap.CopyOrientation(ct)
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "AI organs")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(ct)
    slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmap, seg)
    shn.SetItemParent(shn.CreateItem(study_item, seg) or shn.GetItemByDataNode(seg), study_item)
    shn.SetItemParent(shn.GetItemByDataNode(labelmap) or shn.CreateItem(study_item, labelmap), study_item)
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Diameter")
    at = study.source.grid.index_to_world
    for k, r, c in ((4.0, 12.0, 10.0), (4.5, 18.5, 17.25)):
        lps = at([[k, r, c]])[0]
        line.AddControlPoint([-lps[0], -lps[1], lps[2]])
    shn.CreateItem(study_item, line)
    return {"ct": ct, "seg": seg, "labelmap": labelmap, "line": line, "study": study_item, "shn": shn}


def _item(loaded, name):
    return loaded["shn"].GetItemByDataNode(loaded[name])


def test_examineForExport_offers_items_that_trace_back_to_dicom(loaded):
    plugin = slicer.modules.dicomPlugins[KEY]()
    for name, modality in (("seg", "SEG"), ("labelmap", "SEG"), ("line", "SR")):
        (exportable,) = plugin.examineForExport(_item(loaded, name))
        assert exportable.pluginClass == KEY and exportable.confidence > 1.0
        assert exportable.subjectHierarchyItemID == _item(loaded, name)
        assert exportable.tag("Modality") == modality
        assert exportable.tag("SeriesDescription") == loaded[name].GetName()
        assert exportable.tag("SeriesNumber") == ("101" if modality == "SEG" else "201")
        for tag in ("AlgorithmName", "AlgorithmVersion"):
            assert tag in exportable.tags
    (seg_exportable,) = plugin.examineForExport(_item(loaded, "seg"))
    assert seg_exportable.tag("SegmentationType") == "auto"
    assert plugin.examineForExport(_item(loaded, "ct")) == []  # images are Slicer core's job


def test_examineForExport_offers_nothing_without_a_dicom_reference(loaded):
    scene, shn = slicer.mrmlScene, loaded["shn"]
    plugin = slicer.modules.dicomPlugins[KEY]()
    plain = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "not from DICOM")
    slicer.util.updateVolumeFromArray(plain, np.zeros((3, 4, 5), np.int16))
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "on a plain volume")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(plain)
    loose = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "not in a study")
    loose.AddControlPoint([0.0, 0.0, 0.0])
    outside = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "far away")
    outside.AddControlPoint([500.0, 500.0, 500.0])
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "not in a study")
    items = [shn.CreateItem(shn.GetSceneItemID(), n) for n in (seg, loose, table)]
    items.append(shn.CreateItem(loaded["study"], outside))
    for item in items:
        assert plugin.examineForExport(item) == []


def test_the_dialog_ranks_us_above_slicer_cores_segmentation_exporter(loaded):
    class CoreLike:
        """Slicer core's DICOMSegmentationPlugin offers every segmentation at 1.0."""

        def examineForExport(self, itemID):
            node = loaded["shn"].GetItemDataNode(itemID)
            if node is None or not node.IsA("vtkMRMLSegmentationNode"):
                return []
            exportable = slicer.qSlicerDICOMExportable()
            exportable.pluginClass, exportable.confidence = "DICOMSegmentationPlugin", 1.0
            return [exportable]

    slicer.modules.dicomPlugins["DICOMSegmentationPlugin"] = CoreLike
    ranked = exportDialog.examine(_item(loaded, "seg"))
    assert [plugin for _, plugin, _ in ranked] == [KEY, "DICOMSegmentationPlugin"]
    assert round(ranked[0][0] * 100) == 100  # shown as "100%"
    study_ranked = exportDialog.examine(loaded["study"])  # SEG + labelmap + line: same mean
    assert study_ranked[0][1] == KEY and len(study_ranked[0][2]) == 3


def test_export_writes_a_seg_and_an_sr_that_pass_dciodvfy(loaded, tmp_path):
    (_, _, exportables), *_ = exportDialog.examine(loaded["study"])
    exportables = [
        e
        for e in exportables
        if loaded["shn"].GetItemDataNode(e.subjectHierarchyItemID) is not loaded["labelmap"]
    ]
    seg_exportable = next(e for e in exportables if e.tag("Modality") == "SEG")
    seg_exportable.setTag("AlgorithmName", "PhantomNet")
    seg_exportable.setTag("AlgorithmVersion", "3.1")
    seg_exportable.setTag("SegmentAlgorithmType", "SEMIAUTOMATIC")
    seg_exportable.setTag("SeriesDescription", "Organs by PhantomNet")
    assert exportDialog.export(exportables, tmp_path) == ""
    files = sorted(tmp_path.iterdir())
    assert [f.name[:3] for f in files] == ["SEG", "SR_"]
    seg_file, sr_file = files
    content = read_seg(seg_file)
    # auto: the organs do not overlap, but the SR references the segments -> BINARY (see below)
    assert content.segmentation_type == "BINARY"
    assert content.attributes["SeriesDescription"] == "Organs by PhantomNet"
    assert {s.algorithm_name for s in content.segments if s.number} == {"PhantomNet"}
    assert {s.algorithm_type for s in content.segments if s.number} == {"SEMIAUTOMATIC"}
    ds = pydicom.dcmread(seg_file, stop_before_pixels=True)
    assert ds.PatientID == "PLUG1" and str(ds.SeriesNumber) == "101"
    report = read_sr(sr_file)
    # the line, and the volume of each segment of the SEG exported with it
    assert [g.tracking_id for g in report.groups] == ["Diameter", "Label_1", "Label_2", "Label_3", "Label_4"]
    assert report.referenced_seg_uids == [str(ds.SOPInstanceUID)]
    peers.require("dciodvfy")
    for f in files:
        result = peers.dciodvfy(f)
        assert result.errors == [], result.output


def test_an_explicit_labelmap_seg_referenced_by_the_sr_is_written_and_the_validator_gap_is_named(
    loaded, tmp_path
):
    """LABELMAP asked for explicitly is honoured; the SR export warns about dciodvfy's rule."""
    peers.require("dciodvfy")
    (_, _, exportables), *_ = exportDialog.examine(loaded["study"])
    exportables = [
        e
        for e in exportables
        if loaded["shn"].GetItemDataNode(e.subjectHierarchyItemID) is not loaded["labelmap"]
    ]
    next(e for e in exportables if e.tag("Modality") == "SEG").setTag("SegmentationType", "LABELMAP")
    assert exportDialog.export(exportables, tmp_path) == ""
    seg_file, sr_file = sorted(tmp_path.iterdir())
    assert read_seg(seg_file).segmentation_type == "LABELMAP"
    assert peers.dciodvfy(seg_file).errors == []
    segments = [x for x in read_seg(seg_file).segments if x.number]
    # one such error per referenced segment, nothing else
    assert peers.dciodvfy(sr_file).errors == [DCIODVFY_LABELMAP_REFERENCE] * len(segments)


# dciodvfy requires Referenced Segment Number only for references to Segmentation Storage (66.4);
# PS3.3 C.18.4 requires it for any Segmentation, which Label Map Segmentation Storage (66.7, Sup 243)
# is, and readers need it to know which segment a row is about. So an SR referencing segments of a
# LABELMAP SEG gets this one error from dciodvfy; with a BINARY SEG the pair is error-free (below).
DCIODVFY_LABELMAP_REFERENCE = (
    "Error - Shall not be present for Referenced SOP Class that is not segmentation - attribute "
    "<ReferencedSegmentNumber>"
)


def test_export_of_a_binary_seg_and_its_sr_is_dciodvfy_clean(loaded, tmp_path):
    peers.require("dciodvfy")
    (_, _, exportables), *_ = exportDialog.examine(loaded["study"])
    exportables = [
        e
        for e in exportables
        if loaded["shn"].GetItemDataNode(e.subjectHierarchyItemID) is not loaded["labelmap"]
    ]
    next(e for e in exportables if e.tag("Modality") == "SEG").setTag("SegmentationType", "BINARY")
    assert exportDialog.export(exportables, tmp_path) == ""
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 and read_seg(files[0]).segmentation_type == "BINARY"
    for f in files:
        result = peers.dciodvfy(f)
        assert result.errors == [], result.output


def test_export_with_overlapping_segments_and_binary_tag(loaded, tmp_path):
    seg = loaded["seg"]
    segmentation = seg.GetSegmentation()
    overlap = slicer.vtkSegment()
    overlap.SetName("Everything")
    segmentation.AddSegment(overlap, "everything")
    array = slicer.util.arrayFromSegmentBinaryLabelmap(seg, segmentation.GetNthSegmentID(0), loaded["ct"])
    slicer.util.updateSegmentBinaryLabelmapFromArray(np.ones_like(array), seg, "everything", loaded["ct"])
    (exportable,) = slicer.modules.dicomPlugins[KEY]().examineForExport(_item(loaded, "seg"))
    assert exportDialog.export([exportable], tmp_path) == ""
    (seg_file,) = tmp_path.iterdir()
    assert read_seg(seg_file).segmentation_type == "BINARY"  # auto: they overlap


def test_a_failed_export_leaves_nothing_and_says_what_failed(loaded, tmp_path):
    twin = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Diameter")  # same name: the SR fails
    for i in range(2):
        p = [0.0, 0.0, 0.0]
        loaded["line"].GetNthControlPointPositionWorld(i, p)
        twin.AddControlPoint(p)
    loaded["shn"].CreateItem(loaded["study"], twin)
    (_, _, exportables), *_ = exportDialog.examine(loaded["study"])
    message = exportDialog.export(exportables, tmp_path)
    assert message.startswith("DICOM AI export failed, nothing was written")
    assert "'Diameter'" in message and "more than once" in message
    assert list(tmp_path.iterdir()) == []  # the SEG written before the SR failed is gone
