"""The Slicer stand-in (Testing/slicer_standin) behaves as Slicer's source says, on a slicer-core scene."""

import enum
import importlib
import logging
import pathlib
import sys
import textwrap
from typing import Annotated, Optional

import pytest

TESTING = str(pathlib.Path(__file__).resolve().parents[1])  # Testing/, where slicer_standin lives
if TESTING not in sys.path:
    sys.path.append(TESTING)

slicer = pytest.importorskip("slicer", reason="slicer-core is not installed")
pydicom = pytest.importorskip("pydicom")

import slicer_standin  # noqa: E402

pytestmark = pytest.mark.slicer

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def scene():
    """A headless scene with the subject hierarchy logic, as in shared/probes/sc_scene.py."""
    scene = slicer.vtkMRMLScene()
    appLogic = slicer.vtkSlicerApplicationLogic()
    appLogic.SetMRMLScene(scene)
    shLogic = slicer.vtkSlicerSubjectHierarchyModuleLogic()
    shLogic.SetMRMLScene(scene)
    shLogic.SetMRMLApplicationLogic(appLogic)
    appLogic.SetModuleLogic("SubjectHierarchy", shLogic)
    previous = getattr(slicer, "mrmlScene", None)
    slicer.mrmlScene = scene
    yield scene
    slicer.mrmlScene = previous
    del appLogic, shLogic


@pytest.fixture
def standin(scene):
    slicer_standin.install(scene)
    yield slicer_standin.state
    slicer_standin.uninstall()


def makeCTSeries(folder, slices=3, patientID="PAT1", patientName="Doe^Jane"):
    """A tiny CT series written with pydicom, files named against slice order."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientName, ds.PatientSex, ds.PatientBirthDate = (
            patientID,
            patientName,
            "F",
            "19700101",
        )
        ds.StudyInstanceUID, ds.StudyID, ds.StudyDate, ds.StudyTime = study, "S1", "20240102", "101500"
        ds.StudyDescription = "Chest"
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription, ds.Modality = series, 3, "Axial", "CT"
        ds.FrameOfReferenceUID, ds.Manufacturer = frame, "Acme"
        ds.InstanceNumber = index + 1
        ds.ImagePositionPatient = ["0", "0", f"{-2.5 * index:g}" if index else "0"]  # DS kept as written
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = "2.5"
        ds.Rows = ds.Columns = 4
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
        ds.PixelData = bytes(4 * 4 * 2)
        path = folder / f"img{slices - index:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


class ToyPlugin:
    """Factory for plugin classes built on the installed DICOMLib.DICOMPlugin."""

    @staticmethod
    def make(confidence=0.6, loadType="Toy"):
        from DICOMLib import DICOMLoadable, DICOMPlugin

        class Toy(DICOMPlugin):
            examined = []

            def __init__(self):
                super().__init__()
                self.loadType = loadType

            def examineFiles(self, files):
                Toy.examined.append(list(files))
                loadable = DICOMLoadable()
                loadable.files = list(files)
                loadable.name = loadType
                loadable.confidence = confidence
                loadable.selected = True
                return [loadable]

            def load(self, loadable):
                node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", loadType)
                self.addSeriesInSubjectHierarchy(loadable, node)
                return node

        return Toy


# --- DICOMLoadable and DICOMPlugin


def test_loadable_defaults_are_slicers(standin):
    from DICOMLib import DICOMLoadable

    loadable = DICOMLoadable()
    assert (
        loadable.files,
        loadable.name,
        loadable.tooltip,
        loadable.warning,
        loadable.selected,
        loadable.confidence,
    ) == ([], "Unknown", "No further information available", "", False, 0.5)
    assert not hasattr(loadable, "referencedInstanceUIDs")


def test_plugin_defaults_are_slicers(standin):
    from DICOMLib import DICOMPlugin

    plugin = DICOMPlugin()
    assert plugin.loadType == "Generic DICOM"
    assert plugin.loadableCache == {} and plugin.tempDir is None
    assert plugin.tags == {
        "seriesDescription": "0008,103E",
        "seriesNumber": "0020,0011",
        "frameOfReferenceUID": "0020,0052",
        "seriesInstanceUID": "0020,000E",
        "modality": "0008,0060",
        "instanceUID": "0008,0018",
        "sopClassUID": "0008,0016",
    }
    assert plugin.examineForExport(1) == [] and plugin.export([]) == "" and plugin.load(None) is True
    assert plugin.mapSOPClassUIDToModality(CT_IMAGE_STORAGE) == "CT"
    quantity, units = plugin.mapSOPClassUIDToDICOMQuantityAndUnits(CT_IMAGE_STORAGE)
    assert (quantity.GetCodeValue(), units.GetCodeMeaning()) == ("112031", "Hounsfield unit")


def test_examineForImport_calls_examineFiles_once_per_file_list(standin):
    Toy = ToyPlugin.make()
    plugin = Toy()
    first = plugin.examineForImport([["a.dcm", "b.dcm"], ["c.dcm"]])
    again = plugin.examineForImport([["a.dcm", "b.dcm"]])
    assert Toy.examined == [["a.dcm", "b.dcm"], ["c.dcm"]]
    assert again[0] is first[0]
    assert plugin.examine([["d.dcm"]])[0].files == ["d.dcm"]  # the old name still works


def test_slicer_510_base_does_not_call_examineFiles(scene):
    slicer_standin.install(scene, version=(5, 10, 0))
    try:
        from DICOMLib import DICOMPlugin, DICOMUtils

        assert not hasattr(DICOMPlugin, "examineFiles")
        Toy = ToyPlugin.make()
        slicer.modules.dicomPlugins["Toy"] = Toy
        assert Toy().examineForImport([["a.dcm"]]) == []
        loadablesByPlugin, loadEnabled = DICOMUtils.getLoadablesFromFileLists([["a.dcm"]])
        assert not loadEnabled and Toy.examined == []
        with pytest.raises(ImportError):
            importlib.import_module("slicer.packaging")
    finally:
        slicer_standin.uninstall()


# --- database and subject hierarchy


def test_database_fileValue_reads_headers_as_ctk_formats_them(standin, tmp_path):
    from DICOMLib import DICOMUtils

    paths = makeCTSeries(tmp_path / "ct")
    assert slicer.dicomDatabase.fileValue(paths[1], "0020,0032") == ""  # not in the database yet
    assert DICOMUtils.importDicom(str(tmp_path / "ct"))
    db = slicer.dicomDatabase
    assert db.fileValue(paths[1], "0020,0032") == "0\\0\\-2.5"
    assert db.fileValue(paths[1], "0010,0010") == "Doe^Jane"
    assert db.fileValue(paths[1], "0020,0011") == "3"
    assert db.fileValue(paths[1], "0008,103e") == "Axial"  # lower-case hex accepted
    assert db.fileValue(paths[1], "7FE0,0010") == "" and db.fileValueExists(paths[1], "7FE0,0010")
    assert db.fileValue(paths[1], "0018,0050") == "2.5"
    series = db.fileValue(paths[0], "0020,000E")
    assert sorted(db.filesForSeries(series)) == sorted(paths) and len(db.filesForSeries(series, 1)) == 1
    assert db.patients() == ["1"] and db.seriesForStudy(db.studiesForPatient("1")[0]) == [series]
    files, distances, warning = DICOMUtils.getSortedImageFiles(db.filesForSeries(series))
    assert files == paths[::-1] and warning == ""


def test_addSeriesInSubjectHierarchy_places_node_under_patient_and_study(standin, tmp_path):
    from DICOMLib import DICOMUtils

    paths = makeCTSeries(tmp_path / "ct")
    DICOMUtils.importDicom(str(tmp_path / "ct"))
    Toy = ToyPlugin.make()
    plugin = Toy()
    loadable = plugin.examineForImport([paths])[0]
    loadable.referencedInstanceUIDs = ["1.2.3", "1.2.4"]
    node = plugin.load(loadable)

    db, constants = slicer.dicomDatabase, slicer.vtkMRMLSubjectHierarchyConstants
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    seriesItem = shNode.GetItemByDataNode(node)
    studyItem = shNode.GetItemParent(seriesItem)
    patientItem = shNode.GetItemParent(studyItem)
    assert shNode.GetItemParent(patientItem) == shNode.GetSceneItemID()
    assert shNode.IsItemLevel(patientItem, constants.GetDICOMLevelPatient())
    assert shNode.IsItemLevel(studyItem, constants.GetDICOMLevelStudy())
    assert shNode.GetItemUID(seriesItem, "DICOM") == db.fileValue(paths[0], "0020,000E")
    assert shNode.GetItemUID(studyItem, "DICOM") == db.fileValue(paths[0], "0020,000D")
    assert shNode.GetItemUID(patientItem, "DICOM") == "PAT1"
    instances = [db.fileValue(p, "0008,0018") for p in paths]
    assert shNode.GetItemUID(seriesItem, constants.GetDICOMInstanceUIDName()) == " ".join(instances)
    assert shNode.GetItemAttribute(seriesItem, "DICOM.ReferencedInstanceUIDs") == "1.2.3 1.2.4"
    assert shNode.GetItemAttribute(seriesItem, "DICOM.Modality") == "CT"
    assert shNode.GetItemAttribute(seriesItem, "DICOM.SeriesDescription") == "Axial"
    assert shNode.GetItemAttribute(patientItem, "DICOM.PatientName") == "Doe^Jane"
    assert shNode.GetItemAttribute(studyItem, "DICOM.StudyDate") == "20240102"
    # item names as Slicer's defaults make them: patient ID shown, study date shown
    assert shNode.GetItemName(patientItem) == "Doe^Jane (PAT1)"
    assert shNode.GetItemName(studyItem) == "Chest (20240102)"

    # a second series of the same study goes under the same items
    other = Toy().examineForImport([paths[:1]])[0]
    second = plugin.load(other)
    assert shNode.GetItemParent(shNode.GetItemByDataNode(second)) == studyItem


def test_loadSeriesByUID_loads_only_the_most_confident_loadable(standin, tmp_path):
    from DICOMLib import DICOMUtils

    paths = makeCTSeries(tmp_path / "ct")
    DICOMUtils.importDicom(str(tmp_path / "ct"))
    slicer.modules.dicomPlugins["Weak"] = ToyPlugin.make(0.5, "Weak")
    slicer.modules.dicomPlugins["Strong"] = ToyPlugin.make(0.96, "Strong")
    nodeIDs = DICOMUtils.loadSeriesByUID([slicer.dicomDatabase.fileValue(paths[0], "0020,000E")])
    assert [slicer.mrmlScene.GetNodeByID(i).GetName() for i in nodeIDs] == ["Strong"]


# --- export


def test_exportable_properties_and_tags_behave_as_through_pythonqt(standin):
    exportable = slicer.qSlicerDICOMExportable()
    assert (
        exportable.name,
        exportable.tooltip,
        exportable.subjectHierarchyItemID,
        exportable.pluginClass,
        exportable.directory,
        exportable.confidence,
        exportable.tags,
    ) == ("Unknown exporter", "Creates a DICOM file from the selected data", 0, "", "", 0.0, {})
    exportable.setTag("Modality", "SEG")
    assert exportable.tag("Modality") == "SEG"
    exportable.tags["Modality"] = "SR"  # a copy: no effect, as with a QMap property
    assert exportable.tag("Modality") == "SEG"
    assert exportable.tag("Missing") == "" and exportable.tags == {"Modality": "SEG", "Missing": ""}
    exportable.tags = {"A": "1"}
    assert exportable.tags == {"A": "1"}


def test_export_dialog_fills_tags_and_directory_then_calls_export(standin, tmp_path):
    from DICOMLib import DICOMPlugin, DICOMUtils

    paths = makeCTSeries(tmp_path / "ct")
    DICOMUtils.importDicom(str(tmp_path / "ct"))
    Toy = ToyPlugin.make()
    loaded = Toy().load(Toy().examineForImport([paths])[0])
    received = []

    class Exporter(DICOMPlugin):
        def examineForExport(self, itemID):
            shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
            if not shNode.GetItemDataNode(itemID).IsA("vtkMRMLScalarVolumeNode"):
                return []
            exportable = slicer.qSlicerDICOMExportable()
            exportable.subjectHierarchyItemID = itemID
            exportable.pluginClass = "Exporter"
            exportable.confidence = 0.97
            exportable.setTag("Modality", "OT")
            exportable.setTag("SeriesDescription", "default")
            return [exportable]

        def export(self, exportables):
            received.extend(exportables)
            return ""

    class Broken(DICOMPlugin):
        def examineForExport(self, itemID):
            raise RuntimeError("broken plugin")

    slicer.modules.dicomPlugins.update({"Exporter": Exporter, "Broken": Broken})
    shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
    studyItem = shNode.GetItemParent(shNode.GetItemByDataNode(loaded))
    ranked = slicer_standin.exportDialog.examine(studyItem)
    assert [(confidence, pluginClass) for confidence, pluginClass, _ in ranked] == [(0.97, "Exporter")]
    assert slicer_standin.exportDialog.export(ranked[0][2], tmp_path / "out") == ""
    (exportable,) = received
    assert exportable.directory == str(tmp_path / "out")
    assert exportable.tag("PatientName") == "Doe^Jane" and exportable.tag("StudyInstanceUID")
    assert exportable.tag("Modality") == "CT"  # the series item's DICOM.Modality replaces the default
    assert exportable.tag("SeriesDescription") == "Axial"


# --- parameterNodeWrapper


class Shape(enum.Enum):
    BINARY = "binary"
    FRACTIONAL = "fractional"


def makeParameters():
    from slicer.parameterNodeWrapper import Choice, Default, WithinRange, parameterNodeWrapper

    @parameterNodeWrapper
    class Parameters:
        inputVolume: slicer.vtkMRMLScalarVolumeNode
        threshold: Annotated[float, WithinRange(-100, 500)] = 100
        count: Annotated[int, Default(7)]
        invert: bool = False
        algorithmName: str = "model"
        shape: Shape
        outputFolder: pathlib.Path
        note: Optional[str]
        level: Annotated[str, Choice(["low", "high"])] = "low"

    return Parameters


def test_parameterNodeWrapper_stores_values_as_slicer_serializes_them(standin):
    Parameters = makeParameters()
    node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    parameters = Parameters(node)
    # defaults are written on wrap
    assert (
        node.GetParameter("threshold"),
        node.GetParameter("count"),
        node.GetParameter("invert"),
        node.GetParameter("shape"),
        node.GetParameter("outputFolder"),
        node.GetParameter("note.1"),
    ) == ("100", "7", "False", "BINARY", ".", "True")
    assert parameters.inputVolume is None and parameters.note is None and parameters.shape is Shape.BINARY

    volume = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    parameters.inputVolume = volume
    parameters.threshold = 12.5
    parameters.invert = True
    parameters.shape = Shape.FRACTIONAL
    parameters.outputFolder = pathlib.Path("/tmp/out")
    parameters.note = "hello"
    assert node.GetNodeReferenceID("inputVolume") == volume.GetID() and node.GetParameter("inputVolume") == ""
    assert (
        node.GetParameter("threshold"),
        node.GetParameter("invert"),
        node.GetParameter("shape"),
        node.GetParameter("note.0"),
        node.HasParameter("note.1"),
    ) == ("12.5", "True", "FRACTIONAL", "hello", False)

    again = Parameters(node)  # a second wrapper reads the same node
    assert (
        again.inputVolume,
        again.threshold,
        again.invert,
        again.shape,
        again.outputFolder,
        again.note,
    ) == (volume, 12.5, True, Shape.FRACTIONAL, pathlib.Path("/tmp/out"), "hello")
    node.SetParameter("count", "9")  # the cache follows direct edits of the node
    assert parameters.count == 9 and parameters.getValue("count") == 9

    with pytest.raises(ValueError):
        parameters.threshold = 600
    with pytest.raises(ValueError):
        parameters.level = "medium"
    with pytest.raises(TypeError):
        parameters.count = "3"
    assert parameters.threshold == 12.5 and node.GetParameter("threshold") == "12.5"
    assert parameters.default("threshold").value == 100
    from slicer.parameterNodeWrapper import unannotatedType

    assert unannotatedType(Parameters.dataType("count")) is int


def test_logic_getParameterNode_is_a_singleton_tagged_with_the_module(standin):
    from slicer.ScriptedLoadableModule import ScriptedLoadableModuleLogic

    class DemoLogic(ScriptedLoadableModuleLogic):
        pass

    first = DemoLogic().getParameterNode()
    assert DemoLogic().getParameterNode() is first
    assert first.GetAttribute("ModuleName") == "Demo" and first.GetSingletonTag() == "Demo"
    assert first.GetName() == "Demo"


UI = """<?xml version="1.0" encoding="UTF-8"?>
<ui version="4.0">
 <class>Demo</class>
 <widget class="qMRMLWidget" name="Demo">
  <layout class="QVBoxLayout" name="verticalLayout">
   <item>
    <widget class="qMRMLNodeComboBox" name="inputSelector">
     <property name="nodeTypes"><stringlist><string>vtkMRMLScalarVolumeNode</string></stringlist></property>
     <property name="SlicerParameterName" stdset="0"><string>inputVolume</string></property>
    </widget>
   </item>
   <item>
    <widget class="ctkSliderWidget" name="thresholdSlider">
     <property name="SlicerParameterName" stdset="0"><string>threshold</string></property>
    </widget>
   </item>
   <item>
    <widget class="QCheckBox" name="invertCheckBox">
     <property name="text"><string>Invert</string></property>
     <property name="SlicerParameterName" stdset="0"><string>invert</string></property>
    </widget>
   </item>
   <item>
    <widget class="QComboBox" name="shapeComboBox">
     <property name="SlicerParameterName" stdset="0"><string>shape</string></property>
    </widget>
   </item>
   <item>
    <widget class="QPushButton" name="applyButton">
     <property name="enabled"><bool>false</bool></property>
    </widget>
   </item>
  </layout>
 </widget>
 <connections>
  <connection>
   <sender>Demo</sender><signal>mrmlSceneChanged(vtkMRMLScene*)</signal>
   <receiver>inputSelector</receiver><slot>setMRMLScene(vtkMRMLScene*)</slot>
  </connection>
 </connections>
</ui>
"""


def test_loadUI_and_connectGui_keep_widgets_and_parameters_in_step(standin, tmp_path):
    (tmp_path / "Demo.ui").write_text(UI)
    uiWidget = slicer.util.loadUI(str(tmp_path / "Demo.ui"))
    ui = slicer.util.childWidgetVariables(uiWidget)
    uiWidget.setMRMLScene(slicer.mrmlScene)
    assert ui.inputSelector.mrmlScene() is slicer.mrmlScene  # via the .ui <connections>
    assert ui.applyButton.enabled is False and ui.invertCheckBox.text == "Invert"

    Parameters = makeParameters()
    parameters = Parameters(slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScriptedModuleNode"))
    tag = parameters.connectGui(ui)
    assert ui.thresholdSlider.value == 100 and (ui.thresholdSlider.minimum, ui.thresholdSlider.maximum) == (
        -100,
        500,
    )
    assert [ui.shapeComboBox.itemText(i) for i in range(ui.shapeComboBox.count())] == ["BINARY", "FRACTIONAL"]

    volume = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode")
    ui.inputSelector.setCurrentNode(volume)
    ui.invertCheckBox.click()
    ui.shapeComboBox.currentIndex = 1
    assert (parameters.inputVolume, parameters.invert, parameters.shape) == (volume, True, Shape.FRACTIONAL)
    parameters.threshold = 42.0
    assert ui.thresholdSlider.value == 42.0

    parameters.disconnectGui(tag)
    ui.invertCheckBox.click()
    assert parameters.invert is True


# --- slicer.util on the stand-in, slicer.app, packaging, module loading


def test_tryWithErrorDisplay_shows_the_error_and_reraises(standin):
    with pytest.raises(ValueError, match="boom"):
        with slicer.util.tryWithErrorDisplay("Export failed.", waitCursor=True):
            raise ValueError("boom")
    (box,) = standin.messageBoxes
    assert box["text"] == "Export failed.\n\nboom" and "ValueError" in box["detailedText"]
    assert standin.overrideCursors == []  # the wait cursor was restored


def test_testing_mode_only_logs_messages(scene, caplog):
    slicer_standin.install(scene, testingEnabled=True)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError):
            with slicer.util.tryWithErrorDisplay("Failed."):
                raise RuntimeError("x")
        assert slicer_standin.state.messageBoxes == []
        # Slicer's own slicer.util compares the testing return value True with QMessageBox.Ok: False
        assert slicer.util.confirmOkCancelDisplay("Sure?") is False
    finally:
        slicer_standin.uninstall()


def test_message_box_answers_and_slot_errors_are_observable(standin):
    import qt

    standin.messageBoxAnswers.append(qt.QMessageBox.Cancel)
    assert slicer.util.confirmOkCancelDisplay("Install?") is False
    button = qt.QPushButton("Go")

    def onClicked():
        raise RuntimeError("slot failed")

    button.connect("clicked(bool)", onClicked)
    button.click()  # PythonQt prints slot errors and carries on
    assert [str(e) for e in standin.slotErrors] == ["slot failed"]


def test_pip_ensure_asks_then_records_the_install(standin):
    importlib.import_module("slicer.packaging")
    assert slicer.packaging.pip_ensure("numpy") is None and standin.pipCalls == []
    slicer.packaging.pip_ensure(["numpy", "surely-not-installed-pkg>=1"], requester="DicomAI")
    # slicer.util.messageBox pads the title when there is detailed text
    assert standin.messageBoxes[0]["windowTitle"].strip() == "DicomAI - Install Python Packages"
    assert standin.pipCalls[0][0] == ["surely-not-installed-pkg>=1"]
    import qt

    standin.messageBoxAnswers.append(qt.QMessageBox.Cancel)
    with pytest.raises(RuntimeError, match="declined"):
        slicer.packaging.pip_ensure("surely-not-installed-pkg")
    slicer.util.pip_install("x")  # slicer.util delegates to slicer.packaging in 5.12
    assert standin.pipCalls[-1][0] == "x"


MODULE = """
    from slicer.ScriptedLoadableModule import *
    from slicer.i18n import tr as _
    import slicer
    from DICOMLib import DICOMPlugin


    class DemoPluginClass(DICOMPlugin):
        pass


    class Demo(ScriptedLoadableModule):
        def __init__(self, parent):
            ScriptedLoadableModule.__init__(self, parent)
            self.parent.title = _("Demo")
            self.parent.hidden = True
            try:
                slicer.modules.dicomPlugins
            except AttributeError:
                slicer.modules.dicomPlugins = {}
            slicer.modules.dicomPlugins["Demo"] = DemoPluginClass


    class DemoWidget(ScriptedLoadableModuleWidget):
        def setup(self):
            ScriptedLoadableModuleWidget.setup(self)
            uiWidget = slicer.util.loadUI(self.resourcePath("UI/Demo.ui"))
            self.layout.addWidget(uiWidget)
            self.ui = slicer.util.childWidgetVariables(uiWidget)
            self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
            self.applied = 0

        def onApplyButton(self):
            self.applied += 1

        def enter(self):
            self.entered = getattr(self, "entered", 0) + 1


    class DemoTest(ScriptedLoadableModuleTest):
        def test_nothing(self):
            self.delayDisplay("ok")
"""


def test_loadModule_runs_the_module_class_and_registers_the_plugin(standin, tmp_path):
    (tmp_path / "Resources" / "UI").mkdir(parents=True)
    (tmp_path / "Resources" / "UI" / "Demo.ui").write_text(UI)
    (tmp_path / "Demo.py").write_text(textwrap.dedent(MODULE))
    module = slicer_standin.loadModule(tmp_path / "Demo.py")
    assert slicer.modules.demo is module and module.title == "Demo" and module.hidden is True
    assert slicer.modules.dicomPlugins["Demo"].__name__ == "DemoPluginClass"
    assert slicer.modules.DemoInstance.moduleName == "Demo"
    assert slicer.util.modulePath("Demo") == str(tmp_path / "Demo.py")

    widget = slicer.util.getModuleWidget("Demo")
    assert slicer.modules.DemoWidget is widget
    widget.ui.applyButton.enabled = True
    widget.ui.applyButton.click()
    assert widget.applied == 1 and standin.slotErrors == []
    slicer.util.selectModule("Demo")
    assert slicer.util.selectedModule() == "Demo" and widget.entered == 1
    slicer.selfTests["Demo"](msec=0)  # runs DemoTest
