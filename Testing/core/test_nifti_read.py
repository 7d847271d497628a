"""NIfTI voxels are streamed into one array (geometry from ITK's header read): the same voxels and
grid as SimpleITK's full read for every case we read directly, and SimpleITK's read for the rest."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import SimpleITK as sitk

import dicomai_samples as samples
from dicomai.errors import InputError
from dicomai.imageio import _read_nifti, read_image


def _write(path, array, grid):
    image = sitk.GetImageFromArray(array)
    d = grid.affine[:3, :3]
    spacing = np.linalg.norm(d, axis=0)  # (slice, row, column)
    image.SetSpacing([float(spacing[2]), float(spacing[1]), float(spacing[0])])
    direction = np.column_stack([d[:, 2] / spacing[2], d[:, 1] / spacing[1], d[:, 0] / spacing[0]])
    image.SetDirection([float(v) for v in direction.reshape(-1)])
    image.SetOrigin([float(v) for v in grid.affine[:3, 3]])
    sitk.WriteImage(image, str(path))


def _sitk_truth(path):
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), image


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("orientation", ["axial", "oblique", "sagittal"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32, np.float32])
def test_direct_nifti_read_equals_simpleitk(tmp_path, suffix, orientation, dtype):
    grid = samples.make_grid(shape=(6, 17, 23), orientation=orientation)
    rng = np.random.default_rng(1)
    array = rng.integers(0, 120, size=grid.shape).astype(dtype)
    path = tmp_path / f"v{suffix}"
    _write(path, array, grid)
    assert _read_nifti(path) is not None  # the direct path, not the fallback
    back, back_grid = read_image(path)
    truth, image = _sitk_truth(path)
    assert back.dtype == truth.dtype
    np.testing.assert_array_equal(back, truth)
    np.testing.assert_array_equal(back, array)
    from dicomai.geometry import Grid

    np.testing.assert_allclose(back_grid.affine, Grid.from_sitk(image).affine, atol=1e-9)


def _patch_header(path, offset, fmt, value):
    raw = bytearray(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes())
    struct.pack_into("<" + fmt, raw, offset, value)
    path.write_bytes(gzip.compress(bytes(raw)) if path.suffix == ".gz" else bytes(raw))


def test_scaled_nifti_goes_through_simpleitk_and_keeps_its_values(tmp_path):
    grid = samples.make_grid(shape=(4, 8, 8))
    path = tmp_path / "scaled.nii.gz"
    _write(path, np.full(grid.shape, 3, np.int16), grid)
    _patch_header(path, 112, "f", 2.0)  # scl_slope
    assert _read_nifti(path) is None
    back, _ = read_image(path)
    np.testing.assert_array_equal(back, np.full(grid.shape, 6))


def test_truncated_nifti_is_a_clear_error_naming_the_file(tmp_path):
    grid = samples.make_grid(shape=(4, 16, 16))
    path = tmp_path / "cut.nii"
    _write(path, np.ones(grid.shape, np.uint8), grid)
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(InputError, match=r"cut\.nii.*truncated"):
        read_image(path)


def test_not_a_nifti_falls_back_to_simpleitk_error(tmp_path):
    path = tmp_path / "junk.nii.gz"
    path.write_bytes(gzip.compress(b"\0" * 400))
    assert _read_nifti(path) is None
    with pytest.raises(InputError, match=r"junk\.nii\.gz"):
        read_image(path)
