"""SRs written by others: highdicom's and Iowa2DICOM's in ../shared/data/realdata, pydicom's
non-TID 1500 document, and one that dcmqi's tid1500writer makes here from our CT and SEG."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pydicom
import pytest
from pydicom.sr.coding import Code
from sr_cases import write_organ_seg

import peers
from dicomai.cli import main as cli
from dicomai.source import read_source_series
from dicomai.sr import concepts as C
from dicomai.sr.decode import read_sr


def test_highdicom_planar_sr_loads_its_circle_on_the_referenced_ct(realdata):
    source = read_source_series(realdata / "pydicom" / "CT_small.dcm")
    report = read_sr(realdata / "highdicom" / "sr_document.dcm", source=source)
    assert report.template_id == "1500" and report.person.name == "Foo"
    (g,) = report.groups
    assert g.tracking_id == "Planar ROI Measurements" and g.finding == Code("T-A7010", "SRT", "Spinal cord")
    assert g.finding_sites == [Code("T-D00F7", "SRT", "Cervico-thoracic spine")]
    assert g.finding_site_modifiers == [Code("T-11531", "SRT", "Vertebral foramen")]
    m = g.measurements[0]
    assert (
        m.value == 1.7
        and m.unit.value == "cm2"
        and m.quantity == Code("131184002", "SCT", "Area of defined region")
    )
    (r,) = g.regions
    assert r.is_2d and r.graphic_type == "CIRCLE"
    # the circle's centre pixel, placed through the CT's own geometry
    ds = pydicom.dcmread(realdata / "pydicom" / "CT_small.dcm", stop_before_pixels=True)
    col, row = r.pixels[0]
    ipp = np.asarray(ds.ImagePositionPatient, float)
    iop = np.asarray(ds.ImageOrientationPatient, float)
    rs, cs = (float(v) for v in ds.PixelSpacing)
    expected = ipp + iop[:3] * cs * (col - 0.5) + iop[3:] * rs * (row - 0.5)
    np.testing.assert_allclose(r.points[0], expected, atol=1e-6)
    (markup,) = report.markups()
    assert markup.kind == "closed_curve" and len(markup.points) == 32
    radius = np.linalg.norm(markup.points - r.points[0], axis=1)
    np.testing.assert_allclose(radius, np.linalg.norm(r.points[1] - r.points[0]), rtol=1e-9)
    assert not report.warnings


def test_highdicom_sr_without_its_image_loads_with_a_warning(realdata):
    report = read_sr(realdata / "highdicom" / "sr_document_with_multiple_groups.dcm")
    assert len(report.groups) == 4
    assert any("not loaded" in w for w in report.warnings)
    rows = report.rows()
    measured = sorted(
        (r["tracking id"], r["quantity"], r["value"], r["unit"]) for r in rows if r["kind"] == "measurement"
    )
    assert measured[1][2] == pytest.approx(-119.07385253906, abs=1e-9)
    assert {m for m in measured if m[0] != "Image0001"} == {
        ("LungNodule0001", "Diameter", 10.0, "mm"),
        ("Aorta0001", "Diameter", 20.0, "mm"),
        ("Vertebra0001", "Volume", 200.0, "mm3"),
    }
    evaluations = {(r["tracking id"], r["quantity"], r["value"]) for r in rows if r["kind"] == "evaluation"}
    assert ("LungNodule0001", "Level of Significance", "Not significant") in evaluations
    # the volume surface POINT loads as a point, in a point list named after the finding
    (point_list,) = report.markups()
    assert (
        point_list.kind == "points"
        and point_list.name == "Vertebra"
        and point_list.labels == ["Vertebra0001"]
    )
    np.testing.assert_allclose(point_list.points[0], [123.5, 234.1, -23.7], atol=1e-4)


def test_highdicom_sr_with_its_image_loads_every_region(realdata):
    source = read_source_series(realdata / "pydicom" / "CT_small.dcm")
    report = read_sr(realdata / "highdicom" / "sr_document_with_multiple_groups.dcm", source=source)
    assert not report.warnings
    kinds = sorted((m.name, m.kind) for m in report.markups())
    # an open POLYLINE of 4 points, a CIRCLE, a POINT
    assert kinds == [("Aorta0001", "curve"), ("LungNodule0001", "closed_curve"), ("Vertebra", "points")]


def test_iowa2dicom_pet_sr_reads_all_22_measurements(realdata):
    path = realdata / "dcmqi" / "sr-example" / "sr.dcm"
    report = read_sr(path, segs=[realdata / "dcmqi" / "sr-example" / "seg.dcm"])
    (g,) = report.groups
    assert (
        g.template == "1411" and g.tracking_id == "primary tumor" and g.session == "1" and g.time_point == "1"
    )
    assert g.segment.segment_number == 1 and g.segment.label == "Neoplasm, Primary"
    assert g.method == Code("126410", "DCM", "SUV body weight calculation method")
    assert len(g.measurements) == 22
    mean = next(m for m in g.measurements if m.derivation == Code("373098007", "SCT", "Mean"))
    assert mean.value == 6.01529 and mean.unit.value == "{SUVbw}g/ml"
    volume = g.measurement(C.VOLUME)
    assert volume.value == 33.5824 and volume.unit.value == "ml"
    assert volume.method == Code("126030", "DCM", "Sum of segmented voxel volumes")
    assert report.person.name == "User2"
    assert report.procedure_reported == [Code("44139-4", "LN", "PET whole body")]
    assert not [w for w in report.warnings if "not understood" in w]
    rows = report.rows()
    assert len(rows) == 22 and {r["referenced segment"] for r in rows} == {"Neoplasm, Primary (#1)"}


def test_iowa2dicom_sr_without_its_references_loads_with_a_warning(realdata):
    report = read_sr(realdata / "dcmqi" / "sr-example" / "sr.dcm")
    assert len(report.groups[0].measurements) == 22
    assert any("was not given" in w for w in report.warnings)


def test_non_tid1500_sr_is_read_generically_with_warnings(realdata):
    report = read_sr(realdata / "pydicom" / "test-SR.dcm")
    assert report.warnings and "not a TID 1500" in report.warnings[0]
    assert any(m.value == 3 and m.unit.value == "cm" for g in report.groups for m in g.measurements)


def test_info_describes_every_real_sr(realdata, capsys):
    files = [
        realdata / "highdicom" / "sr_document.dcm",
        realdata / "highdicom" / "sr_document_with_multiple_groups.dcm",
        realdata / "dcmqi" / "sr-example" / "sr.dcm",
        realdata / "pydicom" / "test-SR.dcm",
    ]
    assert cli(["info", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "TID 1500 Imaging Measurement Report" in out and "SUVbw (Mean) = 6.01529" in out
    assert cli(["info", "--json", str(files[2])]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "SR" and info["measurement_count"] == 22 and info["template"] == "1500"


# ------------------------------------------------------------------------ dcmqi tid1500writer
def _code(value, scheme, meaning):
    return {"CodeValue": value, "CodingSchemeDesignator": scheme, "CodeMeaning": meaning}


def test_sr_made_by_dcmqi_tid1500writer_reads_with_all_its_measurements(axial_case, tmp_path):
    peers.require("tid1500writer")
    case = axial_case
    seg_path = write_organ_seg(case, tmp_path / "ctx" / "organs.seg.dcm")
    seg = pydicom.dcmread(seg_path, stop_before_pixels=True)
    numbers = {str(s.SegmentLabel): int(s.SegmentNumber) for s in seg.SegmentSequence}
    images = tmp_path / "images"
    images.mkdir()
    for f in case.source.files:
        shutil.copy(f, images)
    hu = _code("[hnsf'U]", "UCUM", "Hounsfield unit")
    groups = []
    expected = {}
    for label, volume, mean, sd in (("Liver", 1234.5, 61.5, 10.25), ("Spleen", 432.125, 47.0, 8.5)):
        groups.append(
            {
                "TrackingIdentifier": f"{label} measurements",
                "ReferencedSegment": numbers[label],
                "SourceSeriesForImageSegmentation": case.source.series_instance_uid,
                "segmentationSOPInstanceUID": str(seg.SOPInstanceUID),
                "Finding": _code("113343008", "SCT", "Organ"),
                "FindingSite": _code("10200004", "SCT", "Liver")
                if label == "Liver"
                else _code("78961009", "SCT", "Spleen"),
                "measurementItems": [
                    {
                        "value": str(volume),
                        "quantity": _code("118565006", "SCT", "Volume"),
                        "units": _code("mm3", "UCUM", "cubic millimeter"),
                    },
                    {
                        "value": str(mean),
                        "quantity": _code("112031", "DCM", "Attenuation Coefficient"),
                        "units": hu,
                        "derivationModifier": _code("373098007", "SCT", "Mean"),
                    },
                    {
                        "value": str(sd),
                        "quantity": _code("112031", "DCM", "Attenuation Coefficient"),
                        "units": hu,
                        "derivationModifier": _code("386136009", "SCT", "Standard Deviation"),
                    },
                ],
                "qualitativeEvaluations": [
                    {
                        "conceptCode": _code("246112005", "SCT", "Severity"),
                        "conceptValue": _code("255604002", "SCT", "Mild"),
                    }
                ],
            }
        )
        expected[f"{label} measurements"] = (label, sorted([volume, mean, sd]))
    meta = {
        "SeriesDescription": "dcmqi organ measurements",
        "SeriesNumber": "700",
        "InstanceNumber": "1",
        "compositeContext": [seg_path.name],
        "imageLibrary": [p.name for p in sorted(images.iterdir())],
        "observerContext": {
            "ObserverType": "DEVICE",
            "DeviceObserverName": "OrganNet",
            "DeviceObserverUID": "1.2.3.4.5.6.7.8.9",
        },
        "VerificationFlag": "UNVERIFIED",
        "CompletionFlag": "COMPLETE",
        "activitySession": "1",
        "timePoint": "1",
        "procedureReported": _code("25045-6", "LN", "CT unspecified body region"),
        "Measurements": groups,
    }
    meta_path = tmp_path / "sr.json"
    meta_path.write_text(json.dumps(meta, indent=1))
    sr_path = peers.tid1500writer(meta_path, images, tmp_path / "ctx", tmp_path / "dcmqi-sr.dcm")

    report = read_sr(sr_path, source=case.source, segs=[seg_path])
    assert not [w for w in report.warnings if "not understood" in w], report.warnings
    assert report.device.name == "OrganNet" and report.device.uid == "1.2.3.4.5.6.7.8.9"
    assert report.complete
    got = {}
    for g in report.groups:
        assert g.template == "1411" and g.segment.sop_instance_uid == str(seg.SOPInstanceUID)
        assert g.evaluations[0].value == Code("255604002", "SCT", "Mild")
        got[g.tracking_id] = (g.segment.label, sorted(float(m.value) for m in g.measurements))
    assert got == expected
    rows = report.rows()
    assert len([r for r in rows if r["kind"] == "measurement"]) == 6
    units = {r["unit"] for r in rows if r["kind"] == "measurement"}
    assert units == {"mm3", "[hnsf'U]"}
    derivations = {r["derivation"] for r in rows if r["kind"] == "measurement"}
    assert derivations == {"", "Mean", "Standard Deviation"}
