"""MRML adapter tests, on the real MRML classes of slicer-core (no MRML mock anywhere).

Puts DicomAIExport/ (dicomai, dicomai_slicer) on the path when the package is not installed,
and gives each test a fresh headless scene. Synthetic DICOM series are written once per module.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("dicomai_slicer") is None:
    sys.path.insert(0, str(_ROOT / "DicomAIExport"))
    _old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(_ROOT / "DicomAIExport") + (os.pathsep + _old if _old else "")
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

# never a skip: slicer-core is part of the dev requirements, a missing one must fail loudly
import slicer  # noqa: E402,F401

import dicomai_slicer  # noqa: E402

pytestmark = pytest.mark.slicer


@pytest.fixture
def scene():
    """A fresh headless scene (slicer.mrmlScene) per test, closed quickly afterwards."""
    from dicomai_slicer.scene import close_scene

    s = dicomai_slicer.create_scene()
    yield s
    close_scene(s)


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory):
    """Folder factory: ``series_dir(kind)`` writes (once per module) a synthetic phantom series."""
    from mrml_helpers import write_case

    root = tmp_path_factory.mktemp("series")
    cache = {}

    def make(kind: str, **kwargs):
        key = (kind, tuple(sorted(kwargs.items())))
        if key not in cache:
            folder = root / f"{kind}-{len(cache)}"
            cache[key] = write_case(folder, kind, **kwargs)
        return cache[key]

    return make
