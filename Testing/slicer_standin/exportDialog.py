"""What Slicer's "Export to DICOM..." dialog does with DICOM plugins, without the dialog.

Mirrors Slicer/Slicer (main 583e9b37, same at v5.10.0/v5.12.3)
Modules/Scripted/DICOMLib/Widgets/qSlicerDICOMExportDialog.cxx (examineSelectedItem, exportSeries)
and qSlicerDICOMTagEditorWidget.cxx (setExportables): the only route by which a plugin's
exportables get the patient/study tags and the output directory before export() is called.

- ``examine(itemID)``: a study item means all its child series, a data-node item itself; every
  class in slicer.modules.dicomPlugins is instantiated and asked ``examineForExport(seriesItemID)``
  (a raising plugin is logged and skipped); returns [(meanConfidence, pluginClass, exportables)],
  highest mean confidence first (the dialog preselects the first).
- ``export(exportables, directory)``: fills the tags as the tag editor does (patient and study
  attributes ``DICOM.<Tag>`` of the parent items, creating missing ones empty; series tags the
  series item already has as ``DICOM.<Tag>`` replace the plugin's defaults), sets each
  ``exportable.directory``, calls ``slicer.modules.dicomPlugins[pluginClass]().export(exportables)``
  and returns its message ("" on success; "DICOM export failed. See application log for details"
  if it raised; "Error occurred in exporter" if it returned None).
"""

from __future__ import annotations

import logging
import traceback

import slicer

__all__ = ["examine", "setExportables", "export"]


def examine(itemID):
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    if shNode.IsItemLevel(itemID, constants.GetDICOMLevelStudy()):
        import vtk

        children = vtk.vtkIdList()
        shNode.GetItemChildren(itemID, children)
        seriesItemIDs = [children.GetId(i) for i in range(children.GetNumberOfIds())]
    elif shNode.GetItemDataNode(itemID):
        seriesItemIDs = [itemID]
    else:
        logging.error("Can only export data node or study item")
        return []
    byPlugin = {}
    for seriesItemID in seriesItemIDs:
        for pluginClass in slicer.modules.dicomPlugins:
            plugin = slicer.modules.dicomPlugins[pluginClass]()
            try:
                found = plugin.examineForExport(seriesItemID)
            except Exception:
                logging.error(f"Failed to get exportables from plugin {type(plugin).__name__}")
                traceback.print_exc()
                continue
            for exportable in found:
                byPlugin.setdefault(exportable.pluginClass, []).append(exportable)
    ranked = [
        (sum(e.confidence for e in found) / len(found), pluginClass, found)
        for pluginClass, found in byPlugin.items()
    ]
    return sorted(ranked, key=lambda entry: -entry[0])


def setExportables(exportables):
    """Fill the exportables' tags from the subject hierarchy; returns an error message or ""."""
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    prefix = constants.GetDICOMAttributePrefix()
    invalid = shNode.GetInvalidItemID()
    studyItemID = invalid
    for exportable in exportables:
        if exportable.subjectHierarchyItemID == invalid:
            logging.error(f"Exportable '{exportable.name}' points to invalid item")
            continue
        parent = shNode.GetItemParent(exportable.subjectHierarchyItemID)
        if studyItemID == invalid:
            if parent == invalid:
                return "No study found"
            studyItemID = parent
        elif parent != studyItemID:
            return "Exportables are not in the same study"
    patientItemID = shNode.GetItemParent(studyItemID)
    if patientItemID == invalid:
        return "No patient found"
    for itemID, tagNames in (
        (patientItemID, constants.GetDICOMPatientTagNames()),
        (studyItemID, constants.GetDICOMStudyTagNames()),
    ):
        present = shNode.GetItemAttributeNames(itemID)
        for tagName in tagNames:
            if prefix + tagName not in present:
                shNode.SetItemAttribute(itemID, prefix + tagName, "")
        for attributeName in shNode.GetItemAttributeNames(itemID):
            if attributeName.startswith(prefix):
                for exportable in exportables:
                    exportable.setTag(
                        attributeName[len(prefix) :], shNode.GetItemAttribute(itemID, attributeName)
                    )
    logic = slicer.vtkSlicerSubjectHierarchyModuleLogic
    for exportable in exportables:
        for tagName in exportable.tags:
            if logic.IsPatientTag(tagName) or logic.IsStudyTag(tagName):
                continue
            if shNode.HasItemAttribute(exportable.subjectHierarchyItemID, prefix + tagName):
                exportable.setTag(
                    tagName, shNode.GetItemAttribute(exportable.subjectHierarchyItemID, prefix + tagName)
                )
    return ""


def export(exportables, directory):
    if not exportables:
        return "Error occurred in exporter"
    error = setExportables(exportables)
    if error:
        return error
    for exportable in exportables:
        exportable.directory = str(directory)
    plugin = slicer.modules.dicomPlugins[exportables[0].pluginClass]()
    try:
        errorMessage = plugin.export(exportables)
    except Exception:
        errorMessage = "DICOM export failed. See application log for details"
        logging.error(f"Failed to export using plugin {type(plugin).__name__}")
        traceback.print_exc()
    if errorMessage is None:
        return "Error occurred in exporter"
    return errorMessage
