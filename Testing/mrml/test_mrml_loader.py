"""load_dicom_objects: dispatch by object type, the loader registry, finding referenced series."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pydicom
import pytest
import slicer
from mrml_helpers import node_voxel_counts, segmentation_node

import dicomai_samples as samples
from dicomai.errors import InputError
from dicomai_slicer import export_segmentation, load_dicom_objects, load_dicom_series, register_loader
from dicomai_slicer.loader import registered_loaders


@pytest.fixture
def exported(scene, series_dir, tmp_path):
    """A SEG made from a segmentation node on the axial phantom; the scene is emptied after."""
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    out = export_segmentation(seg, volume, tmp_path / "seg.dcm")
    scene.Clear(0)
    return case, out


def test_ct_and_seg_load_as_a_volume_and_a_segmentation(scene, exported):
    case, seg_path = exported
    nodes = load_dicom_objects([case.folder, seg_path])
    assert [n.GetClassName() for n in nodes] == ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode"]
    assert nodes[1].GetName() == "101: AI"


def test_a_series_already_in_the_scene_is_not_loaded_twice(scene, exported):
    case, seg_path = exported
    volume = load_dicom_series(case.folder)
    nodes = load_dicom_objects([case.folder, seg_path])
    assert nodes[0] is volume
    assert scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == 1
    seg = nodes[1]
    assert seg.GetNodeReference(seg.GetReferenceImageGeometryReferenceRole()) is volume


def test_seg_alone_finds_its_series_in_the_scene(scene, exported):
    case, seg_path = exported
    volume = load_dicom_series(case.folder)
    (seg,) = load_dicom_objects([seg_path])
    assert seg.GetNodeReference(seg.GetReferenceImageGeometryReferenceRole()) is volume
    counts = node_voxel_counts(seg)
    assert counts["Liver"] == int((case.labels == 1).sum())


def test_seg_without_its_series_lies_on_its_own_plane_positions(scene, exported, tmp_path, caplog):
    case, seg_path = exported
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(seg_path, lonely / "seg.dcm")
    with caplog.at_level(logging.WARNING):
        (seg,) = load_dicom_objects([lonely / "seg.dcm"])
    assert "was not found" in caplog.text
    counts = node_voxel_counts(seg)
    assert counts == {
        name: int((case.labels == v).sum())
        for v, name in enumerate(["Liver", "Spleen", "Right kidney", "Left kidney", "Liver lesion"], start=1)
    }


def test_registered_loader_gets_its_objects_and_can_load_the_referenced_series(scene, series_dir, tmp_path):
    case = series_dir("coronal")
    folder = tmp_path / "study"
    shutil.copytree(case.folder, folder / "ct")
    ko = pydicom.dcmread(case.info.files[0], stop_before_pixels=True)
    ko.Modality = "KO"
    ko.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    ko.SOPInstanceUID = pydicom.uid.generate_uid()
    ko.SeriesInstanceUID = pydicom.uid.generate_uid()
    ko.file_meta.MediaStorageSOPClassUID = ko.SOPClassUID
    ko.file_meta.MediaStorageSOPInstanceUID = ko.SOPInstanceUID
    ko.save_as(folder / "ko.dcm", enforce_file_format=True)
    calls = []

    def load_ko(context, path):
        calls.append(path)
        volume, source = context.referenced_series(case.info.series_instance_uid, near=path)
        assert source is not None and source.series_instance_uid == case.info.series_instance_uid
        table = context.scene.AddNewNodeByClass("vtkMRMLTableNode", "key objects")
        return [table]

    assert "KO" not in registered_loaders()
    try:
        register_loader("KO", load_ko)
        nodes = load_dicom_objects([folder / "ko.dcm"])
    finally:
        from dicomai_slicer.families import unregister_adapters

        unregister_adapters("KO")
    assert calls == [str(folder / "ko.dcm")]
    assert [n.GetClassName() for n in nodes] == ["vtkMRMLScalarVolumeNode", "vtkMRMLTableNode"]
    assert np.array_equal(slicer.util.arrayFromVolume(nodes[0]), case.ct)


def test_objects_without_a_loader_are_reported_and_nothing_loadable_is_an_error(
    scene, series_dir, tmp_path, caplog
):
    case = series_dir("axial")
    ds = pydicom.dcmread(case.info.files[0], stop_before_pixels=True)
    ds.Modality = "PR"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    (tmp_path / "pr").mkdir()
    ds.save_as(tmp_path / "pr" / "pr.dcm", enforce_file_format=True)
    with pytest.raises(InputError, match="no loader for 1 PR object"):
        load_dicom_objects([tmp_path / "pr"])
    with caplog.at_level(logging.WARNING):
        nodes = load_dicom_objects([tmp_path / "pr", case.folder])
    assert len(nodes) == 1 and "no loader for 1 PR object" in caplog.text
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not DICOM")
    with pytest.raises(InputError, match="no DICOM file"):
        load_dicom_objects(tmp_path / "empty")


def test_register_loader_checks_its_arguments():
    with pytest.raises(ValueError):
        register_loader("", lambda c, p: [])
    with pytest.raises(ValueError):
        register_loader("SR", "not callable")


def test_non_uniform_series_loads_with_a_warning_like_slicer(scene, tmp_path, caplog):
    grid = samples.make_grid((6, 8, 8))
    info = samples.write_series(tmp_path, np.zeros(grid.shape, np.int16), grid)
    (tmp_path / info.files[2].split("/")[-1]).unlink()  # a missing slice
    with caplog.at_level(logging.WARNING):
        node = load_dicom_series(tmp_path)
    assert "not uniform" in caplog.text
    assert node.GetImageData().GetDimensions()[2] == 5
    from dicomai.errors import SourceSeriesError

    with pytest.raises(SourceSeriesError, match="not uniform"):
        load_dicom_series(tmp_path, allow_nonuniform=False)
