"""DicomAIExport: save AI results held in the scene as standard DICOM (SEG and SR).

Panel: choose a segmentation or labelmap, markups, a measurement table and the reference CT/MR,
the AI algorithm, the SEG type and the output (folder or DICOM database), press Export. One call
to :meth:`DicomAIExportLogic.export` does the work; the result line lists the files written
and whether each read back as written.

Python console::

    logic = slicer.util.getModuleLogic("DicomAIExport")   # or DicomAIExportLogic()
    logic.exportSegmentation(segmentationNode, ctVolumeNode, "/tmp/organs.seg.dcm",
                             algorithmName="TotalSegmentator", algorithmVersion="2.4",
                             segmentationType="auto")
    logic.exportReport(ctVolumeNode, "/tmp/report.sr.dcm", markups=[lineNode],
                       table=statsTable, segmentation="/tmp/organs.seg.dcm")
    result = logic.exportNodes(ctVolumeNode, "/tmp/out", segmentation=segmentationNode,
                               markups=[lineNode], algorithmName="MyNet")
    print(result.summary())

Everything is done by ``dicomai_slicer`` (MRML <-> core) and the ``dicomai`` core (DICOM); the
core's packages (pydicom 3, highdicom) are installed on first use if Slicer lacks them.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Optional, Union

import slicer
import vtk
from slicer import (
    vtkMRMLLabelMapVolumeNode,
    vtkMRMLMarkupsAngleNode,
    vtkMRMLMarkupsClosedCurveNode,
    vtkMRMLMarkupsCurveNode,
    vtkMRMLMarkupsFiducialNode,
    vtkMRMLMarkupsLineNode,
    vtkMRMLMarkupsPlaneNode,
    vtkMRMLMarkupsROINode,
    vtkMRMLScalarVolumeNode,
    vtkMRMLSegmentationNode,
    vtkMRMLTableNode,
)
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


class DicomAIExport(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("DICOM AI Export")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Informatics")]
        self.parent.dependencies = []
        self.parent.contributors = ["DicomAIExtension developers"]
        self.parent.helpText = _(
            "Save AI results as standard DICOM: segmentations and labelmaps as DICOM Segmentation "
            "(SEG: BINARY, LABELMAP, FRACTIONAL) on the grid of the series they were made on; "
            "markups and measurement tables as a DICOM Structured Report (TID 1500). Also available "
            "as 'Export to DICOM...' in the Data module."
        )
        self.parent.acknowledgementText = _(
            "Uses highdicom and pydicom. DICOM encoding is done by the embedded dicomai core."
        )


class AlgorithmType(enum.Enum):
    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"
    MANUAL = "MANUAL"

    def label(self):
        return {
            "AUTOMATIC": _("automatic (model output)"),
            "SEMIAUTOMATIC": _("semi-automatic (edited)"),
        }.get(self.name, _("manual"))


class SegmentationType(enum.Enum):
    AUTO = "auto"
    BINARY = "BINARY"
    LABELMAP = "LABELMAP"
    FRACTIONAL = "FRACTIONAL"

    def label(self):
        return _("auto (labelmap unless segments overlap)") if self.name == "AUTO" else self.name.lower()


class Coordinates(enum.Enum):
    THREE_D = "3d"
    TWO_D = "2d"

    def label(self):
        return _("3D (patient frame)") if self.name == "THREE_D" else _("2D (on the image)")


@parameterNodeWrapper
class DicomAIExportParameterNode:
    segmentation: Optional[Union[vtkMRMLSegmentationNode, vtkMRMLLabelMapVolumeNode]]
    # every concrete markups class (the node combo box instantiates each type to get its class name)
    markups: Optional[
        Union[
            vtkMRMLMarkupsFiducialNode,
            vtkMRMLMarkupsLineNode,
            vtkMRMLMarkupsAngleNode,
            vtkMRMLMarkupsCurveNode,
            vtkMRMLMarkupsClosedCurveNode,
            vtkMRMLMarkupsPlaneNode,
            vtkMRMLMarkupsROINode,
        ]
    ]
    table: Optional[vtkMRMLTableNode]
    referenceVolume: Optional[vtkMRMLScalarVolumeNode]
    algorithmName: str = ""
    algorithmVersion: str = ""
    algorithmType: AlgorithmType = AlgorithmType.AUTOMATIC
    segmentationType: SegmentationType = SegmentationType.AUTO
    seriesDescription: str = ""
    segmentVolumes: bool = True
    coordinates: Coordinates = Coordinates.TWO_D  # what the OHIF Viewer draws (docs/sr.md)
    outputToDatabase: bool = False
    outputFolder: Path = Path()
    # DICOMweb server destination: URL, user and the NAME of the environment variable holding the
    # password (the password itself is never in the scene)
    outputToServer: bool = False
    serverUrl: str = ""
    serverUser: str = ""
    serverPasswordEnv: str = ""


class DicomAIExportWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DicomAIExport.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DicomAIExportLogic()
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.exportButton.connect("clicked(bool)", self.onExportButton)
        self.ui.captureButton.connect("clicked(bool)", self.onCaptureButton)
        self.ui.progressBar.hide()
        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())
        if not str(self._parameterNode.outputFolder) or str(self._parameterNode.outputFolder) == ".":
            self._parameterNode.outputFolder = Path(slicer.app.temporaryPath) / "DicomAIExport"
        if not self._parameterNode.serverUrl:  # the server last used (Slicer's settings), if any
            settings = slicer.app.settings()
            self._parameterNode.serverUrl = str(settings.value("DicomAI/DICOMweb/URL", "") or "")
            self._parameterNode.serverUser = str(settings.value("DicomAI/DICOMweb/User", "") or "")
            self._parameterNode.serverPasswordEnv = str(
                settings.value("DicomAI/DICOMweb/PasswordVariable", "") or ""
            )

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanExport)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanExport)
            self._checkCanExport()

    def _checkCanExport(self, caller=None, event=None):
        p = self._parameterNode
        reason = self.logic.cannotExportReason(p)
        self.ui.exportButton.enabled = not reason
        self.ui.exportButton.toolTip = reason or _("Write the DICOM files.")
        generic = self.logic.genericCodedSegments(p.segmentation if p else None)
        self.ui.codesLabel.text = (
            _("Generic 'Tissue' codes (choose a terminology in the Segment Editor): ") + ", ".join(generic)
            if generic
            else ""
        )

    def onProgress(self, fraction, message):
        self.ui.progressBar.value = int(round(100 * fraction))
        self.ui.progressBar.format = f"%p% {message}"
        slicer.app.processEvents()

    def onExportButton(self):
        self.ui.resultLabel.text = ""
        self.ui.progressBar.value = 0
        self.ui.progressBar.show()
        with slicer.util.tryWithErrorDisplay(_("DICOM export failed."), waitCursor=True):
            result = self.logic.export(self._parameterNode, progress=self.onProgress)
            text = result.summary()
            sent = getattr(result, "sent", None)
            if sent is not None:
                settings = slicer.app.settings()
                settings.setValue("DicomAI/DICOMweb/URL", self._parameterNode.serverUrl.strip())
                settings.setValue("DicomAI/DICOMweb/User", self._parameterNode.serverUser.strip())
                settings.setValue(
                    "DicomAI/DICOMweb/PasswordVariable", self._parameterNode.serverPasswordEnv.strip()
                )
                text += "\n" + _("{verified}/{total} instance(s) verified on {url}").format(
                    verified=len(sent.verified), total=len(sent.instances), url=sent.url
                )
            self.ui.resultLabel.text = text

    def onCaptureButton(self):
        self.ui.resultLabel.text = ""
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("Capturing the view failed."), waitCursor=True):
            volume = self.logic.referenceVolumeOf(p)
            if volume is None:
                from dicomai.errors import InputError

                raise InputError(_("Choose the reference volume (loaded from DICOM) to capture."))
            segmentation = (
                p.segmentation
                if p.segmentation is not None and p.segmentation.IsA("vtkMRMLSegmentationNode")
                else None
            )
            directory = self.logic._outputDirectory(p)
            path = self.logic.captureViewAsDicom(volume, directory, segmentation)
            text = _("Secondary Capture written: ") + Path(path).name
            if p.outputToDatabase:
                from DICOMLib import DICOMUtils

                DICOMUtils.importDicom(str(directory))
            if p.outputToServer:
                sent = self.logic.sendToServer(
                    [path],
                    p.serverUrl.strip(),
                    p.serverUser.strip() or None,
                    p.serverPasswordEnv.strip() or None,
                )
                text += "\n" + _("{verified}/{total} instance(s) verified on {url}").format(
                    verified=len(sent.verified), total=len(sent.instances), url=sent.url
                )
            self.ui.resultLabel.text = text


class DicomAIExportLogic(ScriptedLoadableModuleLogic):
    """camelCase wrappers over ``dicomai_slicer`` for the panel and the Python console."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return DicomAIExportParameterNode(super().getParameterNode())

    @staticmethod
    def referenceVolumeOf(parameters):
        """The reference volume to use: the chosen one, else where the inputs lie (or None)."""
        if parameters.referenceVolume is not None:
            return parameters.referenceVolume
        from dicomai_slicer.exporting import reference_volume_for

        for node in (parameters.segmentation, parameters.markups, parameters.table):
            if node is not None:
                reference = reference_volume_for(node)
                if reference is not None:
                    return reference
        return None

    def cannotExportReason(self, parameters):
        """Why Export is disabled ("" when it is not)."""
        if parameters is None:
            return _("No parameters")
        if parameters.segmentation is None and parameters.markups is None and parameters.table is None:
            return _("Choose a segmentation or labelmap, markups or a table.")
        if self.referenceVolumeOf(parameters) is None:
            return _("Choose the reference volume (the CT/MR loaded from DICOM the results lie on).")
        if not parameters.outputToDatabase and not str(parameters.outputFolder).strip(". "):
            return _("Choose an output folder.")
        if parameters.outputToServer and not parameters.serverUrl.strip():
            return _("Enter the DICOMweb server's URL (e.g. http://localhost:8042/dicom-web).")
        return ""

    @staticmethod
    def genericCodedSegments(node):
        """Names of the segments of ``node`` an export would code as generic 'Tissue'."""
        from dicomai_slicer.segmentation import generic_coded_segments

        return generic_coded_segments(node)

    def export(self, parameters, progress=None):
        """Export what the parameter node says; returns ``dicomai_slicer.exporting.ExportResult``.

        With ``outputToDatabase`` the files are written into a folder next to the DICOM database
        and imported with ``DICOMUtils.importDicom``.
        """
        from dicomai.errors import InputError

        reason = self.cannotExportReason(parameters)
        if reason:
            raise InputError(reason)
        directory = self._outputDirectory(parameters)
        result = self.exportNodes(
            self.referenceVolumeOf(parameters),
            directory,
            segmentation=parameters.segmentation,
            markups=[parameters.markups] if parameters.markups is not None else [],
            table=parameters.table,
            segmentationType=parameters.segmentationType.value,
            algorithmName=parameters.algorithmName.strip() or None,
            algorithmVersion=parameters.algorithmVersion.strip() or None,
            algorithmType=parameters.algorithmType.value if parameters.algorithmName.strip() else None,
            seriesDescription=parameters.seriesDescription.strip() or None,
            segmentVolumes=parameters.segmentVolumes,
            coordinates=parameters.coordinates.value,
            progress=progress,
        )
        if parameters.outputToDatabase:
            from DICOMLib import DICOMUtils

            DICOMUtils.importDicom(str(directory))
        if parameters.outputToServer:
            result.sent = self.sendToServer(
                result.paths,
                parameters.serverUrl.strip(),
                user=parameters.serverUser.strip() or None,
                passwordEnv=parameters.serverPasswordEnv.strip() or None,
                progress=progress,
            )
        return result

    def captureViewAsDicom(self, volumeNode, outputFolder, segmentationNode=None, view="Red"):
        """The slice view ``view`` (offscreen: the volume and the segmentation) as a DICOM
        Secondary Capture in a new series of the volume's study; returns the file path."""
        from dicomai_slicer.capture import capture_view_as_sc
        from dicomai_slicer.dependencies import ensure_dependencies

        ensure_dependencies()
        return capture_view_as_sc(volumeNode, outputFolder, segmentationNode, view=view)

    def sendToServer(self, paths, url, user=None, passwordEnv=None, progress=None):
        """STOW-RS the files to a DICOMweb server and verify each one there; returns the
        ``dicomai.dicomweb.SendReport``. Raises ``DicomWebError`` naming what is missing unless
        every instance is verified."""
        from dicomai.destinations import DicomWebDestination
        from dicomai.dicomweb import Credentials, DicomWebError, format_send_report

        destination = DicomWebDestination(url, Credentials(user=user, password_env=passwordEnv))
        report = destination.store(
            paths, progress=(lambda done, total: progress(done / total, _("sent"))) if progress else None
        )
        if not report.ok:
            raise DicomWebError(format_send_report(report))
        return report

    @staticmethod
    def _outputDirectory(parameters):
        if not parameters.outputToDatabase:
            return Path(parameters.outputFolder)
        import time

        database = getattr(slicer, "dicomDatabase", None)
        if database is None:
            from dicomai.errors import InputError

            raise InputError(
                _("There is no DICOM database: open the DICOM module once, or export to a folder.")
            )
        base = database.databaseDirectory or os.path.join(slicer.app.temporaryPath, "DicomAIExport")
        return Path(base) / "DicomAIExport" / time.strftime("%Y%m%d_%H%M%S")

    def exportNodes(
        self,
        referenceVolumeNode,
        outputFolder,
        segmentation=None,
        markups=(),
        table=None,
        segmentationType="auto",
        algorithmName=None,
        algorithmVersion=None,
        algorithmType=None,
        seriesDescription=None,
        segmentVolumes=True,
        coordinates="2d",
        progress=None,
    ):
        """A SEG and/or an SR into ``outputFolder``, each read back; returns the ExportResult."""
        from dicomai_slicer.dependencies import ensure_dependencies
        from dicomai_slicer.exporting import export_nodes

        ensure_dependencies()
        return export_nodes(
            referenceVolumeNode,
            outputFolder,
            segmentation=segmentation,
            markups=list(markups),
            table=table,
            segmentation_type=segmentationType,
            algorithm_name=algorithmName,
            algorithm_version=algorithmVersion,
            algorithm_type=algorithmType,
            seg_series_description=seriesDescription,
            segment_volumes=segmentVolumes,
            coordinates=coordinates,
            progress=progress,
        )

    def exportSegmentation(
        self,
        segmentationNode,
        referenceVolumeNode=None,
        outputFile=None,
        sourceFolder=None,
        sourceFiles=None,
        algorithmName=None,
        algorithmVersion=None,
        algorithmType=None,
        seriesDescription=None,
        seriesNumber=None,
        segmentIds=None,
        segmentationType="BINARY",
        compression=None,
        overwrite=False,
        skipEmpty=True,
        progress=None,
    ):
        """Write a segmentation or labelmap node as a DICOM SEG; returns the result (a path).

        ``segmentationType``: "BINARY", "LABELMAP", "FRACTIONAL" or "auto". The reference volume
        (default: the segmentation's reference geometry volume) must have been loaded from DICOM.
        Raises ValueError (``dicomai.DicomAIError``) with a message naming the node.
        """
        from dicomai_slicer import export_segmentation
        from dicomai_slicer.dependencies import ensure_dependencies

        ensure_dependencies()
        return export_segmentation(
            segmentationNode,
            referenceVolumeNode,
            outputFile,
            source_folder=sourceFolder,
            source_files=sourceFiles,
            algorithm_name=algorithmName,
            algorithm_version=algorithmVersion,
            algorithm_type=algorithmType,
            series_description=seriesDescription,
            series_number=seriesNumber,
            segment_ids=segmentIds,
            segmentation_type=segmentationType,
            compression=compression,
            overwrite=overwrite,
            skip_empty=skipEmpty,
            progress=progress,
        )

    def exportReport(
        self, referenceVolumeNode, outputFile, markups=(), table=None, segmentation=None, **options
    ):
        """Markups and a table as a TID 1500 SR (``dicomai_slicer.export_report``, snake_case options)."""
        from dicomai_slicer import export_report
        from dicomai_slicer.dependencies import ensure_dependencies

        ensure_dependencies()
        return export_report(
            referenceVolumeNode,
            outputFile,
            markups=list(markups),
            table=table,
            segmentation=segmentation,
            **options,
        )


class DicomAIExportTest(ScriptedLoadableModuleTest):
    """Self-test: the demo on a small phantom (write CT, segment, export SEG, load it back)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_ExportAndLoadBack()

    def test_ExportAndLoadBack(self):
        import tempfile

        from dicomai_samples.demo import run_demo

        self.delayDisplay("Exporting a phantom segmentation as DICOM SEG and loading it back")
        with tempfile.TemporaryDirectory(prefix="DicomAIExportTest-") as folder:
            report = run_demo(folder, quick=True, render=False, cli=False, log=lambda *a: None)
        self.assertTrue(report.ok, "\n".join(report.failures))
        self.delayDisplay("Test passed")
