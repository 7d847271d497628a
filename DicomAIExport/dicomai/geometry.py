"""Image grids in the DICOM patient coordinate system (LPS).

A :class:`Grid` describes a regular 3D lattice of voxels. Arrays on a grid are indexed
``array[k, r, c]``: ``k`` the slice, ``r`` the row, ``c`` the column, the order numpy, highdicom
and ``SimpleITK.GetArrayFromImage`` use. ``Grid.affine`` maps ``(k, r, c, 1)`` to LPS millimetres.

Conversions to SimpleITK (``x = c, y = r, z = k``, LPS) and to Slicer's IJK-to-RAS matrix
(``i = c, j = r, k = k``, RAS) live here so that no other module has to think about axis order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["Grid", "LPS_TO_RAS"]

#: Flips the first two axes: LPS <-> RAS (its own inverse).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

# Tolerances used to decide that two grids are "the same".
_DIRECTION_TOL = 1e-4  # direction cosines
_SPACING_RTOL = 1e-4  # relative, per axis
_POSITION_TOL = 1e-3  # mm


@dataclass(frozen=True)
class Grid:
    """A regular voxel lattice.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``.
    affine:
        4x4 matrix mapping ``(k, r, c, 1)`` to LPS coordinates in mm.
    """

    shape: tuple
    affine: np.ndarray

    def __post_init__(self) -> None:
        shape = tuple(int(v) for v in self.shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"grid shape must be 3 positive integers, got {self.shape!r}")
        affine = np.asarray(self.affine, dtype=float)
        if affine.shape != (4, 4):
            raise ValueError(f"grid affine must be 4x4, got shape {affine.shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "affine", affine)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dicom(
        cls,
        first_position: Sequence[float],
        image_orientation: Sequence[float],
        pixel_spacing: Sequence[float],
        slice_vector: Sequence[float],
        shape: Sequence[int],
    ) -> Grid:
        """Build a grid from DICOM plane attributes.

        Parameters
        ----------
        first_position:
            ImagePositionPatient of slice ``k = 0``.
        image_orientation:
            ImageOrientationPatient: direction of increasing column index, then of increasing
            row index.
        pixel_spacing:
            PixelSpacing: ``(row spacing, column spacing)`` in mm.
        slice_vector:
            LPS offset from one slice's position to the next (mm).
        shape:
            ``(slices, rows, columns)``.
        """
        iop = np.asarray(image_orientation, dtype=float)
        col_dir, row_dir = iop[:3], iop[3:]
        row_spacing, col_spacing = (float(v) for v in pixel_spacing)
        affine = np.eye(4)
        affine[:3, 0] = np.asarray(slice_vector, dtype=float)
        affine[:3, 1] = row_dir * row_spacing
        affine[:3, 2] = col_dir * col_spacing
        affine[:3, 3] = np.asarray(first_position, dtype=float)
        return cls(tuple(shape), affine)

    @classmethod
    def from_sitk(cls, image) -> Grid:
        """Grid of a 3D (or 2D) ``SimpleITK.Image``."""
        dim = image.GetDimension()
        if dim == 2:
            size = (*image.GetSize(), 1)
            spacing = (*image.GetSpacing(), 1.0)
            origin = (*image.GetOrigin(), 0.0)
            d = np.asarray(image.GetDirection(), float).reshape(2, 2)
            direction = np.eye(3)
            direction[:2, :2] = d
        elif dim == 3:
            size, spacing, origin = image.GetSize(), image.GetSpacing(), image.GetOrigin()
            direction = np.asarray(image.GetDirection(), float).reshape(3, 3)
        else:
            raise ValueError(f"only 2D and 3D images have a grid, this one is {dim}D")
        affine = np.eye(4)
        # sitk direction columns are the x (column), y (row), z (slice) axes
        affine[:3, 2] = direction[:, 0] * spacing[0]
        affine[:3, 1] = direction[:, 1] * spacing[1]
        affine[:3, 0] = direction[:, 2] * spacing[2]
        affine[:3, 3] = origin
        return cls((size[2], size[1], size[0]), affine)

    @classmethod
    def from_ijk_to_ras(cls, matrix, shape_kji: Sequence[int]) -> Grid:
        """Grid from a Slicer IJK-to-RAS matrix and an array shape ``(k, j, i)``."""
        m = LPS_TO_RAS @ np.asarray(matrix, dtype=float)
        affine = np.eye(4)
        affine[:3, 0] = m[:3, 2]
        affine[:3, 1] = m[:3, 1]
        affine[:3, 2] = m[:3, 0]
        affine[:3, 3] = m[:3, 3]
        return cls(tuple(shape_kji), affine)

    # ------------------------------------------------------------------ derived values
    @property
    def spacing(self) -> tuple:
        """``(slice, row, column)`` spacing in mm."""
        return tuple(float(v) for v in np.linalg.norm(self.affine[:3, :3], axis=0))

    @property
    def origin(self) -> np.ndarray:
        """LPS position of voxel ``(0, 0, 0)``."""
        return self.affine[:3, 3].copy()

    @property
    def col_direction(self) -> np.ndarray:
        """Unit vector of increasing column index (first half of ImageOrientationPatient)."""
        return self.affine[:3, 2] / np.linalg.norm(self.affine[:3, 2])

    @property
    def row_direction(self) -> np.ndarray:
        """Unit vector of increasing row index (second half of ImageOrientationPatient)."""
        return self.affine[:3, 1] / np.linalg.norm(self.affine[:3, 1])

    @property
    def slice_direction(self) -> np.ndarray:
        """Unit vector of increasing slice index."""
        return self.affine[:3, 0] / np.linalg.norm(self.affine[:3, 0])

    @property
    def image_orientation(self) -> list:
        """ImageOrientationPatient of every slice."""
        return [float(v) for v in (*self.col_direction, *self.row_direction)]

    @property
    def pixel_spacing(self) -> list:
        """PixelSpacing ``[row spacing, column spacing]``."""
        _, rs, cs = self.spacing
        return [rs, cs]

    @property
    def normal(self) -> np.ndarray:
        """Plane normal ``col_direction x row_direction`` (DICOM's slice-sorting axis)."""
        return np.cross(self.col_direction, self.row_direction)

    def slice_position(self, k: int) -> np.ndarray:
        """ImagePositionPatient of slice ``k``."""
        return self.affine[:3, 3] + k * self.affine[:3, 0]

    def slice_positions(self) -> np.ndarray:
        """``(slices, 3)`` array of ImagePositionPatient values."""
        ks = np.arange(self.shape[0], dtype=float)[:, None]
        return self.affine[:3, 3][None, :] + ks * self.affine[:3, 0][None, :]

    def index_to_world(self, indices) -> np.ndarray:
        """Map ``(..., 3)`` ``(k, r, c)`` indices to LPS points."""
        idx = np.asarray(indices, dtype=float)
        return idx @ self.affine[:3, :3].T + self.affine[:3, 3]

    def world_to_index(self, points) -> np.ndarray:
        """Map ``(..., 3)`` LPS points to continuous ``(k, r, c)`` indices."""
        pts = np.asarray(points, dtype=float)
        inv = np.linalg.inv(self.affine)
        return pts @ inv[:3, :3].T + inv[:3, 3]

    # ------------------------------------------------------------------ other conventions
    def sitk_parameters(self) -> tuple:
        """``(size, spacing, origin, direction)`` for a SimpleITK image on this grid."""
        k, r, c = self.shape
        sk, sr, sc = self.spacing
        direction = np.column_stack([self.col_direction, self.row_direction, self.slice_direction])
        return (
            (c, r, k),
            (sc, sr, sk),
            tuple(float(v) for v in self.origin),
            tuple(float(v) for v in direction.ravel()),
        )

    def ijk_to_ras(self) -> np.ndarray:
        """Slicer's IJK-to-RAS matrix (``i = column, j = row, k = slice``)."""
        m = np.eye(4)
        m[:3, 0] = self.affine[:3, 2]
        m[:3, 1] = self.affine[:3, 1]
        m[:3, 2] = self.affine[:3, 0]
        m[:3, 3] = self.affine[:3, 3]
        return LPS_TO_RAS @ m

    # ------------------------------------------------------------------ comparison
    def differences(self, other: Grid) -> list:
        """Human-readable list of what differs between two grids (empty when they match)."""
        out = []
        if tuple(self.shape) != tuple(other.shape):
            out.append("size")
        a, b = np.asarray(self.spacing), np.asarray(other.spacing)
        if not np.allclose(a, b, rtol=_SPACING_RTOL, atol=1e-6):
            out.append("spacing")
        if not np.allclose(self.origin, other.origin, atol=_POSITION_TOL):
            out.append("origin")
        dirs_a = np.column_stack([self.slice_direction, self.row_direction, self.col_direction])
        dirs_b = np.column_stack([other.slice_direction, other.row_direction, other.col_direction])
        if not np.allclose(dirs_a, dirs_b, atol=_DIRECTION_TOL):
            out.append("direction")
        return out

    def matches(self, other: Grid) -> bool:
        """True when size, spacing, origin and directions agree within tolerance."""
        return not self.differences(other)

    def describe(self) -> str:
        """One line: size, spacing, origin and direction cosines (LPS)."""
        k, r, c = self.shape
        sk, sr, sc = self.spacing
        o = self.origin
        return (
            f"size {c}x{r}x{k} (columns x rows x slices), spacing {sc:g}x{sr:g}x{sk:g} mm, "
            f"origin ({o[0]:.3f}, {o[1]:.3f}, {o[2]:.3f}) LPS, "
            f"column dir {_fmt(self.col_direction)}, row dir {_fmt(self.row_direction)}, "
            f"slice dir {_fmt(self.slice_direction)}"
        )


def _fmt(v) -> str:
    return "(" + ", ".join(f"{x:.4f}" for x in v) + ")"
