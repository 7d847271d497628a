"""The SEG reader's fallbacks are deliberate and logged: a per-frame encoding the byte walk does not
understand goes to pydicom with a debug line naming why, and gives the same content."""

from __future__ import annotations

import copy
import json
import logging

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import dicomai_samples as synthetic
from dicomai.seg import decode
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.source import read_source_series


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fallback")
    grid = synthetic.make_grid(shape=(12, 32, 40))
    synthetic.write_series(folder / "ct", np.zeros(grid.shape, np.int16), grid, uid_seed="fallback")
    labels, _ = synthetic.many_segments_labelmap(grid.shape, 4, seed=1)
    source = read_source_series(folder / "ct")
    content = SegmentationContent.from_labelmap(
        labels, source.grid, [SegmentInfo(n, f"segment {n}") for n in range(1, 5)]
    )
    out = folder / "seg.dcm"
    write_seg(content, source, out)
    return out, source, labels


def _deeply_nested(depth: int) -> Dataset:
    """A private sequence nested ``depth`` levels, every level of undefined length."""
    inner = Dataset()
    inner.add_new(0x00091001, "LO", "leaf")
    for _ in range(depth):
        outer = Dataset()
        outer.add_new(0x00090010, "LO", "DICOMAI TEST")
        outer.add_new(0x00091002, "SQ", Sequence([inner]))
        outer[0x00091002].is_undefined_length = True
        inner = outer
    return inner


def _same(a, b):
    assert not a.grid.differences(b.grid)
    assert [(s.number, s.label) for s in a.segments] == [(s.number, s.label) for s in b.segments]
    assert np.array_equal(a.labelmap(), b.labelmap())
    assert a.frames_per_segment == b.frames_per_segment


def test_the_fast_path_reads_our_file_without_falling_back(written, caplog):
    path, source, labels = written
    with caplog.at_level(logging.DEBUG, logger="dicomai.seg.decode"):
        content = read_seg(path, source)
    assert [r for r in caplog.records if r.name == "dicomai.seg.decode"] == []
    assert np.array_equal(content.labelmap(), labels)
    assert content.status.per_frame_reader == "bytes" and content.status.complete


def test_an_unwalkable_per_frame_item_falls_back_to_pydicom_with_a_debug_line(written, tmp_path, caplog):
    path, source, labels = written
    ds = pydicom.dcmread(path)
    item = ds.PerFrameFunctionalGroupsSequence[0]
    nested = _deeply_nested(10)
    item.add_new(0x00090010, "LO", "DICOMAI TEST")
    item.add_new(0x00091002, "SQ", Sequence([nested]))
    item[0x00091002].is_undefined_length = True
    damaged = tmp_path / "nested.dcm"
    ds.save_as(damaged)

    with caplog.at_level(logging.DEBUG, logger="dicomai.seg.decode"):
        content = read_seg(damaged, source)
    messages = [r.getMessage() for r in caplog.records if r.name == "dicomai.seg.decode"]
    # the walk over the file's bytes, then over pydicom's raw sequence: both say why they gave up
    assert any("nested too deep" in m and "pydicom" in m for m in messages), messages
    assert all(str(damaged) in m or "the SEG" in m for m in messages), messages
    assert len(messages) >= 2, messages
    assert content.status.per_frame_reader == "pydicom"  # the fallback, as data
    _same(content, read_seg(path, source))
    assert np.array_equal(content.labelmap(), labels)


def test_a_deflated_file_is_read_whole_and_says_so(written, tmp_path, caplog):
    path, source, _ = written
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    deflated = tmp_path / "deflated.dcm"
    ds.save_as(deflated)
    with caplog.at_level(logging.DEBUG, logger="dicomai.seg.decode"):
        content = read_seg(deflated, source)
    messages = [r.getMessage() for r in caplog.records if r.name == "dicomai.seg.decode"]
    assert any("deflated" in m for m in messages), messages
    assert content.status.per_frame_reader == "pydicom"  # pydicom parsed the inflated sequence
    _same(content, read_seg(path, source))


def test_native_pixel_data_is_read_from_the_file_not_held(written, monkeypatch):
    path, source, labels = written
    opened = []
    real = decode._PixelsInFile

    def spy(*a):
        opened.append(real(*a))
        return opened[-1]

    monkeypatch.setattr(decode, "_PixelsInFile", spy)
    content = read_seg(path, source)
    assert len(opened) == 1 and opened[0]._f.closed
    assert np.array_equal(content.labelmap(), labels)


def test_the_status_says_what_was_left_empty_merged_or_missing(written, tmp_path, capsys):
    """Segments described without frames, frames stacked on another of their segment, referenced
    images the source lacks: as data in ``content.status``, beside the warnings."""
    from pydicom.uid import generate_uid

    path, source, _ = written
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "BINARY"
    extra = copy.deepcopy(ds.SegmentSequence[-1])
    extra.SegmentNumber = 5
    extra.SegmentLabel = "segment 5"
    ds.SegmentSequence.append(extra)  # described, no frame
    frames = ds.PerFrameFunctionalGroupsSequence
    segment_of = [int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber) for f in frames]
    first, second = [i for i, n in enumerate(segment_of) if n == segment_of[0]][:2]
    position = frames[first].PlanePositionSequence[0].ImagePositionPatient
    frames[second].PlanePositionSequence[0].ImagePositionPatient = list(position)
    bogus = generate_uid()
    ref = Dataset()
    ref.ReferencedSOPClassUID = (
        ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPClassUID
    )
    ref.ReferencedSOPInstanceUID = bogus
    ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence.append(ref)
    damaged = tmp_path / "status.dcm"
    ds.save_as(damaged)

    status = read_seg(damaged, source).status
    assert status.segments_without_frames == [5]
    assert status.frames_merged == [second + 1]
    assert status.referenced_images_missing == [bogus]
    assert status.per_frame_reader == "bytes" and not status.complete
    assert status.as_dict() == {
        "segments_without_frames": [5],
        "frames_merged": [second + 1],
        "referenced_images_missing": [bogus],
        "per_frame_reader": "bytes",
    }
    assert read_seg(damaged).status.referenced_images_missing == []  # no source: nothing to miss

    from dicomai.cli import main as cli

    out = tmp_path / "labels.nrrd"
    argv = ["import-seg", str(damaged), "--source", str(path.parent / "ct"), "--out", str(out), "--json"]
    assert cli(argv) == 0
    assert json.loads(capsys.readouterr().out)["status"] == status.as_dict()
