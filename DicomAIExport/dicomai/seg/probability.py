"""Probability (or occupancy) maps -> FRACTIONAL segmentation content.

One image file per segment, all on the source grid. Values are either floating point in [0, 1],
or integers on a scale whose maximum (``max_fractional_value``, 255 by default) means 1.0 — the
scale FRACTIONAL SEG frames are stored on, so integer maps are written unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np

from ..errors import GeometryMismatchError, InputError
from .content import SegmentationContent
from .enum import FractionalType

__all__ = ["FRACTIONAL_TYPES", "content_from_probability_maps", "probability_to_fraction"]

FRACTIONAL_TYPES = FractionalType.values()  # ("PROBABILITY", "OCCUPANCY")

# floating-point maps may overshoot [0, 1] by rounding (softmax in float16, resampling)
_FLOAT_SLACK = 1e-3


def probability_to_fraction(
    array: np.ndarray, max_fractional_value: int = 255, name: str = "map"
) -> np.ndarray:
    """float32 values in [0, 1] from a probability map (float in [0, 1], or integers 0..max).

    Raises
    ------
    InputError
        NaN or values outside the range; negative integers or integers above the maximum.
    """
    arr = np.asarray(array)
    maxv = int(max_fractional_value)
    if not 1 <= maxv <= 255:
        raise InputError(f"maximum fractional value {max_fractional_value!r} must be 1..255 (8-bit frames)")
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and not np.all(np.isfinite(arr)):
            bad = ~np.isfinite(arr)
            k, r, c = (int(v) for v in np.argwhere(bad)[0])
            raise InputError(
                f"{name} holds {int(np.count_nonzero(bad))} NaN or infinite voxel(s), the first at voxel "
                f"(x, y, z) = ({c}, {r}, {k}): a probability map holds 0..1"
            )
        low, high = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if low < -_FLOAT_SLACK or high > 1.0 + _FLOAT_SLACK:
            hint = (
                f" (integers on a 0..{int(round(high))} scale? store them as integers and pass "
                "--max-fractional-value)"
                if high > 1.5 and float(np.max(np.abs(arr - np.round(arr)))) == 0.0
                else ""
            )
            raise InputError(f"{name} holds values {low:g}..{high:g}: probabilities must lie in 0..1{hint}")
        return np.clip(arr, 0.0, 1.0).astype(np.float32, copy=False)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        low, high = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if low < 0 or high > maxv:
            raise InputError(
                f"{name} holds integer values {low}..{high} but the maximum fractional value is {maxv}: "
                f"pass --max-fractional-value {high} if {high} means 1.0 (at most 255)"
            )
        return arr.astype(np.float32) / np.float32(maxv)
    raise InputError(f"{name} holds {arr.dtype} values: a probability map holds numbers")


def content_from_probability_maps(
    paths: Sequence,
    metadata=None,
    *,
    max_fractional_value: int = 255,
    fractional_type: str = "PROBABILITY",
    warnings: List[str] = None,
    terminologies: Sequence = (),
) -> SegmentationContent:
    """Read one probability map per segment into FRACTIONAL content.

    Parameters
    ----------
    paths:
        Image files (NRRD, NIfTI, MHA), one per segment: the n-th file is the segment with
        ``labelID`` n in the metadata (numbered n in the SEG).
    metadata:
        A :class:`~dicomai.seg.metadata.SegmentMetadata` (dcmqi JSON) or None. Files without an
        entry are named after the file.
    """
    from ..imageio import read_image
    from .metadata import default_segment, load_metadata

    warnings = warnings if warnings is not None else []
    if not paths:
        raise InputError("no probability map given")
    ftype = str(fractional_type or "PROBABILITY").upper()
    if ftype not in FRACTIONAL_TYPES:
        raise InputError(f"fractional type {fractional_type!r} is not one of {', '.join(FRACTIONAL_TYPES)}")
    meta = metadata if metadata is not None and hasattr(metadata, "by_label") else load_metadata(metadata)
    described = meta.by_label()
    extra = sorted(v for v in described if v > len(paths) or v < 1)
    if extra:
        warnings.append(
            f"{meta.source} describes labelID(s) {extra[:10]} but only {len(paths)} probability map(s) "
            "were given (map n is labelID n): no segment written for them"
        )
    grid = None
    fractions = {}
    segments = []
    for n, path in enumerate(paths, start=1):
        p = Path(path)
        array, g = read_image(p)
        if grid is None:
            grid = g
        elif g.differences(grid):
            raise GeometryMismatchError(
                f"probability map {p.name!r} lies on another grid than {Path(paths[0]).name!r} "
                f"({', '.join(g.differences(grid))} differ): every map must be on the source grid"
            )
        fraction = probability_to_fraction(array, max_fractional_value, name=f"probability map {p.name!r}")
        del array
        if n in described:
            seg = described[n]
        else:
            stem = p.name.split(".")[0]
            seg = default_segment(n, stem, warnings, terminologies)
        seg.number = n
        seg.label_value = n
        seg.layer = 0
        segments.append(seg)
        fractions[n] = fraction
    content = SegmentationContent(
        grid=grid,
        segments=segments,
        fractions=fractions,
        segmentation_type="FRACTIONAL",
        fractional_type=ftype,
        max_fractional_value=int(max_fractional_value),
        attributes=dict(meta.attributes),
    )
    return content
