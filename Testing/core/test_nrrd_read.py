"""The NRRD reader reads voxels straight into one array (no whole-file copy beside it): same
voxels as SimpleITK for raw and gzip files, clear errors for truncated or damaged data."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

import dicomai_samples as samples
from dicomai.errors import InputError
from dicomai.imageio import read_image, write_image


@pytest.fixture()
def volume():
    grid = samples.make_grid(shape=(7, 33, 20), orientation="oblique")
    rng = np.random.default_rng(3)
    return rng.integers(0, 300, size=grid.shape).astype(np.uint16), grid


@pytest.mark.parametrize("compress", [False, True])
def test_nrrd_voxels_and_grid_equal_simpleitk(volume, tmp_path, compress):
    array, grid = volume
    path = tmp_path / "v.nrrd"
    write_image(path, array, grid, compress=compress)
    back, back_grid = read_image(path)
    np.testing.assert_array_equal(back, array)
    np.testing.assert_allclose(back_grid.affine, grid.affine, atol=1e-6)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(path))), back)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_nrrd_is_a_clear_error_naming_the_file(volume, tmp_path, compress):
    array, grid = volume
    path = tmp_path / "v.nrrd"
    write_image(path, array, grid, compress=compress)
    data = path.read_bytes()
    cut = tmp_path / "cut.nrrd"
    cut.write_bytes(data[: len(data) - 200])
    with pytest.raises(InputError, match=r"cut\.nrrd.*(truncated|decompressed)"):
        read_image(cut)


def test_damaged_gzip_stream_is_a_clear_error(volume, tmp_path):
    array, grid = volume
    path = tmp_path / "v.nrrd"
    write_image(path, array, grid, compress=True)
    data = bytearray(path.read_bytes())
    start = data.index(b"\n\n") + 2
    data[start + 10 : start + 60] = b"\xff" * 50
    bad = tmp_path / "bad.nrrd"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"bad\.nrrd"):
        read_image(bad)


def test_file_without_a_nrrd_header_is_refused(tmp_path):
    path = tmp_path / "x.nrrd"
    path.write_bytes(b"not a nrrd\n\n" + b"\0" * 100)
    with pytest.raises(InputError, match="not a NRRD file"):
        read_image(path)
