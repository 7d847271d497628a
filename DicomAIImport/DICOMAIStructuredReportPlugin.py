"""DICOM browser plugin for DICOM Structured Reports (TID 1500 measurement reports, and others).

examine: the SR's header -- for an SR that is the document; there is no pixel data -- read with
pydicom (the SOP class first from ``slicer.dicomDatabase.fileValue``), one loadable per SR named
"SR: <SeriesDescription>", its tooltip listing the measurement groups, its
``referencedInstanceUIDs`` the images and SEGs it references so the browser loads them too.
Confidence 0.97 when everything in it loads -- above Slicer core's DICOMTID1500Plugin (0.95),
which reads axial 2D regions only; 0.96 with ``loadable.warning`` when content items we do not
understand are left out; 0.6 for SRs that are not TID 1500 reports (numbers and coordinates only).

load: ``dicomai_slicer`` makes one markups node per region (points, lines, curves, closed curves,
planes, ROIs, in 3D) and one table node with every measurement and evaluation, under the SR's
series in the subject hierarchy (referenced study), loads the referenced series and SEG, and
shows the images with the markups on top.

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


class DICOMAIStructuredReportPluginClass(BrowserPluginMixin, DICOMPlugin):
    """Loads DICOM SR measurement reports as markups and table nodes over their images."""

    kind = "SR"
    loadTypeName = "DICOM AI Structured Report"
    loadableClass = DICOMLoadable


class DICOMAIStructuredReportPlugin:
    """Hidden module that registers the plugin with the DICOM module (key = this file's name)."""

    def __init__(self, parent):
        parent.title = "DICOM AI Structured Report Plugin"
        parent.categories = ["Developer Tools.DICOM Plugins"]
        parent.contributors = ["DicomAIExtension developers"]
        parent.helpText = (
            "DICOM browser plugin: loads DICOM SR measurement reports (TID 1500) written by any tool "
            "as markups and table nodes over the series they reference."
        )
        parent.acknowledgementText = "DICOM decoding by the embedded dicomai core."
        parent.hidden = True
        try:
            slicer.modules.dicomPlugins  # noqa: B018  (Slicer's idiom: does the dict exist yet?)
        except AttributeError:
            slicer.modules.dicomPlugins = {}
        slicer.modules.dicomPlugins["DICOMAIStructuredReportPlugin"] = DICOMAIStructuredReportPluginClass
