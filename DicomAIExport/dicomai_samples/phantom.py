"""An abdominal CT-like phantom: liver, spleen, both kidneys and a liver lesion, with SNOMED CT codes."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._shapes import _Axes, _ellipse2d, _ellipsoid
from .segments import _segment_dict

__all__ = ["phantom", "phantom_segments"]

# HU of the phantom's tissues
_HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft": 40.0,
    "cortical": 700.0,
    "cancellous": 250.0,
    "disc": 90.0,
    "canal": 20.0,
    "aorta": 180.0,
    "ivc": 120.0,
    "gas": -900.0,
    "liver": 60.0,
    "spleen": 48.0,
    "kidney": 160.0,
    "sinus": 20.0,
    "lesion": 15.0,
}

# (labelID, SegmentLabel, description, category, type, modifier, RGB) — codes filled in lazily
_PHANTOM_SEGMENTS = (
    (1, "Liver", "Liver", "AnatomicalStructure", "Liver", None, (221, 130, 101)),
    (2, "Spleen", "Spleen", "AnatomicalStructure", "Spleen", None, (157, 108, 162)),
    (3, "Right kidney", "Kidney, right", "AnatomicalStructure", "Kidney", "Right", (185, 102, 83)),
    (4, "Left kidney", "Kidney, left", "AnatomicalStructure", "Kidney", "Left", (185, 102, 83)),
    (
        5,
        "Liver lesion",
        "Hypodense lesion in the right liver lobe",
        "MorphologicallyAbnormalStructure",
        "Neoplasm",
        None,
        (144, 238, 144),
    ),
)


def phantom_segments() -> list:
    """Segment dicts of :func:`phantom` (labels 1 liver, 2 spleen, 3/4 right/left kidney, 5 lesion)."""
    from pydicom.sr.codedict import codes

    out = []
    for label_id, label, desc, cat, typ, mod, rgb in _PHANTOM_SEGMENTS:
        out.append(
            _segment_dict(
                label_id,
                label,
                desc,
                getattr(codes.SCT, cat),
                getattr(codes.SCT, typ),
                rgb,
                modifier=getattr(codes.SCT, mod) if mod else None,
                algorithm="DicomAI synthetic phantom",
            )
        )
    return out


def phantom(shape: Sequence[int] = (40, 128, 128), seed: int = 0) -> tuple:
    """An abdominal CT-like phantom with organ labels.

    The volume is meant for an axial grid (:func:`make_grid` ``orientation="axial"``): columns
    run to the patient's left, rows to posterior, slices to superior. So the liver is at low
    column indices (patient right), the spleen at high ones, the spine and kidneys posterior
    (high row indices). Shapes are fractions of the volume and scale with ``shape``; every
    structure is at least one voxel wide on each axis.

    Parameters
    ----------
    shape:
        ``(slices, rows, columns)``; at least ``(8, 32, 32)`` for every label to be present.
    seed:
        Seeds the image noise (Gaussian, sigma 10 HU).

    Returns
    -------
    ct : numpy.ndarray
        int16 Hounsfield units ``(slices, rows, columns)``: air -1000, subcutaneous fat, soft
        tissue ~40, vertebrae and discs, aorta and vena cava, a gas pocket, liver ~60,
        spleen ~48, enhancing kidneys ~160, hypodense lesion ~15, all with noise.
    labels : numpy.ndarray
        uint8, same shape: 0 background, 1 liver, 2 spleen, 3 right kidney, 4 left kidney,
        5 lesion (inside the liver; it replaces liver voxels).
    segments : list of dict
        dcmqi-style descriptions of labels 1-5 (see :func:`phantom_segments`).
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape!r}")
    axes = _Axes(shape)
    base, inner, disc_area = _in_plane_anatomy(axes)
    ct = np.empty(shape, np.int16)
    labels = np.zeros(shape, np.uint8)
    rng = np.random.default_rng(seed)
    chunk = max(1, (1 << 21) // (shape[1] * shape[2]))  # slices per ~2M voxels
    for k0 in range(0, shape[0], chunk):
        k1 = min(shape[0], k0 + chunk)
        ct[k0:k1] = _paint_slab(axes, (k0, k1), (base, inner, disc_area), labels[k0:k1], rng)
    return ct, labels, phantom_segments()


def _in_plane_anatomy(axes: _Axes) -> tuple:
    """The anatomy that is the same on every slice: ``(HU slice, inside-the-body mask, disc area)``.

    Body wall (fat, then soft tissue), vertebral body and arch, spinal canal, aorta and vena cava.
    """
    hu = _HU
    body = _ellipse2d(axes, (0.02, 0.0), (0.68, 0.88))
    inner = _ellipse2d(axes, (0.02, 0.0), (0.60, 0.80))
    base = np.full((axes.R, axes.C), hu["air"], np.float32)
    base[body] = hu["fat"]
    base[inner] = hu["soft"]
    vb_outer = _ellipse2d(axes, (0.42, 0.0), (0.11, 0.11))
    vb_inner = _ellipse2d(axes, (0.42, 0.0), (0.085, 0.085))
    canal = _ellipse2d(axes, (0.575, 0.0), (0.045, 0.045))
    arch = _ellipse2d(axes, (0.575, 0.0), (0.08, 0.08)) & ~vb_outer
    base[arch] = hu["cortical"]
    base[canal] = hu["canal"]
    base[vb_outer] = hu["cortical"]
    base[vb_inner] = hu["cancellous"]
    base[_ellipse2d(axes, (0.22, 0.07), (0.055, 0.055))] = hu["aorta"]
    base[_ellipse2d(axes, (0.20, -0.15), (0.06, 0.06))] = hu["ivc"]
    return base, inner, vb_inner


def _disc_slices(axes: _Axes) -> np.ndarray:
    """Intervertebral discs: every eighth of the volume, a slab ~2% of it thick."""
    zz = axes.z * 8.0
    return np.abs(zz - np.round(zz)) * (axes.K / 8.0) < max(0.5, 0.08 * axes.K / 8.0)


def _scaled(shape_def, factor, shift=(0.0, 0.0, 0.0)):
    (c, s) = shape_def
    return tuple(a + b for a, b in zip(c, shift)), tuple(v * factor for v in s)


def _structures() -> list:
    """``((center, semi-axes), HU, label or None)`` of the 3D structures, painted in this order
    (later ones win); centres and semi-axes (z, y, x) in normalised units."""
    hu = _HU
    liver_main = ((0.70, -0.02, -0.38), (0.26, 0.42, 0.36))
    liver_left_lobe = ((0.78, -0.30, -0.02), (0.12, 0.16, 0.30))
    spleen = ((0.72, 0.22, 0.50), (0.14, 0.20, 0.16))
    kidney_r = ((0.40, 0.36, -0.33), (0.13, 0.14, 0.11))
    kidney_l = ((0.43, 0.36, 0.33), (0.13, 0.14, 0.11))
    lesion = ((0.72, -0.05, -0.45), (0.06, 0.07, 0.07))
    gas = ((0.86, -0.35, 0.32), (0.05, 0.08, 0.10))
    return [
        (gas, hu["gas"], None),
        (_scaled(kidney_r, 1.35), hu["fat"], None),
        (_scaled(kidney_l, 1.35), hu["fat"], None),
        (liver_main, hu["liver"], 1),
        (liver_left_lobe, hu["liver"], 1),
        (spleen, hu["spleen"], 2),
        (kidney_r, hu["kidney"], 3),
        (_scaled(kidney_r, 0.45, (0.0, 0.0, 0.04)), hu["sinus"], 3),
        (kidney_l, hu["kidney"], 4),
        (_scaled(kidney_l, 0.45, (0.0, 0.0, -0.04)), hu["sinus"], 4),
        (lesion, hu["lesion"], 5),
    ]


def _paint_slab(axes: _Axes, k_range: tuple, anatomy: tuple, lab: np.ndarray, rng) -> np.ndarray:
    """HU of slices ``k_range`` (with noise, rounded and clipped); paints their labels into ``lab``."""
    k0, k1 = k_range
    base, inner, disc_area = anatomy
    vol = np.empty((k1 - k0, axes.R, axes.C), np.float32)
    vol[...] = base
    for i in np.flatnonzero(_disc_slices(axes)[k0:k1]):
        vol[i][disc_area] = _HU["disc"]
    inner_k = inner[None]
    for (center, semi), value, label in _structures():
        found = _ellipsoid(axes, center, semi, (k0, k1))
        if found is None:
            continue
        (ks, rs, cs), mask = found
        mask &= inner_k[:, rs, cs]
        local = (slice(ks.start - k0, ks.stop - k0), rs, cs)
        vol[local][mask] = value
        if label is not None:
            lab[local][mask] = label
    noise = rng.standard_normal(vol.shape, dtype=np.float32)
    noise *= 10.0
    vol += noise
    del noise
    np.rint(vol, out=vol)
    np.clip(vol, -1024, 3071, out=vol)
    return vol
