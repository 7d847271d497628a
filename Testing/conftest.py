"""Top-level pytest setup, kept minimal: put Testing/ on sys.path so tests can ``import peers``
(Testing/peers: the independent DICOM checkers), and make ``dicomai`` (with ``dicomai_samples``)
importable from the checkout when it is not installed, for this process and the CLI children it
starts (PYTHONPATH). Fixtures belong in the subfolders' conftest files."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

if importlib.util.find_spec("dicomai") is None:
    _CORE_PARENT = str(Path(__file__).resolve().parents[1] / "DicomAIExport")
    sys.path.insert(0, _CORE_PARENT)
    _old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _CORE_PARENT + (os.pathsep + _old if _old else "")

_TESTING = str(Path(__file__).resolve().parent)
if _TESTING not in sys.path:
    sys.path.insert(0, _TESTING)
