"""Fuzz tests: make ``dicomai`` and the fuzzer importable from the checkout."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

if importlib.util.find_spec("dicomai") is None:
    _CORE_PARENT = str(Path(__file__).resolve().parents[2] / "DicomAIExport")
    sys.path.insert(0, _CORE_PARENT)
    _old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _CORE_PARENT + (os.pathsep + _old if _old else "")

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
