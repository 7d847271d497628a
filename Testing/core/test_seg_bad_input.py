"""Bad input gets a clear error that names the input, and nothing partial is left behind."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from series_cases import write_case

import dicomai_samples as samples
from dicomai.cli import main as cli
from dicomai.errors import GeometryMismatchError, InputError, OutputExistsError, SourceSeriesError
from dicomai.geometry import Grid
from dicomai.imageio import read_image, write_image
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.encode import write_seg
from dicomai.source import read_source_series


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    info, labels = write_case(folder / "ct", "axial")
    return info, labels, folder


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def _grid_variants(grid: Grid):
    a = grid.affine
    moved = a.copy()
    moved[:3, 3] += [0.0, 0.0, 1.25]
    scaled = a.copy()
    scaled[:3, 1:3] *= 1.5
    rotated = a.copy()
    t = np.deg2rad(10.0)
    rotated[:3, :3] = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]) @ a[:3, :3]
    k, r, c = grid.shape
    return {
        "size": Grid((k, r, c + 2), a),
        "spacing": Grid(grid.shape, scaled),
        "origin": Grid(grid.shape, moved),
        "direction": Grid(grid.shape, rotated),
    }


# what differs -> how the error classifies it (the same voxels in another axis order are no error:
# test_nifti_geometry.py)
_WORDS = {
    "size": "extent:",
    "spacing": "spacing:",
    "origin": "shift:",
    "direction": "rotation: axes 10 degrees",
}


@pytest.mark.parametrize("what", ["size", "spacing", "origin", "direction"])
def test_labelmap_on_another_grid_is_an_error_that_prints_both_geometries(series, what, tmp_path, capsys):
    info, labels, _ = series
    source = read_source_series(info.folder)
    other = _grid_variants(source.grid)[what]
    lab = np.zeros(other.shape, np.uint8)
    lab[2:5, 3:9, 4:10] = 1
    path = tmp_path / "wrong.nrrd"
    write_image(path, lab, other)
    out = tmp_path / "out.dcm"
    rc = cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert _WORDS[what] in err
    assert f"{path}: size" in err and "the source series: size" in err
    assert source.grid.describe() in err and "never re" in err
    assert err.count("\n") == 1  # one line
    assert _listing(tmp_path) == ["wrong.nrrd"]
    with pytest.raises(GeometryMismatchError):
        write_seg(SegmentationContent.from_labelmap(lab, other, [SegmentInfo(1, "a")]), source, out)


def test_empty_labelmap_is_an_error(series, tmp_path, capsys):
    info, _, _ = series
    source = read_source_series(info.folder)
    path = tmp_path / "empty.nii.gz"
    write_image(path, np.zeros(source.grid.shape, np.uint8), source.grid)
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(path),
            "--out",
            str(tmp_path / "o.dcm"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "empty.nii.gz" in err and "empty" in err
    assert _listing(tmp_path) == ["empty.nii.gz"]


def test_label_values_without_metadata_are_named_segment_n_with_a_warning(series, tmp_path, capsys):
    info, labels, _ = series
    source = read_source_series(info.folder)
    path = tmp_path / "lab.nrrd"
    write_image(path, labels, source.grid)
    meta = tmp_path / "meta.json"
    meta.write_text(
        json.dumps(
            {
                "segmentAttributes": [
                    [{"labelID": 1, "SegmentLabel": "Liver"}, {"labelID": 42, "SegmentLabel": "Ghost"}]
                ]
            }
        )
    )
    out = tmp_path / "o.dcm"
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(path),
            "--metadata",
            str(meta),
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    result = json.loads(captured.out)
    assert [s["label"] for s in result["segments"]] == [
        "Liver",
        "Segment 2",
        "Segment 3",
        "Segment 4",
        "Segment 5",
    ]
    assert "does not describe" in captured.err and "2, 3, 4, 5" in captured.err
    assert "42" in captured.err and "Ghost" in captured.err and "do not occur" in captured.err


def test_existing_output_is_refused_unless_overwrite(series, tmp_path, capsys):
    info, labels, _ = series
    source = read_source_series(info.folder)
    path = tmp_path / "lab.nrrd"
    write_image(path, labels, source.grid)
    out = tmp_path / "o.dcm"
    out.write_bytes(b"precious")
    args = ["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out)]
    assert cli(args) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "pass --overwrite to" in err and "overwrite=True" not in err
    assert out.read_bytes() == b"precious"
    assert cli([*args, "--overwrite"]) == 0
    assert out.read_bytes()[128:132] == b"DICM"
    with pytest.raises(OutputExistsError):
        write_seg(SegmentationContent.from_labelmap(labels, source.grid, [SegmentInfo(1, "a")]), source, out)


def test_a_failure_inside_highdicom_leaves_no_partial_file(series, tmp_path, monkeypatch):
    """The highdicom engine crashing half-way (the fast engine: see test_fast_path)."""
    info, labels, _ = series
    source = read_source_series(info.folder)
    import highdicom

    def boom(self, *a, **k):
        with open(a[0], "wb") as f:  # half a file, then a crash
            f.write(b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(highdicom.seg.Segmentation, "save_as", boom)
    out = tmp_path / "o.dcm"
    content = SegmentationContent.from_labelmap(
        (labels == 1).astype(np.uint8), source.grid, [SegmentInfo(1, "x")]
    )
    with pytest.raises(OSError, match="disk full"):
        write_seg(content, source, out, engine="highdicom")
    assert os.listdir(tmp_path) == []


def test_import_failure_leaves_none_of_the_outputs(series, tmp_path, monkeypatch, capsys):
    info, labels, folder = series
    source = read_source_series(info.folder)
    seg = tmp_path / "s.dcm"
    write_seg(
        SegmentationContent.from_labelmap((labels == 1).astype(np.uint8), source.grid, [SegmentInfo(1, "x")]),
        source,
        seg,
    )
    import dicomai.seg.convert as convert

    def boom(path, *a, **k):
        raise OSError("cannot write json")

    real = convert.json.dumps
    monkeypatch.setattr(convert.json, "dumps", lambda *a, **k: boom(None))
    out = tmp_path / "out" / "lab.nrrd"
    assert cli(["import-seg", str(seg), "--out", str(out)]) == 1
    assert "cannot write json" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # not even the folder it made
    monkeypatch.setattr(convert.json, "dumps", real)


def test_segment_with_no_voxels_is_not_silently_dropped(series, tmp_path):
    info, labels, _ = series
    source = read_source_series(info.folder)
    lab = (labels == 1).astype(np.uint8)
    content = SegmentationContent.from_labelmap(
        lab, source.grid, [SegmentInfo(1, "liver"), SegmentInfo(7, "gone")]
    )
    with pytest.raises(InputError, match="'gone'"):
        write_seg(content, source, tmp_path / "o.dcm")
    assert os.listdir(tmp_path) == []


def test_source_with_two_series_names_both(series, tmp_path):
    info, labels, _ = series
    grid = samples.make_grid(shape=(3, 8, 8))
    vol = np.zeros(grid.shape, np.int16)
    samples.write_series(tmp_path / "a", vol, grid, series_description="first")
    samples.write_series(tmp_path / "b", vol, grid, series_description="second", modality="MR")
    with pytest.raises(SourceSeriesError) as e:
        read_source_series(tmp_path)
    assert "2 image series" in str(e.value) and "'first'" in str(e.value) and "'second'" in str(e.value)


def test_source_without_images_is_an_error(tmp_path, series):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceSeriesError, match="no DICOM images"):
        read_source_series(tmp_path)
    with pytest.raises(SourceSeriesError, match="does not exist"):
        read_source_series(tmp_path / "missing")


def test_source_with_mixed_frames_of_reference_is_an_error(tmp_path):
    import pydicom

    grid = samples.make_grid(shape=(4, 8, 8))
    info = samples.write_series(tmp_path, np.zeros(grid.shape, np.int16), grid)
    ds = pydicom.dcmread(info.files[2])
    ds.FrameOfReferenceUID = "1.2.3.4.5"
    ds.save_as(info.files[2])
    with pytest.raises(SourceSeriesError, match="frames of reference"):
        read_source_series(tmp_path)


def test_source_with_two_slices_at_one_position_is_an_error(tmp_path):
    import pydicom

    grid = samples.make_grid(shape=(4, 8, 8))
    info = samples.write_series(tmp_path, np.zeros(grid.shape, np.int16), grid)
    ds = pydicom.dcmread(info.files[2])
    ds.ImagePositionPatient = pydicom.dcmread(info.files[1]).ImagePositionPatient
    ds.save_as(info.files[2])
    with pytest.raises(SourceSeriesError, match="same position"):
        read_source_series(tmp_path)


def test_missing_slice_is_reported_as_non_uniform_spacing(tmp_path):
    grid = samples.make_grid(shape=(6, 8, 8))
    info = samples.write_series(tmp_path, np.zeros(grid.shape, np.int16), grid)
    os.remove(info.files[3])
    with pytest.raises(
        SourceSeriesError, match=r"1 slice\(s\) missing between .* a gap of 5 mm, spacing 2.5 mm"
    ):
        read_source_series(tmp_path)
    assert not read_source_series(tmp_path, allow_nonuniform=True).uniform
    with pytest.raises(SourceSeriesError, match="missing"):
        read_source_series(tmp_path, allow_nonuniform=True, refuse_missing_slices=True)


def test_unreadable_labelmap_and_unknown_format_are_named(series, tmp_path, capsys):
    info, _, _ = series
    bad = tmp_path / "lab.nrrd"
    bad.write_text("not an image")
    assert cli(["export-seg", "--source", str(info.folder), "--labelmap", str(bad)]) == 1
    assert "lab.nrrd" in capsys.readouterr().err
    other = tmp_path / "lab.png"
    other.write_bytes(b"x")
    assert cli(["export-seg", "--source", str(info.folder), "--labelmap", str(other)]) == 1
    assert "unknown image format" in capsys.readouterr().err


def test_probability_map_given_as_labelmap_is_refused(series, tmp_path, capsys):
    info, _, _ = series
    source = read_source_series(info.folder)
    path = tmp_path / "prob.nrrd"
    write_image(path, np.full(source.grid.shape, 0.25, np.float32), source.grid)
    assert cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path)]) == 1
    assert "fractional values" in capsys.readouterr().err


def test_import_with_the_wrong_source_is_an_error(series, tmp_path, capsys):
    info, labels, _ = series
    source = read_source_series(info.folder)
    seg = tmp_path / "s.dcm"
    write_seg(
        SegmentationContent.from_labelmap((labels == 1).astype(np.uint8), source.grid, [SegmentInfo(1, "x")]),
        source,
        seg,
    )
    other, _ = write_case(tmp_path / "other", "oblique")
    rc = cli(["import-seg", str(seg), "--source", str(other.folder), "--out", str(tmp_path / "x.nrrd")])
    err = capsys.readouterr().err
    assert rc == 1 and "frame of reference" in err and "s.dcm" in err
    assert not (tmp_path / "x.nrrd").exists()
    rc = cli(["import-seg", str(info.files[0]), "--out", str(tmp_path / "x.nrrd")])
    assert rc == 1 and "not a DICOM Segmentation" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli(["export-seg", "--labelmap", "x.nrrd"])
    assert e.value.code == 2
    assert "--source" in capsys.readouterr().err


@pytest.mark.parametrize("ext", [".nii.gz", ".nrrd", ".mha"])
@pytest.mark.parametrize(
    "bad,words",
    [
        (np.nan, "10 voxel(s) are NaN"),
        (np.inf, "10 voxel(s) are infinite"),
        (-3, "10 voxel(s) hold negative values (min -3)"),
        (2.5, "10 voxel(s) hold fractional values"),
        (1e12, "10 voxel(s) hold values above 4294967295"),
    ],
    ids=["nan", "inf", "negative", "fractional", "too-large"],
)
def test_bad_voxel_values_are_errors_that_count_them_and_give_the_first(
    series, bad, words, ext, tmp_path, capsys
):
    info, labels, _ = series
    source = read_source_series(info.folder)
    lab = labels.astype(np.float32 if bad != 1e12 else np.float64)
    where = np.argwhere(labels == 1)[:10]  # 10 liver voxels; the first in (k, r, c) order
    lab[tuple(where.T)] = bad
    path = tmp_path / f"bad{ext}"
    write_image(path, lab, source.grid)
    out = tmp_path / "out.dcm"
    rc = cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1, err
    k, r, c = where[0]
    assert words in err and str(path) in err and f"the first at voxel (x, y, z) = ({c}, {r}, {k})" in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_large_label_values_that_fit_are_written(series, tmp_path):
    info, labels, _ = series
    source = read_source_series(info.folder)
    lab = labels.astype(np.uint32)
    lab[labels == 2] = 4_000_000_000
    path = tmp_path / "big.nrrd"
    write_image(path, lab, source.grid)
    out = tmp_path / "out.dcm"
    assert (
        cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out), "-q"])
        == 0
    )
    back = tmp_path / "back.nrrd"
    assert cli(["import-seg", str(out), "--source", str(info.folder), "--out", str(back), "-q"]) == 0
    arr, _ = read_image(back)
    assert np.array_equal(arr, lab)


def test_nan_in_a_nifti_probability_map_is_an_error_not_zero(series, tmp_path, capsys):
    # ITK's NIfTI reader turns NaN into 0: the voxels are read as stored
    info, labels, _ = series
    source = read_source_series(info.folder)
    prob = (labels == 1).astype(np.float32)
    where = np.argwhere(labels == 1)[:7]
    prob[tuple(where.T)] = np.nan
    path = tmp_path / "p.nii.gz"
    write_image(path, prob, source.grid)
    out = tmp_path / "out.dcm"
    rc = cli(["export-seg", "--source", str(info.folder), "--probability", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    k, r, c = where[0]
    assert (
        "p.nii.gz" in err
        and f"7 NaN or infinite voxel(s), the first at voxel (x, y, z) = ({c}, {r}, {k})" in err
    )
