"""Readers say what they understood as data (``Report.status``, ``dicomai info``'s "status"), and
the browser plugins decide from that, not from the words of the warnings (which are for people)."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset

from dicomai.sr.decode import read_sr
from dicomai.sr.info import describe_sr
from shared_data import REALDATA


def _odd_sr(study, tmp_path):
    """The study's SR with one content item our reader does not understand."""

    def code(value, meaning):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99TEST", meaning
        return item

    ds = pydicom.dcmread(study.sr)
    for _ in range(2):
        odd = Dataset()
        odd.RelationshipType, odd.ValueType = "CONTAINS", "CODE"
        odd.ConceptNameCodeSequence, odd.ConceptCodeSequence = [code("M-1", "Mystery")], [code("M-2", "Odd")]
        ds.ContentSequence.append(odd)
    ds.save_as(tmp_path / "odd.dcm")
    return tmp_path / "odd.dcm"


def test_the_sr_reader_returns_its_status(study, tmp_path):
    seg_uid = str(pydicom.dcmread(study.seg, stop_before_pixels=True).SOPInstanceUID)
    alone = read_sr(study.sr)
    assert alone.status.tid1500 and alone.status.not_understood == []
    assert alone.status.segs_not_given == [seg_uid]
    assert alone.status.images_without_geometry == [] and alone.status.complete
    with_seg = read_sr(study.sr, segs=[study.seg])
    assert with_seg.status.segs_not_given == []

    odd = read_sr(_odd_sr(study, tmp_path))
    assert odd.status.not_understood == ["report: CODE 'Mystery' (x2)"]
    assert not odd.status.complete
    assert "not understood, left out: report: CODE 'Mystery' (x2)" in odd.warnings  # still told to people
    assert describe_sr(pydicom.dcmread(tmp_path / "odd.dcm"), "odd.dcm")["status"] == {
        "tid1500": True,
        "not_understood": ["report: CODE 'Mystery' (x2)"],
        "images_without_geometry": [],
        "segs_not_given": [seg_uid],
    }


@pytest.mark.skipif(not REALDATA.is_dir(), reason=f"real SR files not found in {REALDATA}")
def test_status_of_real_srs_not_tid1500_and_2d_coordinates_without_images():
    generic = read_sr(REALDATA / "pydicom/test-SR.dcm")
    assert generic.status.tid1500 is False and not generic.status.complete
    planar = read_sr(REALDATA / "highdicom/sr_document.dcm")
    assert planar.status.tid1500 and planar.status.images_without_geometry
    referenced = set()

    def images(items):  # the IMAGE content items: what 2D coordinates are selected from
        for item in items or []:
            if item.get("ValueType") == "IMAGE":
                referenced.update(str(r.ReferencedSOPInstanceUID) for r in item.ReferencedSOPSequence)
            images(item.get("ContentSequence"))

    images(pydicom.dcmread(REALDATA / "highdicom/sr_document.dcm").ContentSequence)
    assert set(planar.status.images_without_geometry) <= referenced


def test_the_browser_reads_the_status_not_the_warning_words(standin, study, tmp_path, monkeypatch):
    """Reworded warnings change nothing; a status alone changes the offer."""
    import dicomai.sr.info as sr_info
    from dicomai_slicer import browser

    odd = str(_odd_sr(study, tmp_path))
    before = browser.examine_sr(odd)
    assert before.confidence == browser.MOSTLY
    assert before.warning.startswith("left out (not understood): report: CODE 'Mystery' (x2)")

    real = sr_info.describe_sr

    def reworded(ds, path):
        info = real(ds, path)
        info["warnings"] = [f"avertissement {n}" for n in range(len(info["warnings"]))]
        return info

    monkeypatch.setattr(sr_info, "describe_sr", reworded)
    after = browser.examine_sr(odd)
    assert (after.confidence, after.warning) == (before.confidence, before.warning)

    def not_tid1500(ds, path):
        info = real(ds, path)
        info["warnings"] = []
        info["status"] = dict(info["status"], tid1500=False, not_understood=[])
        return info

    monkeypatch.setattr(sr_info, "describe_sr", not_tid1500)
    generic = browser.examine_sr(str(study.sr))
    assert generic.confidence == browser.GENERIC and "not a TID 1500" in generic.warning
