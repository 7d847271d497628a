"""The read-back check of a deflated SEG reads its header chunk by chunk (not the whole inflated
file, frames included, as pydicom does): the same header, and the whole-file read when the
chunked one cannot decide."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.filereader import read_partial

import dicomai_samples as synthetic
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.encode import write_seg
from dicomai.seg.options import SegOptions
from dicomai.source import read_source_series
from dicomai.validate import _deflated_seg_header, check_before_writing


@pytest.fixture(scope="module")
def source_and_labels(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readback")
    grid = synthetic.make_grid(shape=(12, 32, 32))
    synthetic.write_series(folder / "ct", np.zeros(grid.shape, np.int16), grid, uid_seed="readback")
    labels, _ = synthetic.many_segments_labelmap(grid.shape, 5, seed=2)
    return read_source_series(folder / "ct"), labels


def _write(tmp_path, source, labels, seg_type, compression):
    content = SegmentationContent.from_labelmap(
        labels, source.grid, [SegmentInfo(n, f"s{n}") for n in range(1, 6)]
    )
    out = tmp_path / f"{seg_type}-{compression}.dcm"
    write_seg(content, source, out, SegOptions(segmentation_type=seg_type, compression=compression))
    return out


def _header(path):
    with open(path, "rb") as fp:
        return read_partial(fp, stop_when=lambda tag, vr, length: tag >= 0x52009230)


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_deflated_header_is_the_same_as_the_whole_file_read(tmp_path, source_and_labels, seg_type):
    out = _write(tmp_path, *source_and_labels, seg_type, "deflate")
    chunked = _deflated_seg_header(out)
    whole = _header(out)
    assert chunked is not None
    assert [e.tag for e in chunked] == [e.tag for e in whole]
    assert all(chunked[e.tag].value == e.value for e in whole if e.VR != "SQ")
    assert chunked.SegmentSequence[-1].SegmentNumber == whole.SegmentSequence[-1].SegmentNumber
    assert str(chunked.file_meta.TransferSyntaxUID) == str(whole.file_meta.TransferSyntaxUID)
    check_before_writing(out, out, "SEG")


def test_not_deflated_or_no_boundary_falls_back_to_the_whole_read(tmp_path, source_and_labels):
    plain = _write(tmp_path, *source_and_labels, "BINARY", None)
    assert _deflated_seg_header(plain) is None
    deflated = _write(tmp_path, *source_and_labels, "BINARY", "deflate")
    data = deflated.read_bytes()
    # the same file with its deflated stream cut short, before the per-frame groups: no boundary
    # to stop at, so the whole-file read (and its error) decides
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) // 8])
    assert _deflated_seg_header(cut) is None
