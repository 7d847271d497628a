"""Every SEG in ../shared/data/realdata (written by dcmqi, highdicom, Iowa2DICOM) loads into a
segmentation node with the right segments and voxel counts. Skips cleanly when the folder is
absent (a clean clone in CI may not have it)."""

from __future__ import annotations

import numpy as np
import pytest
import slicer
from mrml_helpers import node_voxel_counts

from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series
from dicomai_slicer import load_dicom_objects
from shared_data import REALDATA, REALDATA_SEGS, seg_case_id

pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"no real data folder at {REALDATA}")

CASES = REALDATA_SEGS
_id = seg_case_id


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_real_seg_loads_with_the_right_segments_and_voxel_counts(scene, case):
    seg_rel, src_rel, counts = case
    path = REALDATA / seg_rel
    paths = [path] + ([REALDATA / src_rel] if src_rel else [])
    nodes = load_dicom_objects(paths)
    segs = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")]
    volumes = [
        n for n in nodes if n.IsA("vtkMRMLScalarVolumeNode") and not n.GetAttribute("DICOM.fractionalType")
    ]
    fraction_volumes = [n for n in nodes if n.GetAttribute("DICOM.fractionalType")]
    assert len(segs) == 1
    assert len(volumes) == (1 if src_rel else 0)
    node = segs[0]

    source = read_source_series(REALDATA / src_rel, allow_nonuniform=True) if src_rel else None
    content = read_seg(path, source)
    assert len(fraction_volumes) == (len(content.segments) if content.fractions else 0)
    expected = {
        s.label: int(np.count_nonzero(content.layers[s.layer] == s.label_value)) for s in content.segments
    }
    got = node_voxel_counts(node)
    assert node.GetSegmentation().GetNumberOfSegments() == len(content.segments)
    assert got == expected
    if counts is not None:
        details = [(s.number, s.label, s.layer, s.label_value) for s in content.segments]
        assert sorted(got.values()) == sorted(counts.values()), (got, details, content.segmentation_type)
        assert content.voxel_counts() == counts
    if volumes:
        ref = node.GetNodeReference(node.GetReferenceImageGeometryReferenceRole())
        assert ref is volumes[0]


def test_dcmqi_liver_lies_on_its_ct_voxel_for_voxel(scene):
    """The dcmqi liver read through Slicer's own helper on the CT grid matches the core's reading."""
    nodes = load_dicom_objects(
        [REALDATA / "dcmqi/segmentations/liver.dcm", REALDATA / "dcmqi/segmentations/ct-3slice"]
    )
    volume = [n for n in nodes if n.IsA("vtkMRMLScalarVolumeNode")][0]
    seg = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")][0]
    sid = seg.GetSegmentation().GetNthSegmentID(0)
    array = slicer.util.arrayFromSegmentBinaryLabelmap(seg, sid, volume).astype(bool)
    content = read_seg(
        REALDATA / "dcmqi/segmentations/liver.dcm",
        read_source_series(REALDATA / "dcmqi/segmentations/ct-3slice"),
    )
    assert np.array_equal(array, content.mask(1))
    assert int(array.sum()) == 107098
    assert seg.GetSegmentation().GetNthSegment(0).GetName() == "Liver"


def test_seg_next_to_its_series_finds_it_without_being_told(scene, tmp_path):
    """Copy a SEG and its CT into one folder: loading only the SEG loads the CT too."""
    import shutil

    shutil.copytree(REALDATA / "dcmqi/segmentations/ct-3slice", tmp_path / "ct")
    shutil.copy(REALDATA / "dcmqi/segmentations/partial_overlaps.dcm", tmp_path / "seg.dcm")
    nodes = load_dicom_objects([tmp_path / "seg.dcm"])
    assert [n.GetClassName() for n in nodes] == ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode"]
    assert sorted(node_voxel_counts(nodes[1]).values()) == sorted([9602, 11888, 10743, 6693, 4713])
