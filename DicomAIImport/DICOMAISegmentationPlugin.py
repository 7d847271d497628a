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

import logging

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


class DICOMAISegmentationPluginClass(DICOMPlugin):
    """Loads DICOM SEG (all three types) as segmentation nodes over their images."""

    kind = "SEG"

    def __init__(self):
        super().__init__()
        self.loadType = "DICOM AI Segmentation"

    def examineForImport(self, fileLists):
        """Loadables for each file list (Slicer 5.10's base class returns [] here)."""
        loadables = []
        for files in fileLists:
            cached = self.getCachedLoadables(files)
            if cached is None:
                cached = self.examineFiles(files)
                self.cacheLoadables(files, cached)
            loadables += cached
        return loadables

    def examineFiles(self, files):
        _ensureCorePath()
        from dicomai_slicer.browser import examine_files

        loadables = []
        for offer in examine_files(files, self.kind):
            loadable = DICOMLoadable()
            loadable.files = [offer.path]
            loadable.name = offer.name
            loadable.tooltip = offer.tooltip
            loadable.warning = offer.warning
            loadable.confidence = offer.confidence
            loadable.selected = True
            loadable.referencedInstanceUIDs = list(offer.referenced_instance_uids)
            loadable.seriesInstanceUID = offer.series_instance_uid
            loadables.append(loadable)
        return loadables

    def load(self, loadable):
        """Load the object (and what it references); False with the reason logged on failure."""
        _ensureCorePath()
        from dicomai_slicer.browser import load_offer_files

        try:
            nodes = load_offer_files(loadable.files)
        except Exception as e:
            logging.error(f"{loadable.name}: loading failed: {e}")
            return False
        logging.info(f"{loadable.name}: loaded {', '.join(n.GetName() for n in nodes)}")
        return bool(nodes)


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
