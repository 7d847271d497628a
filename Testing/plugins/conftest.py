"""Plugin and module-panel tests: Slicer's Qt-side names from the test-only stand-in
(Testing/slicer_standin) on top of a real slicer-core scene; data written once per module.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTING = ROOT / "Testing"
for path in (TESTING, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
if importlib.util.find_spec("dicomai_slicer") is None:
    sys.path.insert(0, str(ROOT / "DicomAIExport"))

slicer = pytest.importorskip("slicer", reason="slicer-core is not installed")

import slicer_standin  # noqa: E402

pytestmark = pytest.mark.slicer

from plugin_cases import EXPORT_DIR, IMPORT_DIR, VERSIONS, unload_modules  # noqa: E402


@pytest.fixture
def scene():
    """A fresh headless scene with Slicer's module logics (slicer.mrmlScene)."""
    import dicomai_slicer
    from dicomai_slicer.scene import close_scene

    s = dicomai_slicer.create_scene()
    yield s
    close_scene(s)


@pytest.fixture(params=sorted(VERSIONS), ids=lambda v: f"slicer{v}")
def slicer_version(request):
    return VERSIONS[request.param]


@pytest.fixture
def standin(scene, slicer_version):
    """The stand-in imitating Slicer 5.12 and 5.10 in turn, with our three plugin modules loaded."""
    slicer_standin.install(scene, version=slicer_version)
    for path in (
        IMPORT_DIR / "DICOMAISegmentationPlugin.py",
        IMPORT_DIR / "DICOMAIStructuredReportPlugin.py",
        EXPORT_DIR / "DICOMAIExportPlugin.py",
    ):
        slicer_standin.loadModule(path)
    yield slicer_standin
    unload_modules()
    slicer_standin.uninstall()


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A folder with a CT, our SEGs (LABELMAP, FRACTIONAL), our SR and a dcmqi SEG (when dcmqi is there)."""
    from plugin_cases import write_study

    return write_study(tmp_path_factory.mktemp("study"))
