"""DICOM Segmentation (SEG: BINARY, FRACTIONAL, LABELMAP): labelmaps and probability maps <-> SEG.

The family registers here, in one place (:data:`FAMILY`, listed in
:data:`dicomai.families.BUILTIN_FAMILIES`): its SOP classes, its ``dicomai info`` describer
(:mod:`dicomai.seg.info`) and its commands (export-seg, import-seg: :mod:`dicomai.seg.cli`).

- :mod:`~dicomai.seg.content`: the content model (segments, their codes, voxels on a grid);
- :mod:`~dicomai.seg.encode` / :mod:`~dicomai.seg.decode`: writer / reader of all three types.
"""

from __future__ import annotations

from ..families import Family
from ..sopclasses import SEG_SOP_CLASSES

__all__ = ["FAMILY"]

FAMILY = Family(
    "SEG",
    sop_classes=SEG_SOP_CLASSES,
    modalities=("SEG",),
    describer="dicomai.seg.info:describe_seg",
    formatter="dicomai.seg.info:format_seg_lines",
    cli="dicomai.seg.cli",
)
