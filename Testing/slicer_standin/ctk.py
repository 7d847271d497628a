"""Test-only stand-in for the few CTK names (PythonQt `ctk` module) our code and slicer.util touch.

Property and signal names are the ones Slicer's own Python uses (Slicer/Slicer main 583e9b37:
Base/Python/slicer/parameterNodeWrapper/guiConnectors.py, util.py, DICOMLib/DICOMUtils.py):
ctkCollapsibleButton (text, collapsed), ctkPathLineEdit (currentPath, currentPathChanged),
ctkDirectoryButton (directory, directoryChanged), ctkSliderWidget (value, valueChanged(double)),
ctkComboBox, ctkMessageBox (what slicer.util.messageBox / errorDisplay / confirm*Display show:
recorded in _state.messageBoxes and answered from _state.messageBoxAnswers), and
ctkDICOMIndexer (addDirectory / addFile into the stand-in DICOM database, with the call forms
DICOMUtils.importDicom and loadLoadables use).
"""

from __future__ import annotations

import os

from .qt import QComboBox, QDoubleSpinBox, QMessageBox, QObject, QWidget, _recordMessageBox

__all__ = [
    "ctkCollapsibleButton",
    "ctkPathLineEdit",
    "ctkDirectoryButton",
    "ctkSliderWidget",
    "ctkComboBox",
    "ctkMessageBox",
    "ctkDICOMIndexer",
]


class ctkCollapsibleButton(QWidget):
    _signals = ("contentsCollapsed(bool)", "clicked(bool)", "toggled(bool)")
    _notify = {"collapsed": [("contentsCollapsed", None)]}
    _defaults = {"text": "", "collapsed": False, "checked": True}


class ctkPathLineEdit(QWidget):
    _signals = ("currentPathChanged(QString)", "validInputChanged(bool)")
    _notify = {"currentPath": [("currentPathChanged", None)]}
    _defaults = {"currentPath": "", "filters": 0, "settingKey": "", "label": ""}
    Dirs, Files = 0x1, 0x2


class ctkDirectoryButton(QWidget):
    _signals = ("directoryChanged(QString)", "directorySelected(QString)")
    _notify = {"directory": [("directoryChanged", None)]}
    _defaults = {"directory": "", "caption": "", "text": ""}


class ctkSliderWidget(QDoubleSpinBox):
    _defaults = {"maximum": 99.0}


class ctkComboBox(QComboBox):
    pass


class ctkMessageBox(QMessageBox):
    _defaults = {"dontShowAgainVisible": False, "dontShowAgainSettingsKey": ""}

    def __init__(self, parent=None):
        super().__init__(parent if isinstance(parent, QObject) else None)
        self.windowTitle = ""

    def exec_(self):
        return _recordMessageBox(
            self.text, self.windowTitle, self.icon, self.standardButtons, self.detailedText
        )

    exec = exec_


class ctkDICOMIndexer(QObject):
    """Indexes files into a database; both call forms Slicer's Python code uses are accepted:
    ``addDirectory(database, directory, copyFiles=False)`` and ``addFile(database, path)``.
    Files are never copied (copyFiles is ignored): the database keeps the original paths.
    """

    _signals = ("indexingComplete(int,int,int,int)",)

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_database", None)

    def setDatabase(self, database):
        object.__setattr__(self, "_database", database)

    def addDirectory(self, *args):
        database, directory = (
            (args[0], args[1]) if not isinstance(args[0], str) else (self._database, args[0])
        )
        for folder, _, names in os.walk(directory):
            for name in sorted(names):
                database.insertFile(os.path.join(folder, name))

    def addFile(self, *args):
        database, path = (args[0], args[1]) if not isinstance(args[0], str) else (self._database, args[0])
        database.insertFile(path)

    def waitForImportFinished(self, msecTimeout=-1):
        return True
