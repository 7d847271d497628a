"""Every SEG we write passes dciodvfy with zero errors (and dcentvfy with its source), dcmqi's
segimage2itkimage reads it back voxel-exact (compared by physical position), and dcmjs (the library
OHIF uses) parses it with the same segments, frames and voxel counts. SEGs that dcmqi's
itkimage2segimage makes from our synthetic series are read by us exactly as highdicom reads them.
"""

from __future__ import annotations

import json

import highdicom as hd
import numpy as np
import pytest
from series_cases import overlapping_masks, write_case

import peers
from dicomai.imageio import read_image, write_image
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.source import read_source_series
from dicomai_samples import dcmqi_metadata, phantom_segments

KINDS = ["axial", "oblique", "sagittal", "nonsquare", "reversed", "mr", "pt"]


@pytest.fixture(scope="module", params=KINDS)
def written(request, tmp_path_factory):
    """(kind, source, labels, {name: (seg path, {segment number: expected mask})})."""
    folder = tmp_path_factory.mktemp(f"peer-{request.param}")
    info, labels = write_case(folder / "src", request.param)
    source = read_source_series(info.folder)
    warnings = []
    meta = load_metadata(dcmqi_metadata(phantom_segments(), SeriesDescription="Phantom AI"))
    segs = segments_for_labels(np.unique(labels), meta, warnings)
    phantom_seg = folder / "phantom.dcm"
    write_seg(
        SegmentationContent.from_labelmap(labels, source.grid, segs),
        source,
        phantom_seg,
        algorithm_name="PhantomNet",
        algorithm_version="1.0",
    )
    masks = overlapping_masks(labels)
    ov_segs = [
        SegmentInfo(number=i + 1, label=n, color=c)
        for i, (n, c) in enumerate(
            [("liver", (221, 130, 101)), ("lesion", (144, 238, 144)), ("box", (0, 151, 206))]
        )
    ]
    overlap_seg = folder / "overlap.dcm"
    write_seg(SegmentationContent.from_masks(masks, source.grid, ov_segs), source, overlap_seg)
    objects = {
        "phantom": (phantom_seg, {n: labels == n for n in range(1, 6)}),
        "overlap": (overlap_seg, {i: m for i, m in enumerate(masks, start=1)}),
    }
    return request.param, source, folder, objects


@pytest.mark.interop
@pytest.mark.parametrize("name", ["phantom", "overlap"])
def test_dciodvfy_and_dcentvfy_report_zero_errors(written, name):
    peers.require("dciodvfy")
    kind, source, _, objects = written
    path, _ = objects[name]
    result = peers.dciodvfy(path)
    assert result.errors == [], result.output
    entities = peers.dcentvfy([path, *source.files])
    assert entities.errors == [], entities.output


@pytest.mark.interop
@pytest.mark.parametrize("name", ["phantom", "overlap"])
def test_dcmqi_reads_it_back_voxel_exact(written, name, tmp_path):
    peers.require("segimage2itkimage")
    kind, source, _, objects = written
    path, expected = objects[name]
    outputs = peers.segimage2itkimage(path, tmp_path)
    nrrds = [p for p in outputs if p.suffix == ".nrrd"]
    meta = json.loads([p for p in outputs if p.suffix == ".json"][0].read_text())
    labels_by_file = [[a["SegmentLabel"] for a in group] for group in meta["segmentAttributes"]]
    assert len(nrrds) == len(expected)
    ours = {s.number: s.label for s in read_seg(path).segments}
    for nrrd, names in zip(nrrds, labels_by_file):
        number = int(nrrd.stem)
        assert names == [ours[number]]
        array, grid = read_image(nrrd)
        idx = np.argwhere(array != 0)
        on_source = source.grid.world_to_index(grid.index_to_world(idx))
        assert np.allclose(on_source, np.round(on_source), atol=1e-3), kind
        on_source = np.round(on_source).astype(int)
        inside = np.all((on_source >= 0) & (on_source < source.grid.shape), axis=1)
        assert inside.all()
        assert len(idx) == int(expected[number].sum()), f"{kind} segment {number}"
        assert expected[number][tuple(on_source.T)].all(), f"{kind} segment {number}"


@pytest.mark.interop
@pytest.mark.parametrize("name", ["phantom", "overlap"])
def test_dcmjs_parses_it_with_the_same_segments_frames_and_voxels(written, name):
    peers.require("dcmjs")
    kind, source, _, objects = written
    path, expected = objects[name]
    ours = read_seg(path, source)
    data = peers.dcmjs_read(path, [source.files[0].rsplit("/", 1)[0]])
    assert data["segmentationType"] == "BINARY"
    assert data["pixelDataLengthOk"]
    assert [(s["number"], s["label"]) for s in data["segments"]] == [
        (s.number, s.label) for s in ours.segments
    ]
    assert {s["number"]: s["frames"] for s in data["segments"]} == {
        n: len(np.flatnonzero(m.reshape(m.shape[0], -1).any(axis=1))) for n, m in expected.items()
    }
    counts = {int(k): v for k, v in data["voxelCounts"].items()}
    assert counts == {n: int(m.sum()) for n, m in expected.items()}, data["voxelCountsMethod"]


# ------------------------------------------------------------------ SEGs made by dcmqi, read by us
@pytest.fixture(scope="module", params=["axial", "oblique"])
def dcmqi_made(request, tmp_path_factory):
    peers.require("itkimage2segimage")
    folder = tmp_path_factory.mktemp(f"dcmqi-{request.param}")
    info, labels = write_case(folder / "src", request.param)
    source = read_source_series(info.folder)
    nrrd = folder / "labels.nrrd"
    write_image(nrrd, labels, source.grid)
    meta = folder / "meta.json"
    meta.write_text(json.dumps(dcmqi_metadata(phantom_segments(), SeriesDescription="dcmqi phantom")))
    made = {
        "binary": peers.itkimage2segimage(nrrd, info.folder, meta, folder / "dcmqi_binary.dcm"),
        "labelmap": peers.itkimage2segimage(
            nrrd, info.folder, meta, folder / "dcmqi_labelmap.dcm", ["--segmentationType", "labelmap"]
        ),
        "deflate": peers.itkimage2segimage(
            nrrd, info.folder, meta, folder / "dcmqi_deflate.dcm", ["--compress", "deflate"]
        ),
    }
    return source, labels, made


@pytest.mark.interop
@pytest.mark.parametrize("variant", ["binary", "labelmap", "deflate"])
def test_we_read_dcmqi_segs_exactly_and_agree_with_highdicom(dcmqi_made, variant):
    source, labels, made = dcmqi_made
    path = made[variant]
    content = read_seg(path, source)
    assert [s.label for s in content.segments] == [s["SegmentLabel"] for s in phantom_segments()]
    assert np.array_equal(content.labelmap(), labels)
    for s in content.segments:
        assert (
            s.type.value
            == {p["labelID"]: p for p in phantom_segments()}[s.number]["SegmentedPropertyTypeCodeSequence"][
                "CodeValue"
            ]
        )
    ref = hd.seg.segread(str(path))
    uids = source.sop_instance_uids
    theirs = ref.get_pixels_by_source_instance(
        source_sop_instance_uids=uids,
        segment_numbers=[s.number for s in content.segments],
        ignore_spatial_locations=True,
        assert_missing_frames_are_empty=True,
    )
    for i, s in enumerate(content.segments):
        assert np.array_equal(content.mask(s.number), theirs[..., i].astype(bool)), s.label
    alone = read_seg(path)  # without the source: placed by the SEG's own positions
    for s in alone.segments:
        idx = np.argwhere(alone.mask(s.number))
        k = np.round(source.grid.world_to_index(alone.grid.index_to_world(idx))).astype(int)
        assert len(idx) == int((labels == s.number).sum())
        assert (labels[tuple(k.T)] == s.number).all()
