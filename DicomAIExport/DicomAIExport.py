"""DicomAIExport: save segmentations (and later markups, tables, screenshots) as standard DICOM.

For now the module holds the logic the Python console uses::

    logic = slicer.util.getModuleLogic("DicomAIExport")   # or DicomAIExportLogic()
    logic.exportSegmentation(segmentationNode, ctVolumeNode, "/tmp/result.seg.dcm",
                             algorithmName="MyModel", algorithmVersion="1.2")

Everything is done by ``dicomai_slicer`` (MRML <-> core) and the ``dicomai`` core (DICOM).
"""

from __future__ import annotations

import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
)

#
# DicomAIExport
#


class DicomAIExport(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("DICOM AI Export")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Informatics")]
        self.parent.dependencies = []
        self.parent.contributors = ["DicomAIExtension developers"]
        self.parent.helpText = _(
            "Save AI results held in the scene as standard DICOM objects: segmentations and "
            "labelmaps as DICOM Segmentation (SEG) on the grid of the series they were made on."
        )
        self.parent.acknowledgementText = _(
            "Uses highdicom and pydicom. DICOM encoding is done by the embedded dicomai core."
        )


#
# DicomAIExportLogic
#


class DicomAIExportLogic(ScriptedLoadableModuleLogic):
    """Thin camelCase wrapper over :func:`dicomai_slicer.export_segmentation`."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

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

        The reference volume (default: the segmentation's reference geometry volume) must have
        been loaded from DICOM. Raises ValueError (``dicomai.DicomAIError``) with a message that
        names the node when something is missing.
        """
        from dicomai_slicer import export_segmentation

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


#
# DicomAIExportTest
#


class DicomAIExportTest(ScriptedLoadableModuleTest):
    """Self-test: the demo on a small phantom (write CT, segment, export SEG, load it back)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_ExportAndLoadBack()

    def test_ExportAndLoadBack(self):
        import tempfile

        from dicomai_slicer.demo import run_demo

        self.delayDisplay("Exporting a phantom segmentation as DICOM SEG and loading it back")
        with tempfile.TemporaryDirectory(prefix="DicomAIExportTest-") as folder:
            report = run_demo(folder, quick=True, render=False, cli=False, log=lambda *a: None)
        self.assertTrue(report.ok, "\n".join(report.failures))
        self.delayDisplay("Test passed")
