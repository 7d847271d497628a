"""DICOMweb tests: the case of Testing/result_case.py, written once per session. The servers are
real Orthancs (Testing/servers/orthanc.py) started per test module or per test."""

from __future__ import annotations

import pytest

from result_case import Case, write_case


@pytest.fixture(scope="session")
def case(tmp_path_factory) -> Case:
    return write_case(tmp_path_factory.mktemp("dicomweb-case"))
