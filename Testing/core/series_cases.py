"""Synthetic source series used by the core tests (written with dicomai.synthetic)."""

from __future__ import annotations

import numpy as np

from dicomai import synthetic

SHAPE = (12, 40, 36)  # slices, rows, columns: rows != columns catches transpositions

# name -> (make_grid kwargs, write_series kwargs)
KINDS = {
    "axial": ({"orientation": "axial", "spacing": (2.5, 0.8, 0.8)}, {}),
    "oblique": ({"orientation": "oblique", "spacing": (2.0, 0.9, 0.9), "origin": (-30.5, 12.25, 40.0)}, {}),
    "sagittal": ({"orientation": "sagittal", "spacing": (1.5, 1.0, 1.0)}, {}),
    "coronal": ({"orientation": "coronal", "spacing": (1.5, 1.0, 1.0)}, {}),
    "nonsquare": ({"orientation": "axial", "spacing": (3.0, 0.7, 1.1)}, {}),
    "reversed": ({"orientation": "axial", "spacing": (2.5, 0.8, 0.8)}, {"reverse_instance_numbers": True}),
    "mr": ({"orientation": "oblique", "spacing": (4.0, 0.9, 0.9)}, {"modality": "MR"}),
    "pt": ({"orientation": "axial", "spacing": (3.0, 2.0, 2.0)}, {"modality": "PT"}),
}


def write_case(folder, kind: str, shape=SHAPE, seed: int = 0):
    """Write the series of ``kind``; returns (SeriesInfo, labels (k,r,c) uint8 with values 1..5)."""
    grid_kw, series_kw = KINDS[kind]
    grid = synthetic.make_grid(shape=shape, **grid_kw)
    ct, labels, _ = synthetic.phantom(shape, seed=seed)
    info = synthetic.write_series(folder, ct, grid, file_names="random", seed=seed, **series_kw)
    return info, labels


def overlapping_masks(labels: np.ndarray) -> list:
    """Three masks that overlap: liver (with lesion), lesion, and a box across spleen and kidney."""
    liver = (labels == 1) | (labels == 5)
    lesion = labels == 5
    box = np.zeros(labels.shape, bool)
    k, r, c = labels.shape
    box[k // 4 : 3 * k // 4, r // 3 : 2 * r // 3, c // 2 :] = True
    return [liver, lesion, box]
