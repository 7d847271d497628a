"""Core tests: make ``dicomai`` importable from the checkout when it is not pip-installed.

The path also goes into ``PYTHONPATH`` so that tests which start a fresh interpreter
(``subprocess.run([sys.executable, ...])``) find the package too.
"""

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
