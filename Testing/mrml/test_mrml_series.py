"""load_dicom_series: RAS geometry for any orientation, voxel types, and the subject hierarchy
items Slicer's DICOM scalar volume plugin leaves."""

from __future__ import annotations

import numpy as np
import pytest
import slicer
from mrml_helpers import KINDS

import dicomai_samples as samples
from dicomai.errors import SourceSeriesError
from dicomai_slicer import load_dicom_series
from dicomai_slicer._images import grid_of_volume, numpy_matrix
from dicomai_slicer.subject_hierarchy import dicom_reference, find_series_nodes, subject_hierarchy_node


def _ijk_to_ras(node):
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    m = vtkMatrix4x4()
    node.GetIJKToRASMatrix(m)
    return numpy_matrix(m)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_volume_has_the_voxels_and_ras_geometry_of_the_series_in_any_orientation(scene, series_dir, kind):
    case = series_dir(kind)
    node = load_dicom_series(case.folder)
    assert np.array_equal(slicer.util.arrayFromVolume(node), case.ct)
    assert np.allclose(_ijk_to_ras(node), case.grid.ijk_to_ras(), atol=1e-4)
    assert grid_of_volume(node).matches(case.grid)


def test_slices_are_sorted_by_position_not_by_file_name_or_instance_number(scene, series_dir):
    case = series_dir("oblique")  # random file names, instance numbers reversed
    node = load_dicom_series(sorted(str(p) for p in case.folder.iterdir()))
    assert node.GetAttribute("DICOM.instanceUIDs").split() == case.info.sop_instance_uids
    numbers = node.GetAttribute("DICOM.instanceNumbers").split()
    assert numbers == [str(n) for n in case.info.instance_numbers]
    assert np.array_equal(slicer.util.arrayFromVolume(node), case.ct)


def test_series_item_lies_under_patient_and_study_with_dicom_uids(scene, series_dir):
    C = slicer.vtkMRMLSubjectHierarchyConstants
    case = series_dir("axial")
    node = load_dicom_series(case.folder)
    shn = subject_hierarchy_node()
    item = shn.GetItemByDataNode(node)
    assert shn.GetItemUID(item, C.GetDICOMUIDName()) == case.info.series_instance_uid
    assert shn.GetItemUID(item, C.GetDICOMInstanceUIDName()).split() == case.info.sop_instance_uids
    assert shn.GetItemAttribute(item, C.GetDICOMSeriesModalityAttributeName()) == "CT"
    assert shn.GetItemAttribute(item, C.GetDICOMSeriesNumberAttributeName()) == "1"
    study = shn.GetItemParent(item)
    patient = shn.GetItemParent(study)
    assert shn.GetItemLevel(study) == C.GetDICOMLevelStudy()
    assert shn.GetItemLevel(patient) == C.GetDICOMLevelPatient()
    assert shn.GetItemUID(study, C.GetDICOMUIDName()) == case.info.study_instance_uid
    assert shn.GetItemUID(patient, C.GetDICOMUIDName()) == "DICOMAI-SYN-0001"
    assert shn.GetItemName(patient) == "Phantom^Synthetic (DICOMAI-SYN-0001)"
    assert shn.GetItemName(study) == "Synthetic abdomen (20240115)"
    assert shn.GetItemAttribute(study, C.GetDICOMStudyDateAttributeName()) == "20240115"
    assert node.GetName() == "1: Synthetic CT 36x40x12"
    ref = dicom_reference(node)
    assert ref.series_instance_uid == case.info.series_instance_uid
    assert ref.study_instance_uid == case.info.study_instance_uid
    assert find_series_nodes(case.info.series_instance_uid) == [node]


def test_two_series_of_one_study_share_the_patient_and_study_items(scene, tmp_path):
    C = slicer.vtkMRMLSubjectHierarchyConstants
    grid = samples.make_grid((4, 16, 16))
    ct = np.zeros(grid.shape, np.int16)
    a = samples.write_series(tmp_path / "a", ct, grid, uid_seed="s", series_number=1)
    samples.write_series(
        tmp_path / "b",
        ct,
        grid,
        study_uid=a.study_instance_uid,
        series_number=2,
        frame_of_reference_uid=a.frame_of_reference_uid,
    )
    na, nb = load_dicom_series(tmp_path / "a"), load_dicom_series(tmp_path / "b")
    shn = subject_hierarchy_node()
    ia, ib = shn.GetItemByDataNode(na), shn.GetItemByDataNode(nb)
    assert shn.GetItemParent(ia) == shn.GetItemParent(ib)
    assert shn.GetItemUID(shn.GetItemParent(ia), C.GetDICOMUIDName()) == a.study_instance_uid


def test_ct_window_level_quantity_and_units_come_from_the_files(scene, series_dir):
    node = load_dicom_series(series_dir("axial").folder)
    display = node.GetScalarVolumeDisplayNode()
    assert (display.GetWindow(), display.GetLevel()) == (400.0, 40.0)
    assert node.GetVoxelValueUnits().GetCodeValue() == "[hnsf'U]"


def test_ct_with_integer_rescale_is_int16_when_the_stored_range_allows(scene, tmp_path):
    # 12-bit unsigned stored values with intercept -1024: -1024..3071 fits int16 (as GDCM decides)
    grid = samples.make_grid((3, 8, 8))
    stored = (np.arange(3 * 8 * 8, dtype=np.uint16).reshape(grid.shape) * 20).clip(0, 4095)
    samples.write_series(
        tmp_path, stored, grid, rescale_intercept=-1024, attributes={"BitsStored": 12, "HighBit": 11}
    )
    node = load_dicom_series(tmp_path)
    assert node.GetImageData().GetScalarTypeAsString() == "short"
    assert np.array_equal(slicer.util.arrayFromVolume(node), stored.astype(np.int32) - 1024)


def test_ct_with_integer_rescale_beyond_int16_is_int32(scene, tmp_path):
    # 16-bit signed stored values with intercept -1024 could reach -33792: int32
    grid = samples.make_grid((3, 8, 8))
    stored = np.arange(3 * 8 * 8, dtype=np.int16).reshape(grid.shape) * 10
    samples.write_series(tmp_path, stored, grid, rescale_intercept=-1024)
    node = load_dicom_series(tmp_path)
    assert node.GetImageData().GetScalarTypeAsString() == "int"
    assert np.array_equal(slicer.util.arrayFromVolume(node), stored.astype(np.int32) - 1024)


def test_fractional_rescale_gives_float_values(scene, tmp_path):
    grid = samples.make_grid((3, 8, 8))
    stored = np.arange(3 * 8 * 8, dtype=np.int16).reshape(grid.shape)
    samples.write_series(tmp_path, stored, grid, rescale_slope=[0.5, 0.25, 2.0], rescale_intercept=-1.5)
    node = load_dicom_series(tmp_path)
    assert node.GetImageData().GetScalarTypeAsString() == "float"
    expected = stored * np.array([0.5, 0.25, 2.0])[:, None, None] - 1.5
    assert np.allclose(slicer.util.arrayFromVolume(node), expected)


def test_mr_keeps_its_stored_type(scene, series_dir):
    case = series_dir("mr")
    node = load_dicom_series(case.folder)
    assert node.GetImageData().GetScalarTypeAsString() == "unsigned short"
    assert np.array_equal(slicer.util.arrayFromVolume(node), case.ct)


def test_a_folder_with_two_series_is_a_clear_error(scene, tmp_path):
    grid = samples.make_grid((2, 8, 8))
    ct = np.zeros(grid.shape, np.int16)
    samples.write_series(tmp_path / "a", ct, grid)
    samples.write_series(tmp_path / "b", ct, grid)
    with pytest.raises(SourceSeriesError, match="2 image series"):
        load_dicom_series(tmp_path)
