"""The synthetic source series every suite writes: one table of geometries and modalities.

``KINDS[name] = (make_grid kwargs, write_series kwargs)`` for :mod:`dicomai_samples`.
"""

from __future__ import annotations

SHAPE = (12, 40, 36)  # slices, rows, columns: rows != columns catches transpositions

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
