"""Test-only stand-in for the DICOMLib.DICOMUtils helpers that plugins and modules call.

Mirrors Slicer/Slicer Modules/Scripted/DICOMLib/DICOMUtils.py at v5.12.3 (9034c71a), identical in
these functions to v5.10.0 and main 583e9b37; re-written, not copied. Provided: loadSeriesByUID,
loadByInstanceUID, selectHighestConfidenceLoadables, getDefaultPluginClassNames,
getLoadablesFromFileLists, loadLoadables, openDatabase, importDicom, seriesUIDsForFiles,
allSeriesUIDsInDatabase, getSortedImageFiles, TemporaryDICOMDatabase.
Not provided: DICOMweb import, loadPatient*, LoadDICOMFilesToDatabase, refreshDICOMWidget,
clearDatabase and the other browser/database-management helpers.
Deviations: getDefaultPluginClassNames reads the disabled plugins as a list stored under the
setting "DICOM/disabledPlugins" (Slicer: a QSettings array); importDicom never copies files;
derived items of loadLoadables are inserted directly into the database.
"""

from __future__ import annotations

import logging
import os
import traceback

import slicer

__all__ = [
    "loadSeriesByUID",
    "loadByInstanceUID",
    "selectHighestConfidenceLoadables",
    "getDefaultPluginClassNames",
    "getLoadablesFromFileLists",
    "loadLoadables",
    "openDatabase",
    "importDicom",
    "seriesUIDsForFiles",
    "allSeriesUIDsInDatabase",
    "getSortedImageFiles",
    "TemporaryDICOMDatabase",
]


def loadSeriesByUID(seriesUIDs, messages=None, progressCallback=None, enabledPluginClassNames=None):
    """Examine the series with every enabled plugin, select the most confident loadables, load them.

    Returns the IDs of the nodes added to the scene (storage and display nodes excluded).
    """
    if not isinstance(seriesUIDs, list):
        raise ValueError("SeriesUIDs must contain a list")
    if len(seriesUIDs) == 0:
        raise ValueError("No series UIDs given")
    if not slicer.dicomDatabase.isOpen:
        raise OSError("DICOM module or database cannot be accessed")
    fileLists = [slicer.dicomDatabase.filesForSeries(uid) for uid in seriesUIDs]
    loadablesByPlugin, _ = getLoadablesFromFileLists(
        fileLists, enabledPluginClassNames, messages=messages, progressCallback=progressCallback
    )
    selectHighestConfidenceLoadables(loadablesByPlugin)
    return loadLoadables(loadablesByPlugin)


def selectHighestConfidenceLoadables(loadablesByPlugin):
    """Per series (of each loadable's first file), select exactly the loadables of highest confidence."""
    bySeries = {}
    for plugin in loadablesByPlugin:
        for loadable in loadablesByPlugin[plugin]:
            seriesUID = slicer.dicomDatabase.fileValue(loadable.files[0], "0020,000E")
            bySeries.setdefault(seriesUID, []).append(loadable)
    for loadables in bySeries.values():
        highest = max(max(loadable.confidence for loadable in loadables), -1)
        for loadable in loadables:
            loadable.selected = loadable.confidence == highest


def loadByInstanceUID(instanceUID, messages=None, progressCallback=None, enabledPluginClassNames=None):
    """Load the single most confident loadable that contains the instance's file."""
    if not slicer.dicomDatabase.isOpen:
        raise OSError("DICOM module or database cannot be accessed")
    filePath = slicer.dicomDatabase.fileForInstance(instanceUID)
    seriesUID = slicer.dicomDatabase.seriesForFile(filePath)
    fileList = slicer.dicomDatabase.filesForSeries(seriesUID)
    loadablesByPlugin, _ = getLoadablesFromFileLists(
        [fileList], enabledPluginClassNames, messages=messages, progressCallback=progressCallback
    )
    best = {"confidence": 0, "plugin": None, "loadable": None}
    for plugin, loadables in loadablesByPlugin.items():
        for loadable in loadables:
            if filePath in loadable.files and loadable.confidence > best["confidence"]:
                loadable.selected = True
                best = {"confidence": loadable.confidence, "plugin": plugin, "loadable": loadable}
    return loadLoadables({best["plugin"]: [best["loadable"]]})


def getDefaultPluginClassNames():
    """Keys of slicer.modules.dicomPlugins not disabled in the settings (DICOM/disabledPlugins)."""
    import qt

    settings = qt.QSettings()
    disabled = (
        settings.value("DICOM/disabledPlugins", []) if settings.contains("DICOM/disabledPlugins") else []
    )
    return [name for name in slicer.modules.dicomPlugins if name not in disabled]


def getLoadablesFromFileLists(
    fileLists, pluginClassNames=None, messages=None, progressCallback=None, pluginInstances=None
):
    """Return ({plugin instance: [loadables]}, loadEnabled); a failing plugin is logged and skipped."""
    loadablesByPlugin = {}
    loadEnabled = False
    if not isinstance(fileLists, list) or len(fileLists) == 0 or type(fileLists[0]) not in (tuple, list):
        logging.error("File lists must contain a non-empty list of tuples/lists")
        return loadablesByPlugin, loadEnabled
    if pluginClassNames is None:
        pluginClassNames = getDefaultPluginClassNames()
    if pluginInstances is None:
        pluginInstances = {}
    for step, pluginClassName in enumerate(pluginClassNames):
        if pluginClassName not in pluginInstances:
            pluginInstances[pluginClassName] = slicer.modules.dicomPlugins[pluginClassName]()
        plugin = pluginInstances[pluginClassName]
        if progressCallback and progressCallback(pluginClassName, step * 100 / len(pluginClassNames)):
            break
        try:
            loadablesByPlugin[plugin] = plugin.examineForImport(fileLists)
            if not loadablesByPlugin[plugin]:
                loadablesByPlugin[plugin] = plugin.examine(fileLists)
            loadEnabled = loadEnabled or loadablesByPlugin[plugin] != []
        except Exception as e:
            traceback.print_exc()
            logging.error(f"DICOM Plugin failed: {e}")
            if messages:
                messages.append(f"Plugin failed: {pluginClassName}.")
    return loadablesByPlugin, loadEnabled


def loadLoadables(loadablesByPlugin, messages=None, progressCallback=None):
    """Load every selected loadable with its plugin (the last plugin offering it wins).

    Sets loadable.loadSuccess; returns the IDs of the nodes added to the scene meanwhile,
    storage and display nodes excluded.
    """
    import vtk

    selected = {}
    for plugin in loadablesByPlugin:
        for loadable in loadablesByPlugin[plugin]:
            if loadable.selected:
                selected[loadable] = plugin
    loadedNodeIDs = []

    @vtk.calldata_type(vtk.VTK_OBJECT)
    def onNodeAdded(caller, event, node):
        if not isinstance(node, (slicer.vtkMRMLStorageNode, slicer.vtkMRMLDisplayNode)):
            loadedNodeIDs.append(node.GetID())

    tag = slicer.mrmlScene.AddObserver(slicer.vtkMRMLScene.NodeAddedEvent, onNodeAdded)
    try:
        for step, (loadable, plugin) in enumerate(selected.items(), start=1):
            if progressCallback and progressCallback(loadable.name, step * 100 / len(selected)):
                break
            try:
                loaded = plugin.load(loadable)
            except Exception:
                loaded = None
                logging.error(
                    f"DICOM plugin failed to load '{loadable.name}' as a '{plugin.loadType}'.\n"
                    + traceback.format_exc()
                )
            if not loaded and messages is not None:
                messages.append(f"Could not load: {loadable.name} as a {plugin.loadType}")
            loadable.loadSuccess = bool(loaded)
            for derivedItem in getattr(loadable, "derivedItems", []):
                slicer.dicomDatabase.insert(derivedItem)
    finally:
        slicer.mrmlScene.RemoveObserver(tag)
    return loadedNodeIDs


def openDatabase(databaseDir):
    """Open the database of a folder (the stand-in keeps its in-memory index)."""
    if not os.access(databaseDir, os.F_OK):
        logging.error("Specified database directory " + repr(databaseDir) + " cannot be found")
        return False
    slicer.dicomDatabase.openDatabase(databaseDir + "/ctkDICOM.sql")
    if not slicer.dicomDatabase.isOpen:
        logging.error("Unable to open DICOM database " + databaseDir)
        return False
    return True


def importDicom(dicomDataDir, dicomDatabase=None, copyFiles=False):
    """Index every DICOM file under a folder; False (logged) on failure."""
    try:
        import ctk

        indexer = ctk.ctkDICOMIndexer()
        indexer.addDirectory(
            dicomDatabase if dicomDatabase is not None else slicer.dicomDatabase, dicomDataDir, copyFiles
        )
        indexer.waitForImportFinished()
    except Exception:
        traceback.print_exc()
        logging.error("Failed to import DICOM folder " + dicomDataDir)
        return False
    return True


def seriesUIDsForFiles(files):
    return {uid for uid in (slicer.dicomDatabase.seriesForFile(f) for f in files) if uid != ""}


def allSeriesUIDsInDatabase(database=None):
    database = database if database is not None else slicer.dicomDatabase
    return [
        series
        for patient in database.patients()
        for study in database.studiesForPatient(patient)
        for series in database.seriesForStudy(study)
    ]


def getSortedImageFiles(filePaths, epsilon=0.01):
    """Sort files along the normal of the first file's slice plane: (files, distances, warningText)."""
    import numpy as np

    db = slicer.dicomDatabase
    warningText = ""
    if len(filePaths) == 0:
        return filePaths, {}, warningText
    if db.fileValue(filePaths[0], "0028,0008") not in ("", "1"):
        warningText += (
            "Multi-frame image. If slice orientation or spacing is non-uniform then the image may be"
            " displayed incorrectly. Use with caution.\n"
        )
    position, orientation = db.fileValue(filePaths[0], "0020,0032"), db.fileValue(filePaths[0], "0020,0037")
    if not position or not orientation:
        warningText += (
            "Reference image in series does not contain geometry information. Please use caution.\n"
        )
        return filePaths, {}, warningText
    axes = [float(v) for v in orientation.split("\\")]
    normal = np.cross(np.array(axes[:3]), np.array(axes[3:]))
    origin = np.array([float(v) for v in position.split("\\")])
    distances = {}
    for path in filePaths:
        positionN, orientationN = db.fileValue(path, "0020,0032"), db.fileValue(path, "0020,0037")
        if not positionN or not orientationN:
            warningText += (
                "One or more images is missing geometry information in series. Please use caution.\n"
            )
            return filePaths, {}, warningText
        distances[path] = (np.array([float(v) for v in positionN.split("\\")]) - origin).dot(normal)
    files = sorted(filePaths, key=lambda path: distances[path])
    import qt

    regularize = (
        qt.QSettings().value("DICOM/ScalarVolume/AcquisitionGeometryRegularization", "default") != "none"
    )
    if len(files) > 1:
        spacing0 = distances[files[1]] - distances[files[0]]
        for n in range(1, len(files)):
            spacingN = distances[files[n]] - distances[files[n - 1]]
            if abs(spacingN - spacing0) > epsilon:
                warningText += (
                    f"Image slices are not equally spaced ({spacing0:g} spacing was expected, {spacingN:g}"
                    f" spacing was found between files {files[n]} and {files[n - 1]})."
                )
                warningText += (
                    "  Slicer will apply a transform to this series trying to regularize the volume."
                    " Please use caution.\n"
                    if regularize
                    else "  If loaded image appears distorted, enable 'Acquisition geometry regularization'"
                    " in Application settings / DICOM / DICOMScalarVolumePlugin. Please use caution.\n"
                )
                logging.warning("Geometric issues were found with 1 of the series. Please use caution.\n")
                break
    return files, distances, warningText


class TemporaryDICOMDatabase:
    """Context manager: an empty database as slicer.dicomDatabase, the previous one restored on exit."""

    def __init__(self, directory=None):
        self.temporaryDatabaseDir = directory
        self.originalDatabase = None

    def __enter__(self):
        from ..dicomDatabase import DICOMDatabase

        self.originalDatabase = slicer.dicomDatabase
        slicer.dicomDatabase = DICOMDatabase(self.temporaryDatabaseDir or "")
        return slicer.dicomDatabase

    def __exit__(self, type, value, traceback):
        slicer.dicomDatabase = self.originalDatabase
