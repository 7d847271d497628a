"""Which source series: ``--series UID`` in a folder with several, a DICOMDIR as ``--source``, and
one rule for missing slices in export and import (refused with the gap named; ``import-seg
--allow-missing-slices`` keeps every frame, placed by position)."""

from __future__ import annotations

import os

import numpy as np
import pydicom
import pytest
from series_cases import write_case

from dicomai.cli import main as cli
from dicomai.imageio import read_image, write_image
from dicomai.source import read_source_series


@pytest.fixture(scope="module")
def two_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two")
    a, labels = write_case(folder / "a", "axial")
    b, _ = write_case(folder / "b", "oblique", seed=1)
    return folder, a, b, labels


def test_several_series_error_lists_them_with_series_values_and_series_picks_one(
    two_series, tmp_path, capsys
):
    folder, a, b, labels = two_series
    source = read_source_series(a.folder)
    path = tmp_path / "l.nrrd"
    write_image(path, labels, source.grid)
    base = ["export-seg", "--source", str(folder), "--labelmap", str(path)]
    assert cli([*base, "--out", str(tmp_path / "x.dcm")]) == 1
    err = capsys.readouterr().err
    uid_a, uid_b = source.series_instance_uid, read_source_series(b.folder).series_instance_uid
    assert f"--series {uid_a} " in err and f"--series {uid_b} " in err and str(folder) in err
    out = tmp_path / "a.dcm"
    assert cli([*base, "--series", uid_a, "--out", str(out), "-q"]) == 0
    assert (
        pydicom.dcmread(out, stop_before_pixels=True).ReferencedSeriesSequence[0].SeriesInstanceUID == uid_a
    )
    back = tmp_path / "back.nrrd"
    assert (
        cli(["import-seg", str(out), "--source", str(folder), "--series", uid_a, "--out", str(back), "-q"])
        == 0
    )
    assert np.array_equal(read_image(back)[0], labels)
    assert cli([*base, "--series", "1.2.3", "--out", str(tmp_path / "y.dcm")]) == 1
    assert "no series 1.2.3" in capsys.readouterr().err


def test_a_dicomdir_is_a_source(tmp_path):
    from pydicom.fileset import FileSet

    info, labels = write_case(tmp_path / "src", "sagittal")
    fs = FileSet()
    for f in info.files:
        fs.add(pydicom.dcmread(f))
    fs.write(tmp_path / "media")
    dicomdir = tmp_path / "media" / "DICOMDIR"
    assert dicomdir.is_file()
    source = read_source_series([dicomdir])
    assert source.sop_instance_uids == read_source_series(info.folder).sop_instance_uids
    path = tmp_path / "l.nrrd"
    write_image(path, labels, source.grid)
    out = tmp_path / "s.dcm"
    assert (
        cli(["export-seg", "--source", str(dicomdir), "--labelmap", str(path), "--out", str(out), "-q"]) == 0
    )


@pytest.fixture
def gappy(tmp_path):
    """A SEG made on a complete 30-slice series, and that series with 2 slices then deleted."""
    info, labels = write_case(tmp_path / "src", "axial", shape=(30, 40, 36))
    source = read_source_series(info.folder)
    lab = np.zeros(labels.shape, np.uint8)
    lab[:, 10:20, 10:20] = 3  # on every slice, the missing ones too
    path = tmp_path / "l.nrrd"
    write_image(path, lab, source.grid)
    seg = tmp_path / "s.dcm"
    assert (
        cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(seg), "-q"])
        == 0
    )
    for f in source.files[14:16]:
        os.remove(f)
    return info, lab, path, seg


def test_missing_slices_are_refused_by_export_and_import_with_the_gap_named(gappy, tmp_path, capsys):
    info, lab, path, seg = gappy
    gap = "2 slice(s) missing between"
    out = tmp_path / "again.dcm"
    assert cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert gap in err and "a gap of 7.5 mm, spacing 2.5 mm" in err and str(info.folder) in err
    back = tmp_path / "back.nrrd"
    assert cli(["import-seg", str(seg), "--source", str(info.folder), "--out", str(back)]) == 1
    err = capsys.readouterr().err
    assert gap in err and "--allow-missing-slices" in err
    assert not out.exists() and not back.exists()


def test_allow_missing_slices_keeps_every_frame_by_position(gappy, tmp_path, capsys):
    info, lab, _, seg = gappy
    back = tmp_path / "back.nrrd"
    args = [
        "import-seg",
        str(seg),
        "--source",
        str(info.folder),
        "--allow-missing-slices",
        "--out",
        str(back),
    ]
    assert cli(args) == 0
    assert "2 slice(s) missing" in capsys.readouterr().err
    arr, grid = read_image(back)
    assert arr.shape == lab.shape and np.array_equal(arr, lab)  # all 30 frames, the 2 without image too


def test_export_allow_missing_slices_writes_the_present_slices_and_refuses_labels_on_missing_ones(
    gappy, tmp_path, capsys
):
    info, lab, path, seg = gappy
    out = tmp_path / "again.dcm"
    args = ["export-seg", "--source", str(info.folder), "--allow-missing-slices", "--out", str(out)]
    assert cli([*args, "--labelmap", str(path)]) == 1  # lab has labels on the 2 missing slices
    err = capsys.readouterr().err
    assert f"{int((lab[14:16] != 0).sum())} labelled voxel(s) lie on the 2 missing slice(s)" in err
    assert "slice index 14, 15" in err and not out.exists()
    cleared = lab.copy()
    cleared[14:16] = 0
    path2 = tmp_path / "cleared.nrrd"
    write_image(path2, cleared, read_image(path)[1])
    assert cli([*args, "--labelmap", str(path2), "-q"]) == 0
    assert int(pydicom.dcmread(out, stop_before_pixels=True).NumberOfFrames) == 28
    back = tmp_path / "back.nrrd"
    assert (
        cli(
            [
                "import-seg",
                str(out),
                "--source",
                str(info.folder),
                "--allow-missing-slices",
                "--out",
                str(back),
            ]
        )
        == 0
    )
    assert np.array_equal(read_image(back)[0], cleared)
