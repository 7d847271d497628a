"""Top-level pytest setup, kept minimal: put Testing/ on sys.path so tests can ``import peers``
(Testing/peers: the independent DICOM checkers). Fixtures belong in the subfolders' conftest files."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTING = str(Path(__file__).resolve().parent)
if _TESTING not in sys.path:
    sys.path.insert(0, _TESTING)
