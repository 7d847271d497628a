"""Test-only stand-in for Slicer's DICOMLib.DICOMPlugin (DICOMLoadable, DICOMPlugin).

Mirrors Slicer/Slicer Modules/Scripted/DICOMLib/DICOMPlugin.py at v5.12.3 (9034c71a) — behaviour
unchanged at main 583e9b37 — re-written, not copied. ``DICOMPlugin510`` mirrors the v5.10.0
(a2b6d082) class: ``examineForImport`` is virtual and returns [], there is no ``examineFiles``,
no caching wrapper, three default tags, no ``tempDir``/``cleanup``/``addReferences``;
install(version=(5, 10, ...)) exposes it as ``DICOMLib.DICOMPlugin``.

Everything that Slicer does through slicer.dicomDatabase, the MRML subject hierarchy and
slicer.qSlicerSubjectHierarchyPluginHandler is done the same way here: the database is the
stand-in one, the subject hierarchy is slicer-core's real one.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from datetime import datetime

import slicer

__all__ = ["DICOMLoadable", "DICOMPlugin", "DICOMPlugin510"]


class DICOMLoadable:
    """What a plugin offers to load (Python container; Slicer marks it deprecated for qSlicerDICOMLoadable).

    Defaults as in Slicer: files [], name "Unknown", tooltip "No further information available",
    warning "", selected False, confidence 0.5. No referencedInstanceUIDs attribute unless a plugin
    sets one (addSeriesInSubjectHierarchy checks with hasattr).
    """

    def __init__(self, qLoadable=None):
        if qLoadable is None:
            self.files = []
            self.name = "Unknown"
            self.tooltip = "No further information available"
            self.warning = ""
            self.selected = False
            self.confidence = 0.5
        else:
            self.name = qLoadable.name
            self.tooltip = qLoadable.tooltip
            self.warning = qLoadable.warning
            self.files = list(qLoadable.files)
            self.selected = qLoadable.selected
            self.confidence = qLoadable.confidence


# Tags addSeriesInSubjectHierarchy reads from the loadable's first file
_SERIES_ATTRIBUTE_TAGS = [
    # (attribute name getter or DICOM. suffix, tag)
    ("GetDICOMSeriesModalityAttributeName", "0008,0060"),
    ("GetDICOMSeriesNumberAttributeName", "0020,0011"),
    ("GetDICOMFrameOfReferenceUIDAttributeName", "0020,0052"),
    ("SeriesDescription", "0008,103E"),
    ("SeriesDate", "0008,0021"),
    ("SeriesTime", "0008,0031"),
    ("ContentDate", "0008,0023"),
    ("ContentTime", "0008,0033"),
    ("Manufacturer", "0008,0070"),
    ("Model", "0008,1090"),
]


class _DICOMPluginCommon:
    """Methods identical in Slicer 5.10 and 5.12."""

    def findPrivateTag(self, ds, group, element, privateCreator):
        """Tag of a private element from its creator name, or None (ds is a pydicom Dataset)."""
        for tag, dataElement in ds.items():
            if tag.group != group or tag.element >= 0x0100:
                continue
            value = dataElement.value
            if isinstance(value, bytes):
                value = value.decode()
            if value.rstrip() == privateCreator:
                import pydicom

                return pydicom.tag.Tag(group, (tag.element << 8) + element)
        return None

    def isDetailedLogging(self):
        return slicer.util.settingsValue("DICOM/detailedLogging", False, converter=slicer.util.toBool)

    def hashFiles(self, files):
        digest = hashlib.md5()
        for path in files:
            digest.update(path.encode("UTF-8", "ignore"))
        return digest.digest()

    def getCachedLoadables(self, files):
        return self.loadableCache.get(self.hashFiles(files))

    def cacheLoadables(self, files, loadables):
        self.loadableCache[self.hashFiles(files)] = loadables

    def examine(self, fileList):
        """Old name of examineForImport, kept by Slicer for backward compatibility."""
        return self.examineForImport(fileList)

    def load(self, loadable):
        return True

    def examineForExport(self, subjectHierarchyItemID):
        return []

    def export(self, exportable):
        return ""

    def defaultSeriesNodeName(self, seriesUID):
        files = slicer.dicomDatabase.filesForSeries(seriesUID, 1)
        if not files:
            return "Unnamed Series"
        description = slicer.dicomDatabase.fileValue(files[0], self.tags["seriesDescription"])
        number = slicer.dicomDatabase.fileValue(files[0], self.tags["seriesNumber"])
        name = description if description != "" else "Unnamed Series"
        return f"{number}: {name}" if number != "" else name

    def addSeriesInSubjectHierarchy(self, loadable, dataNode):
        """Create the series item of dataNode under its patient and study items (created if missing).

        UIDs and attributes come from loadable.files[0] through slicer.dicomDatabase.fileValue,
        the instance UIDs from every file of the loadable, DICOM.ReferencedInstanceUIDs from
        loadable.referencedInstanceUIDs when the loadable has that attribute.
        """
        db = slicer.dicomDatabase
        constants = slicer.vtkMRMLSubjectHierarchyConstants
        if not hasattr(slicer, "vtkSlicerSubjectHierarchyModuleLogic"):
            logging.error("Unable to create subject hierarchy: Subject Hierarchy module logic not found")
            return
        if dataNode is None or not dataNode.IsA("vtkMRMLNode"):
            logging.error("Unable to create subject hierarchy items: invalid data node provided")
            return
        firstFile = loadable.files[0]
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        pluginHandler = slicer.qSlicerSubjectHierarchyPluginHandler.instance()

        seriesItemID = shNode.CreateItem(shNode.GetSceneItemID(), dataNode)
        seriesInstanceUid = db.fileValue(firstFile, "0020,000E")
        shNode.SetItemUID(seriesItemID, constants.GetDICOMUIDName(), seriesInstanceUid)
        for attribute, tag in _SERIES_ATTRIBUTE_TAGS:
            name = (
                getattr(constants, attribute)()
                if attribute.startswith("Get")
                else (constants.GetDICOMAttributePrefix() + attribute)
            )
            shNode.SetItemAttribute(seriesItemID, name, db.fileValue(firstFile, tag))

        instanceUIDs = [db.fileValue(path, "0008,0018") or "Unknown" for path in loadable.files]
        shNode.SetItemUID(seriesItemID, constants.GetDICOMInstanceUIDName(), " ".join(instanceUIDs))
        referenced = list(getattr(loadable, "referencedInstanceUIDs", []))
        shNode.SetItemAttribute(
            seriesItemID, constants.GetDICOMReferencedInstanceUIDsAttributeName(), " ".join(referenced)
        )

        studyInstanceUid = db.fileValue(firstFile, "0020,000D")
        patientId = db.fileValue(firstFile, "0010,0020")
        if not patientId:
            # Slicer's fallback for files without a Patient ID (e.g. badly anonymized)
            patientId = "Patient-" + studyInstanceUid
        patientItemID = shNode.GetItemByUID(constants.GetDICOMUIDName(), patientId)
        studyId = db.fileValue(firstFile, "0020,0010")
        studyItemID = shNode.GetItemByUID(constants.GetDICOMUIDName(), studyInstanceUid)
        slicer.vtkSlicerSubjectHierarchyModuleLogic.InsertDicomSeriesInHierarchy(
            shNode, patientId, studyInstanceUid, seriesInstanceUid
        )

        if not patientItemID:
            patientItemID = shNode.GetItemByUID(constants.GetDICOMUIDName(), patientId)
            if patientItemID:
                patientName = db.fileValue(firstFile, "0010,0010") or "No name"
                birthDate = db.fileValue(firstFile, "0010,0030")
                shNode.SetItemAttribute(
                    patientItemID, constants.GetDICOMPatientNameAttributeName(), patientName
                )
                shNode.SetItemAttribute(patientItemID, constants.GetDICOMPatientIDAttributeName(), patientId)
                shNode.SetItemAttribute(
                    patientItemID,
                    constants.GetDICOMPatientSexAttributeName(),
                    db.fileValue(firstFile, "0010,0040"),
                )
                shNode.SetItemAttribute(
                    patientItemID, constants.GetDICOMPatientBirthDateAttributeName(), birthDate
                )
                shNode.SetItemAttribute(
                    patientItemID,
                    constants.GetDICOMPatientCommentsAttributeName(),
                    db.fileValue(firstFile, "0010,4000"),
                )
                itemName = patientName
                if pluginHandler.displayPatientIDInSubjectHierarchyItemName:
                    itemName += f" ({patientId})"
                if pluginHandler.displayPatientBirthDateInSubjectHierarchyItemName and birthDate != "":
                    itemName += f" ({birthDate})"
                shNode.SetItemName(patientItemID, itemName)

        if not studyItemID:
            studyItemID = shNode.GetItemByUID(constants.GetDICOMUIDName(), studyInstanceUid)
            if studyItemID:
                description = db.fileValue(firstFile, "0008,1030") or "No study description"
                studyDate = db.fileValue(firstFile, "0008,0020")
                shNode.SetItemAttribute(
                    studyItemID, constants.GetDICOMStudyDescriptionAttributeName(), description
                )
                shNode.SetItemAttribute(
                    studyItemID, constants.GetDICOMStudyInstanceUIDAttributeName(), studyInstanceUid
                )
                shNode.SetItemAttribute(studyItemID, constants.GetDICOMStudyIDAttributeName(), studyId)
                shNode.SetItemAttribute(studyItemID, constants.GetDICOMStudyDateAttributeName(), studyDate)
                shNode.SetItemAttribute(
                    studyItemID,
                    constants.GetDICOMStudyTimeAttributeName(),
                    db.fileValue(firstFile, "0008,0030"),
                )
                itemName = description
                if pluginHandler.displayStudyIDInSubjectHierarchyItemName:
                    itemName += f" ({studyId})"
                if pluginHandler.displayStudyDateInSubjectHierarchyItemName and studyDate != "":
                    itemName += f" ({studyDate})"
                shNode.SetItemName(studyItemID, itemName)

    def mapSOPClassUIDToModality(self, sopClassUID):
        modalities = {
            "1.2.840.10008.5.1.4.1.1.4": "MR",
            "1.2.840.10008.5.1.4.1.1.4.1": "MR",
            "1.2.840.10008.5.1.4.1.1.4.4": "MR",
            "1.2.840.10008.5.1.4.1.1.2": "CT",
            "1.2.840.10008.5.1.4.1.1.2.1": "CT",
            "1.2.840.10008.5.1.4.1.1.2.2": "CT",
            "1.2.840.10008.5.1.4.1.1.128": "PT",
            "1.2.840.10008.5.1.4.1.1.130": "PT",
            "1.2.840.10008.5.1.4.1.1.128.1": "PT",
        }
        return modalities.get(sopClassUID)

    def mapSOPClassUIDToDICOMQuantityAndUnits(self, sopClassUID):
        modality = self.mapSOPClassUIDToModality(sopClassUID)
        codes = {
            "MR": (("110852", "DCM", "MR signal intensity"), ("1", "UCUM", "no units")),
            "CT": (("112031", "DCM", "Attenuation Coefficient"), ("[hnsf'U]", "UCUM", "Hounsfield unit")),
        }
        if modality not in codes:
            return (None, None)
        entries = []
        for value, scheme, meaning in codes[modality]:
            entry = slicer.vtkCodedEntry()
            entry.SetValueSchemeMeaning(value, scheme, meaning)
            entries.append(entry)
        return tuple(entries)


class DICOMPlugin(_DICOMPluginCommon):
    """Base class for DICOM plugins (Slicer 5.12): examineForImport caches and calls examineFiles."""

    def __init__(self):
        self.loadType = "Generic DICOM"
        self.loadableCache = {}
        self.tags = {
            "seriesDescription": "0008,103E",
            "seriesNumber": "0020,0011",
            "frameOfReferenceUID": "0020,0052",
            "seriesInstanceUID": "0020,000E",
            "modality": "0008,0060",
            "instanceUID": "0008,0018",
            "sopClassUID": "0008,0016",
        }
        self.tempDir = None

    @property
    def currentDateTime(self):
        if not hasattr(self, "_currentDateTime"):
            self._currentDateTime = datetime.now().strftime("%Y-%m-%d_%H%M%S")
        return self._currentDateTime

    def cleanup(self):
        if not self.tempDir:
            return
        try:
            shutil.rmtree(self.tempDir)
            self.tempDir = None
        except OSError:
            pass

    def addReferences(self, loadable):
        """Set loadable.referencedInstanceUIDs (and referencedSeriesUID) from the first file's
        ReferencedSeriesSequence (all files of that series in the database) and ReferencedImageSequence."""
        import pydicom

        dataset = pydicom.dcmread(loadable.files[0])
        referenced = []
        seriesSequence = dataset.get("ReferencedSeriesSequence")
        if seriesSequence and "SeriesInstanceUID" in seriesSequence[0]:
            seriesUID = seriesSequence[0].SeriesInstanceUID
            for path in slicer.dicomDatabase.filesForSeries(seriesUID):
                referenced.append(pydicom.dcmread(path).SOPInstanceUID)
            loadable.referencedSeriesUID = seriesUID
        for item in dataset.get("ReferencedImageSequence", []):
            if "ReferencedSOPInstanceUID" in item:
                referenced.append(item.ReferencedSOPInstanceUID)
        loadable.referencedInstanceUIDs = list(set(referenced))

    def examineForImport(self, fileList):
        """Loadables for each file list, from the cache or from examineFiles (then cached)."""
        loadables = []
        for files in fileList:
            cached = self.getCachedLoadables(files)
            if cached is not None:
                loadables += cached
            else:
                found = self.examineFiles(files)
                loadables += found
                self.cacheLoadables(files, found)
        return loadables

    def examineFiles(self, files):
        return []


class DICOMPlugin510(_DICOMPluginCommon):
    """Base class for DICOM plugins as in Slicer 5.10: subclasses must override examineForImport."""

    def __init__(self):
        self.loadType = "Generic DICOM"
        self.loadableCache = {}
        self.tags = {
            "seriesDescription": "0008,103E",
            "seriesNumber": "0020,0011",
            "frameOfReferenceUID": "0020,0052",
        }

    def examineForImport(self, fileList):
        return []
