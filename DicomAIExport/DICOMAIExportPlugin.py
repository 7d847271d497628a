"""Export-dialog plugin: "Export to DICOM..." on a segmentation, labelmap, markups or table item.

Offers one exportable per item whose data lies on a CT/MR/PT series loaded from DICOM (see
``dicomai_slicer.exporting.export_candidate``): segmentations and labelmaps become a DICOM SEG,
markups and tables one TID 1500 SR per series (referencing the SEG written with them). The tag
editor shows SeriesDescription, SeriesNumber, SegmentationType (auto / BINARY / LABELMAP /
FRACTIONAL), AlgorithmName, AlgorithmVersion and SegmentAlgorithmType.

Confidence: the dialog groups exportables by plugin, ranks the groups by their mean confidence
and preselects the top one (Modules/Scripted/DICOMLib/Widgets/qSlicerDICOMExportDialog.cxx,
examineSelectedItem). Slicer core's DICOMSegmentationPlugin offers every segmentation at 1.0,
and at equal confidence the group of the plugin whose class name sorts last is listed first
(a QMultiMap returns the most recently inserted value first), which is not us. So every
exportable here gets 1.004: strictly first, still shown as "100%" (the dialog prints the
confidence with no decimals). All our exportables get the same value so that a study selection
mixing segmentations, markups and tables keeps the same mean.
"""

from __future__ import annotations

import logging

import slicer
from DICOMLib import DICOMPlugin

EXPORT_CONFIDENCE = 1.004


def _name_and_tooltip(candidate):
    """The exportable's name and tooltip, from its family's adapters (dicomai_slicer.families)."""
    from dicomai_slicer.families import adapters_for

    adapters = adapters_for(candidate.modality)
    name = next(k.name for k in adapters.export_kinds if k.kind == candidate.kind)
    return name, adapters.export_tooltip.format(ref=repr(candidate.reference.GetName()))


class DICOMAIExportPluginClass(DICOMPlugin):
    """Exports segmentations/labelmaps as DICOM SEG and markups/tables as DICOM SR."""

    def __init__(self):
        super().__init__()
        self.loadType = "DICOM AI export"

    def examineForExport(self, subjectHierarchyItemID):
        """One exportable for an item that traces back to a DICOM series, none otherwise."""
        from dicomai_slicer.exporting import default_tags, export_candidate

        candidate = export_candidate(subjectHierarchyItemID)
        if candidate is None:
            return []
        exportable = slicer.qSlicerDICOMExportable()
        exportable.name, exportable.tooltip = _name_and_tooltip(candidate)
        exportable.subjectHierarchyItemID = subjectHierarchyItemID
        exportable.pluginClass = self.__module__
        exportable.confidence = EXPORT_CONFIDENCE
        for tag, value in default_tags(candidate).items():
            exportable.setTag(tag, value)
        return [exportable]

    def export(self, exportables):
        """Write every exportable into its directory; "" on success, else what failed.

        All or nothing: when one file fails, the files written before it are removed.
        """
        from dicomai_slicer.dependencies import ensure_dependencies
        from dicomai_slicer.exporting import export_items

        if not exportables:
            return "Nothing to export"
        directory = exportables[0].directory
        requests = [(e.subjectHierarchyItemID, e.tags) for e in exportables]
        try:
            ensure_dependencies()
            result = export_items(requests, directory)
        except Exception as e:
            logging.error(f"DICOM AI export failed: {e}")
            return f"DICOM AI export failed, nothing was written: {e}"
        for warning in result.warnings:
            logging.warning(f"DICOM AI export: {warning}")
        logging.info("DICOM AI export:\n" + result.summary())
        if not result.valid:
            return "Written, but the read-back check failed:\n" + result.summary()
        return ""


class DICOMAIExportPlugin:
    """Hidden module that registers the plugin with the DICOM module (key = this file's name)."""

    def __init__(self, parent):
        parent.title = "DICOM AI Export Plugin"
        parent.categories = ["Developer Tools.DICOM Plugins"]
        parent.contributors = ["DicomAIExtension developers"]
        parent.helpText = (
            "Export-dialog plugin: segmentations and labelmaps as DICOM SEG, markups and tables as "
            "DICOM SR (TID 1500). Use Export to DICOM... on an item under a DICOM study."
        )
        parent.acknowledgementText = "DICOM encoding by the embedded dicomai core (highdicom, pydicom)."
        parent.hidden = True
        try:
            slicer.modules.dicomPlugins  # noqa: B018  (Slicer's idiom: does the dict exist yet?)
        except AttributeError:
            slicer.modules.dicomPlugins = {}
        slicer.modules.dicomPlugins["DICOMAIExportPlugin"] = DICOMAIExportPluginClass
