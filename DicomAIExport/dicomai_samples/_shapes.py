"""Ellipses and ellipsoids in normalised voxel coordinates, for the phantom and the label maps."""

from __future__ import annotations

import numpy as np


class _Axes:
    """Normalised voxel-centre coordinates of a volume: x (columns) and y (rows) in [-1, 1],
    z (slices) in [0, 1]."""

    def __init__(self, shape):
        self.K, self.R, self.C = (int(v) for v in shape)
        self.z = ((np.arange(self.K) + 0.5) / self.K).astype(np.float32)
        self.y = ((np.arange(self.R) + 0.5) / self.R * 2.0 - 1.0).astype(np.float32)
        self.x = ((np.arange(self.C) + 0.5) / self.C * 2.0 - 1.0).astype(np.float32)
        # one voxel in normalised units, per axis (z, y, x)
        self.voxel = (1.0 / self.K, 2.0 / self.R, 2.0 / self.C)

    def semi(self, semi_axes):
        """Semi-axes (z, y, x) widened to at least one voxel each."""
        return tuple(max(float(s), v) for s, v in zip(semi_axes, self.voxel))


def _span(coords: np.ndarray, lo: float, hi: float) -> tuple:
    return int(np.searchsorted(coords, lo, "left")), int(np.searchsorted(coords, hi, "right"))


def _ellipsoid(axes: _Axes, center, semi, k_range=None):
    """``(index tuple, bool mask)`` of an ellipsoid within its bounding box (and k_range)."""
    cz, cy, cx = center
    sz, sy, sx = axes.semi(semi)
    k0, k1 = _span(axes.z, cz - sz, cz + sz)
    if k_range is not None:
        k0, k1 = max(k0, k_range[0]), min(k1, k_range[1])
    r0, r1 = _span(axes.y, cy - sy, cy + sy)
    c0, c1 = _span(axes.x, cx - sx, cx + sx)
    if k0 >= k1 or r0 >= r1 or c0 >= c1:
        return None
    dz = ((axes.z[k0:k1] - cz) / sz) ** 2
    dy = ((axes.y[r0:r1] - cy) / sy) ** 2
    dx = ((axes.x[c0:c1] - cx) / sx) ** 2
    mask = (dz[:, None, None] + (dy[:, None] + dx[None, :])[None]) <= 1.0
    return (slice(k0, k1), slice(r0, r1), slice(c0, c1)), mask


def _ellipse2d(axes: _Axes, center, semi) -> np.ndarray:
    cy, cx = center
    sy, sx = max(semi[0], axes.voxel[1]), max(semi[1], axes.voxel[2])
    return (((axes.y - cy) / sy) ** 2)[:, None] + (((axes.x - cx) / sx) ** 2)[None, :] <= 1.0
