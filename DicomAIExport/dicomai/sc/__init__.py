"""Secondary Capture: pictures and rendered overlays for archives and viewers that cannot show SEG/SR.

The family registers itself here, in one place: its SOP classes (named in
:mod:`dicomai.sopclasses`), its ``dicomai info`` describer and, through :mod:`dicomai.sc.cli`,
the ``export-sc`` command.

- :func:`dicomai.sc.encode.sc_datasets` / :func:`~dicomai.sc.encode.write_sc`: 8-bit RGB or
  MONOCHROME2 (8/16-bit) images as Secondary Capture Image Storage instances (highdicom's
  ``SCImage``), one new series in the source study.
- :func:`dicomai.sc.render.render_slices`: CT/MR slices with SEG outlines or fills, SR planar
  markups, a legend and a caption, burned in (numpy + Pillow).
"""

from __future__ import annotations

from ..info import register_describer
from ..sopclasses import SECONDARY_CAPTURE_SOP_CLASSES
from .info import describe_sc

__all__ = ["describe_sc"]

for _uid in SECONDARY_CAPTURE_SOP_CLASSES:
    register_describer(_uid, describe_sc)
