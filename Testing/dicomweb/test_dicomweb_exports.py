"""Exports that read their source from a DICOMweb server and send their result back (--send)."""

from __future__ import annotations

import json
import tempfile

import numpy as np
import pydicom
import pytest

from dicomai.cli import main as cli
from servers.orthanc import orthanc_or_fail

# what legitimately differs between two exports of the same content
_NEW_EACH_TIME = {
    "SOPInstanceUID",
    "SeriesInstanceUID",
    "MediaStorageSOPInstanceUID",
    "ContentDate",
    "ContentTime",
    "InstanceCreationDate",
    "InstanceCreationTime",
    "SeriesDate",
    "SeriesTime",
    "DimensionOrganizationUID",
    "ContributionDateTime",
}


def _content(ds, skip=_NEW_EACH_TIME):
    """Every data element (nested sequences included) except the new-every-time ones, as text."""
    out = []

    def walk(dataset, prefix):
        for elem in dataset:
            if elem.keyword in skip:
                continue
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value):
                    walk(item, f"{prefix}{elem.keyword}[{i}].")
            elif elem.keyword == "PixelData":
                out.append((prefix + "PixelData", bytes(elem.value)))
            else:
                out.append((prefix + elem.keyword, str(elem.value)))

    walk(ds, "")
    return out


def _source(server, case) -> str:
    series = case.series
    return f"dicomweb:{server.dicomweb_url}#{series.study_instance_uid}/{series.series_instance_uid}"


@pytest.fixture(scope="module")
def server(case):
    s = orthanc_or_fail()
    for path in case.series.files:
        s.upload(path)
    yield s
    s.cleanup()


def test_export_seg_from_a_dicomweb_source_equals_the_one_from_files_and_is_sent(
    server, case, tmp_path, monkeypatch, capsys
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = (
        f"dicomweb:{server.dicomweb_url}#{case.series.study_instance_uid}/{case.series.series_instance_uid}"
    )
    from_web = tmp_path / "web.seg.dcm"
    status = cli(["export-seg", "--source", source, "--labelmap", str(case.labels), "--metadata",
                  str(case.metadata), "--out", str(from_web), "--send", server.dicomweb_url])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    assert list(scratch.iterdir()) == []  # the retrieved series is gone
    web = pydicom.dcmread(str(from_web))
    assert f"SEG series {web.SeriesInstanceUID} 'Segmentation': 1/1 instance(s) stored and verified" in out
    assert str(web.SOPInstanceUID) in server.instance_uids()

    from_files = tmp_path / "files.seg.dcm"
    assert cli(["export-seg", "--source", str(case.ct), "--labelmap", str(case.labels), "--metadata",
                str(case.metadata), "--out", str(from_files), "-q"]) == 0  # fmt: skip
    files = pydicom.dcmread(str(from_files))
    assert _content(web) == _content(files)
    assert np.array_equal(web.pixel_array, files.pixel_array)


def test_export_sr_from_a_dicomweb_source_is_sent_and_verified(server, case, tmp_path, capsys):
    source = (
        f"dicomweb:{server.dicomweb_url}#{case.series.study_instance_uid}/{case.series.series_instance_uid}"
    )
    table = tmp_path / "t.tsv"
    table.write_text("Segment\tVolume [mm3]\nLiver\t10.5\n")
    out_path = tmp_path / "r.sr.dcm"
    status = cli(["export-sr", "--source", source, "--seg", str(case.seg), "--table", str(table),
                  "--out", str(out_path), "--send", server.dicomweb_url, "-q"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    sr = pydicom.dcmread(str(out_path), stop_before_pixels=True)
    again = tmp_path / "r2.sr.dcm"
    status = cli(["export-sr", "--source", str(case.ct), "--seg", str(case.seg), "--table", str(table),
                  "--out", str(again), "--send", server.dicomweb_url, "--json"])  # fmt: skip
    assert status == 0
    document = json.loads(capsys.readouterr().out)  # one document: the export's, with "send" in it
    assert document["output"] == str(again) and document["send"]["ok"] is True
    assert document["send"]["series"][0]["modality"] == "SR"
    assert sr.StudyInstanceUID == case.series.study_instance_uid
    assert str(sr.SOPInstanceUID) in server.instance_uids()
    assert "SR series" in out and "1/1 instance(s) stored and verified" in out


def test_a_dicomweb_source_that_is_not_there_is_one_line_and_writes_nothing(server, case, tmp_path, capsys):
    out_path = tmp_path / "x.seg.dcm"
    source = f"dicomweb:{server.dicomweb_url}#{case.series.study_instance_uid}/1.2.3.999"
    status = cli(["export-seg", "--source", source, "--labelmap", str(case.labels), "--out", str(out_path)])
    assert status == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 1 and "1.2.3.999" in err[0]
    assert not out_path.exists()
    assert cli(["export-seg", "--source", "dicomweb:http://x/dicom-web", "--labelmap", str(case.labels)]) == 1
    assert "dicomweb:URL#STUDY_UID/SERIES_UID" in capsys.readouterr().err


def test_export_sc_is_sent_and_found_by_query_modality_sc(server, case, tmp_path, capsys):
    out = tmp_path / "sc"
    source = _source(server, case)
    status = cli(["export-sc", "--source", source, "--seg", str(case.seg), "--sr", str(case.sr), "--out",
                  str(out), "--send", server.dicomweb_url, "-q"])  # fmt: skip
    text = capsys.readouterr().out
    assert status == 0, text
    written = sorted(out.glob("*.dcm"))
    uids = {str(pydicom.dcmread(str(p), stop_before_pixels=True).SOPInstanceUID) for p in written}
    assert len(uids) >= 3 and uids <= server.instance_uids()
    assert "OT series" in text and f"{len(uids)}/{len(uids)} instance(s) stored and verified" in text
    assert cli(["query", "--url", server.dicomweb_url, "--modality", "SC", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["modality"], r["instances"], r["series_description"]) for r in rows] == [
        ("OT", len(uids), "Overlay capture")
    ]
