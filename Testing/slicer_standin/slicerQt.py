"""Test-only stand-ins for the Qt-side classes that Slicer puts in the ``slicer`` namespace.

- qSlicerDICOMExportable: Slicer/Slicer Modules/Scripted/DICOMLib/Widgets/qSlicerDICOMExportable.h/.cxx
  (main 583e9b37, unchanged since v5.10.0). Seen from Python (PythonQt) it has the properties
  name ("Unknown exporter"), tooltip ("Creates a DICOM file from the selected data"),
  subjectHierarchyItemID (0), pluginClass (""), directory (""), confidence (0.0), tags ({}) and the
  invokables tag(name) / setTag(name, value). ``tags`` reads as a copy (a QMap converted to a
  dict): ``exportable.tags["X"] = "1"`` changes nothing, use setTag or assign the whole dict.
  ``tag(name)`` of an absent tag returns "" (PythonQt turns the null QString into "") and, as the
  C++ QMap::operator[] does, adds the tag with an empty value.
- qSlicerSubjectHierarchyPluginHandler.instance(): only the four item-name display flags that
  DICOMPlugin.addSeriesInSubjectHierarchy reads, backed by the settings as in
  Modules/Loadable/SubjectHierarchy/Widgets/qSlicerSubjectHierarchyPluginHandler.cxx
  (defaults: patient ID True, patient birth date False, study ID False, study date True).
- qMRMLWidget (setMRMLScene, mrmlSceneChanged), qMRMLNodeComboBox (nodeTypes, currentNode(),
  setCurrentNode(), currentNodeID, currentNodeChanged(vtkMRMLNode*) / currentNodeChanged(bool)).
"""

from __future__ import annotations

from .qt import QObject, QSettings, QWidget

__all__ = [
    "qSlicerDICOMExportable",
    "qSlicerSubjectHierarchyPluginHandler",
    "qMRMLWidget",
    "qMRMLNodeComboBox",
]


class qSlicerDICOMExportable(QObject):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.name = "Unknown exporter"
        self.tooltip = "Creates a DICOM file from the selected data"
        self.subjectHierarchyItemID = 0
        self.pluginClass = ""
        self.directory = ""
        self.confidence = 0.0
        object.__setattr__(self, "_tags", {})

    @property
    def tags(self):
        return dict(self._tags)

    @tags.setter
    def tags(self, value):
        object.__setattr__(self, "_tags", {str(k): str(v) for k, v in dict(value).items()})

    def tag(self, tagName):
        return self._tags.setdefault(str(tagName), "")

    def setTag(self, tagName, tagValue):
        self._tags[str(tagName)] = str(tagValue)


class qSlicerSubjectHierarchyPluginHandler(QObject):
    _instance = None
    _flags = {
        "displayPatientIDInSubjectHierarchyItemName": ("DisplayPatientIDInSubjectHierarchyItemName", True),
        "displayPatientBirthDateInSubjectHierarchyItemName": (
            "DisplayPatientBirthDateInSubjectHierarchyItemName",
            False,
        ),
        "displayStudyIDInSubjectHierarchyItemName": ("DisplayStudyIDInSubjectHierarchyItemName", False),
        "displayStudyDateInSubjectHierarchyItemName": ("DisplayStudyDateInSubjectHierarchyItemName", True),
    }

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __getattr__(self, name):
        if name in qSlicerSubjectHierarchyPluginHandler._flags:
            key, default = qSlicerSubjectHierarchyPluginHandler._flags[name]
            settings = QSettings()
            import slicer

            return (
                slicer.util.toBool(settings.value("SubjectHierarchy/" + key))
                if settings.contains("SubjectHierarchy/" + key)
                else default
            )
        return super().__getattr__(name)

    def __setattr__(self, name, value):
        if name in qSlicerSubjectHierarchyPluginHandler._flags:
            QSettings().setValue("SubjectHierarchy/" + self._flags[name][0], bool(value))
        else:
            super().__setattr__(name, value)


class qMRMLWidget(QWidget):
    _signals = ("mrmlSceneChanged(vtkMRMLScene*)",)

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_scene", None)

    def setMRMLScene(self, scene):
        object.__setattr__(self, "_scene", scene)
        self._signal("mrmlSceneChanged").emit(scene)

    def mrmlScene(self):
        return self._scene


class qMRMLNodeComboBox(qMRMLWidget):
    _signals = (
        "currentNodeChanged(vtkMRMLNode*)",
        "currentNodeIDChanged(QString)",
        "nodeAdded(vtkMRMLNode*)",
    )
    _defaults = {
        "nodeTypes": [],
        "noneEnabled": False,
        "addEnabled": True,
        "removeEnabled": True,
        "renameEnabled": False,
        "selectNodeUponCreation": True,
        "showChildNodeTypes": True,
        "baseName": "",
    }

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_currentNode", None)

    def currentNode(self):
        return self._currentNode

    @property
    def currentNodeID(self):
        return self._currentNode.GetID() if self._currentNode is not None else ""

    def setCurrentNode(self, node):
        if node is self._currentNode:
            return
        object.__setattr__(self, "_currentNode", node)
        self._signal("currentNodeChanged").emit(node)
        self._signal("currentNodeIDChanged").emit(self.currentNodeID)

    def setCurrentNodeID(self, nodeID):
        scene = self.mrmlScene()
        self.setCurrentNode(scene.GetNodeByID(nodeID) if scene is not None and nodeID else None)
