"""Label values survive the round trip: a labelmap holding {1, 2, 3, 7} (or a TotalSegmentator
subset {1, 2, 3, 5, 27, 31, 52, 63}) comes back with the same values from ``export-seg`` ->
``import-seg`` with no option; the SEG stays valid for dciodvfy and readable by dcmqi. With
``import-seg --metadata`` the segments of any SEG (here dcmqi's and highdicom's) take the labelIDs
of a metadata file, matched by code, then by label.
"""

from __future__ import annotations

import json

import highdicom as hd
import numpy as np
import pytest
from series_cases import write_case

import peers
from dicomai.cli import main as cli
from dicomai.imageio import read_image, write_image
from dicomai.source import read_source_series
from dicomai_samples import dcmqi_metadata, phantom_segments


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("values")
    info, labels = write_case(folder / "src", "oblique")
    return info, labels, read_source_series(info.folder), folder


def _renumbered(labels, values):
    out = np.zeros(labels.shape, np.uint8)
    for old, new in zip(range(1, 6), values):
        out[labels == old] = new
    return out


@pytest.mark.parametrize("seg_type", ["binary", "labelmap"])
@pytest.mark.parametrize("values", [(1, 2, 3, 7, 0), (5, 27, 52, 63, 31)], ids=["1237", "totalseg"])
def test_export_then_import_keeps_label_values(case, seg_type, values, tmp_path, capsys):
    info, labels, source, _ = case
    lab = _renumbered(labels, values)
    path = tmp_path / "labels.nii.gz"
    write_image(path, lab, source.grid)
    seg = tmp_path / "seg.dcm"
    args = ["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(seg)]
    assert cli([*args, "--type", seg_type, "-q"]) == 0
    back = tmp_path / "back.nii.gz"
    assert cli(["import-seg", str(seg), "--source", str(info.folder), "--out", str(back), "-q"]) == 0
    arr, _ = read_image(back)
    assert np.array_equal(arr, lab)
    meta = json.loads((tmp_path / "back.json").read_text())
    assert sorted(a["labelID"] for a in meta["segmentAttributes"][0]) == sorted(v for v in values if v)
    # a Slicer segmentation file keeps them too
    nrrd = tmp_path / "slicer.seg.nrrd"
    assert cli(["import-seg", str(seg), "--source", str(info.folder), "--out", str(nrrd), "-q"]) == 0
    from dicomai.imageio import read_seg_nrrd

    content = read_seg_nrrd(nrrd)
    assert sorted(s.label_value for s in content.segments) == sorted(v for v in values if v)
    assert np.array_equal(content.layers[0], lab)


@pytest.mark.interop
@pytest.mark.parametrize("seg_type", ["binary", "labelmap"])
def test_recorded_label_values_keep_the_seg_valid_and_readable_by_dcmqi(case, seg_type, tmp_path):
    peers.require("dciodvfy")
    info, labels, source, _ = case
    lab = _renumbered(labels, (5, 27, 52, 63, 31))
    path = tmp_path / "labels.nrrd"
    write_image(path, lab, source.grid)
    seg = tmp_path / "seg.dcm"
    args = ["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(seg)]
    assert cli([*args, "--type", seg_type, "-q"]) == 0
    result = peers.dciodvfy(seg)
    assert result.errors == [], str(result)
    if seg_type == "binary":
        files = peers.segimage2itkimage(seg, tmp_path / "dcmqi")
        assert len([f for f in files if f.suffix == ".nrrd"]) == 5  # dcmqi reads every segment


def _shuffled_metadata(tmp_path, drop_label=None):
    """The phantom's segments under other labelIDs, in another order, one maybe missing."""
    new_ids = {1: 5, 2: 27, 3: 2, 4: 3, 5: 90}
    segs = []
    for s in reversed(phantom_segments()):
        if s["SegmentLabel"] == drop_label:
            continue
        s = dict(s, labelID=new_ids[s["labelID"]])
        segs.append(s)
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(dcmqi_metadata(segs)))
    return path, new_ids


@pytest.mark.interop
def test_import_metadata_maps_a_dcmqi_seg_by_code(case, tmp_path, capsys):
    info, labels, source, folder = case
    nrrd = tmp_path / "labels.nrrd"
    write_image(nrrd, labels, source.grid)
    meta_in = tmp_path / "meta.json"
    meta_in.write_text(json.dumps(dcmqi_metadata(phantom_segments())))
    seg = peers.itkimage2segimage(nrrd, info.folder, meta_in, tmp_path / "dcmqi.dcm")
    ids, new_ids = _shuffled_metadata(tmp_path)
    back = tmp_path / "back.nrrd"
    assert (
        cli(
            ["import-seg", str(seg), "--source", str(info.folder), "--metadata", str(ids), "--out", str(back)]
        )
        == 0
    )
    arr, _ = read_image(back)
    expected = np.zeros_like(labels)
    for old, new in new_ids.items():
        expected[labels == old] = new
    assert np.array_equal(arr, expected)
    assert "found no labelID" not in capsys.readouterr().err


def test_import_metadata_maps_a_highdicom_seg_and_reports_what_found_no_label_id(case, tmp_path, capsys):
    info, labels, source, _ = case
    import pydicom
    from pydicom.sr.codedict import codes

    images = [pydicom.dcmread(f) for f in info.files]
    images.sort(key=lambda ds: float(np.dot(ds.ImagePositionPatient, source.grid.slice_direction)))
    descriptions = []
    for i, s in enumerate(phantom_segments(), start=1):
        typ = s["SegmentedPropertyTypeCodeSequence"]
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=i,
                segment_label=s["SegmentLabel"].upper(),  # label spelling differs: matched by code
                segmented_property_category=codes.SCT.Tissue,
                segmented_property_type=hd.sr.CodedConcept(
                    typ["CodeValue"], typ["CodingSchemeDesignator"], typ["CodeMeaning"]
                ),
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
        )
    # category Tissue everywhere: the codes match only where the metadata says Tissue too, so
    # the segments are matched by label; kidney right/left share a type and differ by modifier
    # (not given here): the label decides
    seg_path = tmp_path / "hd.dcm"
    onehot = np.stack([labels == n for n in range(1, 6)], axis=-1).astype(np.uint8)
    hd.seg.Segmentation(
        source_images=images,
        pixel_array=onehot,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=9,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
    ).save_as(seg_path)
    ids, new_ids = _shuffled_metadata(tmp_path, drop_label="Liver lesion")
    back = tmp_path / "back.nii.gz"
    rc = cli(
        [
            "import-seg",
            str(seg_path),
            "--source",
            str(info.folder),
            "--metadata",
            str(ids),
            "--out",
            str(back),
        ]
    )
    assert rc == 0
    err = capsys.readouterr().err
    assert "1 segment(s) of" in err and "found no labelID" in err and "5 ('LIVER LESION')" in err
    arr, _ = read_image(back)
    expected = np.zeros_like(labels)
    for old, new in new_ids.items():
        expected[labels == old] = new if old != 5 else 28  # above every labelID of the metadata
    assert np.array_equal(arr, expected)


@pytest.mark.interop
def test_a_totalsegmentator_result_with_all_117_classes_passes_dciodvfy(case, tmp_path):
    peers.require("dciodvfy")
    info, _, source, _ = case
    lab = np.zeros(source.grid.shape, np.uint8).reshape(-1)
    for v in range(1, 118):
        lab[v * 100 : v * 100 + 40] = v
    path = tmp_path / "ts.nii.gz"
    write_image(path, lab.reshape(source.grid.shape), source.grid)
    for seg_type in ("binary", "labelmap"):
        seg = tmp_path / f"{seg_type}.dcm"
        args = [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(path),
            "--labels",
            "totalsegmentator",
        ]
        assert cli([*args, "--type", seg_type, "--out", str(seg), "-q"]) == 0
        result = peers.dciodvfy(seg)
        assert result.errors == [], str(result)
