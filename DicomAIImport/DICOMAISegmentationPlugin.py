"""DICOM browser plugin for DICOM Segmentation objects (BINARY, FRACTIONAL, LABELMAP).

examine: headers only (``slicer.dicomDatabase.fileValue``, else pydicom without pixel data), one
loadable per SEG named "SEG: <SeriesDescription>", its tooltip listing the segments, its
``referencedInstanceUIDs`` the CT/MR images so the browser loads them too. Confidence 0.97 when
the object loads fully -- above Slicer core's DICOMSegmentationPlugin (0.95), which converts
through dcmqi and one temporary NRRD per segment; lower, with ``loadable.warning``, when something
is left out (see ``dicomai_slicer.browser``).

load: ``dicomai_slicer`` decodes the SEG in-process into one segmentation node (segments that do
not overlap share one labelmap, as Slicer keeps them), puts it in the subject hierarchy under the
referenced study and shows the referenced series with the segmentation on top.

Works on Slicer 5.10 (whose DICOMPlugin has no examineFiles) and 5.12+: examineForImport is
implemented here.
"""

from __future__ import annotations

import slicer
from DICOMLib import DICOMLoadable, DICOMPlugin


def _ensureCorePath():
    """Development checkouts: dicomai/dicomai_slicer live in ../DicomAIExport (installed: next to us)."""
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    sibling = os.path.join(os.path.dirname(here), "DicomAIExport")
    if not os.path.isdir(os.path.join(here, "dicomai_slicer")) and os.path.isdir(sibling):
        if sibling not in sys.path:
            sys.path.append(sibling)


_ensureCorePath()
from dicomai_slicer.browser import BrowserPluginMixin  # noqa: E402  (light: no pydicom at import)


class DICOMAISegmentationPluginClass(BrowserPluginMixin, DICOMPlugin):
    """Loads DICOM SEG (all three types) as segmentation nodes over their images."""

    kind = "SEG"
    loadTypeName = "DICOM AI Segmentation"
    loadableClass = DICOMLoadable


class DICOMAISegmentationPlugin:
    """Hidden module that registers the plugin with the DICOM module (key = this file's name)."""

    def __init__(self, parent):
        parent.title = "DICOM AI Segmentation Plugin"
        parent.categories = ["Developer Tools.DICOM Plugins"]
        parent.contributors = ["DicomAIExtension developers"]
        parent.helpText = (
            "DICOM browser plugin: loads DICOM SEG objects (BINARY, FRACTIONAL, LABELMAP) written by "
            "any tool as segmentation nodes over the series they reference."
        )
        parent.acknowledgementText = "DICOM decoding by the embedded dicomai core."
        parent.hidden = True
        try:
            slicer.modules.dicomPlugins  # noqa: B018  (Slicer's idiom: does the dict exist yet?)
        except AttributeError:
            slicer.modules.dicomPlugins = {}
        slicer.modules.dicomPlugins["DICOMAISegmentationPlugin"] = DICOMAISegmentationPluginClass
