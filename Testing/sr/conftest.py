"""SR tests: shared fixtures (Testing/conftest.py makes ``dicomai`` importable from the checkout).

Fixtures write synthetic CT series (axial and oblique) once per session, with a SEG of the
phantom's organs written by ``dicomai.seg.encode.write_seg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import sr_cases  # noqa: E402


@pytest.fixture(scope="session", params=["axial", "oblique"])
def series_case(request, tmp_path_factory):
    """(kind, source folder, SourceSeries, labels) for an axial and an oblique CT."""
    folder = tmp_path_factory.mktemp(f"ct-{request.param}")
    return sr_cases.write_ct(folder, request.param)


@pytest.fixture(scope="session")
def axial_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct-axial-only")
    return sr_cases.write_ct(folder, "axial")


@pytest.fixture(scope="session")
def axial_with_seg(axial_case, tmp_path_factory):
    """(case, seg path) with the phantom organs as a BINARY SEG."""
    out = tmp_path_factory.mktemp("seg") / "organs.seg.dcm"
    sr_cases.write_organ_seg(axial_case, out)
    return axial_case, out


@pytest.fixture(scope="session")
def realdata() -> Path:
    from shared_data import REALDATA as path

    if not path.is_dir():
        pytest.skip(f"no real data folder at {path}")
    return path
