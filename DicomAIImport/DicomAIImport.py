"""DicomAIImport: load DICOM SEG and SR objects as Slicer nodes over the CT/MR they reference.

The DICOM browser plugins (DICOMAISegmentationPlugin.py, DICOMAIStructuredReportPlugin.py, hidden
modules next to this file) handle objects in the DICOM database. This panel loads a folder or
file directly, without importing it into the database first.

Python console::

    logic = slicer.util.getModuleLogic("DicomAIImport")   # or DicomAIImportLogic()
    nodes = logic.loadDicomObjects(["/data/ct", "/data/result.seg.dcm", "/data/report.sr.dcm"])
    nodes = logic.loadFolder("/data/case7")                 # everything in a folder, shown in the views
    studies = logic.listServerStudies("http://localhost:8042/dicom-web")
    series = logic.listServerSeries(url, studies[0]["study_instance_uid"])   # its SEG / SR / SC series
    nodes = logic.loadFromServer(url, study_uid, series_uid)  # with the series it references

Server credentials: a user name and the *name* of an environment variable holding the password
(never the password itself, never stored in the scene).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import slicer
import vtk
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

SETTINGS_URL = "DicomAI/DICOMweb/URL"
SETTINGS_USER = "DicomAI/DICOMweb/User"
SETTINGS_PASSWORD_ENV = "DicomAI/DICOMweb/PasswordVariable"


def _ensureCorePath():
    """Development checkouts: dicomai/dicomai_slicer live in ../DicomAIExport (installed: next to us)."""
    here = os.path.dirname(os.path.abspath(__file__))
    sibling = os.path.join(os.path.dirname(here), "DicomAIExport")
    if not os.path.isdir(os.path.join(here, "dicomai_slicer")) and os.path.isdir(sibling):
        if sibling not in sys.path:
            sys.path.append(sibling)


class DicomAIImport(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("DICOM AI Import")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Informatics")]
        self.parent.dependencies = []
        self.parent.contributors = ["DicomAIExtension developers"]
        self.parent.helpText = _(
            "Load DICOM Segmentation (BINARY, FRACTIONAL, LABELMAP) and Structured Report (TID 1500) "
            "objects written by any tool as segmentation, markups and table nodes over the series "
            "they reference. In the DICOM browser this is automatic; this panel loads a folder "
            "without importing it into the DICOM database."
        )
        self.parent.acknowledgementText = _("DICOM decoding is done by the embedded dicomai core.")


@parameterNodeWrapper
class DicomAIImportParameterNode:
    inputPath: Path = Path()
    showInViews: bool = True


class DicomAIImportWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DicomAIImport.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DicomAIImportLogic()
        self.ui.loadButton.connect("clicked(bool)", self.onLoadButton)
        self.ui.listStudiesButton.connect("clicked(bool)", self.onListStudies)
        self.ui.studyComboBox.connect("currentIndexChanged(int)", self.onStudyChanged)
        self.ui.loadFromServerButton.connect("clicked(bool)", self.onLoadFromServer)
        settings = slicer.app.settings()  # the server's URL and user are kept in Slicer's settings
        self.ui.serverUrlLineEdit.text = str(settings.value(SETTINGS_URL, "") or "")
        self.ui.serverUserLineEdit.text = str(settings.value(SETTINGS_USER, "") or "")
        self.ui.serverPasswordEnvLineEdit.text = str(settings.value(SETTINGS_PASSWORD_ENV, "") or "")
        self.setParameterNode(self.logic.getParameterNode())

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.setParameterNode(self.logic.getParameterNode())

    def exit(self):
        self.setParameterNode(None)

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanLoad)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanLoad)
            self._checkCanLoad()

    def _checkCanLoad(self, caller=None, event=None):
        path = str(self._parameterNode.inputPath) if self._parameterNode else ""
        self.ui.loadButton.enabled = bool(path.strip(". ")) and os.path.exists(path)

    def onLoadButton(self):
        self.ui.resultLabel.text = ""
        with slicer.util.tryWithErrorDisplay(_("Loading DICOM objects failed."), waitCursor=True):
            nodes = self.logic.loadFolder(self._parameterNode.inputPath, show=self._parameterNode.showInViews)
            self.ui.resultLabel.text = _("Loaded: ") + ", ".join(n.GetName() for n in nodes)

    # ---------------------------------------------------------------------------- DICOMweb server
    def _server(self):
        return (
            self.ui.serverUrlLineEdit.text.strip(),
            self.ui.serverUserLineEdit.text.strip() or None,
            self.ui.serverPasswordEnvLineEdit.text.strip() or None,
        )

    def onListStudies(self):
        url, user, passwordEnv = self._server()
        settings = slicer.app.settings()
        settings.setValue(SETTINGS_URL, url)
        settings.setValue(SETTINGS_USER, user or "")
        settings.setValue(SETTINGS_PASSWORD_ENV, passwordEnv or "")  # the variable's name only
        self.ui.studyComboBox.clear()
        self.ui.seriesComboBox.clear()
        self.ui.serverResultLabel.text = ""
        with slicer.util.tryWithErrorDisplay(_("Listing the server's studies failed."), waitCursor=True):
            studies = self.logic.listServerStudies(url, user, passwordEnv)
            for study in studies:
                text = "  ".join(
                    str(v)
                    for v in (study["patient_name"], study["study_date"], study["study_description"])
                    if v
                )
                self.ui.studyComboBox.addItem(
                    text or study["study_instance_uid"], study["study_instance_uid"]
                )
            self.ui.serverResultLabel.text = _("{count} study(ies)").format(count=len(studies))

    def onStudyChanged(self, index=None):
        self.ui.seriesComboBox.clear()
        combo = self.ui.studyComboBox
        if combo.currentIndex < 0:
            return
        url, user, passwordEnv = self._server()
        with slicer.util.tryWithErrorDisplay(_("Listing the study's series failed."), waitCursor=True):
            for row in self.logic.listServerSeries(
                url, combo.itemData(combo.currentIndex), user, passwordEnv
            ):
                text = f"{row['modality']}  {row['series_description'] or ''}  ({row['instances']})"
                self.ui.seriesComboBox.addItem(text, row["series_instance_uid"])

    def onLoadFromServer(self):
        url, user, passwordEnv = self._server()
        study, series = self.ui.studyComboBox, self.ui.seriesComboBox
        if study.currentIndex < 0 or series.currentIndex < 0:
            return
        with slicer.util.tryWithErrorDisplay(_("Loading from the server failed."), waitCursor=True):
            nodes = self.logic.loadFromServer(
                url,
                study.itemData(study.currentIndex),
                series.itemData(series.currentIndex),
                user,
                passwordEnv,
            )
            self.ui.serverResultLabel.text = _("Loaded: ") + ", ".join(n.GetName() for n in nodes)


class DicomAIImportLogic(ScriptedLoadableModuleLogic):
    """camelCase wrappers over ``dicomai_slicer`` for the panel and the Python console."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        _ensureCorePath()

    def getParameterNode(self):
        return DicomAIImportParameterNode(super().getParameterNode())

    def loadDicomObjects(self, paths, show=False):
        """Load DICOM files/folders (image series, SEG, SR); returns the nodes, volumes first.

        A SEG's or SR's referenced series is loaded too when it is among ``paths``, next to the
        object or in the DICOM database. The core's packages are installed first if missing.
        """
        from dicomai_slicer.browser import load_offer_files

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return load_offer_files([os.fspath(p) for p in paths], show=show)

    def load(self, paths):
        """Same as :meth:`loadDicomObjects`."""
        return self.loadDicomObjects(paths)

    def loadFolder(self, path, show=True):
        """Everything in a folder (or one file), without importing into the DICOM database; shown
        in the slice views (images with segmentations and markups on top) unless ``show=False``."""
        return self.loadDicomObjects([path], show=show)

    # ---------------------------------------------------------------------------- DICOMweb server
    @staticmethod
    def _connect(url, user=None, passwordEnv=None):
        from dicomai.dicomweb import Credentials, connect

        return connect(url, Credentials(user=user, password_env=passwordEnv))

    def listServerStudies(self, url, user=None, passwordEnv=None):
        """Studies on a DICOMweb server: dicts with patient_name, study_date, study_description,
        study_instance_uid, modalities."""
        from dicomai.dicomweb import query_studies

        return query_studies(self._connect(url, user, passwordEnv))

    def listServerSeries(self, url, studyUID, user=None, passwordEnv=None, kinds=("SEG", "SR", "OT", "SC")):
        """The study's result series (SEG, SR, Secondary Capture) as dicts (modality, description...)."""
        from dicomai.dicomweb import query_series

        rows = query_series(self._connect(url, user, passwordEnv), study=studyUID)
        return [r for r in rows if not kinds or r["modality"] in kinds]

    def loadFromServer(self, url, studyUID, seriesUID, user=None, passwordEnv=None, show=True):
        """Retrieve a series and the series it references (WADO-RS) into Slicer's temporary folder,
        then load them through the same readers as files; returns the nodes."""
        import tempfile

        from dicomai.dicomweb import retrieve_with_references

        base = getattr(getattr(slicer, "app", None), "temporaryPath", None) or tempfile.gettempdir()
        folder = Path(tempfile.mkdtemp(prefix="DicomAIImport-server-", dir=base))
        retrieve_with_references(self._connect(url, user, passwordEnv), studyUID, seriesUID, folder)
        return self.loadDicomObjects([folder], show=show)


class DicomAIImportTest(ScriptedLoadableModuleTest):
    """Self-test: export a phantom SEG, then load it with this module's logic."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_LoadFolder()

    def test_LoadFolder(self):
        import tempfile

        import numpy as np

        import dicomai_samples as synthetic

        self.delayDisplay("Writing a phantom CT and its SEG, then loading the folder")
        with tempfile.TemporaryDirectory(prefix="DicomAIImportTest-") as folder:
            shape = (8, 32, 32)
            grid = synthetic.make_grid(shape, (2.0, 1.0, 1.0), orientation="axial")
            ct, labels, _ = synthetic.phantom(shape)
            info = synthetic.write_series(Path(folder) / "ct", ct, grid)
            logic = DicomAIImportLogic()
            volume = logic.loadDicomObjects([info.folder])[0]
            segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", "phantom")
            segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volume)
            labelmap = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
            slicer.util.updateVolumeFromArray(labelmap, labels.astype(np.uint8))
            labelmap.CopyOrientation(volume)
            slicer.modules.segmentations.logic().ImportLabelmapToSegmentationNode(labelmap, segmentation)
            slicer.util.getModuleLogic("DicomAIExport").exportSegmentation(
                segmentation, volume, Path(folder) / "seg.dcm", segmentationType="auto"
            )
            slicer.mrmlScene.Clear()
            nodes = logic.loadFolder(folder)
            kinds = sorted(n.GetClassName() for n in nodes)
            self.assertEqual(kinds, ["vtkMRMLScalarVolumeNode", "vtkMRMLSegmentationNode"])
        self.delayDisplay("Test passed")
