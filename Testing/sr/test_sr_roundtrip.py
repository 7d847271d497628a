"""Markups, tables and findings -> SR -> back: coordinates within 1e-4 mm (RAS), values exact, units,
codes and labels kept, for every markup type, on an axial and an oblique series."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.sr.coding import Code
from sr_cases import (
    KIDNEY,
    LIVER,
    MALIGNANCY,
    MALIGNANT,
    MORPH,
    NEOPLASM,
    all_markups,
    by_name,
    ras,
    slice_markups,
)

from dicomai.sr import concepts as C
from dicomai.sr.build import ImageFinding, SegAttachment, build_report
from dicomai.sr.content import Annotation, DeviceObserver, Evaluation, Measurement, PersonObserver
from dicomai.sr.decode import read_sr
from dicomai.sr.encode import write_sr
from dicomai.sr.options import ReportOptions
from dicomai.sr.shapes import angle_degrees, polygon_area, polyline_length
from dicomai.sr.tables import read_measurement_table

TOL = 1e-4  # mm


def _export(case, tmp_path, markups, name="sr.dcm", **kw):
    mine = ("coordinates", "ohif")
    content = {k: v for k, v in kw.items() if k in ("table", "seg", "findings")}
    options = ReportOptions(**{k: v for k, v in kw.items() if k not in mine and k not in content})
    report = build_report(case.source, markups=markups, **content, options=options)
    out = tmp_path / name
    result = write_sr(
        report,
        case.source,
        out,
        ReportOptions(coordinates=kw.get("coordinates", "3d"), ohif=kw.get("ohif", True)),
    )
    return report, result, read_sr(out, source=case.source)


def test_every_markup_type_comes_back_at_the_same_place(series_case, tmp_path):
    sent = all_markups(series_case)
    report, result, back = _export(series_case, tmp_path, sent)
    assert not report.warnings and not result.warnings and not back.warnings
    got = by_name(back.markups())
    assert sorted(got) == sorted(m.name for m in sent)
    for m in sent:
        g = got[m.name]
        assert g.kind == m.kind, m.name
        if m.kind == "roi":
            np.testing.assert_allclose(ras(g.center), ras(m.center), atol=TOL)
            np.testing.assert_allclose(g.size, m.size, atol=TOL)
            np.testing.assert_allclose(g.orientation, m.orientation, atol=1e-5)
            np.testing.assert_allclose(ras(g.corners()), ras(m.corners()), atol=TOL)
        else:
            np.testing.assert_allclose(ras(g.points), ras(m.points), atol=TOL, err_msg=m.name)
    assert got["Lesions"].labels == ["L-1", "liver lesion", "kidney/upper"]


def test_measurements_are_exact_with_units(series_case, tmp_path):
    sent = by_name(all_markups(series_case))
    _, _, back = _export(series_case, tmp_path, list(sent.values()))
    groups = {g.tracking_id: g for g in back.groups}

    def value(tid, quantity):
        m = groups[tid].measurement(quantity)
        assert m is not None, (tid, quantity)
        return m

    line = sent["Diameter"].points
    length = value("Diameter", C.LENGTH)
    assert length.value == polyline_length(line) and length.unit == C.MILLIMETER
    assert value("Vessel", C.LENGTH).value == polyline_length(sent["Vessel"].points)
    ring = sent["Outline"].points
    assert value("Outline", C.AREA).value == polygon_area(ring)
    assert value("Outline", C.AREA).unit == C.SQUARE_MILLIMETER
    assert value("Outline", C.PERIMETER).value == polyline_length(ring, closed=True)
    angle = value("Angle", C.ANGLE)
    assert angle.value == angle_degrees(*sent["Angle"].points) and angle.unit == C.DEGREE
    box = value("Box", C.VOLUME_OF_BOUNDING_REGION)
    assert box.value == 12.5 * 7.25 * 6.0 and box.unit == C.CUBIC_MILLIMETER


def test_slicer_reported_values_are_written_as_given(axial_case, tmp_path):
    m = all_markups(axial_case)[1]  # the line
    m.measurements = {"length": (0.123456789012345, "cm")}
    _, _, back = _export(axial_case, tmp_path, [m])
    assert back.groups[0].measurement(C.LENGTH).value == 0.123456789012345 * 10


def test_codes_labels_and_point_semantics_are_kept(axial_case, tmp_path):
    _, _, back = _export(axial_case, tmp_path, all_markups(axial_case))
    points = [g for g in back.groups if g.markup_kind == "points"]
    assert [g.tracking_id for g in points] == ["Lesions/L-1", "Lesions/liver lesion", "Lesions/kidney/upper"]
    assert all(g.finding == NEOPLASM and g.finding_category == MORPH for g in points)
    second = points[1]
    assert second.finding_sites == [LIVER]
    assert second.evaluations == [Evaluation(MALIGNANCY, MALIGNANT)]
    score = second.measurement(C.CERTAINTY_OF_FINDING)
    assert score.value == 0.875 and score.unit.value == "1"
    assert points[0].finding_sites == [] and points[0].evaluations == []
    outline = next(g for g in back.groups if g.tracking_id == "Outline")
    assert outline.finding == NEOPLASM and outline.finding_sites == [KIDNEY]
    # codes come back with scheme, value and meaning
    assert (outline.finding.value, outline.finding.scheme_designator, outline.finding.meaning) == (
        "108369006",
        "SCT",
        "Neoplasm",
    )


def test_groups_use_the_templates_and_geometric_purpose_documented(axial_case, tmp_path):
    """The plain TID 1500 form (``ohif=False``): docs/sr.md, first table."""
    _, _, back = _export(axial_case, tmp_path, all_markups(axial_case), ohif=False)
    kinds = {g.tracking_id: g for g in back.groups}
    assert all(g.viewer_tool is None for g in back.groups)
    assert {g.template for t, g in kinds.items() if t != "Box"} == {"1410"}
    box = kinds["Box"]
    assert box.template == "1411" and box.surface and box.geometric_purpose == C.BOUNDED_BY
    assert [r.graphic_type for r in box.regions] == ["POLYGON"] * 6
    assert [r.graphic_type for r in kinds["Outline"].regions] == ["POLYGON"]
    assert [len(r.points) for r in kinds["Angle"].regions] == [3]


def test_the_ohif_form_names_the_tools_and_draws_what_ohif_can(axial_case, tmp_path):
    """The default form (``ohif=True``, ``coordinates="2d"``): docs/sr.md, second table."""
    sent = all_markups(axial_case)
    _, _, back = _export(axial_case, tmp_path, sent, coordinates="2d")
    kinds = {g.tracking_id: g for g in back.groups}
    tools = {t: g.viewer_tool for t, g in kinds.items()}
    assert tools == {
        "Lesions/L-1": "Probe",
        "Lesions/liver lesion": "Probe",
        "Lesions/kidney/upper": "Probe",
        "Diameter": "Length",
        "Vessel": "PlanarFreehandROI",
        "Outline": "PlanarFreehandROI",
        "Angle": "Angle",
        "Box": None,
    }
    # OHIF's Angle tool reads two lines sharing the vertex; loaded back as a 3-point angle
    assert [len(r.points) for r in kinds["Angle"].regions] == [4]
    # every measurement of a markup is inferred from the markup's own region (OHIF reads it there)
    for t, g in kinds.items():
        for m in g.measurements:
            if m.value is not None and t != "Box":
                assert len(m.regions) == 1 and np.allclose(m.regions[0].points, g.regions[0].points), t
    # the closed curve on slice 6: a closed 2D POLYLINE on that image (2D has no POLYGON)
    (outline,) = kinds["Outline"].regions
    assert outline.is_2d and outline.graphic_type == "POLYLINE" and len(outline.points) == 8
    # the box: its outline on each slice it crosses, its 8 exact corners under its volume
    box = kinds["Box"]
    assert box.template == "1411" and not box.surface and box.geometric_purpose == C.BOUNDED_BY
    assert len(box.regions) >= 2 and all(r.is_2d and r.graphic_type == "POLYLINE" for r in box.regions)
    (volume,) = box.measurements
    assert len(volume.regions) == 1 and len(volume.regions[0].points) == 8
    # and Slicer gets every markup back, in place (within 1e-3 mm), named as sent
    got = by_name(back.markups())
    assert sorted(got) == sorted(m.name for m in sent)
    for m in sent:
        g = got[m.name]
        assert g.kind == m.kind, m.name
        if m.kind == "roi":
            assert np.allclose(g.center, m.center, atol=1e-3) and np.allclose(g.size, m.size, atol=1e-3)
        else:
            assert np.allclose(g.points, m.points, atol=1e-3), m.name


def test_tracking_identifiers_and_uids_are_stable(axial_case, tmp_path):
    a = build_report(axial_case.source, all_markups(axial_case))
    b = build_report(axial_case.source, all_markups(axial_case))
    assert [g.tracking_uid for g in a.groups] == [g.tracking_uid for g in b.groups]
    assert len({g.tracking_uid for g in a.groups}) == len(a.groups)
    out = tmp_path / "sr.dcm"
    write_sr(a, axial_case.source, out)
    back = read_sr(out)
    assert [(g.tracking_id, g.tracking_uid) for g in back.groups] == [
        (g.tracking_id, g.tracking_uid) for g in a.groups
    ]


def test_observers_procedure_and_algorithm_are_written(axial_case, tmp_path):
    device = DeviceObserver(
        name="LesionNet", version="2.1.0", manufacturer="ACME AI", model_name="LesionNet-3D"
    )
    person = PersonObserver("Reader^Ann")
    procedure = Code("25045-6", "LN", "CT unspecified body region")
    report, _, back = _export(
        axial_case,
        tmp_path,
        all_markups(axial_case)[:2],
        device=device,
        person=person,
        procedure_reported=procedure,
    )
    assert back.device.name == "LesionNet" and back.device.manufacturer == "ACME AI"
    assert back.device.model_name == "LesionNet-3D" and back.device.uid == report.device.uid
    assert back.person.name == "Reader^Ann"
    assert back.procedure_reported == [procedure]
    assert all((g.algorithm_name, g.algorithm_version) == ("LesionNet", "2.1.0") for g in back.groups)
    again = build_report(axial_case.source, all_markups(axial_case)[:1], options=ReportOptions(device=device))
    assert again.device.uid == report.device.uid  # the same model gets the same observer UID


def test_two_d_variant_puts_markups_on_one_slice_on_that_image(series_case, tmp_path):
    sent = slice_markups(series_case, k=5)
    report, result, back = _export(series_case, tmp_path, sent, coordinates="2d")
    assert result.groups_2d == len(report.groups) and not result.warnings
    uid = series_case.source.sop_instance_uids[5]
    for g in back.groups:
        (r,) = g.regions
        assert r.is_2d and r.image.sop_instance_uid == uid
    ring = next(g for g in back.groups if g.tracking_id == "Ring").regions[0]
    assert ring.graphic_type == "POLYLINE" and np.allclose(ring.pixels[0], ring.pixels[-1])
    got = by_name(back.markups())
    for m in sent:
        assert got[m.name].kind == m.kind
        np.testing.assert_allclose(ras(got[m.name].points), ras(m.points), atol=TOL, err_msg=m.name)
    # the same SR read without the source: the Image Library places the 2D coordinates
    alone = read_sr(tmp_path / "sr.dcm")
    assert not alone.warnings
    np.testing.assert_allclose(by_name(alone.markups())["Axis"].points, sent[1].points, atol=TOL)


def test_two_d_variant_keeps_3d_markups_in_3d(axial_case, tmp_path):
    report, result, back = _export(axial_case, tmp_path, all_markups(axial_case), coordinates="2d")
    # only the closed curve lies on a slice (k = 6); the rest stays 3D, and the writer says so
    assert result.groups_2d == 1 and "6 of 7 planar group(s) do not lie on one slice" in result.warnings[0]
    # the box (written as its slice outlines for OHIF) aside
    assert {
        g.tracking_id for g in back.groups if g.markup_kind != "roi" and any(r.is_2d for r in g.regions)
    } == {"Outline"}


def test_table_rows_become_volumetric_groups_referencing_seg_segments(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    table = tmp_path / "stats.tsv"
    table.write_text(
        "Segment\tVolume (mm3)\tMean (HU)\tVoxel count\tMy score (points)\n"
        "Liver\t12345.678\t61.25\t1000\t3\n"
        "Spleen\t2222.5\t47.9\t400\t\n"
    )
    seg = SegAttachment.read(seg_path)
    report = build_report(case.source, table=read_measurement_table(table, modality="CT"), seg=seg)
    out = tmp_path / "sr.dcm"
    write_sr(report, case.source, out, segs=[seg.dataset])
    back = read_sr(out, segs=[seg_path])
    assert not back.warnings
    liver, spleen = back.groups
    for g, label in ((liver, "Liver"), (spleen, "Spleen")):
        assert g.template == "1411" and g.segment.sop_instance_uid == seg.sop_instance_uid
        assert g.segment.label == label and g.tracking_id == label
        assert g.segment.source_series_uid == case.source.series_instance_uid
    numbers = {s.label: s.number for s in seg.segments}
    assert (liver.segment.segment_number, spleen.segment.segment_number) == (
        numbers["Liver"],
        numbers["Spleen"],
    )
    ms = {(m.quantity, m.derivation): m for m in liver.measurements}
    volume = ms[(C.VOLUME, None)]
    assert volume.value == 12345.678 and volume.unit == C.CUBIC_MILLIMETER
    assert volume.quantity.value == "118565006"
    mean = ms[(Code("112031", "DCM", "Attenuation Coefficient"), Code("373098007", "SCT", "Mean"))]
    assert mean.value == 61.25 and mean.unit.value == "[hnsf'U]"
    count = [m for m in liver.measurements if m.quantity.meaning == "Number of voxels"][0]
    assert count.value == 1000 and count.unit.value == "{voxels}"
    private = [m for m in liver.measurements if m.quantity.meaning == "My score"][0]
    assert (
        private.quantity.scheme_designator == "99DICOMAI"
        and private.value == 3
        and private.unit.value == "{points}"
    )
    assert len(spleen.measurements) == 3  # the empty cell is left out
    assert liver.finding == Code("10200004", "SCT", "Liver")  # the segment's property type
    rows = back.rows()
    assert {r["referenced segment"] for r in rows} == {
        f"Liver (#{numbers['Liver']})",
        f"Spleen (#{numbers['Spleen']})",
    }


def test_seg_without_table_reports_segment_volumes(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    seg = SegAttachment.read(seg_path)
    report = build_report(case.source, seg=seg)
    out = tmp_path / "sr.dcm"
    write_sr(report, case.source, out, segs=[seg.dataset])
    back = read_sr(out, segs=[seg_path])
    voxel = float(np.prod(case.grid.spacing))
    expected = {s.label: float((case.labels == s.number).sum()) * voxel for s in seg.segments}
    got = {g.segment.label: g.measurement(C.VOLUME).value for g in back.groups}
    assert got == pytest.approx(expected, rel=1e-12)
    assert all(g.measurement(C.VOLUME).method == C.SUM_OF_SEGMENTED_VOXELS for g in back.groups)


def test_classification_results_per_finding_and_per_image(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    seg = SegAttachment.read(seg_path)
    uid = case.source.sop_instance_uids[4]
    findings = [
        ImageFinding(
            Annotation(
                evaluations=[Evaluation(MALIGNANCY, MALIGNANT)],
                measurements=[Measurement(C.CERTAINTY_OF_FINDING, 0.91, C.NO_UNITS)],
            ),
            markup="Lesions",
            point="liver lesion",
        ),
        ImageFinding(
            Annotation(
                finding=Code("56208002", "SCT", "Ulcer"),
                measurements=[Measurement(C.CERTAINTY_OF_FINDING, 0.25, C.NO_UNITS)],
            ),
            image_uids=[uid],
        ),
        ImageFinding(
            Annotation(
                evaluations=[
                    Evaluation(Code("246112005", "SCT", "Severity"), Code("24484000", "SCT", "Severe"))
                ]
            ),
            segment="Spleen",
        ),
        ImageFinding(Annotation(finding=Code("386661006", "SCT", "Fever"))),
    ]
    report = build_report(
        case.source,
        markups=all_markups(case)[:1],
        seg=seg,
        findings=findings,
        options=ReportOptions(seg_volumes=False),
    )
    out = tmp_path / "sr.dcm"
    write_sr(report, case.source, out, segs=[seg.dataset])
    back = read_sr(out, segs=[seg_path])
    lesion = next(g for g in back.groups if g.point_label == "liver lesion")
    assert Evaluation(MALIGNANCY, MALIGNANT) in lesion.evaluations
    assert [m.value for m in lesion.measurements if m.quantity == C.CERTAINTY_OF_FINDING] == [0.875, 0.91]
    per_image = next(g for g in back.groups if g.finding == Code("56208002", "SCT", "Ulcer"))
    assert per_image.template == "1501" and [i.sop_instance_uid for i in per_image.source_images] == [uid]
    assert per_image.measurement(C.CERTAINTY_OF_FINDING).value == 0.25
    spleen = next(g for g in back.groups if g.segment is not None)
    assert spleen.segment.label == "Spleen" and spleen.evaluations[0].value_text == "Severe"
    series_level = next(g for g in back.groups if g.finding == Code("386661006", "SCT", "Fever"))
    assert series_level.template == "1501" and series_level.source_images == []


def test_the_document_is_a_comprehensive_3d_sr_about_the_source(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    seg = SegAttachment.read(seg_path)
    report = build_report(case.source, markups=all_markups(case), seg=seg)
    out = tmp_path / "sr.dcm"
    write_sr(report, case.source, out, segs=[seg.dataset])
    ds = pydicom.dcmread(out)
    first = case.source.first
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34" and ds.Modality == "SR"
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    for kw in ("PatientID", "PatientName", "StudyInstanceUID", "AccessionNumber", "StudyID"):
        assert ds.get(kw) == first.get(kw), kw
    assert ds.SeriesInstanceUID != first.SeriesInstanceUID
    back = read_sr(out)
    assert set(back.referenced_instances) == set(case.source.sop_instance_uids) | {seg.sop_instance_uid}
