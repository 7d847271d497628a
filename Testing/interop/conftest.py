"""Interop tests: our objects judged by tools nobody here wrote (dicom3tools, dcmqi, dcmjs, DCMTK)."""

from __future__ import annotations

import sys
from pathlib import Path

_here = Path(__file__).resolve()
for p in (_here.parents[1], _here.parents[1] / "core"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
