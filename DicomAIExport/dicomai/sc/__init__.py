"""Secondary Capture: pictures and rendered overlays for archives and viewers that cannot show SEG/SR.

The family registers here, in one place (:data:`FAMILY`, listed in
:data:`dicomai.families.BUILTIN_FAMILIES`): its SOP classes (named in :mod:`dicomai.sopclasses`),
its ``dicomai info`` describer and, through :mod:`dicomai.sc.cli`, the ``export-sc`` command.

- :func:`dicomai.sc.encode.sc_datasets` / :func:`~dicomai.sc.encode.write_sc`: 8-bit RGB or
  MONOCHROME2 (8/16-bit) images as Secondary Capture Image Storage instances (highdicom's
  ``SCImage``), one new series in the source study.
- :func:`dicomai.sc.render.render_slices`: CT/MR slices with SEG outlines or fills, SR planar
  markups, a legend and a caption, burned in (numpy + Pillow).
"""

from __future__ import annotations

from ..families import Family
from ..sopclasses import SECONDARY_CAPTURE_SOP_CLASSES

__all__ = ["FAMILY"]

FAMILY = Family(
    "SC",
    sop_classes=SECONDARY_CAPTURE_SOP_CLASSES,
    describer="dicomai.sc.info:describe_sc",
    cli="dicomai.sc.cli",
)
