"""Segmentation / labelmap node -> DICOM SEG -> segmentation node, on slicer-core MRML.

Every round trip goes through bytes: export_segmentation writes the file, a fresh scene loads it
with load_dicom_objects, and the voxels are read back with Slicer's own
slicer.util.arrayFromSegmentBinaryLabelmap on the CT grid.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import slicer
from mrml_helpers import (
    SEGMENTS,
    labelmap_node,
    rgb255,
    segment_array,
    segmentation_node,
    segments_by_name,
)

from dicomai.coding import codes_equal, terminology_from_string
from dicomai.destinations import FileDestination
from dicomai.errors import GeometryMismatchError, InputError, SourceSeriesError
from dicomai.seg.decode import read_seg
from dicomai_slicer import create_scene, export_segmentation, load_dicom_objects, load_dicom_series
from dicomai_slicer.export import SegExportOptions
from dicomai_slicer.scene import close_scene
from dicomai_slicer.segmentation import get_terminology, set_terminology
from dicomai_slicer.subject_hierarchy import dicom_reference


def _load_back(case, seg_path):
    """A fresh scene with the CT and the SEG loaded: (volume, segmentation)."""
    close_scene()
    create_scene()
    nodes = load_dicom_objects([case.folder, seg_path])
    volumes = [n for n in nodes if n.IsA("vtkMRMLScalarVolumeNode")]
    segs = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")]
    assert len(volumes) == 1 and len(segs) == 1
    return volumes[0], segs[0]


def _assert_segments_came_back(case, volume, seg, values=tuple(SEGMENTS)):
    by_name = segments_by_name(seg)
    assert sorted(by_name) == sorted(SEGMENTS[v][0] for v in values)
    for value in values:
        name, rgb, category, typ, modifier, region = SEGMENTS[value]
        sid = by_name[name]
        assert np.array_equal(segment_array(seg, sid, volume), case.labels == value), name
        segment = seg.GetSegmentation().GetSegment(sid)
        assert max(abs(a - b) for a, b in zip(rgb255(segment), rgb)) <= 2, (name, rgb255(segment), rgb)
        term = terminology_from_string(get_terminology(segment))
        assert codes_equal(term["category"], category), name
        assert codes_equal(term["type"], typ), name
        assert codes_equal(term["type_modifier"], modifier), name
        assert codes_equal(term["region"], region), name


@pytest.mark.parametrize("kind", ["axial", "oblique", "sagittal"])
def test_segmentation_node_round_trip_is_exact_with_names_colours_and_codes(
    scene, series_dir, tmp_path, kind
):
    case = series_dir(kind)
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    out = export_segmentation(
        seg, volume, tmp_path / "seg.dcm", SegExportOptions(algorithm_name="Model", algorithm_version="2")
    )
    assert out == tmp_path / "seg.dcm"
    assert len(out.segments) == 5
    volume, loaded = _load_back(case, out)
    _assert_segments_came_back(case, volume, loaded)


@pytest.mark.parametrize("kind", ["axial", "oblique"])
def test_labelmap_node_round_trip_is_exact_with_colour_table_names_and_colours(
    scene, series_dir, tmp_path, kind
):
    case = series_dir(kind)
    volume = load_dicom_series(case.folder)
    lm = labelmap_node(scene, case.labels, volume)
    out = export_segmentation(lm, volume, tmp_path / "lm.dcm", SegExportOptions(algorithm_name="Model"))
    content = read_seg(out)
    assert [s.label for s in content.segments] == [SEGMENTS[v][0] for v in sorted(SEGMENTS)]
    volume, loaded = _load_back(case, out)
    by_name = segments_by_name(loaded)
    for value, (name, rgb, _cat, typ, modifier, _region) in SEGMENTS.items():
        sid = by_name[name]
        assert np.array_equal(segment_array(loaded, sid, volume), case.labels == value)
        segment = loaded.GetSegmentation().GetSegment(sid)
        assert max(abs(a - b) for a, b in zip(rgb255(segment), rgb)) <= 2
        if value != 5:  # names the SNOMED dictionary knows are coded from the name
            term = terminology_from_string(get_terminology(segment))
            assert codes_equal(term["type"], typ) and codes_equal(term["type_modifier"], modifier)


def test_labelmap_colour_table_terminology_is_used(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    lm = labelmap_node(scene, case.labels, volume)
    table = lm.GetDisplayNode().GetColorNode()
    if not hasattr(table, "SetTerminologyFromString"):
        pytest.fail("slicer-core >= 5.8 colour tables carry terminology")
    from mrml_helpers import terminology

    table.SetTerminologyFromString(5, terminology(5))
    out = export_segmentation(lm, volume, tmp_path / "lm.dcm")
    lesion = [s for s in read_seg(out).segments if s.label == "Liver lesion"][0]
    assert lesion.type.value == SEGMENTS[5][3].value
    assert lesion.anatomic_region.value == SEGMENTS[5][5].value


def test_overlapping_segments_survive_in_separate_layers(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    whole_liver = (case.labels == 1) | (case.labels == 5)
    sid = seg.GetSegmentation().AddEmptySegment("", "Liver with lesion")
    slicer.util.updateSegmentBinaryLabelmapFromArray(whole_liver.astype(np.uint8), seg, sid, volume)
    set_terminology(
        seg.GetSegmentation().GetSegment(sid),
        get_terminology(seg.GetSegmentation().GetSegment(ids[1])),
    )
    assert seg.GetSegmentation().GetNumberOfLayers() == 2
    out = export_segmentation(seg, volume, tmp_path / "overlap.dcm", SegExportOptions(algorithm_name="Model"))
    volume, loaded = _load_back(case, out)
    by_name = segments_by_name(loaded)
    assert loaded.GetSegmentation().GetNumberOfLayers() == 2
    assert np.array_equal(segment_array(loaded, by_name["Liver with lesion"], volume), whole_liver)
    for value, (name, *_rest) in SEGMENTS.items():
        assert np.array_equal(segment_array(loaded, by_name[name], volume), case.labels == value)


def test_segment_ids_choose_what_is_exported(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    out = export_segmentation(
        seg, volume, tmp_path / "two.dcm", SegExportOptions(segment_ids=[ids[5], ids[2]])
    )
    assert out.segment_ids == [ids[5], ids[2]]
    content = read_seg(out)
    assert [s.label for s in content.segments] == ["Liver lesion", "Spleen"]
    counts = content.voxel_counts()
    assert counts == {1: int((case.labels == 5).sum()), 2: int((case.labels == 2).sum())}
    with pytest.raises(InputError, match="no segment.*'nope'"):
        export_segmentation(seg, volume, tmp_path / "x.dcm", SegExportOptions(segment_ids=["nope"]))


def test_segment_extent_smaller_than_the_reference_is_padded(scene, series_dir, tmp_path):
    case = series_dir("oblique")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    sg = seg.GetSegmentation()
    extent = sg.GetLayerDataObject(0).GetExtent()
    k, j, i = case.labels.shape
    assert extent != (0, i - 1, 0, j - 1, 0, k - 1)  # Slicer keeps the effective extent only
    out = export_segmentation(seg, volume, tmp_path / "small.dcm")
    assert not [w for w in out.warnings if "resampled" in w]
    from dicomai.source import read_source_series

    content = read_seg(out, read_source_series(case.folder))
    for s in content.segments:
        value = [v for v, d in SEGMENTS.items() if d[0] == s.label][0]
        assert np.array_equal(content.mask(s.number), case.labels == value)


def test_segmentation_on_another_grid_is_resampled_nearest_with_a_warning(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    # a segmentation made on a grid with half the in-plane resolution, shifted by half a voxel
    coarse = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "coarse")
    k, j, i = case.labels.shape
    coarse_labels = case.labels[:, ::2, ::2].copy()
    slicer.util.updateVolumeFromArray(coarse, coarse_labels.astype(np.int16))
    from dicomai_slicer._images import grid_of_volume, vtk_matrix

    m = case.grid.ijk_to_ras().copy()
    m[:3, 0] *= 2
    m[:3, 1] *= 2
    m[:3, 3] += (m[:3, 0] + m[:3, 1]) / 4  # the centre of each 2x2 block of fine voxels
    coarse.SetIJKToRASMatrix(vtk_matrix(m))
    seg, _ = segmentation_node(scene, coarse_labels, coarse, name="coarse seg")
    out = export_segmentation(seg, volume, tmp_path / "resampled.dcm")
    warnings = [w for w in out.warnings if "nearest" in w]
    assert len(warnings) == 1 and "'coarse seg'" in warnings[0]
    from dicomai.source import read_source_series

    content = read_seg(out, read_source_series(case.folder))
    # nearest neighbour: fine voxel (r, c) takes the coarse voxel (r // 2, c // 2)
    expected = np.repeat(np.repeat(coarse_labels, 2, axis=1), 2, axis=2)[:, :j, :i]
    for s in content.segments:
        value = [v for v, d in SEGMENTS.items() if d[0] == s.label][0]
        assert np.array_equal(content.mask(s.number), expected == value), s.label
    assert grid_of_volume(coarse).differences(case.grid)


def test_closed_surface_segmentation_is_rasterised_on_the_reference_grid(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    assert seg.CreateClosedSurfaceRepresentation()
    sg = seg.GetSegmentation()
    sg.SetSourceRepresentationName(slicer.vtkSegmentationConverter.GetClosedSurfaceRepresentationName())
    seg.RemoveBinaryLabelmapRepresentation()
    assert not sg.ContainsRepresentation("Binary labelmap")
    out = export_segmentation(seg, volume, tmp_path / "surface.dcm")
    assert any("closed surface" in w.lower() for w in out.warnings)
    assert not sg.ContainsRepresentation("Binary labelmap")  # the node is left as it was
    from dicomai.source import read_source_series

    content = read_seg(out, read_source_series(case.folder))
    big = [s for s in content.segments if s.label == "Liver"][0]
    truth = case.labels == 1
    got = content.mask(big.number)
    dice = 2 * np.count_nonzero(got & truth) / (np.count_nonzero(got) + np.count_nonzero(truth))
    assert dice > 0.85, dice  # a surface round trip is not voxel-exact, but it is the liver


def test_a_linear_transform_between_segmentation_and_volume_is_applied(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    from dicomai_slicer._images import vtk_matrix

    shift = np.eye(4)
    shift[:3, 3] = case.grid.ijk_to_ras()[:3, 2]  # one slice up
    transform.SetMatrixTransformToParent(vtk_matrix(shift))
    seg.SetAndObserveTransformNodeID(transform.GetID())
    out = export_segmentation(seg, volume, tmp_path / "moved.dcm", SegExportOptions(segment_ids=[ids[1]]))
    from dicomai.source import read_source_series

    content = read_seg(out, read_source_series(case.folder))
    expected = np.zeros_like(case.labels, dtype=bool)
    expected[1:] = (case.labels == 1)[:-1]
    assert np.array_equal(content.mask(1), expected)


def test_written_seg_references_the_ct_and_carries_the_options(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    out = export_segmentation(
        seg,
        volume,
        tmp_path / "seg.dcm",
        SegExportOptions(
            algorithm_name="TotalSeg",
            algorithm_version="2.1",
            series_description="AI result",
            series_number=42,
        ),
    )
    ds = pydicom.dcmread(out)
    assert ds.SeriesDescription == "AI result" and int(ds.SeriesNumber) == 42
    assert ds.StudyInstanceUID == case.info.study_instance_uid
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == case.info.series_instance_uid
    for item in ds.SegmentSequence:
        assert item.SegmentAlgorithmType == "AUTOMATIC"
        assert item.SegmentationAlgorithmIdentificationSequence[0].AlgorithmName == "TotalSeg"
        assert item.SegmentationAlgorithmIdentificationSequence[0].AlgorithmVersion == "2.1"
    default = export_segmentation(seg, volume, tmp_path / "default.dcm")
    ds = pydicom.dcmread(default)
    assert ds.SeriesDescription == "AI" and int(ds.SeriesNumber) == 101
    assert {item.SegmentAlgorithmType for item in ds.SegmentSequence} == {"MANUAL"}


def test_loaded_seg_is_placed_under_the_study_of_its_series_with_its_own_uids(scene, series_dir, tmp_path):
    C = slicer.vtkMRMLSubjectHierarchyConstants
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    out = export_segmentation(seg, volume, tmp_path / "seg.dcm")
    volume, loaded = _load_back(case, out)
    shn = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    item = shn.GetItemByDataNode(loaded)
    assert shn.GetItemUID(item, C.GetDICOMUIDName()) == out.series_instance_uid
    assert shn.GetItemUID(item, C.GetDICOMInstanceUIDName()) == out.sop_instance_uid
    assert loaded.GetAttribute("DICOM.instanceUIDs") == out.sop_instance_uid
    referenced = shn.GetItemAttribute(item, C.GetDICOMReferencedInstanceUIDsAttributeName()).split()
    assert sorted(referenced) == sorted(case.info.sop_instance_uids)
    assert shn.GetItemParent(item) == shn.GetItemParent(shn.GetItemByDataNode(volume))
    assert dicom_reference(loaded).study_instance_uid == case.info.study_instance_uid
    assert loaded.GetNodeReference(loaded.GetReferenceImageGeometryReferenceRole()) is volume
    segment = loaded.GetSegmentation().GetNthSegment(0)
    from dicomai_slicer.segmentation import TAG_ALGORITHM_TYPE, _get_tag

    assert _get_tag(segment, TAG_ALGORITHM_TYPE) == "MANUAL"


def test_exporting_the_loaded_segmentation_again_gives_the_same_segments(scene, series_dir, tmp_path):
    case = series_dir("oblique")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    first = export_segmentation(
        seg, volume, tmp_path / "1.dcm", SegExportOptions(algorithm_name="M", algorithm_version="1")
    )
    volume, loaded = _load_back(case, first)
    second = export_segmentation(loaded, None, tmp_path / "2.dcm")  # reference from the node
    a, b = read_seg(first), read_seg(second)
    assert [s.label for s in a.segments] == [s.label for s in b.segments]
    assert a.voxel_counts() == b.voxel_counts()
    for sa, sb in zip(a.segments, b.segments):
        assert np.array_equal(a.mask(sa.number), b.mask(sb.number))
        assert sb.algorithm_type == "AUTOMATIC" and sb.algorithm_name == "M" and sb.algorithm_version == "1"
        assert codes_equal(sa.type, sb.type) and sa.color == sb.color


# ------------------------------------------------------------------------------------- errors
def test_reference_volume_not_from_dicom_is_an_error_naming_it(scene, series_dir, tmp_path):
    case = series_dir("axial")
    plain = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "my resampled CT")
    slicer.util.updateVolumeFromArray(plain, case.ct)
    seg, _ = segmentation_node(scene, case.labels, plain)
    with pytest.raises(SourceSeriesError, match="'my resampled CT' is not from DICOM"):
        export_segmentation(seg, plain, tmp_path / "x.dcm", SegExportOptions(source_folder=case.folder))
    assert not (tmp_path / "x.dcm").exists()


def test_segmentation_without_reference_is_an_error_naming_it(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume, name="orphan")
    seg.SetNodeReferenceID(seg.GetReferenceImageGeometryReferenceRole(), None)
    with pytest.raises(InputError, match="segmentation 'orphan' has no reference volume"):
        export_segmentation(seg, None, tmp_path / "x.dcm")
    lm = labelmap_node(scene, case.labels, volume, name="lonely labels")
    with pytest.raises(InputError, match="labelmap 'lonely labels' has no reference volume"):
        export_segmentation(lm, None, tmp_path / "x.dcm")


def test_wrong_node_types_are_errors_naming_them(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    with pytest.raises(InputError, match="is a vtkMRMLScalarVolumeNode"):
        export_segmentation(volume, volume, tmp_path / "x.dcm")
    seg, _ = segmentation_node(scene, case.labels, volume)
    lm = labelmap_node(scene, case.labels, volume, name="as reference")
    with pytest.raises(InputError, match="reference 'as reference' of 'AI' is a vtkMRMLLabelMapVolumeNode"):
        export_segmentation(seg, lm, tmp_path / "x.dcm")


def test_source_files_of_another_series_are_refused(scene, series_dir, tmp_path):
    case = series_dir("axial")
    other = series_dir("oblique")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    with pytest.raises(SourceSeriesError, match="no file of series"):
        export_segmentation(seg, volume, tmp_path / "x.dcm", SegExportOptions(source_folder=other.folder))
    # the right folder is accepted (also when it holds other series too)
    out = export_segmentation(
        seg, volume, tmp_path / "ok.dcm", SegExportOptions(source_folder=case.folder.parent)
    )
    assert out.path.is_file()


def test_a_volume_changed_after_loading_is_refused(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    volume.SetOrigin(1.0, 2.0, 3.0)
    with pytest.raises(GeometryMismatchError, match="does not lie on the grid of its DICOM files"):
        export_segmentation(seg, volume, tmp_path / "x.dcm")


def test_empty_segments_are_left_out_with_a_warning(scene, series_dir, tmp_path):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    seg.GetSegmentation().AddEmptySegment("", "Nothing here")
    out = export_segmentation(seg, volume, tmp_path / "x.dcm")
    assert len(out.segments) == 5
    assert any("'Nothing here'" in w and "empty" in w for w in out.warnings)
    with pytest.raises(InputError, match="no voxels"):
        export_segmentation(seg, volume, tmp_path / "y.dcm", SegExportOptions(skip_empty=False))


def test_existing_output_needs_overwrite(scene, series_dir, tmp_path):
    from dicomai.errors import OutputExistsError

    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    export_segmentation(seg, volume, tmp_path / "x.dcm")
    with pytest.raises(OutputExistsError):
        export_segmentation(seg, volume, tmp_path / "x.dcm")
    export_segmentation(seg, volume, FileDestination(tmp_path / "x.dcm", overwrite=True))


@pytest.mark.parametrize("compression", ["none", "rle"])
def test_labelmap_segmentation_type_compression_and_progress(scene, series_dir, tmp_path, compression):
    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, _ = segmentation_node(scene, case.labels, volume)
    seen = []
    out = export_segmentation(
        seg,
        volume,
        tmp_path / "lm.dcm",
        SegExportOptions(segmentation_type="LABELMAP", compression=compression),
        progress=lambda f, m: seen.append(f),
    )
    assert out.segmentation_type == "LABELMAP"
    syntax = str(pydicom.dcmread(out, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    assert syntax == {"none": "1.2.840.10008.1.2.1", "rle": "1.2.840.10008.1.2.5"}[compression]
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    volume, loaded = _load_back(case, out)
    _assert_segments_came_back(case, volume, loaded)


def test_terminology_set_in_slicer_wins_over_the_name_and_default_tissue_is_coded_from_it(
    scene, series_dir, tmp_path
):
    """A segment named "liver" whose terminology says Spleen is exported as Spleen; a segment
    left on Slicer's default "Tissue" and named as TotalSegmentator names it ("kidney_left") is
    coded from the name with TotalSegmentator's mapping (Kidney + Left)."""
    from pydicom.sr.codedict import codes

    from dicomai.coding import generic_category, generic_type, terminology_to_string

    case = series_dir("axial")
    volume = load_dicom_series(case.folder)
    seg, ids = segmentation_node(scene, case.labels, volume)
    sg = seg.GetSegmentation()
    liver = sg.GetSegment(ids[1])
    liver.SetName("liver")
    set_terminology(liver, terminology_to_string(codes.SCT.AnatomicalStructure, codes.SCT.Spleen))
    kidney = sg.GetSegment(ids[4])
    kidney.SetName("kidney_left")
    set_terminology(kidney, terminology_to_string(generic_category(), generic_type()))
    out = export_segmentation(seg, volume, tmp_path / "t.dcm", SegExportOptions(algorithm_name="Model"))
    by_label = {s.label: s for s in read_seg(out).segments}
    assert codes_equal(by_label["liver"].type, codes.SCT.Spleen)
    assert codes_equal(by_label["kidney_left"].type, codes.SCT.Kidney)
    assert codes_equal(by_label["kidney_left"].type_modifiers[0], codes.SCT.Left)
    assert any("kidney_left" in w and "default 'Tissue'" in w for w in out.warnings)
    assert not any("'liver'" in w for w in out.warnings)
