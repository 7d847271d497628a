"""SEG round trips, exact voxel for voxel and compared by physical position, on synthetic series:
axial, oblique (two rotations), sagittal, coronal, non-square pixels, reversed instance numbers
with randomly named files, MR and PET."""

from __future__ import annotations

import json

import numpy as np
import pytest
from series_cases import KINDS, overlapping_masks, write_case

from dicomai.cli import main as cli
from dicomai.imageio import read_image, read_labelmap, read_seg_nrrd, write_image
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.source import read_source_series
from dicomai_samples import dcmqi_metadata, phantom_segments


@pytest.fixture(scope="module", params=sorted(KINDS))
def case(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    info, labels = write_case(folder / "src", request.param)
    return request.param, info, labels, folder


def _content(labels, source, keep):
    lab = np.where(np.isin(labels, keep), labels, 0).astype(np.uint8)
    warnings = []
    meta = load_metadata(dcmqi_metadata([s for s in phantom_segments() if s["labelID"] in keep]))
    segs = segments_for_labels(np.unique(lab), meta, warnings)
    return lab, SegmentationContent.from_labelmap(lab, source.grid, segs)


def _assert_same_by_position(decoded: SegmentationContent, source_grid, expected_masks: dict):
    """Every voxel of the decoded content (on the SEG's own grid) lands on an expected voxel."""
    for number, expected in expected_masks.items():
        idx = np.argwhere(decoded.mask(number))
        world = decoded.grid.index_to_world(idx)
        on_source = source_grid.world_to_index(world)
        assert np.allclose(on_source, np.round(on_source), atol=1e-3)
        on_source = np.round(on_source).astype(int)
        assert len(idx) == int(expected.sum()), f"segment {number}"
        assert expected[tuple(on_source.T)].all(), f"segment {number}"


@pytest.mark.parametrize("keep", [(1,), (1, 2, 5)], ids=["1-segment", "3-segments"])
def test_labelmap_round_trip_is_exact(case, keep):
    kind, info, labels, folder = case
    source = read_source_series(info.folder)
    assert source.sop_instance_uids == info.sop_instance_uids  # sorted by position, not name/number
    lab, content = _content(labels, source, keep)
    out = folder / f"seg-{len(keep)}.dcm"
    result = write_seg(
        content, source, out, overwrite=True, algorithm_name="PhantomNet", algorithm_version="1"
    )
    assert result.number_of_frames == sum(len(content.slices_of(s.number)) for s in content.segments)

    back = read_seg(out, source)
    assert back.grid.matches(source.grid)
    assert [s.label for s in back.segments] == [s.label for s in content.segments]
    expected = {i: lab == v for i, v in enumerate(keep, start=1)}
    for number, mask in expected.items():
        assert np.array_equal(back.mask(number), mask), f"{kind}: segment {number}"

    alone = read_seg(out)  # no source: the SEG's own plane positions
    _assert_same_by_position(alone, source.grid, expected)


def test_overlapping_segments_round_trip(case):
    kind, info, labels, folder = case
    source = read_source_series(info.folder)
    masks = overlapping_masks(labels)
    segs = [SegmentInfo(number=i + 1, label=n) for i, n in enumerate(["liver", "lesion", "box"])]
    content = SegmentationContent.from_masks(masks, source.grid, segs)
    assert content.overlapping
    out = folder / "overlap.dcm"
    write_seg(content, source, out, overwrite=True)
    back = read_seg(out, source)
    assert back.overlapping
    for i, m in enumerate(masks, start=1):
        assert np.array_equal(back.mask(i), m), f"{kind}: segment {i}"
    _assert_same_by_position(read_seg(out), source.grid, {i: m for i, m in enumerate(masks, start=1)})


def test_cli_round_trip_through_files_keeps_voxels_geometry_and_metadata(case, capsys):
    kind, info, labels, folder = case
    source = read_source_series(info.folder)
    lab_path = folder / "labels.nii.gz"
    write_image(lab_path, labels, source.grid)
    meta_path = folder / "meta.json"
    meta_path.write_text(json.dumps(dcmqi_metadata(phantom_segments(), SeriesDescription="Phantom AI")))
    seg_path = folder / "cli.dcm"
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(lab_path),
            "--metadata",
            str(meta_path),
            "--out",
            str(seg_path),
            "--algorithm-name",
            "PhantomNet",
            "--algorithm-version",
            "2.1",
            "--overwrite",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    out_path = folder / "back.nrrd"
    rc = cli(
        ["import-seg", str(seg_path), "--source", str(info.folder), "--out", str(out_path), "--overwrite"]
    )
    assert rc == 0, capsys.readouterr().err
    back, grid = read_labelmap(out_path)
    assert grid.matches(source.grid), grid.describe()
    assert np.array_equal(back, labels)  # phantom labels are 1..5 == segment numbers 1..5
    meta = json.loads((folder / "back.json").read_text())
    seg_attrs = meta["segmentAttributes"][0]
    wanted = {s["labelID"]: s for s in phantom_segments()}
    for a in seg_attrs:
        w = wanted[a["labelID"]]
        assert a["SegmentLabel"] == w["SegmentLabel"]
        assert (
            a["SegmentedPropertyTypeCodeSequence"]["CodeValue"]
            == w["SegmentedPropertyTypeCodeSequence"]["CodeValue"]
        )
        assert a["SegmentAlgorithmName"] == "PhantomNet" and a["SegmentAlgorithmVersion"] == "2.1"
        # colour survives the CIELab round trip within one step
        assert (
            np.abs(np.subtract(a["recommendedDisplayRGBValue"], w["recommendedDisplayRGBValue"])).max() <= 1
        )
    assert meta["SeriesDescription"] == "Phantom AI"


@pytest.mark.parametrize("kind", ["axial", "oblique"])
def test_import_of_overlapping_seg_writes_one_file_per_segment_or_a_seg_nrrd(kind, tmp_path):
    folder = tmp_path
    info, labels = write_case(folder / "src", kind)
    source = read_source_series(info.folder)
    masks = overlapping_masks(labels)
    segs = [
        SegmentInfo(number=i + 1, label=n, color=c)
        for i, (n, c) in enumerate(
            [("liver", (200, 100, 80)), ("lesion", (250, 250, 0)), ("box", (0, 0, 255))]
        )
    ]
    seg_path = folder / "ov.dcm"
    write_seg(SegmentationContent.from_masks(masks, source.grid, segs), source, seg_path, overwrite=True)

    out = folder / "ov" / "labels.nii.gz"
    assert cli(["import-seg", str(seg_path), "--source", str(info.folder), "--out", str(out)]) == 0
    meta = json.loads((folder / "ov" / "labels.json").read_text())
    assert meta["segmentAttributesFileMapping"] == [f"labels-segment-{i}.nii.gz" for i in (1, 2, 3)]
    for i, m in enumerate(masks, start=1):
        arr, grid = read_image(folder / "ov" / f"labels-segment-{i}.nii.gz")
        assert grid.matches(source.grid) and np.array_equal(arr.astype(bool), m)
    assert not out.exists()  # no single labelmap can hold overlapping segments

    nrrd = folder / "ov" / "all.seg.nrrd"
    assert cli(["import-seg", str(seg_path), "--out", str(nrrd)]) == 0
    content = read_seg_nrrd(nrrd)
    assert [s.label for s in content.segments] == ["liver", "lesion", "box"]
    assert [s.color for s in content.segments] == [s.color for s in read_seg(seg_path).segments]
    _assert_same_by_position(content, source.grid, {i: m for i, m in enumerate(masks, start=1)})
