"""TotalSegmentator-like label maps with many segments (real SNOMED CT codes of CID 7151)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ._shapes import _Axes, _ellipse2d, _ellipsoid
from .segments import _segment_dict

__all__ = ["many_segments_labelmap"]


# CID 7191-7198 (segmentation property types per category, CID 7150)
_TYPE_CIDS = (
    ("cid7191", "Tissue"),
    ("cid7192", "AnatomicalStructure"),
    ("cid7193", "PhysicalObject"),
    ("cid7194", "MorphologicallyAbnormalStructure"),
    ("cid7195", "Function"),
    ("cid7196", "SpatialAndRelationalConcept"),
    ("cid7197", "BodySubstance"),
    ("cid7198", "Substance"),
)

_LARGE_ORGANS = (
    ("Liver", None),
    ("Spleen", None),
    ("Kidney", "Right"),
    ("Kidney", "Left"),
    ("Stomach", None),
    ("Pancreas", None),
    ("Lung", "Right"),
    ("Lung", "Left"),
    ("Heart", None),
    ("Gallbladder", None),
    ("Bladder", None),
    ("Colon", None),
    ("SmallIntestine", None),
    ("Duodenum", None),
    ("Esophagus", None),
    ("AdrenalGland", "Right"),
    ("AdrenalGland", "Left"),
    ("Aorta", None),
    ("InferiorVenaCava", None),
    ("PortalVein", None),
    ("Prostate", None),
    ("Rectum", None),
)

_VERTEBRAE = tuple(
    [f"L{i}Vertebra" for i in range(5, 0, -1)]
    + [f"T{i}Vertebra" for i in range(12, 0, -1)]
    + [f"C{i}Vertebra" for i in range(7, 0, -1)]
)

_SLICER_COLOURS = {"Liver": (221, 130, 101), "Spleen": (157, 108, 162), "Kidney": (185, 102, 83)}

_TYPE_TABLE_CACHE: list = []


def _property_types() -> list:
    """``(type Code, category Code)`` for every SNOMED CT code of CID 7151, anatomy first."""
    if _TYPE_TABLE_CACHE:
        return _TYPE_TABLE_CACHE
    from pydicom.sr.codedict import codes

    seen = set()
    table = []
    cid7151 = set(codes.cid7151.dir())
    order = sorted(_TYPE_CIDS, key=lambda t: t[0] != "cid7192")  # anatomy first, then the rest
    for cid, category in order:
        collection = getattr(codes, cid)
        cat = getattr(codes.cid7150, category)
        for keyword in collection.dir():
            code = getattr(collection, keyword)
            if code.scheme_designator != "SCT" or keyword not in cid7151:
                continue
            key = (code.value, code.scheme_designator)
            if key in seen:
                continue
            seen.add(key)
            table.append((code, cat))
    _TYPE_TABLE_CACHE.extend(table)
    return _TYPE_TABLE_CACHE


def _palette(i: int) -> tuple:
    """Distinct, reproducible colours (golden-ratio hues)."""
    import colorsys

    h = (0.13 + i * 0.6180339887) % 1.0
    s = 0.45 + 0.35 * ((i * 7) % 3) / 2.0
    v = 0.95 - 0.25 * ((i * 5) % 4) / 3.0
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))


def many_segments_labelmap(shape: Sequence[int], n_segments: int, seed: int = 0) -> tuple:
    """A TotalSegmentator-like label map with ``n_segments`` non-overlapping segments.

    A few segments are large "organs" spanning many slices (about ``sqrt(n) / 2`` of them, at
    least one), up to 24 are stacked "vertebrae" a few slices each, and the rest are small
    structures (short thin "vessels", "nodules", a few mid-sized ones) spanning only a few
    slices, placed at random where the volume is free. Every label ``1..n_segments`` is present.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``.
    n_segments:
        Number of segments, 1..65535 (at most the number of voxels).
    seed:
        Seeds sizes and positions.

    Returns
    -------
    labels : numpy.ndarray
        uint8 when ``n_segments <= 255``, else uint16.
    segments : list of dict
        dcmqi-style descriptions (labelID 1..n). Types are real SNOMED CT codes of CID 7151
        (organs, vertebrae, then cycling over CID 7151) with their category from CID 7191-7198.
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    n = int(n_segments)
    K, R, C = shape
    if n < 1 or n > 65535:
        raise ValueError(f"n_segments must be 1..65535, got {n_segments!r}")
    if n > K * R * C:
        raise ValueError(f"{n} segments do not fit in {K * R * C} voxels")
    n_large = min(n, max(1, int(round(math.sqrt(n) / 2.0))))
    n_vert = max(0, min(len(_VERTEBRAE), (n - n_large) // 3, K // 2))
    builder = _LabelMapBuilder(shape, np.uint8 if n <= 255 else np.uint16, seed)
    builder.add_organs(n_large)
    builder.add_vertebrae(n_large, n_vert)
    builder.add_small_structures(n_large + n_vert, n - n_large - n_vert)
    return builder.labels, builder.segments


class _LabelMapBuilder:
    """Paints segments into a label map and describes each (labels are given in increasing order)."""

    def __init__(self, shape: tuple, dtype, seed: int) -> None:
        self.labels = np.zeros(shape, dtype)
        self.segments: list = []
        self.rng = np.random.default_rng(seed)
        self.axes = _Axes(shape)
        self._used_types: set = set()
        self._name_counts: dict = {}

    def describe(self, label_id, type_code, category, modifier=None, description="", rgb=None) -> None:
        """Append the segment's description; a repeated name gets a number ("Liver 2")."""
        name = type_code.meaning if modifier is None else f"{modifier.meaning} {type_code.meaning.lower()}"
        self._name_counts[name] = self._name_counts.get(name, 0) + 1
        if self._name_counts[name] > 1:
            name = f"{name} {self._name_counts[name]}"
        self._used_types.add(type_code.value)
        self.segments.append(
            _segment_dict(
                label_id,
                name,
                description,
                category,
                type_code,
                rgb or _palette(label_id),
                modifier=modifier,
                algorithm="DicomAI synthetic label map",
            )
        )

    def add_organs(self, count: int) -> None:
        """Labels ``1..count``: large organs, one per cell of a g x g lattice over the anterior 70%
        of the rows."""
        from pydicom.sr.codedict import codes

        rng = self.rng
        g = int(math.ceil(math.sqrt(count)))
        y_lo, y_hi, x_lo, x_hi = -0.9, 0.45, -0.9, 0.9
        cell_y, cell_x = (y_hi - y_lo) / g, (x_hi - x_lo) / g
        for i in range(count):
            label_id = i + 1
            gy, gx = divmod(i, g)
            cy = y_lo + (gy + 0.5) * cell_y + rng.uniform(-0.05, 0.05) * cell_y
            cx = x_lo + (gx + 0.5) * cell_x + rng.uniform(-0.05, 0.05) * cell_x
            cz = rng.uniform(0.4, 0.6)
            semi = (
                rng.uniform(0.2, 0.35),
                0.42 * cell_y * rng.uniform(0.75, 1.0),
                0.42 * cell_x * rng.uniform(0.75, 1.0),
            )
            found = _ellipsoid(self.axes, (cz, cy, cx), semi)
            if found is not None:
                region, mask = found
                self.labels[region][mask] = label_id
            organ, side = _LARGE_ORGANS[i % len(_LARGE_ORGANS)]
            modifier = getattr(codes.SCT, side) if side else None
            anatomy = codes.cid7150.AnatomicalStructure
            rgb = _SLICER_COLOURS.get(organ)
            self.describe(label_id, getattr(codes.SCT, organ), anatomy, modifier, "synthetic organ", rgb)

    def add_vertebrae(self, first: int, count: int) -> None:
        """Labels ``first+1..first+count``: a column behind the organs, bottom (L5) to top."""
        from pydicom.sr.codedict import codes

        if not count:
            return
        height = self.axes.K / count
        ring = _ellipse2d(self.axes, (0.72, 0.0), (0.12, 0.14))
        anatomy = codes.cid7150.AnatomicalStructure
        for j in range(count):
            label_id = first + j + 1
            k0 = int(round(j * height))
            k1 = int(round((j + 1) * height))
            if k1 - k0 >= 3:
                k1 -= 1  # a disc gap
            self.labels[k0:k1][:, ring] = label_id
            self.describe(label_id, getattr(codes.SCT, _VERTEBRAE[j]), anatomy, None, "synthetic vertebra")

    def add_small_structures(self, first: int, count: int) -> None:
        """Labels ``first+1..first+count``: small structures placed at random where the volume is
        free (one voxel when no ellipsoid fits), typed by cycling over CID 7151's unused codes."""
        table = [t for t in _property_types() if t[0].value not in self._used_types]
        for j in range(count):
            label_id = first + j + 1
            semi, description = self._small_shape(j)
            if not self._place_at_random(label_id, semi):
                _place_single_voxel(self.labels, label_id, self.rng)
            type_code, category = table[j % len(table)]
            self.describe(label_id, type_code, category, None, description)

    def _small_shape(self, j: int) -> tuple:
        """``(semi-axes, description)`` of the ``j``-th small structure: 4 in 10 short thin vessels
        along the slices, 5 nodules or small organs, 1 mid-sized structure."""
        rng, K = self.rng, self.axes.K
        vox_y, vox_x = 2.0 / self.axes.R, 2.0 / self.axes.C
        kind = j % 10
        if kind < 4:
            semi = (
                rng.integers(2, 7) / K,
                rng.uniform(1.0, 2.5) * max(vox_y, 0.004),
                rng.uniform(1.0, 2.5) * max(vox_x, 0.004),
            )
            return semi, "synthetic vessel segment"
        if kind < 9:
            semi = (rng.uniform(1.0, 4.0) / K, rng.uniform(0.015, 0.05), rng.uniform(0.015, 0.05))
            return semi, "synthetic small structure"
        semi = (rng.uniform(4.0, 12.0) / K, rng.uniform(0.05, 0.09), rng.uniform(0.05, 0.09))
        return semi, "synthetic structure"

    def _place_at_random(self, label_id: int, semi: tuple) -> bool:
        """Paint an ellipsoid where every voxel is free: 25 random centres, then 40% smaller, 6 times."""
        rng = self.rng
        for _attempt in range(6):
            for _try in range(25):
                center = (rng.uniform(0.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))
                found = _ellipsoid(self.axes, center, semi)
                if found is None:
                    continue
                region, mask = found
                view = self.labels[region]
                if view[mask].any():
                    continue
                view[mask] = label_id
                return True
            semi = tuple(s * 0.6 for s in semi)
        return False


def _place_single_voxel(labels: np.ndarray, label_id: int, rng) -> None:
    """Give ``label_id`` one free voxel; when none is left, one voxel of the largest segment."""
    flat = labels.reshape(-1)
    for _ in range(200):
        i = int(rng.integers(0, flat.size))
        if flat[i] == 0:
            flat[i] = label_id
            return
    free = np.flatnonzero(flat == 0)
    if free.size:
        flat[int(free[int(rng.integers(0, free.size))])] = label_id
        return
    counts = np.bincount(flat, minlength=label_id)
    donor = int(np.argmax(counts))
    if counts[donor] < 2:
        raise ValueError("the label map is full: use a larger shape or fewer segments")
    flat[int(np.flatnonzero(flat == donor)[-1])] = label_id
