"""Secondary Capture tests: the case of Testing/result_case.py, written once per session."""

from __future__ import annotations

import pytest

from result_case import Case, write_case


@pytest.fixture(scope="session")
def case(tmp_path_factory) -> Case:
    return write_case(tmp_path_factory.mktemp("sc-case"))
