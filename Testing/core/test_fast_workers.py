"""The fast SEG writer's ``workers``: the same bytes with 1, 2 or 3 threads, for every SEG type and
transfer syntax it writes; the default comes from ``dicomai.seg.fast.default_workers``
(``DICOMAI_WORKERS``). No timing here: bench/workers.py measures the speed-up."""

from __future__ import annotations

import datetime
import io
import itertools
import types
from dataclasses import replace

import numpy as np
import pydicom.uid
import pytest

import dicomai_samples as synthetic
from dicomai.errors import InputError
from dicomai.seg import fast
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import write_seg
from dicomai.seg.options import SegOptions
from dicomai.source import read_source_series

CASES = [
    ("BINARY", "none"),
    ("BINARY", "deflate"),
    ("BINARY", "jpeg2000"),
    ("LABELMAP", "none"),
    ("LABELMAP", "rle"),
    ("LABELMAP", "jpeg-ls"),
    ("LABELMAP", "jpeg2000"),
    ("LABELMAP", "deflate"),
    ("FRACTIONAL", "rle"),
    ("FRACTIONAL", "jpeg-ls"),
    ("FRACTIONAL", "deflate"),
]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A 48-slice 64 x 64 CT with 10 TotalSegmentator-like segments: more frames than one chunk."""
    folder = tmp_path_factory.mktemp("workers")
    grid = synthetic.make_grid(shape=(48, 64, 64))
    synthetic.write_series(folder / "ct", np.zeros(grid.shape, np.int16), grid, uid_seed="workers")
    labels, _ = synthetic.many_segments_labelmap(grid.shape, 10, seed=3)
    source = read_source_series(folder / "ct")
    assert (labels > 0).any(axis=(1, 2)).sum() > 2 * fast._CHUNK
    return source, labels


def _content(seg_type, source, labels):
    segments = [SegmentInfo(n, f"segment {n}") for n in range(1, 11)]
    if seg_type != "FRACTIONAL":
        return SegmentationContent.from_labelmap(labels, source.grid, segments)
    rng = np.random.default_rng(0)
    fractions = {}
    for s in segments[:4]:
        mask = labels == s.number
        fractions[s.number] = np.where(mask, rng.uniform(0.2, 1.0, labels.shape), 0.0).astype(np.float32)
    return SegmentationContent(
        grid=source.grid, segments=segments[:4], fractions=fractions, segmentation_type="FRACTIONAL"
    )


@pytest.fixture
def deterministic(monkeypatch):
    """Fixed generated UIDs and clock, so two writes of one input can be compared byte by byte."""
    counter = [itertools.count(1)]
    monkeypatch.setattr(pydicom.uid, "generate_uid", lambda *a, **k: f"1.2.3.{next(counter[0])}")
    fixed = datetime.datetime(2026, 1, 2, 3, 4, 5)

    class _Clock:
        @staticmethod
        def now(tz=None):
            return fixed

        combine = staticmethod(datetime.datetime.combine)

    shim = types.SimpleNamespace(datetime=_Clock, date=datetime.date, time=datetime.time)
    monkeypatch.setattr(fast, "datetime", shim)
    return lambda: counter.__setitem__(0, itertools.count(1))  # restart the UIDs


@pytest.mark.parametrize("seg_type,compression", CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_the_bytes_do_not_depend_on_the_number_of_workers(
    case, tmp_path, monkeypatch, deterministic, seg_type, compression
):
    source, labels = case
    real = fast.write_fast
    calls = []

    def write_three_ways(inp, source, path, meta, ts, progress=None):
        assert inp.workers is None  # encode.write_seg leaves it to default_workers()
        outputs = []
        for n in (1, 2, 3):
            deterministic()
            out = tmp_path / f"w{n}.dcm"
            result = real(replace(inp, workers=n), source, out, meta, ts, progress=progress)
            outputs.append(out.read_bytes())
        calls.append(outputs)
        return real(replace(inp, workers=1), source, path, meta, ts, progress=progress) and result

    monkeypatch.setattr(fast, "write_fast", write_three_ways)
    out = tmp_path / "seg.dcm"
    result = write_seg(
        _content(seg_type, source, labels),
        source,
        out,
        SegOptions(segmentation_type=seg_type, compression=compression),
    )
    assert result.engine == "fast"
    (outputs,) = calls
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) > 1000
    back = read_seg(tmp_path / "w2.dcm", source)
    assert back.segmentation_type == seg_type
    if seg_type != "FRACTIONAL":
        assert np.array_equal(back.labelmap(), labels)
    else:
        assert sorted(back.fractions) == [1, 2, 3, 4]


def test_default_workers_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(fast.WORKERS_ENV, raising=False)
    assert fast.default_workers() == 1  # measured: threads gain nothing by default (docs/scale.md)
    monkeypatch.setenv(fast.WORKERS_ENV, "3")
    assert fast.default_workers() == 3
    monkeypatch.setenv(fast.WORKERS_ENV, "1")
    assert fast.default_workers() == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(fast.WORKERS_ENV, bad)
        with pytest.raises(InputError, match="DICOMAI_WORKERS"):
            fast.default_workers()


def test_ordered_map_keeps_the_order_and_raises_the_workers_error():
    items = list(range(100))
    assert list(fast._ordered_map(lambda x: x * x, iter(items), 3)) == [x * x for x in items]

    def boom(x):
        if x == 57:
            raise ValueError("frame 57")
        return x

    with pytest.raises(ValueError, match="frame 57"):
        list(fast._ordered_map(boom, iter(items), 2))


def test_an_error_in_the_deflate_thread_reaches_the_writer():
    class Full(io.BytesIO):
        def write(self, data):
            if self.tell() > 10:
                raise OSError("disk full")
            return super().write(data)

    sink = fast._Sink(Full(), deflate=True, threaded=True)
    rng = np.random.default_rng(0)
    with pytest.raises(OSError, match="disk full"):
        for _ in range(200):
            sink.write(rng.integers(0, 255, 100_000, dtype=np.uint8).tobytes())
        sink.close()
    sink.stop(raise_error=False)


@pytest.mark.parametrize("seg_type", ["BINARY", "LABELMAP"])
def test_header_reference_sequences_from_bytes_are_pydicoms(case, tmp_path, monkeypatch, seg_type):
    source, labels = case
    real = fast.write_fast
    headers = []

    def keep_header(*a, **k):
        ds, n = real(*a, **k)
        headers.append(ds)
        return ds, n

    monkeypatch.setattr(fast, "write_fast", keep_header)
    write_seg(
        _content(seg_type, source, labels), source, tmp_path / "a.dcm", SegOptions(segmentation_type=seg_type)
    )
    (ds,) = headers
    assert len(ds.SourceImageSequence) == len(source.datasets) == 48
    assert fast._header_bytes(ds) == fast._encode_elements(ds)
    # a layout it does not know (an extra attribute in the series item): pydicom encodes it all
    ds.ReferencedSeriesSequence[0].StudyInstanceUID = "1.2.3"
    calls = []
    monkeypatch.setattr(
        fast, "_encode_elements", lambda d, real=fast._encode_elements: calls.append(1) or real(d)
    )
    assert fast._header_bytes(ds) == fast._encode_elements(ds)
    assert len(calls) == 2  # the fallback and the reference: no short header encoded first


def test_the_workers_option_reaches_the_writer_and_is_checked(case, tmp_path, monkeypatch):
    source, labels = case
    seen = []
    real = fast.write_fast

    def spy(inp, *args, **kwargs):
        seen.append(inp.workers)
        return real(inp, *args, **kwargs)

    monkeypatch.setattr(fast, "write_fast", spy)
    write_seg(
        _content("LABELMAP", source, labels),
        source,
        tmp_path / "seg.dcm",
        SegOptions(segmentation_type="LABELMAP", workers="2"),
    )
    assert seen == [2]
    for bad in (0, -3, "two"):
        with pytest.raises(InputError, match="workers"):
            SegOptions(workers=bad)


def test_batch_cases_run_with_one_encoding_thread_unless_asked(monkeypatch):
    """N Dask workers x default threads would oversubscribe the cores: each case's child gets
    DICOMAI_WORKERS=1, unless the user set it for the workers."""
    import subprocess

    from dicomai import batch

    envs = []
    real_popen = subprocess.Popen

    def popen(command, **kwargs):
        envs.append(kwargs.get("env"))
        return real_popen(command, **kwargs)

    monkeypatch.setattr(batch.subprocess, "Popen", popen)
    monkeypatch.delenv(fast.WORKERS_ENV, raising=False)
    code, *_ = batch._run_cli(["--help"])
    assert code == 0
    assert envs[-1][fast.WORKERS_ENV] == "1"
    monkeypatch.setenv(fast.WORKERS_ENV, "3")
    batch._run_cli(["--help"])
    assert envs[-1][fast.WORKERS_ENV] == "3"


def test_export_seg_workers_flag(case, tmp_path, capsys):
    """``export-seg --workers N`` writes the same voxels; a bad N is one clear line, no file."""
    from dicomai import cli
    from dicomai.imageio import write_image

    source, labels = case
    from pathlib import Path

    ct = Path(source.files[0]).parent
    lab = tmp_path / "labels.nrrd"
    write_image(lab, labels.astype(np.uint8), source.grid)
    out = tmp_path / "seg.dcm"
    argv = ["export-seg", "--source", str(ct), "--labelmap", str(lab), "--out", str(out)]
    argv += ["--type", "labelmap"]
    assert cli.main(argv + ["--workers", "2"]) == 0
    assert np.array_equal(read_seg(out, source).labelmap(), labels)
    bad = tmp_path / "bad.dcm"
    argv[argv.index(str(out))] = str(bad)
    assert cli.main(argv + ["--workers", "0"]) == 1  # like every option SegOptions refuses
    err = capsys.readouterr().err.strip().splitlines()
    assert any("workers" in line for line in err) and not bad.exists()
