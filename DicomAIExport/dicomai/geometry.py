"""Image grids in the DICOM patient coordinate system (LPS).

A :class:`Grid` describes a regular 3D lattice of voxels. Arrays on a grid are indexed
``array[k, r, c]``: ``k`` the slice, ``r`` the row, ``c`` the column, the order numpy, highdicom
and ``SimpleITK.GetArrayFromImage`` use. ``Grid.affine`` maps ``(k, r, c, 1)`` to LPS millimetres.

Conversions to SimpleITK (``x = c, y = r, z = k``, LPS) and to Slicer's IJK-to-RAS matrix
(``i = c, j = r, k = k``, RAS) live here so that no other module has to think about axis order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

__all__ = ["LPS_TO_RAS", "VOXEL_TOLERANCE", "Grid", "LatticeMap", "lattice_map", "grid_difference"]

#: Flips the first two axes: LPS <-> RAS (its own inverse).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

# Tolerances used to decide that two grids are "the same".
_DIRECTION_TOL = 1e-4  # direction cosines
_SPACING_RTOL = 1e-4  # relative, per axis
_POSITION_TOL = 1e-3  # mm

#: Two grids hold "the same voxels" when every voxel centre of one lies within this fraction of
#: a voxel (along each axis) of a voxel centre of the other; checked at the grid's corners, so a
#: small rotation or spacing error that adds up across the grid counts in full (docs/nifti.md).
VOXEL_TOLERANCE = 0.01

_AXIS_NAMES = ("z", "y", "x")  # (k, r, c) in the x = column, y = row, z = slice convention


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


# ------------------------------------------------------------------------------ lattices
@dataclass(frozen=True)
class LatticeMap:
    """Voxel ``a`` of one grid is voxel ``matrix @ a + offset`` of another (integers).

    ``matrix`` is a signed permutation (axis order and flips); ``offset`` the index shift.
    Built by :func:`lattice_map`; applied to arrays by :meth:`apply`.
    """

    matrix: np.ndarray
    offset: np.ndarray
    source_shape: tuple
    target_shape: tuple

    @property
    def is_identity(self) -> bool:
        return not self.reorders and self.covers_target()

    @property
    def reorders(self) -> bool:
        """True when axes are permuted or flipped (not only shifted)."""
        return not np.array_equal(self.matrix, np.eye(3, dtype=int))

    def axes_text(self) -> str:
        """The target's ``(x, y, z)`` axes as signed axes of the source: ``"(x, -y, z)"``."""
        parts = []
        for j in (2, 1, 0):  # target x (column), y (row), z (slice)
            i = int(np.flatnonzero(self.matrix[j])[0])
            parts.append(("-" if self.matrix[j, i] < 0 else "") + _AXIS_NAMES[i])
        return "(" + ", ".join(parts) + ")"

    def layout(self) -> tuple:
        """``(order, start, shape)``: the source axis behind each target axis, the target index
        where the reoriented source block starts, and that block's shape."""
        order = [int(np.flatnonzero(self.matrix[j])[0]) for j in range(3)]
        start = []
        for j, i in enumerate(order):
            flip = self.matrix[j, i] < 0
            start.append(int(self.offset[j]) - (self.source_shape[i] - 1 if flip else 0))
        return order, start, tuple(self.source_shape[i] for i in order)

    def covers_target(self) -> bool:
        """True when the source block fills the target exactly (same voxels, maybe reordered)."""
        _, start, shape = self.layout()
        return not any(start) and tuple(shape) == tuple(self.target_shape)

    def _view(self, array: np.ndarray):
        """``array`` transposed and flipped into the target's axis order, and its target start."""
        order, start, _ = self.layout()
        view = np.transpose(array, order)
        for j, i in enumerate(order):
            if self.matrix[j, i] < 0:
                view = np.flip(view, axis=j)
        return view, start

    def outside_count(self, array: np.ndarray) -> tuple:
        """``(count, first index)`` of non-zero voxels of ``array`` that fall outside the target
        (``(0, None)`` when none does); the index is in ``array``'s own ``(k, r, c)`` order."""
        view, start = self._view(array)
        inside = np.zeros(view.shape, bool)
        sl = []
        for j in range(3):
            lo = max(0, -start[j])
            hi = min(view.shape[j], self.target_shape[j] - start[j])
            sl.append(slice(lo, max(lo, hi)))
        inside[tuple(sl)] = True
        outside = (view != 0) & ~inside
        count = int(np.count_nonzero(outside))
        if not count:
            return 0, None
        # back to the source array's indices
        mask = np.zeros(view.shape, bool)
        mask[outside] = True
        order = [int(np.flatnonzero(self.matrix[j])[0]) for j in range(3)]
        for j, i in enumerate(order):
            if self.matrix[j, i] < 0:
                mask = np.flip(mask, axis=j)
        mask = np.transpose(mask, np.argsort(order))
        first = tuple(int(v) for v in np.argwhere(mask)[0])
        return count, first

    def apply(self, array: np.ndarray, fill=0) -> np.ndarray:
        """``array`` (on the source grid) placed on the target grid, voxel for voxel.

        Voxels the source does not cover get ``fill``; voxels outside the target are dropped:
        check :meth:`outside_count` first when they must not be.
        """
        view, start = self._view(array)
        if tuple(view.shape) == tuple(self.target_shape) and not any(start):
            return np.ascontiguousarray(view)
        out = np.full(self.target_shape, fill, dtype=array.dtype)
        src, dst = [], []
        for j in range(3):
            lo = max(0, start[j])
            hi = min(self.target_shape[j], start[j] + view.shape[j])
            if hi <= lo:
                return out
            dst.append(slice(lo, hi))
            src.append(slice(lo - start[j], hi - start[j]))
        out[tuple(dst)] = view[tuple(src)]
        return out


def _signed_permutation(m: np.ndarray) -> Optional[np.ndarray]:
    p = np.zeros((3, 3), dtype=int)
    for j in range(3):
        i = int(np.argmax(np.abs(m[j])))
        p[j, i] = 1 if m[j, i] > 0 else -1
    if sorted(int(np.flatnonzero(p[j])[0]) for j in range(3)) != [0, 1, 2]:
        return None
    return p


def _corners(shape) -> np.ndarray:
    k, r, c = (int(v) - 1 for v in shape)
    return np.array([[a, b, d] for a in (0, k) for b in (0, r) for d in (0, c)], dtype=float)


def lattice_map(source: Grid, target: Grid, tol: float = VOXEL_TOLERANCE) -> Optional[LatticeMap]:
    """How ``source``'s voxels sit on ``target``'s lattice, or None when they do not.

    The voxel centres must coincide (within ``tol`` of a voxel, at every corner of ``source``)
    under some axis permutation, flips and whole-voxel shift: a lossless reorientation (and
    crop or pad). Extents may differ; see :meth:`LatticeMap.outside_count`.
    """
    m = np.linalg.inv(target.affine) @ source.affine
    p = _signed_permutation(m[:3, :3])
    if p is None:
        return None
    t = np.round(m[:3, 3]).astype(int)
    corners = _corners(source.shape)
    exact = corners @ m[:3, :3].T + m[:3, 3]
    wanted = corners @ p.T + t
    if float(np.max(np.abs(exact - wanted))) > tol:
        return None
    return LatticeMap(p, t, tuple(source.shape), tuple(target.shape))


def _angle(u, v) -> float:
    return float(np.degrees(np.arccos(np.clip(abs(float(np.dot(u, v))), -1.0, 1.0))))


def grid_difference(source: Grid, target: Grid, tol: float = VOXEL_TOLERANCE) -> str:
    """Why ``source``'s voxels do not sit on ``target``'s lattice, in words: rotation, spacing,
    shift (by how much) or extent ("" when they do)."""
    lm = lattice_map(source, target, tol)
    if lm is not None:
        if lm.covers_target():
            return ""
        return f"extent: {_extent_text(target, lm)}"
    a_dirs = [source.slice_direction, source.row_direction, source.col_direction]
    b_dirs = [target.slice_direction, target.row_direction, target.col_direction]
    # pair each target axis with the closest source axis
    m = np.abs(np.array([[np.dot(b, a) for a in a_dirs] for b in b_dirs]))
    pairs = [int(np.argmax(m[j])) for j in range(3)]
    out = []
    if sorted(pairs) != [0, 1, 2]:
        return "rotation: the axes do not correspond (more than 45 degrees apart)"
    angle = max(_angle(b_dirs[j], a_dirs[pairs[j]]) for j in range(3))
    if angle > 1e-3:
        out.append(f"rotation: axes {angle:.3g} degrees apart")
    sa, sb = source.spacing, target.spacing
    ratio = [sa[pairs[j]] / sb[j] for j in range(3)]
    if max(abs(r - 1.0) for r in ratio) > 1e-4:
        a_text = "x".join(f"{sa[pairs[j]]:g}" for j in (2, 1, 0))
        b_text = "x".join(f"{sb[j]:g}" for j in (2, 1, 0))
        out.append(f"spacing: {a_text} mm vs {b_text} mm (x, y, z)")
    if not out:
        # same axes and spacing: a shift of the lattice by a fraction of a voxel
        m4 = np.linalg.inv(target.affine) @ source.affine
        frac = m4[:3, 3] - np.round(m4[:3, 3])
        mm = frac * np.asarray(target.spacing)
        out.append(
            f"shift: voxel centres {float(np.linalg.norm(mm)):.3g} mm apart "
            f"({float(np.max(np.abs(frac))):.3g} voxel)"
        )
    return "; ".join(out)


def _extent_text(target: Grid, lm: LatticeMap) -> str:
    _, start, shape = lm.layout()
    s_text = "x".join(str(shape[j]) for j in (2, 1, 0))
    t_text = "x".join(str(target.shape[j]) for j in (2, 1, 0))
    at = ", ".join(str(start[j]) for j in (2, 1, 0))
    return f"a {s_text} block starting at voxel ({at}) of a {t_text} grid (x, y, z)"
