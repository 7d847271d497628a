"""DicomAIImport: load DICOM SEG (and later SR) objects as Slicer nodes over their CT/MR.

For now the module holds the logic the Python console uses::

    logic = slicer.util.getModuleLogic("DicomAIImport")   # or DicomAIImportLogic()
    nodes = logic.loadDicomObjects(["/data/ct", "/data/result.seg.dcm"])

The DICOM browser plugins that use the same logic come with a later issue.
"""

from __future__ import annotations

import slicer  # noqa: F401  (Slicer modules import it first)
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic

#
# DicomAIImport
#


class DicomAIImport(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("DICOM AI Import")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Informatics")]
        self.parent.dependencies = []
        self.parent.contributors = ["DicomAIExtension developers"]
        self.parent.helpText = _(
            "Load DICOM Segmentation objects written by any tool as segmentation nodes over the "
            "series they reference, with segment names, colours and terminology."
        )
        self.parent.acknowledgementText = _("DICOM decoding is done by the embedded dicomai core.")


#
# DicomAIImportLogic
#


class DicomAIImportLogic(ScriptedLoadableModuleLogic):
    """Thin camelCase wrapper over :func:`dicomai_slicer.load_dicom_objects`."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def loadDicomObjects(self, paths):
        """Load DICOM files/folders (image series, SEG, registered object types); returns the nodes.

        A SEG's referenced series is loaded too when it is among ``paths``, next to the SEG or in
        the DICOM database.
        """
        from dicomai_slicer import load_dicom_objects

        return load_dicom_objects(paths)

    def load(self, paths):
        """Same as :meth:`loadDicomObjects`."""
        return self.loadDicomObjects(paths)
