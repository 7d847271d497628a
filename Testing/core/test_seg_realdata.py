"""Every SEG in ../shared/data/realdata (written by dcmqi, highdicom, Iowa2DICOM) decodes, and our
reading agrees voxel for voxel with highdicom's own reading of the same file.

Skips cleanly when ../shared is absent (a clean clone in CI may not have it).
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pytest

from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series
from shared_data import REALDATA, REALDATA_SEGS, seg_case_id  # noqa: E402

pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"no real data folder at {REALDATA}")

CASES = REALDATA_SEGS
_id = seg_case_id


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_reading_with_source_agrees_with_highdicom_voxel_for_voxel(case):
    seg_rel, src_rel, counts = case
    path = REALDATA / seg_rel
    source = read_source_series(REALDATA / src_rel, allow_nonuniform=True) if src_rel else None
    content = read_seg(path, source)
    ref = hd.seg.segread(str(path))
    uids = [
        str(i.ReferencedSOPInstanceUID) for i in ref.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    ]
    numbers = [s.number for s in content.segments]
    assert numbers == [int(s.SegmentNumber) for s in ref.SegmentSequence if int(s.SegmentNumber) != 0]
    theirs = ref.get_pixels_by_source_instance(
        source_sop_instance_uids=uids,
        segment_numbers=numbers,
        ignore_spatial_locations=True,
        assert_missing_frames_are_empty=True,
    )
    if source is None:
        # no source: compare per referenced instance through the SEG's own frame order
        assert counts is not None
        assert content.voxel_counts() == counts
        assert int(theirs.astype(bool).sum()) == sum(counts.values())
        return
    ks = [source.index_of(u) for u in uids]
    assert min(ks) >= 0
    for i, n in enumerate(numbers):
        if content.fractions:
            ours = content.fractions[n][ks]
            assert np.allclose(ours, theirs[..., i], atol=1e-6), f"segment {n}"
        else:
            ours = content.mask(n)[ks]
            assert np.array_equal(ours, theirs[..., i].astype(bool)), f"segment {n}"
    if counts is not None:
        assert content.voxel_counts() == counts


@pytest.mark.parametrize("case", [c for c in CASES if c[1] is not None], ids=_id)
def test_reading_without_source_puts_voxels_at_the_same_physical_places(case):
    """The SEG's own plane positions define the grid: compared by LPS position with the source grid."""
    seg_rel, src_rel, counts = case
    path = REALDATA / seg_rel
    source = read_source_series(REALDATA / src_rel, allow_nonuniform=True)
    with_source = read_seg(path, source)
    alone = read_seg(path)
    assert [s.label for s in alone.segments] == [s.label for s in with_source.segments]
    if not source.has_plane_geometry or not source.uniform:
        assert alone.voxel_counts() == with_source.voxel_counts()
        return
    for s in alone.segments:
        idx = np.argwhere(alone.mask(s.number))
        world = alone.grid.index_to_world(idx)
        on_source = np.round(source.grid.world_to_index(world)).astype(int)
        target = with_source.mask(s.number)
        assert len(idx) == int(target.sum())
        assert target[tuple(on_source.T)].all()


def test_labelmap_seg_background_segment_is_not_a_segment():
    content = read_seg(REALDATA / "dcmqi/segmentations/sparse-labelmap-ppv5.dcm")
    assert content.segmentation_type == "LABELMAP"
    assert [s.number for s in content.segments] == [1]
    assert content.attributes.get("BackgroundSegmentLabel") == "Background"


def test_frames_that_are_not_byte_aligned_decode_like_dcmjs_counts_them():
    # 23 columns x 38 rows = 874 bits per frame: frame 2 starts in the middle of a byte
    content = read_seg(REALDATA / "dcmqi/segmentations/23x38x3/seg/label.seg")
    per_slice = content.mask(1).reshape(3, -1).sum(axis=1)
    assert per_slice.sum() == 322
    assert (per_slice > 0).sum() >= 2


def test_every_seg_in_realdata_is_covered():
    found = {
        str(p.relative_to(REALDATA))
        for p in REALDATA.rglob("*")
        if p.is_file() and (p.suffix in (".dcm", ".seg")) and _is_seg(p)
    }
    assert found == {c[0] for c in CASES}


def _is_seg(p: Path) -> bool:
    import pydicom

    try:
        return pydicom.dcmread(p, stop_before_pixels=True).get("Modality") == "SEG"
    except Exception:
        return False
