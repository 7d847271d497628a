"""Loading as one flow (dicomai_slicer.loader + .families + .scene_files): an SR is read and
decoded once, nothing is remembered past the scene it was loaded into, and a new DICOM family
plugs into the loader, the export dialog and ``dicomai info`` with registrations alone."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
import slicer
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dicomai.families import Family, register_family, unregister_family
from dicomai.info import describe
from dicomai_slicer import create_scene, load_dicom_objects, load_dicom_series
from dicomai_slicer.browser import BrowserPluginMixin, Offer
from dicomai_slicer.families import (
    ExportKind,
    FamilyAdapters,
    adapters_for,
    export_kinds,
    register_adapters,
    unregister_adapters,
)
from dicomai_slicer.loader import registered_loaders
from dicomai_slicer.scene import close_scene
from dicomai_slicer.scene_files import scene_files
from dicomai_slicer.series import remembered_source


def _table_rows(table):
    cols = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    return [
        {cols[c]: table.GetCellText(r, c) for c in range(len(cols))} for r in range(table.GetNumberOfRows())
    ]


def test_an_sr_is_read_and_decoded_once(scene, study, monkeypatch):
    import dicomai.sr.decode as decode

    full_reads, decodes = [], []
    dcmread, read_sr_dataset = pydicom.dcmread, decode.read_sr_dataset

    def counting_dcmread(fp, *args, **kwargs):
        if not kwargs.get("specific_tags"):  # a one-tag look is not a parse of the document
            full_reads.append(str(fp))
        return dcmread(fp, *args, **kwargs)

    def counting_decode(ds, *args, **kwargs):
        decodes.append(str(ds.SOPInstanceUID))
        return read_sr_dataset(ds, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting_dcmread)
    monkeypatch.setattr(decode, "read_sr_dataset", counting_decode)
    nodes = load_dicom_objects([study.sr])
    sr_uid = str(dcmread(study.sr, stop_before_pixels=True).SOPInstanceUID)
    assert full_reads.count(str(study.sr)) == 1
    assert decodes == [sr_uid]
    # and that one decode named the segments of the SEG it found (loaded with it)
    kinds = sorted(n.GetClassName() for n in nodes)
    assert "vtkMRMLSegmentationNode" in kinds and "vtkMRMLTableNode" in kinds
    (table,) = [n for n in nodes if n.IsA("vtkMRMLTableNode")]
    rows = _table_rows(table)
    assert "Liver diameter" in {r["tracking id"] for r in rows}
    segments = {r["referenced segment"] for r in rows if r["referenced segment"]}
    assert "Liver (#1)" in segments  # named by the SEG's label, not by number only
    assert scene.GetNumberOfNodesByClass("vtkMRMLMarkupsLineNode") == 1


def test_closing_the_scene_or_starting_a_new_one_leaves_no_stale_entry(scene, study):
    from dicomai_slicer.report import _file_of_instance

    load_dicom_objects([study.sr])  # the CT, the SEG it references (found next to it) and the SR
    record = scene_files(scene)
    ct_uid = study.source.series_instance_uid
    seg_uid = str(pydicom.dcmread(study.seg, stop_before_pixels=True).SOPInstanceUID)
    assert remembered_source(ct_uid, scene).files == study.source.files or set(
        remembered_source(ct_uid, scene).files
    ) == set(study.source.files)
    assert _file_of_instance(seg_uid, scene) == str(study.seg)
    assert len(record) == 2

    scene.Clear(0)  # File > Close Scene
    assert len(record) == 0 and record.sources == {} and record.instance_files == {}
    assert remembered_source(ct_uid, scene) is None
    assert _file_of_instance(seg_uid, scene) is None

    # a node deleted alone takes its entry with it
    volume = load_dicom_series(study.ct)
    assert remembered_source(ct_uid, scene) is not None
    scene.RemoveNode(volume)
    assert remembered_source(ct_uid, scene) is None

    # a new scene starts empty
    load_dicom_series(study.ct)
    other = create_scene()
    try:
        assert scene_files(other) is not record and len(scene_files(other)) == 0
        assert remembered_source(ct_uid, other) is None
    finally:
        close_scene(other)
        slicer.mrmlScene = scene
    assert remembered_source(ct_uid, scene) is not None


DUMMY_SOP_CLASS = "1.2.826.0.1.3680043.10.1234.2"


def _dummy_file(path, study_uid):
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DUMMY_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = DUMMY_SOP_CLASS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.SeriesDescription = "a note"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def dummy_family():
    """A family of one private SOP class: a describer, a loader (a text node), an export kind
    (text nodes) and its writer, registered here and nowhere else."""
    calls = []

    def write_notes(batch):
        from dicomai_slicer.exporting import ExportResult, WrittenFile

        result = ExportResult()
        for candidate, tags in batch.entries:
            path = Path(batch.directory) / f"NOTE_{candidate.node.GetName().replace(' ', '_')}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            _dummy_file(path, generate_uid())
            ds = pydicom.dcmread(path)
            ds.SeriesDescription = tags["SeriesDescription"]
            ds.StudyDescription = f"about {batch.reference.GetName()}"
            ds.save_as(path, enforce_file_format=True)
            result.files.append(WrittenFile(path, "DUMMY", "1 note"))
        return result

    def load_note(context, path):
        calls.append(path)
        node = context.scene.AddNewNodeByClass(
            "vtkMRMLTextNode", str(context.headers[path].SeriesDescription)
        )
        return [node]

    def on_the_study_ct(node, item_id, scene):
        from dicomai_slicer.exporting import _study_volumes

        volumes = _study_volumes(item_id, scene)
        return volumes[0] if volumes else None

    register_family(
        Family(
            "DUMMY",
            sop_classes={DUMMY_SOP_CLASS: "Dummy Note Storage"},
            describer=lambda ds, path: {"kind": "DUMMY", "text": [str(ds.SeriesDescription)]},
        )
    )
    register_adapters(
        FamilyAdapters(
            "DUMMY",
            load=load_note,
            export_kinds=(ExportKind("vtkMRMLTextNode", "note", "Dummy note (DICOM AI)", on_the_study_ct),),
            export_tooltip="a note about {ref}",
            examine=lambda path: Offer(path, "DUMMY", "Note: a note", "a dummy note", 0.97),
            export=write_notes,
        )
    )
    yield calls, load_note
    unregister_adapters("DUMMY")
    unregister_family("DUMMY")
    assert adapters_for("DUMMY") is None and "DUMMY" not in registered_loaders()


def test_a_new_family_plugs_into_loading_export_and_info(standin, study, dummy_family, tmp_path):
    calls, load_note = dummy_family
    ct = load_dicom_series(study.ct)
    note = _dummy_file(tmp_path / "note.dcm", study.source.first.StudyInstanceUID)

    assert describe(note)["kind"] == "DUMMY" and describe(note)["sop_class"] == "Dummy Note Storage"
    assert registered_loaders()["DUMMY"] is load_note
    assert [k.kind for k, family in export_kinds() if family == "DUMMY"] == ["note"]

    from DICOMLib import DICOMLoadable, DICOMPlugin

    class DummyBrowserPlugin(BrowserPluginMixin, DICOMPlugin):  # what a DICOMAI*Plugin.py file holds
        kind = "DUMMY"
        loadTypeName = "Dummy notes"
        loadableClass = DICOMLoadable

    plugin = DummyBrowserPlugin()
    (loadable,) = plugin.examineFiles([str(note), str(study.sr)])  # the SR is not a note
    assert (loadable.name, loadable.confidence, loadable.files) == ("Note: a note", 0.97, [str(note)])
    assert plugin.load(loadable)
    (node,) = [n for n in slicer.mrmlScene.GetNodesByClass("vtkMRMLTextNode") if n.GetName() == "a note"]
    assert calls == [str(note)] and node.IsA("vtkMRMLTextNode") and node.GetName() == "a note"

    from dicomai_slicer.subject_hierarchy import subject_hierarchy_node

    shn = subject_hierarchy_node()
    study_item = shn.GetItemParent(shn.GetItemByDataNode(ct))
    item = shn.CreateItem(study_item, node)
    (exportable,) = slicer.modules.dicomPlugins["DICOMAIExportPlugin"]().examineForExport(item)
    assert exportable.name == "Dummy note (DICOM AI)"
    assert exportable.tooltip == f"a note about {ct.GetName()!r}"
    assert exportable.tag("Modality") == "DUMMY"

    from slicer_standin import exportDialog

    exportable.setTag("SeriesDescription", "written by the dummy family")
    assert exportDialog.export([exportable], tmp_path / "out") == ""  # through export_items
    (written,) = (tmp_path / "out").iterdir()
    assert written.name == "NOTE_a_note.dcm"
    back = pydicom.dcmread(written)
    assert back.SeriesDescription == "written by the dummy family"
    assert back.StudyDescription == f"about {ct.GetName()}"  # the reference the dialog found


def test_seg_and_sr_use_the_adapters_registry():
    import dicomai_slicer.loader
    import dicomai_slicer.report

    assert registered_loaders()["SEG"] is dicomai_slicer.loader.load_seg
    assert registered_loaders()["SR"] is dicomai_slicer.report.load_sr
    assert [(k.node_class, family) for k, family in export_kinds()] == [
        ("vtkMRMLSegmentationNode", "SEG"),
        ("vtkMRMLLabelMapVolumeNode", "SEG"),
        ("vtkMRMLMarkupsNode", "SR"),
        ("vtkMRMLTableNode", "SR"),
    ]
    from dicomai.families import resolve
    from dicomai_slicer import exporting

    assert resolve(adapters_for("SEG").export) is exporting.export_seg_batch
    assert resolve(adapters_for("SR").export) is exporting.export_sr_batch
