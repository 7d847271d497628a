"""The independent checkers work, on real files made here with pydicom + highdicom.

Quick: a 3-slice 16x16 CT, a two-segment BINARY SEG over it, and a TID 1500 SR written by dcmqi.
If these fail, every interop test that uses the peers is suspect, not the project's code.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import peers

pydicom = pytest.importorskip("pydicom")
hd = pytest.importorskip("highdicom")

N_SLICES, SIZE, SPACING_Z = 3, 16, 2.5
# segment 1: 4x5 voxels on slices 0-1 (40), segment 2: 2x3 voxels on slices 1-2 (12)
EXPECTED_VOXELS = {"1": 40, "2": 12}


def _ct_series(folder: Path) -> list:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame_of_ref = generate_uid(), generate_uid(), generate_uid()
    datasets = []
    for k in range(N_SLICES):
        sop = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame_of_ref
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Peers^Plumbing", "PEERS1", "", "O"
        ds.StudyDate, ds.StudyTime, ds.StudyID = "20240101", "120000", "1"
        ds.AccessionNumber, ds.ReferringPhysicianName = "", ""
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, k + 1
        ds.Manufacturer, ds.PositionReferenceIndicator, ds.PatientPosition = "test", "", "HFS"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImagePositionPatient = [0.0, 0.0, k * SPACING_Z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.8, 0.8], SPACING_Z
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.KVP, ds.AcquisitionNumber = 0, 1, 120, 1
        ds.PixelData = np.full((SIZE, SIZE), 40 + k, np.int16).tobytes()
        ds.save_as(folder / f"ct{k}.dcm", enforce_file_format=True)
        datasets.append(ds)
    return datasets


def _binary_seg(sources: list, out: Path, transfer_syntax: str | None = None) -> Path:
    from pydicom.uid import generate_uid

    labels = np.zeros((N_SLICES, SIZE, SIZE), np.uint8)
    labels[0:2, 4:8, 4:9] = 1
    labels[1:3, 10:12, 10:13] = 2
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=label,
            segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
            segmented_property_type=hd.sr.CodedConcept(code, "SCT", meaning),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                name="plumbing", version="1", family=hd.sr.CodedConcept("123109", "DCM", "Manual Processing")
            ),
        )
        for number, label, code, meaning in [
            (1, "liver", "10200004", "Liver"),
            (2, "spot", "4147007", "Mass"),
        ]
    ]
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=labels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=2,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="DicomAI tests",
        manufacturer_model_name="plumbing",
        software_versions="1",
        device_serial_number="1",
    )
    if transfer_syntax:
        seg.file_meta.TransferSyntaxUID = transfer_syntax
    seg.save_as(out)
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("plumbing")
    sources = _ct_series(root / "ct")
    (root / "seg").mkdir()
    return {
        "ct": root / "ct",
        "ct_files": sorted((root / "ct").glob("*.dcm")),
        "sources": sources,
        "seg": _binary_seg(sources, root / "seg" / "seg.dcm"),
    }


def test_dciodvfy_and_dcentvfy_pass_a_highdicom_seg(case):
    peers.require("dciodvfy")
    peers.require("dcentvfy")
    result = peers.dciodvfy(case["seg"])
    assert result.errors == [], result.output
    assert "Segmentation" in result.output  # it recognised the IOD
    entities = peers.dcentvfy([case["seg"], *case["ct_files"]])
    assert entities.errors == [], entities.output


def test_dciodvfy_reports_errors_it_finds(case, tmp_path):
    peers.require("dciodvfy")
    broken = pydicom.dcmread(case["seg"])
    del broken.SegmentSequence[0].SegmentLabel  # type 1 in the Segment Description macro
    broken.save_as(tmp_path / "broken.dcm")
    result = peers.dciodvfy(tmp_path / "broken.dcm")
    assert result.errors and not result.ok
    assert any("SegmentLabel" in e for e in result.errors), result.output


def test_dciodvfy_validates_deflated_files_through_an_inflated_copy(case, tmp_path):
    peers.require("dciodvfy")
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    deflated = _binary_seg(case["sources"], tmp_path / "deflated.dcm", DeflatedExplicitVRLittleEndian)
    assert str(pydicom.dcmread(deflated).file_meta.TransferSyntaxUID) == DeflatedExplicitVRLittleEndian
    result = peers.dciodvfy(deflated)
    assert "inflated copy" in result.output
    assert result.errors == [], result.output


def test_dcmjs_reads_segments_frames_and_voxels(case):
    peers.require("dcmjs")
    info = peers.dcmjs_read(case["seg"], [case["ct"]])
    assert info["sopClassUID"] == "1.2.840.10008.5.1.4.1.1.66.4"
    assert info["segmentationType"] == "BINARY"
    assert (info["rows"], info["columns"], info["numberOfFrames"]) == (SIZE, SIZE, 4)
    assert info["pixelDataLengthOk"] is True
    segments = [(s["number"], s["label"], s["frames"]) for s in info["segments"]]
    assert segments == [(1, "liver", 2), (2, "spot", 2)]
    assert info["segments"][1]["type"] == {"value": "4147007", "scheme": "SCT", "meaning": "Mass"}
    assert info["voxelCountsMethod"] == "dcmjs-legacy-adapter"
    assert info["voxelCounts"] == EXPECTED_VOXELS
    assert info["voxelCountsOwn"] == EXPECTED_VOXELS
    # without sources: header facts only
    bare = peers.dcmjs_read(case["seg"])
    assert "voxelCounts" not in bare and bare["numberOfFrames"] == 4


def test_dcmjs_reader_exit_codes(tmp_path):
    peers.require("dcmjs")
    not_dicom = tmp_path / "not.dcm"
    not_dicom.write_bytes(b"hello")
    info = peers.dcmjs_read(not_dicom, check=False)
    assert info["exitCode"] == 1 and info["problems"], info
    with pytest.raises(AssertionError, match="problems"):
        peers.dcmjs_read(not_dicom)
    usage = subprocess.run(["node", str(peers.READ_DICOM_MJS)], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_dcmqi_converts_the_seg_both_ways(case, tmp_path):
    peers.require("segimage2itkimage")
    peers.require("itkimage2segimage")
    sitk = pytest.importorskip("SimpleITK")
    outputs = peers.segimage2itkimage(case["seg"], tmp_path / "nrrd")
    nrrds, meta = outputs[:-1], outputs[-1]
    assert meta.suffix == ".json" and all(p.suffix == ".nrrd" for p in nrrds)
    attributes = json.loads(meta.read_text())["segmentAttributes"]
    labels = [a["SegmentLabel"] for group in attributes for a in group]
    assert labels == ["liver", "spot"]
    # one NRRD per group of segments; within a file each segment is its labelID
    counts = {}
    for nrrd, group in zip(nrrds, attributes):
        array = sitk.GetArrayFromImage(sitk.ReadImage(str(nrrd)))
        assert array.shape == (N_SLICES, SIZE, SIZE)
        for a in group:
            counts[a["SegmentLabel"]] = int((array == a["labelID"]).sum())
    assert counts == {"liver": EXPECTED_VOXELS["1"], "spot": EXPECTED_VOXELS["2"]}

    # and back: dcmqi writes a SEG from its own NRRDs + meta, which dcmjs then reads the same way
    seg2 = peers.itkimage2segimage(nrrds, case["ct"], meta, tmp_path / "dcmqi_seg.dcm")
    if peers.have("dcmjs"):
        info = peers.dcmjs_read(seg2, [case["ct"]])
        assert info["voxelCounts"] == EXPECTED_VOXELS
    # (dciodvfy is not asked about seg2: dcmqi 1.5.7 copies the empty ClinicalTrialSeriesID from its
    # meta JSON, which makes dciodvfy want the rest of the Clinical Trial Series module)


def test_dcmqi_sr_read_by_dsrdump_dcmjs_and_tid1500reader(case, tmp_path):
    for tool in ("tid1500writer", "tid1500reader", "dsrdump", "dcmjs", "dciodvfy"):
        peers.require(tool)
    seg = pydicom.dcmread(case["seg"], stop_before_pixels=True)
    metadata = {
        "SeriesDescription": "Measurements",
        "SeriesNumber": "1001",
        "InstanceNumber": "1",
        "compositeContext": [case["seg"].name],
        "imageLibrary": [p.name for p in case["ct_files"]],
        "observerContext": {"ObserverType": "PERSON", "PersonObserverName": "Reader^One"},
        "VerificationFlag": "UNVERIFIED",
        "CompletionFlag": "COMPLETE",
        "activitySession": "1",
        "timePoint": "1",
        "Measurements": [
            {
                "TrackingIdentifier": "liver",
                "ReferencedSegment": 1,
                "SourceSeriesForImageSegmentation": seg.ReferencedSeriesSequence[0].SeriesInstanceUID,
                "segmentationSOPInstanceUID": seg.SOPInstanceUID,
                "Finding": {"CodeValue": "10200004", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Liver"},
                "measurementItems": [
                    {
                        "value": "0.0256",
                        "quantity": {
                            "CodeValue": "118565006",
                            "CodingSchemeDesignator": "SCT",
                            "CodeMeaning": "Volume",
                        },
                        "units": {
                            "CodeValue": "ml",
                            "CodingSchemeDesignator": "UCUM",
                            "CodeMeaning": "milliliter",
                        },
                    }
                ],
            }
        ],
    }
    (tmp_path / "sr.json").write_text(json.dumps(metadata))
    sr = peers.tid1500writer(tmp_path / "sr.json", case["ct"], case["seg"].parent, tmp_path / "sr.dcm")

    assert peers.dciodvfy(sr).errors == []
    ok, dump = peers.dsrdump(sr)
    assert ok, dump
    assert "Imaging Measurement Report" in dump

    back = peers.tid1500reader(sr)
    assert back["Measurements"][0]["TrackingIdentifier"] == "liver"
    assert float(back["Measurements"][0]["measurementItems"][0]["value"]) == pytest.approx(0.0256)

    info = peers.dcmjs_read(sr)
    assert info["title"] == "Imaging Measurement Report" and info["templateIdentifier"] == "1500"
    [group] = info["measurementGroups"]
    assert group["trackingIdentifier"] == "liver"
    assert group["findings"] == [{"value": "10200004", "scheme": "SCT", "meaning": "Liver"}]
    assert group["referencedSegments"] == [{"sopInstanceUID": seg.SOPInstanceUID, "segmentNumbers": [1]}]
    assert group["measurements"][0]["concept"] == "Volume"
    assert group["measurements"][0]["value"] == pytest.approx(0.0256)
    assert group["measurements"][0]["unit"] == "ml"


def test_require_skips_or_fails_on_a_missing_tool(monkeypatch):
    monkeypatch.delenv("DICOMAI_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make peers"):
        peers.require("no-such-checker-xyz")
    monkeypatch.setenv("DICOMAI_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match="DICOMAI_REQUIRE_PEERS"):
        peers.require("no-such-checker-xyz")
    assert not peers.have("no-such-checker-xyz")
