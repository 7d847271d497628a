"""Grid conversions between DICOM (LPS, k/r/c), SimpleITK (x/y/z) and Slicer (IJK-to-RAS)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from dicomai.geometry import LPS_TO_RAS, Grid


def _oblique_grid():
    a, b = np.deg2rad(20), np.deg2rad(15)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rot = ry @ rx
    col, row = rot[:, 0], rot[:, 1]
    normal = np.cross(col, row)
    return Grid.from_dicom([-120.5, 33.25, 7.0], [*col, *row], [0.7, 1.1], normal * 2.5, (7, 11, 13))


def test_from_dicom_places_voxels_where_dicom_says():
    g = _oblique_grid()
    iop = np.asarray(g.image_orientation)
    # voxel (k, r, c) = IPP_k + c * colspacing * coldir + r * rowspacing * rowdir
    k, r, c = 3, 5, 8
    expected = g.slice_position(k) + c * 1.1 * iop[:3] + r * 0.7 * iop[3:]
    assert np.allclose(g.index_to_world([k, r, c]), expected)
    assert np.allclose(g.spacing, (2.5, 0.7, 1.1))
    assert np.allclose(g.world_to_index(expected), [k, r, c])


def test_sitk_round_trip_keeps_every_voxel_position():
    g = _oblique_grid()
    size, spacing, origin, direction = g.sitk_parameters()
    img = sitk.Image(size, sitk.sitkUInt8)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(direction)
    back = Grid.from_sitk(img)
    assert back.shape == g.shape
    assert np.allclose(back.affine, g.affine)
    # SimpleITK's own index -> point agrees with ours (x = column, y = row, z = slice)
    p = img.TransformIndexToPhysicalPoint((8, 5, 3))
    assert np.allclose(p, g.index_to_world([3, 5, 8]))


def test_ijk_to_ras_round_trip_and_axis_convention():
    g = _oblique_grid()
    m = g.ijk_to_ras()
    ras = m @ np.array([8, 5, 3, 1.0])  # i = column, j = row, k = slice
    lps = LPS_TO_RAS @ ras
    assert np.allclose(lps[:3], g.index_to_world([3, 5, 8]))
    back = Grid.from_ijk_to_ras(m, g.shape)
    assert np.allclose(back.affine, g.affine)


@pytest.mark.parametrize(
    "change, what",
    [
        (lambda a: a.__setitem__((0, 3), a[0, 3] + 1.0), "origin"),
        (lambda a: a.__setitem__((slice(0, 3), 2), a[:3, 2] * 1.5), "spacing"),
        (lambda a: a.__setitem__((slice(0, 3), slice(1, 3)), a[:3, [2, 1]]), "direction"),
    ],
)
def test_differences_name_what_differs(change, what):
    g = _oblique_grid()
    a = g.affine.copy()
    change(a)
    other = Grid(g.shape, a)
    assert what in g.differences(other)
    assert not g.matches(other)


def test_differences_name_size_and_accept_rounding_noise():
    g = _oblique_grid()
    assert g.differences(Grid((8, 11, 13), g.affine)) == ["size"]
    noisy = g.affine.copy()
    noisy[:3, 3] += 1e-5
    assert g.matches(Grid(g.shape, noisy))


def test_describe_gives_size_spacing_origin_and_directions():
    text = _oblique_grid().describe()
    for part in ("13x11x7", "1.1x0.7x2.5", "-120.500", "column dir", "slice dir"):
        assert part in text
