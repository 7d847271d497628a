"""``imageio.write_image`` streams NIfTI files slice by slice with SimpleITK's own header: the
result must be the file SimpleITK writes from the whole volume (uncompressed: byte for byte;
gzip: the same bytes once inflated)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import SimpleITK as sitk

import dicomai_samples as synthetic
from dicomai import imageio


def _sitk_write(path, array, grid):
    image = sitk.GetImageFromArray(array)
    _, spacing, origin, direction = grid.sitk_parameters()
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    sitk.WriteImage(image, str(path), useCompression=True)


def _bytes(path):
    return gzip.open(path).read() if str(path).endswith(".gz") else path.read_bytes()


@pytest.mark.parametrize("orientation", ["axial", "sagittal", "coronal", [0.96, 0.28, 0, -0.28, 0.96, 0]])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("ext", [".nii", ".nii.gz"])
def test_streamed_nifti_is_what_simpleitk_writes(tmp_path, orientation, dtype, ext):
    grid = synthetic.make_grid(
        shape=(5, 7, 9), spacing=(2.5, 0.7, 0.9), origin=(-3.5, 12.25, 40), orientation=orientation
    )
    array = (np.arange(5 * 7 * 9).reshape(5, 7, 9) % 97 - 20).astype(dtype)
    ours, theirs = tmp_path / f"ours{ext}", tmp_path / f"sitk{ext}"
    calls = []
    real = imageio._write_nifti
    imageio_write = imageio.write_image

    def spy(*a, **k):
        calls.append(real(*a, **k))
        return calls[-1]

    mp = pytest.MonkeyPatch()
    mp.setattr(imageio, "_write_nifti", spy)
    try:
        imageio_write(ours, array, grid)
    finally:
        mp.undo()
    assert calls == [True]  # streamed, not handed to SimpleITK
    _sitk_write(theirs, array, grid)
    assert _bytes(ours) == _bytes(theirs)
    back, back_grid = imageio.read_image(ours)
    assert np.array_equal(back, array)
    assert np.allclose(back_grid.affine, grid.affine, atol=1e-4)


def test_a_one_slice_image_goes_through_simpleitk(tmp_path):
    grid = synthetic.make_grid(shape=(1, 7, 9))
    array = np.ones((1, 7, 9), np.uint8)
    assert imageio._write_nifti(tmp_path / "a.nii", array, grid, True) is False
    imageio.write_image(tmp_path / "a.nii", array, grid)
    _sitk_write(tmp_path / "b.nii", array, grid)
    assert _bytes(tmp_path / "a.nii") == _bytes(tmp_path / "b.nii")
