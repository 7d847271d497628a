"""Every SR we write, judged by tools we did not write: dciodvfy (zero errors), dcentvfy with its CT
and SEG, dcmqi's tid1500reader (same groups and values), DCMTK's dsrdump and dcmjs."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.sr.coding import Code
from sr_cases import MALIGNANCY, MALIGNANT, all_markups, slice_markups, write_organ_seg

import peers
from dicomai.sr import concepts as C
from dicomai.sr.build import ImageFinding, SegAttachment, build_report
from dicomai.sr.content import Annotation, DeviceObserver, Evaluation, Measurement, PersonObserver
from dicomai.sr.encode import write_sr
from dicomai.sr.options import ReportOptions
from dicomai.sr.tables import read_measurement_table

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def documents(series_case, tmp_path_factory):
    """name -> (sr path, report, [files dcentvfy checks together])"""
    case = series_case
    folder = tmp_path_factory.mktemp(f"sr-peers-{case.kind}")
    seg_path = write_organ_seg(case, folder / "organs.seg.dcm")
    seg = SegAttachment.read(seg_path)
    table = folder / "stats.tsv"
    table.write_text(
        "Segment\tVolume [mm3]\tMean [hnsf'U]\tStandard deviation [hnsf'U]\nLiver\t1500.5\t60.25\t9.5\n"
        "Kidney, right\t220.25\t150\t12.125\n".replace("Kidney, right", _label(seg, 3))
    )
    device = DeviceObserver(
        name="LesionNet", version="2.1", manufacturer="ACME AI", model_name="LesionNet-3D"
    )
    findings = [
        ImageFinding(
            Annotation(
                evaluations=[Evaluation(MALIGNANCY, MALIGNANT)],
                measurements=[Measurement(C.CERTAINTY_OF_FINDING, 0.93, C.NO_UNITS)],
            ),
            markup="Lesions",
            point="L-1",
        ),
        ImageFinding(
            Annotation(finding=Code("56208002", "SCT", "Ulcer")),
            image_uids=[case.source.sop_instance_uids[3]],
        ),
    ]
    whole_image = [
        findings[1],
        ImageFinding(
            Annotation(evaluations=[Evaluation(MALIGNANCY, MALIGNANT)]),
            image_uids=list(case.source.sop_instance_uids[:2]),
        ),
    ]
    ct_files = list(case.source.files)
    out = {}
    specs = {
        "markups-3d": dict(markups=all_markups(case), device=device, findings=findings),
        "markups-2d": dict(markups=slice_markups(case), person=PersonObserver("Reader^Ann")),
        "table-seg": dict(
            table=read_measurement_table(table, modality="CT"),
            seg=seg,
            device=device,
            person=PersonObserver("Reader^Ann"),
        ),
        # no image region at all: a table without --seg, findings on whole images (OHIF form)
        "regionless": dict(table=read_measurement_table(table, modality="CT"), findings=whole_image),
    }
    for name, kw in specs.items():
        content = {k: v for k, v in kw.items() if k not in ("device", "person")}
        options = ReportOptions(device=kw.get("device"), person=kw.get("person"))
        report = build_report(case.source, **content, options=options)
        path = folder / f"{name}.sr.dcm"
        write_sr(
            report,
            case.source,
            path,
            ReportOptions(coordinates="2d" if name.endswith("2d") else "3d"),
            segs=[seg.dataset] if kw.get("seg") else [],
        )
        together = ct_files + ([seg_path] if kw.get("seg") else []) + [path]
        out[name] = (path, report, together)
    return out


def _label(seg, number):
    return next(s.label for s in seg.segments if s.number == number)


NAMES = ["markups-3d", "markups-2d", "table-seg", "regionless"]


@pytest.mark.parametrize("name", NAMES)
def test_dciodvfy_finds_no_error(documents, name):
    peers.require("dciodvfy")
    path, _, _ = documents[name]
    result = peers.dciodvfy(path)
    assert result.errors == [], result.output


@pytest.mark.parametrize("name", NAMES)
def test_dcentvfy_finds_the_sr_consistent_with_its_ct_and_seg(documents, name):
    peers.require("dcentvfy")
    _, _, together = documents[name]
    result = peers.dcentvfy(together)
    assert result.errors == [], result.output


# the OHIF (Cornerstone3D) tool each markup kind is written for (docs/sr.md); the box has none
TOOLS = {"points": "Probe", "line": "Length", "angle": "Angle", "curve": "PlanarFreehandROI"}
TOOLS["closed_curve"] = "PlanarFreehandROI"


def _written_id(g) -> str:
    """The Tracking Identifier in the file: ``Cornerstone3DTools@^0.1.0:<Tool>:<name>`` for markups."""
    tool = TOOLS.get(g.markup_kind or "")
    return f"Cornerstone3DTools@^0.1.0:{tool}:{g.tracking_id}" if tool else g.tracking_id


def _values(report):
    return {
        _written_id(g): sorted((str(m.quantity.value), float(m.value)) for m in g.measurements)
        for g in report.groups
    }


@pytest.mark.parametrize("name", NAMES)
def test_dcmqi_tid1500reader_reports_the_same_groups_and_values(documents, name):
    peers.require("tid1500reader")
    path, report, _ = documents[name]
    data = peers.tid1500reader(path)
    got = {
        g["TrackingIdentifier"]: sorted(
            (m["quantity"]["CodeValue"], float(m["value"])) for m in g.get("measurementItems", [])
        )
        for g in data["Measurements"]
    }
    expected = _values(report)
    assert sorted(got) == sorted(expected)
    for tid, items in expected.items():
        assert [q for q, _ in got[tid]] == [q for q, _ in items], tid
        np.testing.assert_allclose([v for _, v in got[tid]], [v for _, v in items], rtol=1e-13, err_msg=tid)
    uids = {g["TrackingIdentifier"]: g["TrackingUniqueIdentifier"] for g in data["Measurements"]}
    assert uids == {_written_id(g): g.tracking_uid for g in report.groups}
    if name == "table-seg":
        segments = {g["TrackingIdentifier"]: g.get("ReferencedSegment") for g in data["Measurements"]}
        assert segments == {_written_id(g): g.segment.segment_number for g in report.groups}


@pytest.mark.parametrize("name", NAMES)
def test_highdicom_reads_the_same_groups(documents, name):
    import highdicom as hd

    path, report, _ = documents[name]
    sr = hd.sr.srread(path)
    planar = sr.content.get_planar_roi_measurement_groups()
    volumetric = sr.content.get_volumetric_roi_measurement_groups()
    assert len(planar) == sum(g.template == "1410" for g in report.groups)
    assert len(volumetric) == sum(g.template == "1411" for g in report.groups)
    written = {_written_id(g) for g in report.groups}
    assert {str(g.tracking_identifier) for g in planar + volumetric} <= written


@pytest.mark.parametrize("name", NAMES)
def test_dcmtk_dsrdump_parses_it(documents, name):
    peers.require("dsrdump")
    path, report, _ = documents[name]
    ok, out = peers.dsrdump(path)
    assert ok, out
    assert out.count('CONTAINER:(,,"Measurement Group")') == len(report.groups)


@pytest.mark.parametrize("name", NAMES)
def test_dcmjs_parses_it_with_the_same_groups(documents, name):
    peers.require("dcmjs")
    path, report, _ = documents[name]
    data = peers.dcmjs_read(path)
    assert data["templateIdentifier"] == "1500"
    groups = {g["trackingIdentifier"]: g for g in data["measurementGroups"]}
    assert sorted(groups) == sorted(_written_id(g) for g in report.groups)
    for g in report.groups:
        group = groups[_written_id(g)]
        got = sorted((m["conceptCode"]["value"], m["value"]) for m in group["measurements"])
        want = sorted((str(m.quantity.value), float(m.value)) for m in g.measurements)
        assert [q for q, _ in got] == [q for q, _ in want]
        np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-13)
        n2d = len(group["scoords"])
        n3d = len(group["scoord3ds"])
        if g.markup_kind == "roi":  # its outline on each slice it crosses (OHIF draws no 3D
            # polygon); the volume inferred from its 8 corners (3D)
            assert n2d >= 2 and n3d == len(g.measurements), g.tracking_id
            continue
        # the group's region, and a copy under each measurement (INFERRED FROM, for OHIF); a
        # segment's measurements are inferred from a 2D point inside the segment
        copies = len(g.measurements) if (g.regions or g.segment is not None) else 0
        assert n2d + n3d == len(g.regions) + copies, g.tracking_id
        if name == "markups-2d":
            assert n3d == 0, g.tracking_id
        elif g.segment is None:
            assert n2d == 0, g.tracking_id
        else:
            assert n3d == 0 and n2d == copies, g.tracking_id


def test_a_report_without_any_image_region_is_titled_so_that_ohif_lists_it_as_text(
    documents, series_case, tmp_path
):
    """OHIF 3.13 looks for image regions in an "Imaging Measurement Report" and stops on a group
    without one; any other title (CID 7021 is extensible) opens in its text view (docs/sr.md)."""
    import pydicom

    from dicomai.sr.decode import read_sr

    path, report, _ = documents["regionless"]
    assert report.groups and all(g.template == "1501" for g in report.groups)
    assert any(g.measurements for g in report.groups) and any(g.source_images for g in report.groups)
    ds = pydicom.dcmread(path)
    title = ds.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == ("18748-4", "LN")
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    back = read_sr(path)
    assert back.rows() == report.rows()
    assert [g.tracking_uid for g in back.groups] == [g.tracking_uid for g in report.groups]
    assert [[i.sop_instance_uid for i in g.source_images] for g in back.groups] == [
        [i.sop_instance_uid for i in g.source_images] for g in report.groups
    ]
    # the plain form keeps the Imaging Measurement Report title; a title the user chose is kept
    plain = tmp_path / "plain.sr.dcm"
    write_sr(report, series_case.source, plain, ReportOptions(ohif=False))
    title = pydicom.dcmread(plain).ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == ("126000", "DCM")
    assert read_sr(plain).rows() == report.rows()
    report.title = Code("126001", "DCM", "Oncology Measurement Report")
    try:
        write_sr(report, series_case.source, tmp_path / "onco.sr.dcm")
    finally:
        report.title = C.IMAGING_MEASUREMENT_REPORT
    title = pydicom.dcmread(tmp_path / "onco.sr.dcm").ConceptNameCodeSequence[0]
    assert title.CodeValue == "126001"
