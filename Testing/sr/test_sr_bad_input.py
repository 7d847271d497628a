"""Bad input: markups outside the volume (warning, still exported), a table row naming a segment the
SEG lacks (error naming it), SRs whose references are missing (load, with a warning), content we
do not understand (warnings, never a crash)."""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from sr_cases import all_markups, slice_markups

from dicomai.cli import main as cli
from dicomai.errors import DicomAIError, InputError, MetadataError, UnsupportedObjectError
from dicomai.sr.build import ImageFinding, SegAttachment, build_report
from dicomai.sr.content import Annotation, Markup
from dicomai.sr.decode import read_sr, read_sr_dataset
from dicomai.sr.encode import write_sr
from dicomai.sr.markups import write_markups
from dicomai.sr.options import ReportOptions
from dicomai.sr.tables import read_measurement_table


def test_markups_outside_the_volume_warn_and_are_still_exported(axial_case, tmp_path):
    far = axial_case.at(30.0, 20.0, 18.0)  # 18 slices beyond the last one
    inside = axial_case.at(5.0, 20.0, 18.0)
    markups = [
        Markup("points", "Seeds", [inside, far], labels=["in", "out"]),
        Markup("roi", "Big", center=inside, size=[500, 10, 10], orientation=np.eye(3)),
    ]
    report = build_report(axial_case.source, markups)
    assert len(report.warnings) == 2
    assert "'Seeds': 1 control point(s) lie outside the source volume ('out')" in report.warnings[0]
    assert "'Big'" in report.warnings[1] and "exported anyway" in report.warnings[1]
    write_sr(report, axial_case.source, tmp_path / "sr.dcm")
    back = read_sr(tmp_path / "sr.dcm", source=axial_case.source)
    seeds = next(m for m in back.markups() if m.name == "Seeds")
    np.testing.assert_allclose(seeds.points[1], far, atol=1e-4)


def test_cli_warns_about_markups_outside_the_volume(axial_case, tmp_path, capsys):
    m = Markup("line", "Far", [axial_case.at(5, 20, 18), axial_case.at(5, 20, 400)])
    write_markups(m, tmp_path / "Far.mrk.json")
    code = cli(
        [
            "export-sr",
            "--source",
            str(axial_case.folder / "ct"),
            "--markups",
            str(tmp_path / "Far.mrk.json"),
            "--out",
            str(tmp_path / "sr.dcm"),
        ]
    )
    assert code == 0 and (tmp_path / "sr.dcm").is_file()
    assert "lie outside the source volume" in capsys.readouterr().err


def test_table_row_naming_a_segment_the_seg_lacks_is_an_error_naming_it(axial_with_seg, tmp_path, capsys):
    case, seg_path = axial_with_seg
    table = tmp_path / "stats.tsv"
    table.write_text("Segment\tVolume (mm3)\nLiver\t10\nPancreas\t20\n")
    seg = SegAttachment.read(seg_path)
    with pytest.raises(MetadataError, match="row 'Pancreas' names no segment of the SEG .*'Liver'"):
        build_report(case.source, table=read_measurement_table(table), seg=seg)
    out = tmp_path / "sr.dcm"
    code = cli(
        [
            "export-sr",
            "--source",
            str(case.folder / "ct"),
            "--seg",
            str(seg_path),
            "--table",
            str(table),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and not out.exists()
    assert len(err) == 1 and "'Pancreas'" in err[0] and err[0].startswith("dicomai export-sr: error:")


def test_seg_of_another_study_is_refused(axial_with_seg, series_case):
    case, seg_path = axial_with_seg
    other = series_case.source
    if other.study_instance_uid == case.source.study_instance_uid:
        pytest.skip("same study")
    with pytest.raises(InputError, match="belongs to study"):
        build_report(other, seg=SegAttachment.read(seg_path))


def test_a_referenced_seg_must_be_given_to_the_writer(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    report = build_report(case.source, seg=SegAttachment.read(seg_path))
    with pytest.raises(InputError, match="references SEG"):
        write_sr(report, case.source, tmp_path / "sr.dcm")
    assert not (tmp_path / "sr.dcm").exists()


def test_sr_whose_seg_is_missing_loads_with_a_warning(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    seg = SegAttachment.read(seg_path)
    write_sr(build_report(case.source, seg=seg), case.source, tmp_path / "sr.dcm", segs=[seg.dataset])
    report = read_sr(tmp_path / "sr.dcm")
    assert len(report.groups) == 4 and all(g.segment.label is None for g in report.groups)
    assert any("which was not given" in w for w in report.warnings)
    assert {r["referenced segment"] for r in report.rows()} == {
        f"#{s.number} of SEG {seg.sop_instance_uid}" for s in seg.segments
    }


def test_sr_whose_images_are_missing_loads_with_a_warning(axial_case, series_case, tmp_path):
    report = build_report(axial_case.source, slice_markups(axial_case) + all_markups(axial_case)[1:2])
    write_sr(
        report, axial_case.source, tmp_path / "sr.dcm", ReportOptions(coordinates="2d", image_library=False)
    )
    back = read_sr(tmp_path / "sr.dcm")  # 2D coordinates and nowhere to place them
    assert any("were not loaded" in w for w in back.warnings)
    assert [m.name for m in back.markups()] == ["Diameter"]  # the 3D line still loads
    assert {r["tracking id"] for r in back.rows()} >= {"Axis", "Corner", "Ring", "Diameter"}
    if series_case.source.series_instance_uid != axial_case.source.series_instance_uid:
        other = read_sr(tmp_path / "sr.dcm", source=series_case.source)
        assert any("not in the given source" in w for w in other.warnings)


def _sr_dataset(case, tmp_path):
    report = build_report(case.source, all_markups(case))
    write_sr(report, case.source, tmp_path / "sr.dcm")
    return pydicom.dcmread(tmp_path / "sr.dcm")


def _groups(ds):
    imaging = [
        i
        for i in ds.ContentSequence
        if i.ValueType == "CONTAINER" and i.ConceptNameCodeSequence[0].CodeValue == "126010"
    ]
    return imaging[0].ContentSequence


def _item(value_type, value, scheme, meaning, relationship="CONTAINS"):
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = value, scheme, meaning
    item.ConceptNameCodeSequence = [name]
    return item


def test_content_we_do_not_understand_is_listed_and_the_rest_loads(axial_case, tmp_path):
    ds = _sr_dataset(axial_case, tmp_path)
    groups = _groups(ds)
    odd = _item("CONTAINER", "99999", "99TEST", "Odd container")
    odd.ContinuityOfContent = "SEPARATE"
    groups[0].ContentSequence.append(odd)
    num = _item("NUM", "410668003", "SCT", "Length")  # no measured value
    groups[1].ContentSequence.append(num)
    bad = _item("SCOORD3D", "111030", "DCM", "Image Region")
    bad.GraphicType, bad.GraphicData, bad.ReferencedFrameOfReferenceUID = "POINT", [1.0, 2.0], "1.2.3"
    groups[2].ContentSequence.append(bad)
    spline = _item("SCOORD3D", "111030", "DCM", "Image Region")
    spline.GraphicType, spline.GraphicData, spline.ReferencedFrameOfReferenceUID = (
        "SPLINE",
        [1.0, 2.0, 3.0] * 3,
        "1.2.3",
    )
    groups[3].ContentSequence = [i for i in groups[3].ContentSequence if i.ValueType != "SCOORD3D"] + [spline]
    byref = Dataset()
    byref.RelationshipType = "CONTAINS"
    byref.ReferencedContentItemIdentifier = [1, 1]
    groups[4].ContentSequence.append(byref)
    ds.ContentSequence.append(_item("TEXT", "121106", "DCM", "Comment"))
    ds.ContentSequence[-1].TextValue = "hello"
    report = read_sr_dataset(ds, name="edited")
    text = "\n".join(report.warnings)
    assert "Odd container" in text and "Comment" in text and "by-reference item" in text
    assert "without valid coordinates" in text and "'SPLINE' is not understood" in text
    assert len(report.groups) == 8
    # group 4 (the line) lost its only region to the SPLINE: every other markup loads
    assert {m.name for m in report.markups()} == {"Lesions", "Vessel", "Outline", "Angle", "Box"}
    lengths = [m for m in report.groups[1].measurements if m.value is None]
    assert len(lengths) == 1  # the NUM without a value is still listed (no value)


def _items(ds):
    for item in ds.get("ContentSequence", []):
        yield item
        yield from _items(item)


@pytest.mark.parametrize(
    "keyword",
    [
        "ValueType",
        "ConceptNameCodeSequence",
        "GraphicData",
        "GraphicType",
        "MeasuredValueSequence",
        "ContentSequence",
        "ConceptCodeSequence",
        "ReferencedSOPSequence",
        "TextValue",
        "UID",
        "ReferencedFrameOfReferenceUID",
        "MeasurementUnitsCodeSequence",
    ],
)
def test_removing_any_attribute_anywhere_never_crashes_the_reader(axial_with_seg, tmp_path, keyword):
    case, seg_path = axial_with_seg
    seg = SegAttachment.read(seg_path)
    findings = [ImageFinding(Annotation(finding=pydicom.sr.coding.Code("56208002", "SCT", "Ulcer")))]
    report = build_report(case.source, all_markups(case) + slice_markups(case), seg=seg, findings=findings)
    write_sr(
        report,
        case.source,
        tmp_path / "sr.dcm",
        ReportOptions(coordinates="2d", image_library=False),
        segs=[seg.dataset],
    )
    original = pydicom.dcmread(tmp_path / "sr.dcm")
    n = sum(1 for _ in _items(original))
    for index in range(len(keyword) % 3, n, 3):  # every third item, a different third per keyword
        ds = copy.deepcopy(original)
        for i, item in enumerate(_items(ds)):
            if i == index:
                if keyword in item:
                    del item[keyword]
                elif "MeasuredValueSequence" in item and keyword == "MeasurementUnitsCodeSequence":
                    del item.MeasuredValueSequence[0][keyword]
                break
        try:
            read_sr_dataset(ds, source=case.source, segs=[seg_path]).markups()
        except DicomAIError:
            pass


def test_files_that_are_not_srs_are_refused(axial_with_seg):
    case, seg_path = axial_with_seg
    with pytest.raises(UnsupportedObjectError, match="not a DICOM Structured Report"):
        read_sr(seg_path)
    with pytest.raises(InputError, match="cannot read"):
        read_sr(case.folder)


def test_duplicate_markup_names_and_empty_reports_are_refused(axial_case):
    m = all_markups(axial_case)[1]
    with pytest.raises(MetadataError, match="used more than once"):
        build_report(axial_case.source, [m, m])
    with pytest.raises(InputError, match="nothing to report"):
        build_report(axial_case.source, [])
    with pytest.raises(MetadataError, match="markup 'Nope'"):
        build_report(axial_case.source, [m], findings=[ImageFinding(Annotation(), markup="Nope")])


def test_a_labelmap_seg_is_referenced_with_a_warning_about_dciodvfy(axial_case, tmp_path):
    from dicomai.seg.content import SegmentationContent, SegmentInfo
    from dicomai.seg.encode import write_seg
    from dicomai.seg.options import SegOptions

    seg_path = tmp_path / "labelmap.dcm"
    lab = (axial_case.labels == 1).astype(np.uint8)
    content = SegmentationContent.from_labelmap(lab, axial_case.grid, [SegmentInfo(1, "Liver")])
    write_seg(content, axial_case.source, seg_path, SegOptions(segmentation_type="LABELMAP"))
    report = build_report(axial_case.source, seg=SegAttachment.read(seg_path))
    assert [w for w in report.warnings if "Label Map Segmentation" in w and "BINARY" in w]
    binary = tmp_path / "binary.dcm"
    write_seg(content, axial_case.source, binary)
    assert not [
        w
        for w in build_report(axial_case.source, seg=SegAttachment.read(binary)).warnings
        if "Label Map" in w
    ]
