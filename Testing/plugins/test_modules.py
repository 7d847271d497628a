"""The module files as Slicer loads them (stand-in, Slicer 5.12 and 5.10), their .ui files, their
CMakeLists, the extension metadata, and both panels driven through their widgets."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import slicer
from plugin_cases import EXPORT_DIR, IMPORT_DIR, ROOT, unload_modules

import slicer_standin

MODULE_DIRS = (EXPORT_DIR, IMPORT_DIR)
# file -> (hidden, registers the DICOM plugin key)
MODULE_FILES = {
    EXPORT_DIR / "DicomAIExport.py": (False, None),
    EXPORT_DIR / "DICOMAIExportPlugin.py": (True, "DICOMAIExportPlugin"),
    IMPORT_DIR / "DicomAIImport.py": (False, None),
    IMPORT_DIR / "DICOMAISegmentationPlugin.py": (True, "DICOMAISegmentationPlugin"),
    IMPORT_DIR / "DICOMAIStructuredReportPlugin.py": (True, "DICOMAIStructuredReportPlugin"),
}


def _top_level_module_files():
    return sorted(p for d in MODULE_DIRS for p in d.glob("*.py"))


def test_the_list_of_module_files_is_complete():
    assert _top_level_module_files() == sorted(MODULE_FILES)


@pytest.mark.parametrize("path", sorted(MODULE_FILES), ids=lambda p: p.name)
def test_every_module_file_loads_under_slicer_510_and_512(scene, slicer_version, path):
    slicer_standin.install(scene, version=slicer_version)
    try:
        module = slicer_standin.loadModule(path)
        hidden, key = MODULE_FILES[path]
        assert module.title and module.hidden == hidden
        assert module.categories
        if key:
            assert key == path.stem  # the export dialog looks plugins up by their module name
            plugin_class = slicer.modules.dicomPlugins[key]
            assert plugin_class().loadType  # instantiable on that version's DICOMPlugin
            assert key not in ("DICOMSegmentationPlugin", "DICOMTID1500Plugin")
        else:
            assert module.widgetRepresentation() is not None
            assert slicer_standin.state.slotErrors == []
    finally:
        unload_modules()
        slicer_standin.uninstall()


def test_module_files_import_neither_pydicom_nor_highdicom():
    """Slicer start-up time: the packages are imported on first use only."""
    script = f"""
import sys
sys.path[:0] = [{str(ROOT / "Testing")!r}, {str(EXPORT_DIR)!r}]
import dicomai_slicer, slicer_standin
scene = dicomai_slicer.create_scene()
slicer_standin.install(scene)
for path in {[str(p) for p in MODULE_FILES]!r}:
    slicer_standin.loadModule(path)
heavy = sorted(m for m in ("pydicom", "highdicom", "SimpleITK") if m in sys.modules)
print("HEAVY", heavy)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout, out.stdout


# ----------------------------------------------------------------------------------------- .ui files
def _ui_names(ui: Path) -> dict:
    root = ET.parse(ui).getroot()
    names = {}
    for w in root.iter("widget"):
        parameter = w.find("property[@name='SlicerParameterName']/string")
        names[w.get("name")] = parameter.text if parameter is not None else None
    return names


@pytest.mark.parametrize("module", ["DicomAIExport", "DicomAIImport"])
def test_every_widget_the_code_uses_exists_in_the_ui_file(module):
    source = (ROOT / module / f"{module}.py").read_text()
    used = set(re.findall(r"self\.ui\.(\w+)", source))
    names = _ui_names(ROOT / module / "Resources" / "UI" / f"{module}.ui")
    assert used, "the widget uses no ui names?"
    assert used <= set(names), f"not in the .ui file: {sorted(used - set(names))}"


@pytest.mark.parametrize("module", ["DicomAIExport", "DicomAIImport"])
def test_ui_parameter_names_are_the_parameter_node_fields(module):
    tree = ast.parse((ROOT / module / f"{module}.py").read_text())
    (node_class,) = [
        c for c in tree.body if isinstance(c, ast.ClassDef) and c.name == f"{module}ParameterNode"
    ]
    fields = {s.target.id for s in node_class.body if isinstance(s, ast.AnnAssign)}
    parameters = {p for p in _ui_names(ROOT / module / "Resources" / "UI" / f"{module}.ui").values() if p}
    assert parameters == fields


# ------------------------------------------------------------------------------------- CMakeLists
def _cmake_listed(cmake: Path) -> set:
    text = re.sub(r"#.*", "", cmake.read_text())
    variables = {}
    for name, body in re.findall(r"set\(\s*(\w+)\s+(.*?)\)", text, re.S):
        variables[name] = body.split()
    module_name = variables["MODULE_NAME"][0]
    listed = set()
    for name in (
        "MODULE_PYTHON_SCRIPTS",
        "DICOMAI_CORE_SCRIPTS",
        "DICOMAI_SLICER_SCRIPTS",
        "DICOMAI_SAMPLES_SCRIPTS",
        "MODULE_PYTHON_RESOURCES",
        "DICOMAI_CORE_DATA",
    ):
        for entry in variables.get(name, []):
            listed.add(entry.replace("${MODULE_NAME}", module_name))
    return listed


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=lambda p: p.name)
def test_every_script_and_resource_is_listed_in_the_module_cmakelists(module_dir):
    listed = _cmake_listed(module_dir / "CMakeLists.txt")
    scripts = {
        str(p.relative_to(module_dir)) for p in module_dir.rglob("*.py") if "__pycache__" not in p.parts
    }
    resources = {str(p.relative_to(module_dir)) for p in (module_dir / "Resources").rglob("*") if p.is_file()}
    resources |= {
        str(p.relative_to(module_dir)) for p in (module_dir / "dicomai" / "data").rglob("*") if p.is_file()
    }
    assert scripts - listed == set(), "scripts missing from CMakeLists.txt"
    assert resources - listed == set(), "resources missing from CMakeLists.txt"
    assert {p for p in listed if not (module_dir / p).is_file()} == set(), "listed but absent"
    text = (module_dir / "CMakeLists.txt").read_text()
    assert "slicerMacroBuildScriptedModule(" in text
    assert "slicer_add_python_unittest(SCRIPT ${MODULE_NAME}.py)" in text


def _cmake_set(name: str) -> str:
    match = re.search(rf'set\({name}\s+"(.*?)"\)', (ROOT / "CMakeLists.txt").read_text(), re.S)
    assert match, name
    return match.group(1)


def test_top_level_cmakelists_follows_the_extension_template():
    text = (ROOT / "CMakeLists.txt").read_text()
    for name in (
        "HOMEPAGE",
        "CATEGORY",
        "CONTRIBUTORS",
        "DESCRIPTION",
        "ICONURL",
        "SCREENSHOTURLS",
        "DEPENDS",
    ):
        assert _cmake_set(f"EXTENSION_{name}")
    assert "find_package(Slicer REQUIRED)" in text and "include(${Slicer_USE_FILE})" in text
    subdirs = re.findall(r"add_subdirectory\((\w+)\)", text)
    assert subdirs == ["DicomAIExport", "DicomAIImport"]
    assert text.index("include(${Slicer_EXTENSION_GENERATE_CONFIG})") < text.index(
        "include(${Slicer_EXTENSION_CPACK})"
    )
    assert _cmake_set("EXTENSION_ICONURL").endswith("/DicomAIExtension.png")
    assert _cmake_set("EXTENSION_SCREENSHOTURLS").endswith("/docs/screenshot.png")


def _rule_matches(rule: str, modality: str, sop_class: str) -> bool:
    """The rule-engine expressions Slicer uses here are also valid Python: ==, and, or, quotes."""
    assert re.fullmatch(r"[\w\s'().=]+", rule), rule
    return bool(eval(rule, {"__builtins__": {}}, {"Modality": modality, "SOPClassUID": sop_class}))


def test_dicom_support_rule_suggests_the_extension_for_seg_and_sr_only():
    entry = json.loads((ROOT / "DicomAIExtension.json").read_text())
    rule = entry["dicom_support_rule"]
    assert rule == _cmake_set("EXTENSION_DICOM_SUPPORT_RULE")
    assert set(entry) <= {
        "$schema",
        "category",
        "scm_url",
        "scm_revision",
        "scm_type",
        "build_dependencies",
        "build_subdirectory",
        "enabled",
        "tier",
        "dicom_support_rule",
    }  # schema v1.0.2 has additionalProperties: false
    assert entry["category"] == _cmake_set("EXTENSION_CATEGORY")
    yes = [
        ("SEG", "1.2.840.10008.5.1.4.1.1.66.4"),
        ("SEG", "1.2.840.10008.5.1.4.1.1.66.7"),
        ("SR", "1.2.840.10008.5.1.4.1.1.88.22"),
        ("SR", "1.2.840.10008.5.1.4.1.1.88.33"),
        ("SR", "1.2.840.10008.5.1.4.1.1.88.34"),
    ]
    no = [
        ("CT", "1.2.840.10008.5.1.4.1.1.2"),
        ("SR", "1.2.840.10008.5.1.4.1.1.88.11"),
        ("MR", "1.2.840.10008.5.1.4.1.1.4"),
    ]
    assert all(_rule_matches(rule, *case) for case in yes)
    assert not any(_rule_matches(rule, *case) for case in no)


def test_extension_icon_and_screenshot_exist():
    from PIL import Image

    icon = Image.open(ROOT / "DicomAIExtension.png")
    assert icon.size == (128, 128)
    assert Image.open(ROOT / "docs" / "screenshot.png").size[0] >= 512
    for module in ("DicomAIExport", "DicomAIImport"):
        assert (ROOT / module / "Resources" / "Icons" / f"{module}.png").is_file()


# ------------------------------------------------------------------------------------------ panels
@pytest.fixture
def export_panel(standin, study):
    from dicomai_slicer import load_dicom_series

    module = slicer_standin.loadModule(EXPORT_DIR / "DicomAIExport.py")
    module.widgetRepresentation()
    widget = slicer.modules.DicomAIExportWidget
    scene = slicer.mrmlScene
    ct = load_dicom_series(study.ct)
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "AI labels")
    slicer.util.updateVolumeFromArray(labelmap, np.where(study.labels <= 4, study.labels, 0).astype(np.uint8))
    labelmap.CopyOrientation(ct)
    seg = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "AI organs")
    seg.SetReferenceImageGeometryParameterFromVolumeNode(ct)
    slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(labelmap, seg)
    line = scene.AddNewNodeByClass("vtkMRMLMarkupsLineNode", "Diameter")
    for k, r, c in ((4.0, 12.0, 10.0), (4.5, 18.5, 17.25)):
        lps = study.source.grid.index_to_world([[k, r, c]])[0]
        line.AddControlPoint([-lps[0], -lps[1], lps[2]])
    return widget, {"ct": ct, "seg": seg, "labelmap": labelmap, "line": line}


def test_export_panel_end_to_end(export_panel, tmp_path):
    from dicomai.seg.decode import read_seg

    widget, nodes = export_panel
    ui, params = widget.ui, widget._parameterNode
    assert not ui.exportButton.enabled and "Choose" in ui.exportButton.toolTip
    ui.segmentationSelector.setCurrentNode(nodes["seg"])  # through the widgets, as a user would
    ui.markupsSelector.setCurrentNode(nodes["line"])
    ui.algorithmNameLineEdit.text = "PhantomNet"
    ui.algorithmVersionLineEdit.text = "2.0"
    ui.outputFolderPathLineEdit.currentPath = str(tmp_path / "out")
    assert params.segmentation is nodes["seg"] and params.algorithmName == "PhantomNet"
    assert ui.exportButton.enabled  # the reference volume comes from the segmentation
    progress, on_progress = [], widget.onProgress

    def record(fraction, message):
        on_progress(fraction, message)
        progress.append(ui.progressBar.value)

    widget.onProgress = record
    ui.exportButton.click()
    assert slicer_standin.state.slotErrors == [] and slicer_standin.state.messageBoxes == []
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["SEG_AI_organs.dcm", "SR_Measurements_Diameter.dcm"]
    lines = ui.resultLabel.text.splitlines()
    # auto: the SR references the segments, so the SEG is BINARY (exporting.seg_type_for_report)
    assert lines[0] == "SEG written, 4 segment(s) (BINARY) (read back OK): SEG_AI_organs.dcm"
    assert lines[1].startswith("SR written, 5 measurement group(s) (read back OK)")
    assert ui.progressBar.value == 100 and progress == sorted(progress) and len(progress) > 3
    content = read_seg(files[0])
    assert {s.algorithm_name for s in content.segments if s.number} == {"PhantomNet"}


def test_export_panel_binary_from_a_labelmap_into_the_database(export_panel):
    widget, nodes = export_panel
    ui = widget.ui
    ui.segmentationSelector.setCurrentNode(nodes["labelmap"])
    ui.referenceVolumeSelector.setCurrentNode(nodes["ct"])
    ui.segmentationTypeComboBox.currentIndex = 1  # binary
    ui.segmentVolumesCheckBox.checked = False
    ui.outputToDatabaseCheckBox.checked = True
    ui.exportButton.click()
    assert slicer_standin.state.slotErrors == []
    (path,) = [f for f in slicer.dicomDatabase.allFiles() if "SEG_" in f]
    assert slicer.dicomDatabase.fileValue(path, "0062,0001") == "BINARY"
    assert ui.resultLabel.text.startswith("SEG written, 4 segment(s) (BINARY)")


def test_export_panel_shows_the_error_and_writes_nothing(export_panel, tmp_path):
    widget, nodes = export_panel
    ui = widget.ui
    ui.segmentationSelector.setCurrentNode(nodes["seg"])
    ui.segmentationTypeComboBox.currentIndex = 2  # labelmap
    segmentation = nodes["seg"].GetSegmentation()
    segment = slicer.vtkSegment()
    segment.SetName("Everything")
    segmentation.AddSegment(segment, "everything")  # overlaps the organs: no LABELMAP possible
    array = slicer.util.arrayFromSegmentBinaryLabelmap(
        nodes["seg"], segmentation.GetNthSegmentID(0), nodes["ct"]
    )
    slicer.util.updateSegmentBinaryLabelmapFromArray(
        np.ones_like(array), nodes["seg"], "everything", nodes["ct"]
    )
    ui.outputFolderPathLineEdit.currentPath = str(tmp_path)
    ui.exportButton.click()
    (box,) = slicer_standin.state.messageBoxes
    assert "DICOM export failed" in box["text"] and "overlap" in (box["text"] + box["detailedText"])
    assert list(tmp_path.iterdir()) == [] and ui.resultLabel.text == ""


def test_import_panel_loads_a_folder_without_the_database(standin, study, tmp_path):
    import shutil

    folder = tmp_path / "case"
    shutil.copytree(study.ct, folder / "ct")
    shutil.copy(study.seg, folder)
    shutil.copy(study.sr, folder)
    module = slicer_standin.loadModule(IMPORT_DIR / "DicomAIImport.py")
    module.widgetRepresentation()
    widget = slicer.modules.DicomAIImportWidget
    assert not widget.ui.loadButton.enabled
    widget.ui.inputPathLineEdit.currentPath = str(folder)
    assert widget.ui.loadButton.enabled
    widget.ui.loadButton.click()
    assert slicer_standin.state.slotErrors == []
    assert slicer.dicomDatabase.allFiles() == []
    classes = sorted({n.GetClassName() for n in _data_nodes()})
    assert classes == [
        "vtkMRMLMarkupsFiducialNode",
        "vtkMRMLMarkupsLineNode",
        "vtkMRMLScalarVolumeNode",
        "vtkMRMLSegmentationNode",
        "vtkMRMLTableNode",
    ]
    assert widget.ui.resultLabel.text.startswith("Loaded: 1: Phantom CT")


def _data_nodes():
    scene = slicer.mrmlScene
    return [
        scene.GetNthNode(i)
        for i in range(scene.GetNumberOfNodes())
        if scene.GetNthNode(i).IsA("vtkMRMLDisplayableNode") or scene.GetNthNode(i).IsA("vtkMRMLTableNode")
    ]


def test_import_panel_lists_a_dicomweb_server_and_loads_an_sr_with_what_it_references(
    standin, study, tmp_path
):
    """A real Orthanc holds the CT, the SEG and the SR; the panel lists the study, offers the SEG
    and SR series (not the CT), and loading the SR retrieves the SEG and the CT too."""
    from servers.orthanc import orthanc_or_fail

    server = orthanc_or_fail()
    try:
        for path in [*sorted(study.ct.iterdir()), study.seg, study.sr]:
            server.upload(path)
        module = slicer_standin.loadModule(IMPORT_DIR / "DicomAIImport.py")
        module.widgetRepresentation()
        widget = slicer.modules.DicomAIImportWidget
        ui = widget.ui
        ui.serverUrlLineEdit.text = server.dicomweb_url
        ui.listStudiesButton.click()
        assert slicer_standin.state.slotErrors == []
        assert ui.studyComboBox.count() == 1
        assert ui.studyComboBox.itemData(0) == study.source.study_instance_uid
        offered = [ui.seriesComboBox.itemText(i).split()[0] for i in range(ui.seriesComboBox.count())]
        assert sorted(offered) == ["SEG", "SR"]
        ui.seriesComboBox.setCurrentIndex(offered.index("SR"))
        ui.loadFromServerButton.click()
        assert slicer_standin.state.slotErrors == []
        assert slicer_standin.state.messageBoxes == []
        classes = sorted({n.GetClassName() for n in _data_nodes()})
        assert "vtkMRMLScalarVolumeNode" in classes and "vtkMRMLMarkupsLineNode" in classes
        assert "vtkMRMLSegmentationNode" in classes
        assert ui.serverResultLabel.text.startswith("Loaded: ")
        assert slicer.dicomDatabase.allFiles() == []
        # the URL is kept in Slicer's settings: the panel of a new session starts with it
        assert slicer.app.settings().value("DicomAI/DICOMweb/URL") == server.dicomweb_url
        unload_modules()
        slicer_standin.loadModule(IMPORT_DIR / "DicomAIImport.py").widgetRepresentation()
        assert slicer.modules.DicomAIImportWidget.ui.serverUrlLineEdit.text == server.dicomweb_url
    finally:
        server.cleanup()


def test_import_panel_reports_an_unreachable_server_in_one_message(standin):
    module = slicer_standin.loadModule(IMPORT_DIR / "DicomAIImport.py")
    module.widgetRepresentation()
    ui = slicer.modules.DicomAIImportWidget.ui
    ui.serverUrlLineEdit.text = "http://127.0.0.1:9/dicom-web"
    ui.listStudiesButton.click()
    (box,) = slicer_standin.state.messageBoxes
    assert "Listing the server's studies failed" in box["text"]
    assert "connection refused" in box["text"] + box["detailedText"]
    assert ui.studyComboBox.count() == 0


def test_export_panel_sends_to_a_dicomweb_server_and_says_what_it_verified(
    export_panel, tmp_path, monkeypatch
):
    from servers.orthanc import orthanc_or_fail

    server = orthanc_or_fail(users={"exporter": "pa55word"})
    try:
        monkeypatch.setenv("DICOMAI_TEST_PACS_PASSWORD", "pa55word")
        widget, nodes = export_panel
        ui, params = widget.ui, widget._parameterNode
        ui.segmentationSelector.setCurrentNode(nodes["seg"])
        ui.segmentVolumesCheckBox.checked = False  # the SEG only
        ui.outputFolderPathLineEdit.currentPath = str(tmp_path / "out")
        ui.outputToServerCheckBox.checked = True
        assert not ui.exportButton.enabled and "URL" in ui.exportButton.toolTip
        ui.serverUrlLineEdit.text = server.dicomweb_url
        ui.serverUserLineEdit.text = "exporter"
        ui.serverPasswordEnvLineEdit.text = "DICOMAI_TEST_PACS_PASSWORD"
        assert ui.exportButton.enabled
        ui.exportButton.click()
        assert slicer_standin.state.slotErrors == [] and slicer_standin.state.messageBoxes == []
        (written,) = sorted((tmp_path / "out").iterdir())
        import pydicom

        assert server.instance_uids() == {str(pydicom.dcmread(str(written)).SOPInstanceUID)}
        assert ui.resultLabel.text.splitlines()[-1] == f"1/1 instance(s) verified on {server.dicomweb_url}"
        # the scene keeps the URL, the user and the variable's name, never the password
        assert params.serverPasswordEnv == "DICOMAI_TEST_PACS_PASSWORD"
        assert slicer.app.settings().value("DicomAI/DICOMweb/URL") == server.dicomweb_url
        values = []
        for node in slicer.util.getNodesByClass("vtkMRMLScriptedModuleNode"):
            values += [node.GetParameter(name) for name in node.GetParameterNames()]
        assert server.dicomweb_url in values and "exporter" in values
        scene_text = " ".join(values)
        assert "pa55word" not in scene_text

        # a wrong password: the export's files are written, the send fails in one message
        monkeypatch.setenv("DICOMAI_TEST_PACS_PASSWORD", "wrong")
        ui.exportButton.click()
        (box,) = slicer_standin.state.messageBoxes
        assert "HTTP 401" in box["text"] + box["detailedText"]
        assert "wrong" not in box["text"] + box["detailedText"]
    finally:
        server.cleanup()


def test_export_panel_captures_the_view_as_a_secondary_capture(export_panel, study, tmp_path):
    import pydicom

    import peers

    widget, nodes = export_panel
    ui = widget.ui
    ui.segmentationSelector.setCurrentNode(nodes["seg"])
    ui.outputFolderPathLineEdit.currentPath = str(tmp_path / "out")
    ui.captureButton.click()
    assert slicer_standin.state.slotErrors == [] and slicer_standin.state.messageBoxes == []
    (path,) = sorted((tmp_path / "out").iterdir())
    assert ui.resultLabel.text == f"Secondary Capture written: {path.name}"
    ds = pydicom.dcmread(str(path))
    ct = study.source.first
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7" and ds.PhotometricInterpretation == "RGB"
    assert (ds.StudyInstanceUID, ds.PatientID) == (ct.StudyInstanceUID, ct.PatientID)
    assert ds.BurnedInAnnotation == "YES" and (ds.Rows, ds.Columns) == (512, 512)
    pixels = ds.pixel_array.reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 20  # a picture, not a blank
    peers.require("dciodvfy")
    assert peers.dciodvfy(path).errors == []


def test_export_panel_shows_which_segments_get_generic_codes(export_panel):
    from pydicom.sr.codedict import codes

    from dicomai.coding import terminology_to_string
    from dicomai_slicer.segmentation import set_terminology

    widget, nodes = export_panel
    ui = widget.ui
    assert ui.codesLabel.text == ""
    segmentation = nodes["seg"].GetSegmentation()
    names = [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())]
    ui.segmentationSelector.setCurrentNode(nodes["seg"])
    assert "Generic 'Tissue' codes" in ui.codesLabel.text
    assert all(n in ui.codesLabel.text for n in names)
    first = segmentation.GetNthSegment(0)
    set_terminology(first, terminology_to_string(codes.SCT.AnatomicalStructure, codes.SCT.Liver))
    second = segmentation.GetNthSegment(1)
    second.SetName("kidney_left")  # a name TotalSegmentator's mapping knows
    widget._checkCanExport()
    assert names[0] not in ui.codesLabel.text.split(": ", 1)[1].split(", ")
    assert "kidney_left" not in ui.codesLabel.text
    assert widget.logic.genericCodedSegments(nodes["seg"]) == names[2:]
    ui.segmentationSelector.setCurrentNode(nodes["labelmap"])
    assert widget.logic.genericCodedSegments(nodes["labelmap"]) == [
        "Label 1",
        "Label 2",
        "Label 3",
        "Label 4",
    ]
