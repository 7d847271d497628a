"""``dicomai export-sc``: pictures and rendered SEG/SR overlays as Secondary Capture, judged by
dciodvfy, highdicom and dcmjs; ``dicomai info`` describes them."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from PIL import Image

import peers
from dicomai.cli import main as cli
from dicomai.sopclasses import SECONDARY_CAPTURE_IMAGE_STORAGE


def _judge(path):
    """dciodvfy 0 errors; highdicom and dcmjs read it; returns (dataset, dcmjs JSON)."""
    import highdicom as hd

    peers.require("dciodvfy")
    peers.require("dcmjs")
    result = peers.dciodvfy(path)
    assert result.errors == [], result.output
    ds = pydicom.dcmread(str(path))
    image = hd.imread(str(path))
    assert np.array_equal(image.get_frame(1), ds.pixel_array)
    js = peers.dcmjs_read(path)
    assert js["kind"] == "SC" and js["pixelDataLengthOk"] is True
    assert (
        js["pixelDataByteSum"] == int(np.asarray(ds.pixel_array, dtype=np.uint8).sum())
        or ds.BitsAllocated == 16
    )
    return ds, js


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(40, 64, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, size=(30, 20), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(10, 12, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    Image.fromarray(rgb, "RGB").save(folder / "chart.png")
    Image.fromarray(grey, "L").save(folder / "grey.png")
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    return folder, rgb, grey, rgba


def test_pictures_become_one_new_series_in_the_source_study(pictures, case, tmp_path, capsys):
    folder, rgb, grey, rgba = pictures
    out = tmp_path / "sc"
    status = cli(["export-sc", "--source", str(case.ct), "--image", str(folder / "chart.png"),
                  str(folder / "grey.png"), str(folder / "rgba.png"), "--out", str(out),
                  "--series-description", "Charts", "--json"])  # fmt: skip
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert [p.split("/")[-1] for p in result["written"]] == ["sc-001.dcm", "sc-002.dcm", "sc-003.dcm"]
    ct = pydicom.dcmread(str(case.series.files[0]), stop_before_pixels=True)
    series = set()
    for path, expected, photometric in zip(
        result["written"], (rgb, grey, rgba[..., :3]), ("RGB", "MONOCHROME2", "RGB")
    ):
        ds, js = _judge(path)
        assert ds.SOPClassUID == SECONDARY_CAPTURE_IMAGE_STORAGE
        assert ds.PhotometricInterpretation == photometric == js["photometricInterpretation"]
        assert np.array_equal(ds.pixel_array, expected)
        assert ds.BurnedInAnnotation == "YES"
        assert ds.SeriesDescription == "Charts"
        for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "StudyID", "AccessionNumber"):
            assert ds[keyword].value == ct[keyword].value, keyword
        assert ds.SeriesInstanceUID != ct.SeriesInstanceUID
        series.add(ds.SeriesInstanceUID)
    assert series == {result["series_instance_uid"]}


def test_one_picture_to_one_file_with_burned_in_annotation_no(pictures, case, tmp_path):
    folder, rgb, _, _ = pictures
    out = tmp_path / "one.dcm"
    args = ["export-sc", "--source", str(case.ct), "--image", str(folder / "chart.png"), "--out", str(out)]
    assert cli([*args, "--burned-in-annotation", "no", "-q"]) == 0
    assert pydicom.dcmread(str(out)).BurnedInAnnotation == "NO"
    assert cli(args) == 1  # exists: no overwrite without --overwrite


def test_rendered_overlay_shows_segments_in_their_seg_colours_and_the_sr_line(case, tmp_path, capsys):
    out = tmp_path / "overlay"
    status = cli(["export-sc", "--source", str(case.ct), "--seg", str(case.seg), "--sr", str(case.sr),
                  "--out", str(out), "--caption", "NOT FOR DIAGNOSTIC USE", "--json"])  # fmt: skip
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    from dicomai.seg.decode import read_seg
    from dicomai.source import read_source_series

    source = read_source_series(case.ct)
    content = read_seg(case.seg, source)
    # auto: the slice of each segment's largest area, and the slice of the line
    expected = {int(np.argmax(content.mask(s.number).sum(axis=(1, 2)))) for s in content.segments}
    expected.add(case.line_slice)
    shows = [img["shows"] for img in result["images"]]
    assert shows == [f"axial slice {k + 1}" for k in sorted(expected)]
    for path, k in zip(result["written"], sorted(expected)):
        ds, _ = _judge(path)
        assert ds.PhotometricInterpretation == "RGB" and ds.BurnedInAnnotation == "YES"
        assert ds.PatientOrientation == ["L", "P"]
        assert [item.ReferencedSOPInstanceUID for item in ds.SourceImageSequence] == [
            source.sop_instance_uids[k]
        ]
        px = ds.pixel_array.reshape(-1, 3)
        colours = {tuple(int(v) for v in c) for c in np.unique(px, axis=0)}
        for s in content.segments:
            if content.mask(s.number)[k].any():
                assert tuple(s.color) in colours, (s.label, k)
        has_yellow = (255, 255, 0) in colours
        assert has_yellow == (k == case.line_slice), k
    info_status = cli(["info", result["written"][0], "--json"])
    assert info_status == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "SC" and info["photometric_interpretation"] == "RGB"
    assert info["burned_in_annotation"] == "YES" and info["number_of_frames"] == 1
    assert info["referenced_series"] == [{"series_instance_uid": source.series_instance_uid, "instances": 1}]


@pytest.mark.parametrize("plane", ["coronal", "sagittal"])
def test_other_planes_fill_style_and_chosen_slices(case, tmp_path, plane, capsys):
    out = tmp_path / plane
    assert cli(["export-sc", "--source", str(case.ct), "--seg", str(case.seg), "--plane", plane, "--style",
                "fill", "--opacity", "0.5", "--slices", "20,24", "--out", str(out), "-q"]) == 0  # fmt: skip
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 2
    for f in files:
        ds, _ = _judge(f)
        assert ds.PatientOrientation[1] == "F"  # superior at the top
        assert len(ds.SourceImageSequence) == 12
    assert "axial" not in capsys.readouterr().out


def test_bad_export_sc_input_is_one_line(case, tmp_path, capsys):
    cases = [
        (["--image", str(case.labels), "--seg", str(case.seg)], "either --image"),
        (["--image", str(case.labels)], "cannot read picture"),
        (["--seg", str(case.seg), "--slices", "0,99"], "slices 1..12"),
        (["--seg", str(case.seg), "--window", "40"], "CENTER,WIDTH"),
    ]
    for extra, expected in cases:
        assert cli(["export-sc", "--source", str(case.ct), *extra, "--out", str(tmp_path / "x")]) == 1
        err = [line for line in capsys.readouterr().err.splitlines() if line]
        assert len(err) == 1 and expected in err[0], err
        assert not (tmp_path / "x").exists()
