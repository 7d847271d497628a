"""Test-only stand-in for ``slicer.dicomDatabase`` (a ctkDICOMDatabase in Slicer).

Mirrors the query side of commontk/CTK Libs/DICOM/Core/ctkDICOMDatabase.h/.cpp (199c83bd) with an
in-memory index instead of SQLite; headers are read with pydicom (``stop_before_pixels``).
Behaviour kept from CTK:

- ``fileValue(path, "gggg,eeee")`` answers only for files in the database ("" otherwise), returns
  all values of a top-level element joined by a backslash, as DCMTK's string form (pydicom's
  original string for DS/IS), "" for a missing element, a sequence, or pixel data (pixel data is
  in ``tagsToExcludeFromStorage``; ``fileValueExists`` tells whether it is there).
- ``patients()`` returns database patient keys ("1", "2", ...), one per (PatientID, PatientName,
  PatientBirthDate); ``filesForSeries(uid, hits=-1)`` keeps insertion order.

Files are indexed where they are (never copied). Not provided: thumbnails, displayed fields,
tag precaching, removal of single series, schema and connection handling.
"""

from __future__ import annotations

import os

__all__ = ["DICOMDatabase"]

_PIXEL_DATA = "7FE0,0010"


def _normalizeTag(tag):
    group, element = tag.replace(" ", "").split(",")
    return f"{int(group, 16):04X},{int(element, 16):04X}"


def _elementString(element):
    """DCMTK-like string of a data element: values joined by a backslash."""
    if element is None or element.VR == "SQ" or element.value is None:
        return ""
    value = element.value
    if isinstance(value, (bytes, bytearray)):
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


class DICOMDatabase:
    """In-memory stand-in for ctkDICOMDatabase, filled through ctk.ctkDICOMIndexer or insert()."""

    def __init__(self, databaseDirectory=""):
        self.databaseDirectory = str(databaseDirectory)
        self.tagsToExcludeFromStorage = [_PIXEL_DATA]
        self.tagsToPrecache = []
        self._files = {}  # path -> {"instance", "series", "study", "patient"}
        self._headers = {}  # path -> pydicom Dataset (no pixel data)
        self._patients = {}  # (PatientID, PatientName, PatientBirthDate) -> "1", "2", ...
        self._open = True

    # --- state
    @property
    def isOpen(self):
        return self._open

    @property
    def isInMemory(self):
        return not self.databaseDirectory

    @property
    def databaseFilename(self):
        return os.path.join(self.databaseDirectory, "ctkDICOM.sql") if self.databaseDirectory else ":memory:"

    def openDatabase(self, databaseFile, connectionName=""):
        self.databaseDirectory = os.path.dirname(databaseFile) if databaseFile != ":memory:" else ""
        self._open = True
        return True

    def closeDatabase(self):
        self._open = False

    # --- indexing
    def insert(
        self,
        filePath,
        storeFile=True,
        generateThumbnail=True,
        createHierarchy=True,
        destinationDirectoryName="",
    ):
        """Index one file (non-DICOM files are skipped, as CTK does)."""
        import pydicom

        path = os.path.abspath(str(filePath))
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except (pydicom.errors.InvalidDicomError, OSError):
            return
        if "SOPInstanceUID" not in header or "SeriesInstanceUID" not in header:
            return
        patientKey = (
            str(header.get("PatientID", "")),
            str(header.get("PatientName", "")),
            str(header.get("PatientBirthDate", "")),
        )
        patient = self._patients.setdefault(patientKey, str(len(self._patients) + 1))
        self._headers[path] = header
        self._files[path] = {
            "instance": str(header.SOPInstanceUID),
            "series": str(header.SeriesInstanceUID),
            "study": str(header.get("StudyInstanceUID", "")),
            "patient": patient,
        }

    insertFile = insert

    # --- values
    def fileValue(self, fileName, tag):
        path = os.path.abspath(str(fileName)) if fileName else ""
        if path not in self._files:
            return ""
        tag = _normalizeTag(tag)
        if tag in [_normalizeTag(t) for t in self.tagsToExcludeFromStorage]:
            return ""
        group, element = (int(part, 16) for part in tag.split(","))
        return _elementString(self._header(path).get((group, element)))

    def fileValueExists(self, fileName, tag):
        path = os.path.abspath(str(fileName))
        if path not in self._files:
            return False
        group, element = (int(part, 16) for part in _normalizeTag(tag).split(","))
        if (group, element) == (0x7FE0, 0x0010):
            import pydicom

            return "PixelData" in pydicom.dcmread(path)
        return (group, element) in self._header(path)

    def instanceValue(self, sopInstanceUID, tag):
        return self.fileValue(self.fileForInstance(sopInstanceUID), tag)

    def _header(self, path):
        return self._headers[path]

    # --- hierarchy queries
    def patients(self):
        return list(dict.fromkeys(entry["patient"] for entry in self._files.values()))

    def studiesForPatient(self, patientUID):
        return list(dict.fromkeys(e["study"] for e in self._files.values() if e["patient"] == patientUID))

    def seriesForStudy(self, studyUID):
        return list(dict.fromkeys(e["series"] for e in self._files.values() if e["study"] == studyUID))

    def instancesForSeries(self, seriesUID, hits=-1):
        found = [e["instance"] for e in self._files.values() if e["series"] == seriesUID]
        return found[:hits] if hits > 0 else found

    def filesForSeries(self, seriesUID, hits=-1):
        found = [path for path, e in self._files.items() if e["series"] == seriesUID]
        return found[:hits] if hits > 0 else found

    def studyForSeries(self, seriesUID):
        return next((e["study"] for e in self._files.values() if e["series"] == seriesUID), "")

    def patientForStudy(self, studyUID):
        return next((e["patient"] for e in self._files.values() if e["study"] == studyUID), "")

    def fileForInstance(self, sopInstanceUID):
        return next((path for path, e in self._files.items() if e["instance"] == sopInstanceUID), "")

    def instanceForFile(self, fileName):
        return self._files.get(os.path.abspath(str(fileName)), {}).get("instance", "")

    def seriesForFile(self, fileName):
        return self._files.get(os.path.abspath(str(fileName)), {}).get("series", "")

    def nameForPatient(self, patientUID):
        return next((key[1] for key, uid in self._patients.items() if uid == patientUID), "")

    def allFiles(self):
        return list(self._files)

    def removePatient(self, patientUID):
        for path in [p for p, e in self._files.items() if e["patient"] == patientUID]:
            del self._files[path]
            del self._headers[path]
        return True
