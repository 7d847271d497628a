"""Where the tests find data made by other tools: ``../shared/data`` next to the checkout.

``REALDATA`` holds real SEG/SR files written by dcmqi, highdicom, Iowa2DICOM and pydicom's test
files (see its README.md); ``TERMINOLOGIES`` Slicer's default terminology files. Neither is part
of the repository: tests that need them skip cleanly when they are absent (a clean clone in CI).
``DICOMAI_REALDATA`` / ``DICOMAI_TERMINOLOGIES`` point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REALDATA = Path(os.environ.get("DICOMAI_REALDATA", _SHARED / "realdata"))
TERMINOLOGIES = Path(os.environ.get("DICOMAI_TERMINOLOGIES", _SHARED / "terminologies"))
