"""``dicomai send / query / retrieve`` against a real Orthanc (DICOMweb plugin) on 127.0.0.1.

Assertions about what the server holds go through Orthanc's own REST API (``instance_uids``),
not through our DICOMweb code.
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from dicomai.cli import main as cli
from servers.orthanc import orthanc_or_fail


@pytest.fixture(scope="module")
def server():
    s = orthanc_or_fail()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def stored(server, case):
    """CT + SEG + SR sent once for the module; returns (server, exit status, stdout)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli(["send", str(case.ct), str(case.seg), str(case.sr), "--url", server.dicomweb_url,
                      "--batch-size", "5"])  # fmt: skip
    return server, status, out.getvalue()


def _uids(paths):
    return {str(pydicom.dcmread(str(p), stop_before_pixels=True).SOPInstanceUID) for p in paths}


def test_send_stores_and_verifies_every_instance_per_series(stored, case):
    server, status, text = stored
    assert status == 0, text
    expected = _uids(case.series.files) | _uids([case.seg, case.sr])
    assert server.instance_uids() == expected  # Orthanc's REST API, independently
    lines = text.splitlines()
    assert any(
        line.startswith("CT series ") and "12/12 instance(s) stored and verified" in line for line in lines
    )
    assert any(line.startswith("SEG series ") and "1/1" in line for line in lines)
    assert any(line.startswith("SR series ") and "1/1" in line for line in lines)
    assert lines[-1] == f"14/14 instance(s) verified on {server.dicomweb_url}"


def test_query_by_study_series_and_modality(stored, case, capsys):
    server, status, _ = stored
    assert status == 0
    study = case.series.study_instance_uid
    capsys.readouterr()
    assert cli(["query", "--url", server.dicomweb_url, "--study", study, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["modality"], r["instances"]) for r in rows) == [("CT", 12), ("SEG", 1), ("SR", 1)]
    assert {r["study_instance_uid"] for r in rows} == {study}

    assert cli(["query", "--url", server.dicomweb_url, "--modality", "seg", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    seg_series = str(pydicom.dcmread(str(case.seg), stop_before_pixels=True).SeriesInstanceUID)
    assert [(r["series_instance_uid"], r["modality"]) for r in rows] == [(seg_series, "SEG")]

    assert cli(["query", "--url", server.dicomweb_url, "--series", case.series.series_instance_uid]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["study", "series", "modality", "description", "instances"]
    assert case.series.series_instance_uid in table[1] and table[1].split()[-1] == "12"
    assert table[-1] == "1 series"

    assert cli(["query", "--url", server.dicomweb_url, "--modality", "MR"]) == 0
    assert capsys.readouterr().out.strip() == "no series found"

    assert cli(["query", "--url", server.dicomweb_url, "--patient", "DICOMAI-SYN-0001", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert cli(["query", "--url", server.dicomweb_url, "--patient", "SOMEONE-ELSE", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_retrieve_gives_identical_instances_and_the_same_segments(stored, case, tmp_path, capsys):
    server, status, _ = stored
    assert status == 0
    out = tmp_path / "study"
    assert cli(["retrieve", "--url", server.dicomweb_url, "--study", case.series.study_instance_uid,
                "--out", str(out)]) == 0  # fmt: skip
    assert "wrote 14 instance(s) of 3 series" in capsys.readouterr().out
    originals = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(str(p)) for p in [*case.series.files, case.seg, case.sr])
    }
    retrieved = {str(ds.SOPInstanceUID): ds for ds in (pydicom.dcmread(str(p)) for p in out.rglob("*.dcm"))}
    assert retrieved.keys() == originals.keys()
    for uid, original in originals.items():
        copy = retrieved[uid]
        if "PixelData" in original:
            assert np.array_equal(copy.pixel_array, original.pixel_array)
        # same content: every data element of the original, value for value
        for elem in original:
            assert elem.tag in copy, (uid, elem.keyword)
            assert copy[elem.tag].value == elem.value, (uid, elem.keyword)
    assert not list(out.rglob(".tmp-*"))

    # import-seg of the retrieved SEG gives the same segments and voxels as of the original
    seg_uid = str(pydicom.dcmread(str(case.seg), stop_before_pixels=True).SOPInstanceUID)
    seg_copy = next(out.rglob(f"{seg_uid}.dcm"))
    results = []
    for i, seg in enumerate((case.seg, seg_copy)):
        assert cli(["import-seg", str(seg), "--source", str(case.ct), "--out", str(tmp_path / f"l{i}.nrrd"),
                    "--json"]) == 0  # fmt: skip
        results.append(json.loads(capsys.readouterr().out)["segments"])
    assert results[0] == results[1] and len(results[0]) == 4
    from dicomai.imageio import read_image

    a, _ = read_image(tmp_path / "l0.nrrd")
    b, _ = read_image(tmp_path / "l1.nrrd")
    assert np.array_equal(a, b) and a.any()

    # retrieve refuses to overwrite without --overwrite, and leaves the files as they were
    assert cli(["retrieve", "--url", server.dicomweb_url, "--study", case.series.study_instance_uid,
                "--out", str(out)]) == 1  # fmt: skip
    assert "already exists" in capsys.readouterr().err
    assert cli(["retrieve", "--url", server.dicomweb_url, "--study", case.series.study_instance_uid,
                "--out", str(out), "--overwrite"]) == 0  # fmt: skip


def test_retrieve_of_an_unknown_study_is_one_line_error(stored, tmp_path, capsys):
    server, _, _ = stored
    status = cli(
        ["retrieve", "--url", server.dicomweb_url, "--study", "1.2.3.4.5.6.7", "--out", str(tmp_path / "x")]
    )
    assert status == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "1.2.3.4.5.6.7" in err or "404" in err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_retrieve_with_references_follows_the_sr_to_the_seg_and_the_ct(stored, case, tmp_path, capsys):
    server, status, _ = stored
    assert status == 0
    sr = pydicom.dcmread(str(case.sr), stop_before_pixels=True)
    seg = pydicom.dcmread(str(case.seg), stop_before_pixels=True)
    out = tmp_path / "refs"
    assert cli(["retrieve", "--url", server.dicomweb_url, "--study", str(sr.StudyInstanceUID), "--series",
                str(sr.SeriesInstanceUID), "--with-references", "--out", str(out)]) == 0  # fmt: skip
    assert "wrote 14 instance(s) of 3 series" in capsys.readouterr().out
    folders = {p.name for p in out.iterdir()}
    assert folders == {str(sr.SeriesInstanceUID), str(seg.SeriesInstanceUID), case.series.series_instance_uid}
