"""The module logics (Slicer camelCase, for the Python console) are thin wrappers that work.

The module files subclass Slicer's Qt-side ScriptedLoadableModule classes; they are loaded as
Slicer loads them, against the test-only stand-in in Testing/slicer_standin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import slicer
from mrml_helpers import node_voxel_counts, segmentation_node

from dicomai.errors import InputError
from dicomai.seg.decode import read_seg
from dicomai_slicer import load_dicom_series

ROOT = Path(__file__).resolve().parents[2]
TESTING = str(ROOT / "Testing")
if TESTING not in sys.path:
    sys.path.append(TESTING)

import slicer_standin  # noqa: E402


@pytest.fixture
def standin(scene):
    slicer_standin.install(scene)
    yield slicer_standin
    slicer_standin.uninstall()


def test_export_module_loads_and_its_logic_exports_a_segmentation(scene, standin, series_dir, tmp_path):
    module = standin.loadModule(ROOT / "DicomAIExport" / "DicomAIExport.py")
    assert module.title == "DICOM AI Export"
    logic = sys.modules["DicomAIExport"].DicomAIExportLogic()
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    out = logic.exportSegmentation(
        seg,
        volume,
        tmp_path / "seg.dcm",
        algorithmName="Model",
        algorithmVersion="3",
        seriesDescription="From the console",
        seriesNumber=7,
        segmentIds=[ids[1], ids[5]],
    )
    content = read_seg(out)
    assert [s.label for s in content.segments] == ["Liver", "Liver lesion"]
    assert content.attributes["SeriesDescription"] == "From the console"
    assert content.segments[0].algorithm_version == "3"
    with pytest.raises(InputError, match="'AI' has no reference volume"):
        seg.SetNodeReferenceID(seg.GetReferenceImageGeometryReferenceRole(), None)
        logic.exportSegmentation(seg, None, tmp_path / "x.dcm")


def test_import_module_loads_and_its_logic_loads_ct_and_seg(scene, standin, series_dir, tmp_path):
    case = series_dir("oblique")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    export_module = standin.loadModule(ROOT / "DicomAIExport" / "DicomAIExport.py")
    assert export_module is not None
    out = (
        sys.modules["DicomAIExport"].DicomAIExportLogic().exportSegmentation(seg, volume, tmp_path / "s.dcm")
    )
    slicer.mrmlScene.Clear(0)
    module = standin.loadModule(ROOT / "DicomAIImport" / "DicomAIImport.py")
    assert module.title == "DICOM AI Import"
    logic = sys.modules["DicomAIImport"].DicomAIImportLogic()
    nodes = logic.loadDicomObjects([str(case.folder), str(out)])
    assert [n.GetClassName() for n in nodes] == ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode"]
    counts = node_voxel_counts(nodes[1])
    assert counts["Liver lesion"] == int((case.labels == 5).sum())
    assert logic.load([str(out)])[0].IsA("vtkMRMLSegmentationNode")


def test_export_module_self_test_passes(scene, standin):
    """The module's own self-test (Slicer's "Reload and Test") runs the quick demo."""
    standin.loadModule(ROOT / "DicomAIExport" / "DicomAIExport.py")
    test = sys.modules["DicomAIExport"].DicomAIExportTest()
    test.runTest()  # raises when a check of the demo fails


def test_inside_slicer_the_source_files_come_from_the_dicom_database(scene, standin, series_dir, tmp_path):
    """With slicer.dicomDatabase (the stand-in's ctkDICOMDatabase), no source option is needed."""
    import shutil

    from dicomai_slicer import export_segmentation, load_dicom_objects
    from dicomai_slicer.scene_files import scene_files

    case = series_dir("oblique")
    copy = tmp_path / "database" / "ct"
    shutil.copytree(case.folder, copy)
    for f in copy.iterdir():
        slicer.dicomDatabase.insert(str(f))
    volume = load_dicom_series(copy)
    seg, _ = segmentation_node(scene, case.labels, volume)
    scene_files(scene).clear()  # forget the files this process loaded: only the database is left
    out = export_segmentation(seg, volume, tmp_path / "seg.dcm")
    assert {s.label for s in read_seg(out).segments} >= {"Liver", "Liver lesion"}
    # and a SEG alone finds its series in the database when loading
    slicer.mrmlScene.Clear(0)
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    shutil.move(str(out), lonely / "seg.dcm")
    nodes = load_dicom_objects([lonely / "seg.dcm"])
    assert [n.GetClassName() for n in nodes] == ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode"]
    assert node_voxel_counts(nodes[1])["Liver"] == int((case.labels == 1).sum())
