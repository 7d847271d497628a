"""DICOM browser plugins (DicomAIImport/DICOMAI*Plugin.py) on slicer-core + the stand-in, as Slicer
5.12 and 5.10 call them: examineForImport per series file list, then load of the selected loadables.
"""

from __future__ import annotations

import logging
import shutil

import pydicom
import pytest
import slicer

import peers
from shared_data import REALDATA

SEG_KEY, SR_KEY = "DICOMAISegmentationPlugin", "DICOMAIStructuredReportPlugin"


def _import(folder):
    from DICOMLib import DICOMUtils

    DICOMUtils.importDicom(str(folder))


def _file_lists_by_series():
    """What the browser hands to examineForImport: one file list per series in the database."""
    db = slicer.dicomDatabase
    return [db.filesForSeries(uid) for uid in {db.seriesForFile(f) for f in db.allFiles()}]


def _examine(key, file_lists):
    return slicer.modules.dicomPlugins[key]().examineForImport(file_lists)


def _ct_uids(study):
    return set(study.source.sop_instance_uids)


def test_examine_offers_one_loadable_per_seg_and_sr_with_names_confidences_and_references(standin, study):
    _import(study.folder)
    segs = {lo.name: lo for lo in _examine(SEG_KEY, _file_lists_by_series())}
    srs = {lo.name: lo for lo in _examine(SR_KEY, _file_lists_by_series())}
    expected = {"SEG: AI organs", "SEG: AI probabilities"} | ({"SEG: dcmqi organs"} if study.dcmqi else set())
    assert set(segs) == expected
    assert set(srs) == {"SR: AI measurements"}
    for loadable in [*segs.values(), *srs.values()]:
        assert loadable.confidence == 0.97 and loadable.warning == "" and loadable.selected
        assert len(loadable.files) == 1
    organs = segs["SEG: AI organs"]
    assert organs.files == [str(study.seg)]
    assert "DICOM SEG LABELMAP, 4 segment(s)" in organs.tooltip
    assert all(name in organs.tooltip for name in ("Liver", "Spleen", "Right kidney", "Left kidney"))
    assert "PhantomNet" in organs.tooltip
    assert set(organs.referencedInstanceUIDs) == _ct_uids(study)
    assert "FRACTIONAL PROBABILITY" in segs["SEG: AI probabilities"].tooltip
    if study.dcmqi:
        assert set(segs["SEG: dcmqi organs"].referencedInstanceUIDs) <= _ct_uids(study)
    report = srs["SR: AI measurements"]
    assert "7 measurement group(s)" in report.tooltip and "Liver diameter" in report.tooltip
    seg_uid = str(pydicom.dcmread(study.seg, stop_before_pixels=True).SOPInstanceUID)
    assert set(report.referencedInstanceUIDs) == _ct_uids(study) | {seg_uid}


def test_examine_offers_nothing_for_images(standin, study):
    _import(study.folder)
    ct_files = [sorted(str(p) for p in study.ct.glob("*.dcm"))]
    assert _examine(SEG_KEY, ct_files) == [] and _examine(SR_KEY, ct_files) == []


def test_examine_reads_headers_only(standin, study, monkeypatch):
    _import(study.folder)
    calls = []
    real = pydicom.dcmread

    def spy(path, *args, **kwargs):
        calls.append((str(path), kwargs))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", spy)
    files = [[str(p)] for p in sorted(study.folder.glob("*.dcm"))]
    assert _examine(SEG_KEY, files) and _examine(SR_KEY, files)
    assert calls and all(kw.get("stop_before_pixels") for _, kw in calls)
    # the SOP class of files in the database comes from fileValue: SEG files are opened once each
    seg_reads = [p for p, _ in calls if p == str(study.seg)]
    assert len(seg_reads) == 1


def test_examine_without_a_database_reads_the_files(scene, study):
    import slicer_standin

    slicer_standin.install(scene, dicomDatabase=False)
    try:
        slicer_standin.loadModule(slicer_standin_path("DICOMAISegmentationPlugin.py"))
        loadables = _examine(SEG_KEY, [[str(study.seg)], [str(study.fractional)]])
        assert sorted(lo.name for lo in loadables) == ["SEG: AI organs", "SEG: AI probabilities"]
        assert all(lo.confidence == 0.97 for lo in loadables)
    finally:
        slicer_standin.uninstall()


def slicer_standin_path(name):
    from plugin_cases import IMPORT_DIR

    return IMPORT_DIR / name


def test_examine_results_are_cached_per_file_list(standin, study, monkeypatch):
    plugin = slicer.modules.dicomPlugins[SEG_KEY]()
    first = plugin.examineForImport([[str(study.seg)]])
    monkeypatch.setattr(pydicom, "dcmread", lambda *a, **k: pytest.fail("examined twice"))
    assert plugin.examineForImport([[str(study.seg)]]) == first


def test_a_damaged_file_is_skipped_and_logged(standin, study, tmp_path, caplog):
    broken = tmp_path / "broken.dcm"
    data = study.seg.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    with caplog.at_level(logging.WARNING):
        loadables = _examine(SEG_KEY, [[str(broken)], [str(study.seg)]])
    assert [lo.name for lo in loadables] == ["SEG: AI organs"]


def test_an_sr_with_content_we_do_not_understand_is_offered_lower_with_what_is_left_out(
    standin, study, tmp_path
):
    from pydicom.dataset import Dataset

    def code(value, meaning):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99TEST", meaning
        return item

    ds = pydicom.dcmread(study.sr)
    odd = Dataset()
    odd.RelationshipType, odd.ValueType = "CONTAINS", "CODE"
    odd.ConceptNameCodeSequence, odd.ConceptCodeSequence = [code("M-1", "Mystery")], [code("M-2", "Odd")]
    ds.ContentSequence.append(odd)
    ds.save_as(tmp_path / "odd.dcm")
    _import(study.folder)
    (loadable,) = _examine(SR_KEY, [[str(tmp_path / "odd.dcm")]])
    assert loadable.confidence == 0.96  # below a full load, above Slicer core's 0.95
    assert loadable.warning == "left out (not understood): report: CODE 'Mystery'"


# --------------------------------------------------------------------------------------- real data
REAL_SEGS = [
    "dcmqi/segmentations/liver.dcm",
    "dcmqi/segmentations/partial_overlaps.dcm",
    "dcmqi/segmentations/sparse-labelmap-noppv.dcm",
    "dcmqi/segmentations/23x38x3/seg/label.seg",
    "highdicom/seg_image_ct_binary.dcm",
    "highdicom/seg_image_ct_true_fractional.dcm",
    "highdicom/seg_image_cr_binary.dcm",
    "dcmqi/sr-example/seg.dcm",
]
# SR -> (confidence, words the warning must hold)
REAL_SRS = {
    "highdicom/sr_document.dcm": (0.97, ["2D coordinates"]),
    "highdicom/sr_document_with_multiple_groups.dcm": (0.97, ["2D coordinates"]),
    "dcmqi/sr-example/sr.dcm": (0.97, ["referenced SEG is not in the DICOM database"]),
    "pydicom/test-SR.dcm": (0.6, ["not a TID 1500 measurement report"]),
}


@pytest.fixture
def realdata():
    if not REALDATA.is_dir():
        pytest.skip(f"real SEG/SR files not found in {REALDATA}")
    return REALDATA


@pytest.mark.parametrize("rel", REAL_SEGS)
def test_real_segs_are_offered_in_full(standin, realdata, rel):
    path = realdata / rel
    (loadable,) = _examine(SEG_KEY, [[str(path)]])
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert loadable.name == f"SEG: {ds.get('SeriesDescription', '') or 'Segmentation'}"
    assert loadable.confidence == 0.97
    for segment in ds.SegmentSequence:
        if int(segment.SegmentNumber):
            assert str(segment.SegmentLabel) in loadable.tooltip
    refs = {
        str(i.ReferencedSOPInstanceUID)
        for s in ds.ReferencedSeriesSequence
        for i in s.get("ReferencedInstanceSequence", [])
    }
    assert set(loadable.referencedInstanceUIDs) == refs
    assert _examine(SR_KEY, [[str(path)]]) == []


@pytest.mark.parametrize("rel", sorted(REAL_SRS))
def test_real_srs_are_offered_with_what_is_left_out(standin, realdata, rel):
    confidence, words = REAL_SRS[rel]
    (loadable,) = _examine(SR_KEY, [[str(realdata / rel)]])
    assert loadable.name.startswith("SR: ")
    assert loadable.confidence == confidence
    for word in words:
        assert word in loadable.warning
    ds = pydicom.dcmread(realdata / rel)
    evidence = [
        *ds.get("CurrentRequestedProcedureEvidenceSequence", []),
        *ds.get("PertinentOtherEvidenceSequence", []),
    ]
    assert bool(loadable.referencedInstanceUIDs) == bool(evidence)  # test-SR.dcm lists no evidence
    assert _examine(SEG_KEY, [[str(realdata / rel)]]) == []


# --------------------------------------------------------------------------------------------- load
def _sh():
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)


def _study_item_of(node):
    shn = _sh()
    return shn.GetItemAncestorAtLevel(
        shn.GetItemByDataNode(node), slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMLevelStudy()
    )


def test_load_seg_builds_the_segmentation_over_its_ct_in_the_subject_hierarchy(standin, study):
    _import(study.folder)
    (loadable,) = _examine(SEG_KEY, [[str(study.seg)]])
    assert slicer.modules.dicomPlugins[SEG_KEY]().load(loadable) is True
    (seg,) = slicer.mrmlScene.GetNodesByClass("vtkMRMLSegmentationNode")
    volumes = [v for v in slicer.mrmlScene.GetNodesByClass("vtkMRMLScalarVolumeNode")]
    assert len(volumes) == 1  # the referenced CT, loaded from the database
    ct = volumes[0]
    names = [seg.GetSegmentation().GetNthSegment(i).GetName() for i in range(4)]
    assert names == ["Liver", "Spleen", "Right kidney", "Left kidney"]
    assert seg.GetNodeReference(seg.GetReferenceImageGeometryReferenceRole()) is ct
    shn = _sh()
    item = shn.GetItemByDataNode(seg)
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    assert _study_item_of(seg) == _study_item_of(ct) != 0
    seg_series = str(pydicom.dcmread(study.seg, stop_before_pixels=True).SeriesInstanceUID)
    assert shn.GetItemUID(item, constants.GetDICOMUIDName()) == seg_series
    referenced = shn.GetItemAttribute(item, constants.GetDICOMReferencedInstanceUIDsAttributeName()).split()
    assert set(referenced) == _ct_uids(study)
    from dicomai_slicer.scene import application_logic

    assert application_logic().GetSelectionNode().GetActiveVolumeID() == ct.GetID()  # shown


def test_load_fractional_seg_keeps_the_fractions_as_volumes(standin, study):
    import numpy as np

    _import(study.folder)
    (loadable,) = _examine(SEG_KEY, [[str(study.fractional)]])
    assert slicer.modules.dicomPlugins[SEG_KEY]().load(loadable)
    fractions = [
        v
        for v in slicer.mrmlScene.GetNodesByClass("vtkMRMLScalarVolumeNode")
        if v.GetAttribute("DICOM.fractionalType")
    ]
    assert sorted(v.GetName() for v in fractions) == [
        "101: AI probabilities: Liver fraction",
        "101: AI probabilities: Spleen fraction",
    ]
    liver = slicer.util.arrayFromVolume(fractions[0] if "Liver" in fractions[0].GetName() else fractions[1])
    assert 0.0 <= liver.min() and liver.max() == pytest.approx(0.9, abs=0.01)
    assert np.count_nonzero(liver > 0.5) > 0
    (seg,) = slicer.mrmlScene.GetNodesByClass("vtkMRMLSegmentationNode")
    shn = _sh()
    assert shn.GetItemParent(shn.GetItemByDataNode(fractions[0])) == shn.GetItemByDataNode(seg)


def test_load_sr_builds_markups_table_and_the_referenced_seg(standin, study):
    _import(study.folder)
    (loadable,) = _examine(SR_KEY, [[str(study.sr)]])
    assert slicer.modules.dicomPlugins[SR_KEY]().load(loadable)
    scene = slicer.mrmlScene
    markups = {n.GetName(): n.GetClassName() for n in scene.GetNodesByClass("vtkMRMLMarkupsNode")}
    assert markups == {"Liver diameter": "vtkMRMLMarkupsLineNode", "Lesions": "vtkMRMLMarkupsFiducialNode"}
    (table,) = scene.GetNodesByClass("vtkMRMLTableNode")
    assert table.GetNumberOfRows() >= 5
    (seg,) = scene.GetNodesByClass("vtkMRMLSegmentationNode")  # the SEG the SR references
    assert seg.GetSegmentation().GetNumberOfSegments() == 4
    shn = _sh()
    sr_item = shn.GetItemByDataNode(table)
    for node in scene.GetNodesByClass("vtkMRMLMarkupsNode"):
        assert shn.GetItemParent(shn.GetItemByDataNode(node)) == sr_item
    ct = next(v for v in scene.GetNodesByClass("vtkMRMLScalarVolumeNode"))
    assert _study_item_of(table) == _study_item_of(ct)


def test_load_dcmqi_seg(standin, study):
    peers.require("itkimage2segimage")
    _import(study.folder)
    (loadable,) = _examine(SEG_KEY, [[str(study.dcmqi)]])
    assert slicer.modules.dicomPlugins[SEG_KEY]().load(loadable)
    (seg,) = slicer.mrmlScene.GetNodesByClass("vtkMRMLSegmentationNode")
    assert seg.GetSegmentation().GetNumberOfSegments() == 4


def test_load_failure_returns_false_and_says_why(standin, study, tmp_path, caplog):
    copy = tmp_path / "seg.dcm"
    shutil.copy(study.seg, copy)
    (loadable,) = _examine(SEG_KEY, [[str(copy)]])
    copy.write_bytes(copy.read_bytes()[:-200])  # pixel data cut after examine
    with caplog.at_level(logging.ERROR):
        assert slicer.modules.dicomPlugins[SEG_KEY]().load(loadable) is False
    assert "SEG: AI organs: loading failed" in caplog.text
