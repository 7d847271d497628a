"""Synthetic source series used by the core tests (written with dicomai_samples)."""

from __future__ import annotations

import numpy as np

import dicomai_samples as samples
from series_kinds import KINDS, SHAPE  # noqa: E402,F401  (re-exported to the core tests)


def write_case(folder, kind: str, shape=SHAPE, seed: int = 0):
    """Write the series of ``kind``; returns (SeriesInfo, labels (k,r,c) uint8 with values 1..5)."""
    grid_kw, series_kw = KINDS[kind]
    grid = samples.make_grid(shape=shape, **grid_kw)
    ct, labels, _ = samples.phantom(shape, seed=seed)
    info = samples.write_series(folder, ct, grid, file_names="random", seed=seed, **series_kw)
    return info, labels


def overlapping_masks(labels: np.ndarray) -> list:
    """Three masks that overlap: liver (with lesion), lesion, and a box across spleen and kidney."""
    liver = (labels == 1) | (labels == 5)
    lesion = labels == 5
    box = np.zeros(labels.shape, bool)
    k, r, c = labels.shape
    box[k // 4 : 3 * k // 4, r // 3 : 2 * r // 3, c // 2 :] = True
    return [liver, lesion, box]
