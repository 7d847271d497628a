"""Labelmaps the way AI pipelines write them: NIfTI from dcm2niix, in its own voxel order.

The NIfTI files come from the real dcm2niix (pip package); the labelmaps are written with nibabel
in the NIfTI's space, their voxels filled by physical position (nibabel's RAS affine -> LPS ->
the source series' index), independently of dicomai's own geometry code. Round trip:
``export-seg`` -> ``import-seg --like`` must give back the same voxels, and the SEG must hold the
labels where the source series has them.
"""

from __future__ import annotations

import itertools
import subprocess

import numpy as np
import pytest
from series_cases import write_case

from dicomai.cli import main as cli
from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series

nib = pytest.importorskip("nibabel")
dcm2niix = pytest.importorskip("dcm2niix")

KINDS = ("axial", "oblique", "sagittal", "reversed", "nonsquare", "mr")
_RAS = np.diag([-1.0, -1.0, 1.0])


def _dcm2niix(src, out_dir):
    out_dir.mkdir()
    run = subprocess.run(
        [dcm2niix.bin, "-z", "y", "-f", "img", "-o", str(out_dir), str(src)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    return out_dir / "img.nii.gz"


def _labels_by_position(shape_xyz, affine_ras, source_grid, labels):
    """Label of the source voxel at each NIfTI voxel's centre (the centres must coincide)."""
    ijk = np.indices(shape_xyz).reshape(3, -1).T
    lps = (ijk @ affine_ras[:3, :3].T + affine_ras[:3, 3]) @ _RAS
    krc = source_grid.world_to_index(lps)
    assert np.allclose(krc, np.round(krc), atol=1e-3)
    krc = np.round(krc).astype(int)
    return labels[tuple(krc.T)].reshape(shape_xyz).astype(np.uint8)


def _round_trip(folder, source_folder, nifti_labels_path, like, labels):
    seg = folder / "seg.dcm"
    assert cli(["export-seg", "--source", str(source_folder), "--labelmap", str(nifti_labels_path),
                "--out", str(seg), "--overwrite"]) == 0  # fmt: skip
    # the SEG holds the labels where the source series has them
    decoded = read_seg(seg, read_source_series(source_folder))
    assert np.array_equal(decoded.labelmap(), labels)
    back = folder / "back.nii.gz"
    assert cli(["import-seg", str(seg), "--like", str(like), "--out", str(back), "--overwrite", "-q"]) == 0
    return nib.load(back)


@pytest.mark.parametrize("kind", KINDS)
def test_dcm2niix_space_labelmap_round_trips_voxel_exact(kind, tmp_path, capsys):
    info, labels = write_case(tmp_path / "src", kind)
    source = read_source_series(info.folder)
    image = nib.load(_dcm2niix(info.folder, tmp_path / "nii"))
    lab = _labels_by_position(image.shape, image.affine, source.grid, labels)
    path = tmp_path / "seg.nii.gz"
    nib.save(nib.Nifti1Image(lab, image.affine, image.header), path)
    capsys.readouterr()
    back = _round_trip(tmp_path, info.folder, path, tmp_path / "nii" / "img.nii.gz", labels)
    # dcm2niix flips the row axis (MR oblique: the column axis too): one info line says so
    err = capsys.readouterr().err
    expected = "(-x, -y, z)" if kind == "mr" else "(x, -y, z)"
    assert [line for line in err.splitlines() if "reoriented" in line] == [
        f"dicomai: {path}: axes {expected} reoriented to those of the source series"
    ]
    assert back.shape == lab.shape
    assert np.allclose(back.affine, image.affine, atol=1e-4)
    assert np.array_equal(np.asarray(back.dataobj), lab)


SIGNED_PERMUTATIONS = [
    (perm, flips)
    for perm in itertools.permutations(range(3))
    for flips in itertools.product((False, True), repeat=3)
]
_IDS = ["".join(("-" if f else "") + "kji"[p] for p, f in zip(perm, fl)) for perm, fl in SIGNED_PERMUTATIONS]


@pytest.fixture(scope="module")
def nonsquare(tmp_path_factory):
    folder = tmp_path_factory.mktemp("perm")
    info, labels = write_case(folder / "src", "nonsquare")
    return info, labels, read_source_series(info.folder)


@pytest.mark.parametrize(
    "perm,flips",
    SIGNED_PERMUTATIONS,
    ids=_IDS,
)
def test_every_axis_order_and_flip_is_accepted_losslessly(nonsquare, perm, flips, tmp_path, capsys):
    info, labels, source = nonsquare
    assert len(SIGNED_PERMUTATIONS) == 48
    # the labelmap's array axis j is source axis perm[j] (k, r, c), reversed where flips[j]
    arr = np.transpose(labels, perm)
    for j, f in enumerate(flips):
        if f:
            arr = np.flip(arr, axis=j)
    a = source.grid.affine
    lps = np.eye(4)  # (v0, v1, v2) -> LPS
    for j, (p, f) in enumerate(zip(perm, flips)):
        lps[:3, j] = -a[:3, p] if f else a[:3, p]
    lps[:3, 3] = a[:3, 3] + sum((labels.shape[p] - 1) * a[:3, p] for p, f in zip(perm, flips) if f)
    # NIfTI: x = last array axis; RAS
    ras = np.eye(4)
    ras[:3, :3] = _RAS @ lps[:3, :3][:, ::-1]
    ras[:3, 3] = _RAS @ lps[:3, 3]
    data = np.ascontiguousarray(arr.transpose(2, 1, 0)).astype(np.uint8)
    assert np.array_equal(_labels_by_position(data.shape, ras, source.grid, labels), data)
    path = tmp_path / "seg.nii.gz"
    nib.save(nib.Nifti1Image(data, ras), path)
    back = _round_trip(tmp_path, info.folder, path, path, labels)
    err = capsys.readouterr().err
    identity = perm == (0, 1, 2) and not any(flips)
    assert ("reoriented" in err) != identity
    assert np.allclose(back.affine, ras, atol=1e-4)
    assert np.array_equal(np.asarray(back.dataobj), data)


def _save_shifted(tmp_path, source, labels, change):
    """The source-order labels as NIfTI on a changed grid."""
    a = source.grid.affine.copy()
    change(a)
    ras = np.eye(4)
    ras[:3, :3] = _RAS @ a[:3, :3][:, ::-1]
    ras[:3, 3] = _RAS @ a[:3, 3]
    path = tmp_path / "moved.nii.gz"
    nib.save(nib.Nifti1Image(np.ascontiguousarray(labels.transpose(2, 1, 0)), ras), path)
    return path


def _shift(a):
    a[:3, 3] += 0.4 * a[:3, 2]  # 0.4 of a column


def _spacing(a):
    a[:3, 1] *= 1.05


def _rotation(a):
    t = np.deg2rad(2.0)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    a[:3, :3] = rot @ a[:3, :3]


def _extent(a):
    a[:3, 3] += 3 * a[:3, 0]  # three slices further: labelled voxels fall outside


@pytest.mark.parametrize(
    "change,words",
    [
        (_shift, "shift: voxel centres"),
        (_spacing, "spacing:"),
        (_rotation, "rotation: axes 2 degrees"),
        (_extent, "(extent: a 36x40x12 block starting at voxel (0, 0, 3) of a 36x40x12 grid"),
    ],  # fmt: skip
    ids=["shift", "spacing", "rotation", "extent"],
)
def test_a_real_resample_need_is_an_error_that_says_why(nonsquare, change, words, tmp_path, capsys):
    info, labels, source = nonsquare
    path = _save_shifted(tmp_path, source, labels, change)
    out = tmp_path / "x.dcm"
    assert cli(["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert words in err and str(path) in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_voxels_within_the_tolerance_are_accepted(nonsquare, tmp_path):
    info, labels, source = nonsquare

    def tiny_shift(a):
        a[:3, 3] += 0.002 * a[:3, 2]  # 1/500 of a column: within VOXEL_TOLERANCE

    path = _save_shifted(tmp_path, source, labels, tiny_shift)
    out = tmp_path / "ok.dcm"
    args = ["export-seg", "--source", str(info.folder), "--labelmap", str(path), "--out", str(out), "-q"]
    assert cli(args) == 0
    assert np.array_equal(read_seg(out, source).labelmap(), labels)


def test_import_like_pads_a_larger_reference_and_refuses_to_crop_labels(nonsquare, tmp_path, capsys):
    info, labels, source = nonsquare
    seg = tmp_path / "seg.dcm"
    lab_path = _save_shifted(tmp_path, source, labels, lambda a: None)
    assert (
        cli(
            ["export-seg", "--source", str(info.folder), "--labelmap", str(lab_path), "--out", str(seg), "-q"]
        )
        == 0
    )
    a = source.grid.affine

    def reference(name, first_slice, slices):
        ras = np.eye(4)
        ras[:3, :3] = _RAS @ a[:3, :3][:, ::-1]
        ras[:3, 3] = _RAS @ (a[:3, 3] + first_slice * a[:3, 0])
        k, r, c = labels.shape
        path = tmp_path / name
        nib.save(nib.Nifti1Image(np.zeros((c, r, slices), np.int16), ras), path)
        return path

    bigger = reference("bigger.nii.gz", -2, labels.shape[0] + 4)
    back = tmp_path / "back.nii.gz"
    assert cli(["import-seg", str(seg), "--like", str(bigger), "--out", str(back), "-q"]) == 0
    data = np.asarray(nib.load(back).dataobj)
    assert data.shape[2] == labels.shape[0] + 4
    assert not data[:, :, :2].any() and not data[:, :, -2:].any()
    assert np.array_equal(data[:, :, 2:-2], labels.transpose(2, 1, 0))
    k_last = int(np.flatnonzero(labels.reshape(labels.shape[0], -1).any(axis=1))[-1])
    smaller = reference("smaller.nii.gz", 0, k_last)  # the last labelled slice is cut off
    out = tmp_path / "cut.nii.gz"
    assert cli(["import-seg", str(seg), "--like", str(smaller), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    n = int(np.count_nonzero(labels[k_last:]))
    assert f"{n} labelled voxel(s) fall outside the extent of {smaller}" in err
    assert not out.exists()
