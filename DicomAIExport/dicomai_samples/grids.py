"""Regular grids for sample series: axial, sagittal, coronal, oblique or any ImageOrientationPatient."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np

from dicomai.geometry import Grid

__all__ = ["make_grid"]

_ORIENTATIONS = ("axial", "sagittal", "coronal", "oblique")

# Oblique orientation: the axial plane turned 20 degrees about the L axis, then 15 about P.
_OBLIQUE_ANGLES_DEG = (20.0, 15.0)


def _rotation_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rotation_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _orientation_vectors(orientation) -> tuple:
    """``(col_dir, row_dir)`` unit vectors for a named orientation or a 6-value IOP."""
    if isinstance(orientation, str):
        name = orientation.strip().lower()
        if name == "axial":
            return np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        if name == "sagittal":
            return np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])
        if name == "coronal":
            return np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])
        if name == "oblique":
            rot = _rotation_y(_OBLIQUE_ANGLES_DEG[1]) @ _rotation_x(_OBLIQUE_ANGLES_DEG[0])
            return rot[:, 0].copy(), rot[:, 1].copy()
        raise ValueError(
            f"orientation {orientation!r} is unknown: use one of {', '.join(_ORIENTATIONS)} "
            "or six ImageOrientationPatient values"
        )
    iop = np.asarray(orientation, dtype=float).ravel()
    if iop.shape != (6,) or not np.all(np.isfinite(iop)):
        raise ValueError(
            f"orientation must name a plane ({', '.join(_ORIENTATIONS)}) or give six finite "
            f"ImageOrientationPatient values, got {orientation!r}"
        )
    col_dir, row_dir = iop[:3], iop[3:]
    nc, nr = np.linalg.norm(col_dir), np.linalg.norm(row_dir)
    if abs(nc - 1.0) > 1e-4 or abs(nr - 1.0) > 1e-4 or abs(float(col_dir @ row_dir)) > 1e-4:
        raise ValueError(
            f"orientation {list(iop)} is not orthonormal (lengths {nc:.6f}, {nr:.6f}, "
            f"dot product {float(col_dir @ row_dir):.6f}): give two perpendicular unit vectors"
        )
    return col_dir / nc, row_dir / nr


def make_grid(
    shape: Sequence[int] = (20, 64, 64),
    spacing: Sequence[float] = (2.5, 0.8, 0.8),
    origin: Optional[Sequence[float]] = None,
    orientation: Union[str, Sequence[float]] = "axial",
) -> Grid:
    """Build a regular grid for a synthetic series.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``.
    spacing:
        ``(slice, row, column)`` spacing in mm.
    origin:
        LPS position (mm) of voxel ``(0, 0, 0)``, i.e. ImagePositionPatient of the first slice.
        By default the grid is centred on the LPS origin.
    orientation:
        ``"axial"`` (column index grows to L, row index to P: IOP ``1,0,0,0,1,0``),
        ``"sagittal"`` (IOP ``0,1,0,0,0,-1``), ``"coronal"`` (IOP ``1,0,0,0,0,-1``),
        ``"oblique"`` (the axial plane rotated 20 degrees about the L axis, then 15 degrees about
        the P axis), or six ImageOrientationPatient values (column direction, then row
        direction; must be orthonormal).

    Returns
    -------
    Grid
        The slice direction is the plane normal ``col_dir x row_dir``, so that slice ``k``
        increases along the axis DICOM readers sort by.

    Raises
    ------
    ValueError
        Bad shape, non-positive spacing, unknown orientation or non-orthonormal IOP.
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    spacing_arr = np.asarray(spacing, dtype=float).ravel()
    if spacing_arr.shape != (3,) or not np.all(np.isfinite(spacing_arr)) or np.any(spacing_arr <= 0):
        raise ValueError(f"spacing must be 3 positive numbers (slice, row, column) in mm, got {spacing!r}")
    col_dir, row_dir = _orientation_vectors(orientation)
    normal = np.cross(col_dir, row_dir)
    affine = np.eye(4)
    affine[:3, 0] = normal * spacing_arr[0]
    affine[:3, 1] = row_dir * spacing_arr[1]
    affine[:3, 2] = col_dir * spacing_arr[2]
    if origin is None:
        centre = (np.asarray(shape, dtype=float) - 1.0) / 2.0
        affine[:3, 3] = -(affine[:3, :3] @ centre)
    else:
        o = np.asarray(origin, dtype=float).ravel()
        if o.shape != (3,) or not np.all(np.isfinite(o)):
            raise ValueError(f"origin must be 3 finite LPS coordinates in mm, got {origin!r}")
        affine[:3, 3] = o
    # tidy round-off (e.g. 6e-17 instead of 0) so that written values are clean
    affine[np.abs(affine) < 1e-12] = 0.0
    return Grid(shape, affine)
