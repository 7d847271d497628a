"""Packages installed on first use (dicomai_slicer.dependencies), as Slicer 5.12 and 5.10 do it:
slicer.packaging.pip_ensure on 5.12+, a question then slicer.util.pip_install on 5.10. The
stand-in records pip calls instead of running pip."""

from __future__ import annotations

import pytest
import slicer
from plugin_cases import EXPORT_DIR

import slicer_standin
from dicomai_slicer import dependencies
from dicomai_slicer.dependencies import DependencyError, ensure_dependencies

MISSING = "dicomai-test-package-that-does-not-exist>=1.0"


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(dependencies, "_checked", False)


def test_the_requirements_file_is_the_modules_and_satisfied_here(fresh):
    assert dependencies.REQUIREMENTS_FILE == EXPORT_DIR / "Resources" / "requirements.txt"
    wanted = dependencies.load_requirements()
    assert {r.split(">")[0] for r in wanted} >= {"pydicom", "highdicom"}
    assert "pydicom>=3.0" in wanted  # Slicer 5.10's pydicom 2.4.4 does not do
    assert dependencies.missing_requirements(wanted) == []


def test_nothing_is_asked_or_installed_when_everything_is_there(standin, fresh):
    ensure_dependencies()
    assert standin.state.pipCalls == [] and standin.state.messageBoxes == []


def test_slicer_512_installs_missing_packages_through_pip_ensure(scene, fresh):
    slicer_standin.install(scene, version=(5, 12, 3))
    try:
        with pytest.raises(DependencyError, match="could not be installed"):  # the stand-in installs nothing
            ensure_dependencies([MISSING, "pydicom>=3.0"])
        (box,) = slicer_standin.state.messageBoxes  # pip_ensure asked first
        assert "1 Python package needs to be installed" in box["text"]
        assert MISSING in box["detailedText"]
        ((requirements, kwargs),) = slicer_standin.state.pipCalls
        assert requirements == [MISSING] and kwargs["requester"] == "DICOM AI Extension"
    finally:
        slicer_standin.uninstall()


def test_slicer_510_asks_then_calls_pip_install(scene, fresh):
    slicer_standin.install(scene, version=(5, 10, 0))
    try:
        assert not hasattr(slicer, "packaging")
        with pytest.raises(DependencyError):
            ensure_dependencies([MISSING])
        (box,) = slicer_standin.state.messageBoxes
        assert MISSING in box["text"] and "restart" in box["text"]
        assert slicer_standin.state.pipCalls == [([MISSING], {})]  # 5.10's one-argument pip_install
    finally:
        slicer_standin.uninstall()


@pytest.mark.parametrize("version", [(5, 12, 3), (5, 10, 0)])
def test_declining_installs_nothing_and_says_so(scene, fresh, version):
    slicer_standin.install(scene, version=version)
    try:
        import qt

        slicer_standin.state.messageBoxAnswers.append(qt.QMessageBox.Cancel)
        with pytest.raises(DependencyError, match="declined"):
            ensure_dependencies([MISSING])
        assert slicer_standin.state.pipCalls == []
    finally:
        slicer_standin.uninstall()


def test_testing_mode_skips_installing(scene, fresh):
    slicer_standin.install(scene, version=(5, 12, 3), testingEnabled=True)
    try:
        with pytest.raises(DependencyError, match="could not be installed"):
            ensure_dependencies([MISSING])
        assert slicer_standin.state.pipCalls == []
    finally:
        slicer_standin.uninstall()


def test_an_old_pydicom_still_imported_asks_for_a_restart(standin, fresh, monkeypatch):
    """Slicer 5.10 imported pydicom 2.4.4 at start-up; after the upgrade it stays loaded."""
    monkeypatch.setattr(dependencies, "_loaded_version", lambda name: "2.4.4" if name == "pydicom" else None)
    with pytest.raises(DependencyError, match=r"pydicom 2\.4\.4 .*restart Slicer"):
        ensure_dependencies()


def test_slicer_58_python_39_is_refused_with_a_clear_message(standin, fresh, monkeypatch):
    monkeypatch.setattr(dependencies, "MINIMUM_PYTHON", (99, 0))
    with pytest.raises(DependencyError, match="needs Slicer 5.10 or later"):
        ensure_dependencies()
    assert standin.state.pipCalls == []


def test_a_browser_load_asks_for_packages_before_loading(standin, study, fresh, monkeypatch):
    """First use: the plugin's load installs what is missing; declined -> load fails, nothing loaded."""
    import qt

    monkeypatch.setattr(dependencies, "load_requirements", lambda path=None: [MISSING])
    plugin = slicer.modules.dicomPlugins["DICOMAISegmentationPlugin"]()
    (loadable,) = plugin.examineForImport([[str(study.seg)]])  # examine needs no install
    assert standin.state.messageBoxes == []
    standin.state.messageBoxAnswers.append(qt.QMessageBox.Cancel)
    assert plugin.load(loadable) is False
    assert len(standin.state.messageBoxes) == 1 and standin.state.pipCalls == []
    assert list(slicer.mrmlScene.GetNodesByClass("vtkMRMLSegmentationNode")) == []


def test_the_export_plugin_reports_a_missing_package(standin, fresh, monkeypatch, tmp_path):
    import qt

    monkeypatch.setattr(dependencies, "load_requirements", lambda path=None: [MISSING])
    standin.state.messageBoxAnswers.append(qt.QMessageBox.Cancel)
    exportable = slicer.qSlicerDICOMExportable()
    exportable.directory = str(tmp_path)
    message = slicer.modules.dicomPlugins["DICOMAIExportPlugin"]().export([exportable])
    assert "declined" in message and list(tmp_path.iterdir()) == []


def test_dependency_errors_are_the_projects_setup_errors_on_one_line(standin, fresh, monkeypatch):
    """Callers catch DicomAIError (the CLI, the widgets) or RuntimeError (older callers)."""
    from dicomai.errors import DicomAIError, SetupError

    monkeypatch.setattr(dependencies, "MINIMUM_PYTHON", (99, 0))
    with pytest.raises(DependencyError) as caught:
        ensure_dependencies()
    assert isinstance(caught.value, SetupError) and isinstance(caught.value, DicomAIError)
    assert isinstance(caught.value, RuntimeError)
    assert "\n" not in str(caught.value)
